"""Benchmark v4's pretraining, one model per call, committed as it lands (data/bench_v4/README.md).

    .venv/bin/python benchmarks/v4_pretrain.py --missing        # the models still to pretrain
    .venv/bin/python benchmarks/v4_pretrain.py NAME [--epochs E] [--no-commit]

``NAME`` is an objective of `potran.bench.v4.objectives.OBJECTIVES` or ``random`` (the shared
initialisation, the control). The run resumes from its end-of-epoch checkpoint under
``.cache/v4_pretrain`` when one exists, writes ``data/bench_v4/weights/NAME.pt``,
``data/bench_v4/logs/NAME.csv`` and its ``MANIFEST.json`` entry (potran.bench.v4.pretrain), then
commits exactly those files (path-limited, retried while another git process holds the index).
`benchmarks/run_v4_pretrain.sh` calls it in a fresh process per model, so objectives that land
while it runs are picked up.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from git_commit import commit  # the scripts' shared path-limited commit

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench_v4"


#: cheapest first (seconds per step in the cost pilot, data/bench_v4/README.md), so that models
#: land early; objectives not listed (landed later) come last, in `OBJECTIVES` order
COST_ORDER = ("random", "jigsaw", "supervised", "inpainting", "rotation", "pcl", "barlow_twins",
              "deepcluster", "moco", "simclr", "insdis", "byol", "vicreg", "swav")


def missing() -> list[str]:
    """Every model (``random`` and `OBJECTIVES`, in `COST_ORDER`) without weights or manifest
    entry."""
    from potran.bench.v4.objectives import OBJECTIVES

    manifest = OUT / "MANIFEST.json"
    models = json.loads(manifest.read_text()).get("models", {}) if manifest.exists() else {}
    names = [n for n in COST_ORDER if n == "random" or n in OBJECTIVES]
    names += [n for n in OBJECTIVES if n not in names]
    return [n for n in names if n not in models or "sha256" not in models[n]
            or not (OUT / "weights" / f"{n}.pt").exists()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?")
    parser.add_argument("--missing", action="store_true", help="print the models still missing")
    parser.add_argument("--no-commit", action="store_true")
    parser.add_argument("--epochs", type=int, help="passes over the pool (default: "
                        "potran.bench.v4.pretrain.EPOCHS)")
    args = parser.parse_args(argv)
    if args.missing:
        print("\n".join(missing()))
        return 0
    if not args.name:
        parser.error("give a model name, or --missing")
    import torch

    from potran.bench.v4.pretrain import EPOCHS, write_model

    torch.set_num_threads(1)
    epochs = args.epochs or EPOCHS
    command = f"python benchmarks/v4_pretrain.py {args.name}"
    if args.epochs:
        command += f" --epochs {args.epochs}"
    entry = write_model(args.name, OUT, epochs=epochs, command=command)
    print(json.dumps({args.name: entry}), flush=True)
    if not args.no_commit:
        paths = [OUT / "weights" / f"{args.name}.pt", OUT / "MANIFEST.json"]
        if (OUT / "logs" / f"{args.name}.csv").exists():
            paths.append(OUT / "logs" / f"{args.name}.csv")
        probe = entry["probe"]["test_acc"]
        commit(f"Benchmark v4 zoo: {args.name} pretrained (probe {probe:.3f}; "
               f"benchmarks/v4_pretrain.py)", [p.relative_to(ROOT) for p in paths])
    return 0


if __name__ == "__main__":
    sys.exit(main())
