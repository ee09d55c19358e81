"""Benchmark v3's fine-tuning ground truth: every zoo model on every v3 target, one resumable cell
each, committed as it lands (protocol in data/bench_v3/README.md).

    .venv/bin/python benchmarks/v3_groundtruth.py [--targets a,b] [--no-commit]

Cells go to ``data/bench_v3/cells/<model>__<target>.json`` (with ``accuracy.csv`` beside them);
a killed run resumes with the missing cells. After every cell the cells and the table are
committed with a path-limited commit (retried while another git process holds the index), so
the grid may run in the background while others work in the same checkout. When a run completes
a target, the report section of ``data/bench_v3/README.md`` is recomputed
(``benchmarks/v3_readme.py --readme``) and committed too.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from git_commit import commit  # the scripts' shared path-limited commit
from v3_readme import main as write_report  # the README's report section

from potran.bench import configure_torch, groundtruth, settings, targets_v3, zoo
from potran.bench.settings import V3_FINETUNE as CONFIG  # the v3 protocol (settings.get("v3"))

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench_v3"
PATHS = ("data/bench_v3/cells", "data/bench_v3/accuracy.csv")  # what the grid commits
README = "data/bench_v3/README.md"  # its report section is rewritten after every complete target
#: every cell costs about the same (500-528 training images, 4500-5024 test images), so after the
#: two cheapest (MNIST, 4500 test images) the grid takes one target per family in turn: the
#: targets that land first span the sources. All 16 models of a target come before the next.
GRID_ORDER = ("mnist5k", "mnist_rot", "fashion", "patches", "letters", "greek", "hanzi",
              "emoji_id", "wallpaper_id", "fashion_tops", "photo_rot", "fonts", "script_id", "kana",
              "emoji_group", "wallpaper_rot", "fashion_rot", "photo_scale", "cyrillic", "hangul",
              "arabic", "devanagari", "hebrew", "noto_style")
assert sorted(GRID_ORDER) == sorted(targets_v3.NAMES)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", help="comma-separated v3 targets (default: all, GRID_ORDER)")
    parser.add_argument("--models", help="comma-separated zoo models (default: all)")
    parser.add_argument("--no-commit", action="store_true", help="do not commit the cells")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    targets = args.targets.split(",") if args.targets else GRID_ORDER
    models = args.models.split(",") if args.models else zoo.names()
    configure_torch(1)

    def after_cell(table):
        n = len(table)
        print(f"{time.strftime('%H:%M:%S')} {n} cells", flush=True)
        if not args.no_commit:
            commit(f"Benchmark v3 ground truth: {n} fine-tuning cells (benchmarks/v3_groundtruth.py)",
                   PATHS)

    for target in targets:  # target by target, so that complete targets land first
        before = len(groundtruth.collect(OUT))
        table = groundtruth.run_grid(models, [target], OUT, CONFIG, sources=settings.V3_SOURCES,
                                     device=args.device, progress=False, after_cell=after_cell)
        if len(table) > before and not args.no_commit:  # a target completed: refresh the report
            write_report(["--readme", str(ROOT / README)])
            commit(f"Benchmark v3 README: report with {target} complete", (README,))
    return 0


if __name__ == "__main__":
    sys.exit(main())
