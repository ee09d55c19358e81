"""Ground-truth grid: fine-tune every zoo model on every target, one resumable cell each.

Run ``python -m potran.groundtruth --out data/groundtruth`` (``--help`` for the options).
Each (model, target) cell writes ``snapshots/<model>__<target>.npz`` and then
``cells/<model>__<target>.json``, both atomically; the JSON marks the cell as done, so a killed
run resumes with the cells still missing, and several processes given different ``--models``
(or the same ones) can share one folder. After every cell the tidy table ``accuracy.csv`` and
``README.md`` (command, versions, seed, configuration) are rewritten from the cell files.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import pandas as pd

from .atomic import write_csv, write_json, write_npz, write_text
from .finetune import FinetuneConfig, finetune

__all__ = ["COLUMNS", "cell_path", "run_grid", "collect", "main"]

#: Columns of ``accuracy.csv``, one row per (model, target).
COLUMNS = ["model", "target", "test_acc", "val_acc", "lr", "wd", "epochs", "n_fit", "n_val",
           "n_test", "image_size", "wall_s", "seed", "torch", "device"]


def cell_path(out_dir, model: str, target: str) -> Path:
    """Path of the JSON record of one cell."""
    return Path(out_dir) / "cells" / f"{model}__{target}.json"


def _check_config(path: Path, config: FinetuneConfig) -> bool:
    """True when the finished cell at ``path`` was made with ``config``; raise otherwise."""
    if not path.exists():
        return False
    done = json.loads(path.read_text())["config"]
    if done != config.to_dict():
        raise ValueError(f"{path} was made with another configuration ({done}); "
                         "use another --out or delete the cell")
    return True


def run_grid(models, targets, out_dir, config: FinetuneConfig = FinetuneConfig(), *,
             get_model=None, load_target=None, device: str = "cpu",
             progress: bool = True, after_cell=None) -> pd.DataFrame:
    """Fine-tune every missing (model, target) cell and return the tidy accuracy table.

    Parameters
    ----------
    models, targets : sequence of str
        Zoo model names and target names; the grid is their product, in that order.
    out_dir : path
        Result folder (``cells/``, ``snapshots/``, ``accuracy.csv``).
    config : FinetuneConfig
        Protocol of every cell. Finished cells made with another configuration raise.
    get_model, load_target : callable, optional
        Name -> ZooModel and name -> Target; default :func:`potran.zoo.get` and
        :func:`potran.datasets.load_target`.
    device : str
        Torch device.
    progress : bool
        Show a tqdm bar over the cells.
    after_cell : callable, optional
        Called with the updated table after every finished cell.
    """
    from tqdm.auto import tqdm

    if get_model is None:
        from .zoo import get as get_model
    if load_target is None:
        from .datasets import load_target
    out_dir = Path(out_dir)
    todo = [(m, t) for t in targets for m in models
            if not _check_config(cell_path(out_dir, m, t), config)]
    loaded = {}
    bar = tqdm(todo, desc="ground truth", unit="cell", disable=not progress)
    for m, t in bar:
        if cell_path(out_dir, m, t).exists():  # done meanwhile by another process
            continue
        bar.set_description(f"{m} / {t}")
        if t not in loaded:
            loaded = {t: load_target(t)}  # targets are grouped: keep only the current one
        res = finetune(get_model(m), loaded[t], config, device=device,
                       progress=bar.set_postfix_str)
        write_npz(out_dir / "snapshots" / f"{m}__{t}.npz", **res.snapshots)
        write_json(cell_path(out_dir, m, t), res.record)
        if after_cell is not None:
            after_cell(collect(out_dir))
    return collect(out_dir)


def collect(out_dir) -> pd.DataFrame:
    """Gather every finished cell into ``accuracy.csv`` (sorted by target, model)."""
    out_dir = Path(out_dir)
    rows = [json.loads(p.read_text()) for p in sorted((out_dir / "cells").glob("*.json"))]
    table = pd.DataFrame([{c: r[c] for c in COLUMNS} for r in rows], columns=COLUMNS)
    table = table.sort_values(["target", "model"], ignore_index=True)
    write_csv(out_dir / "accuracy.csv", table)
    return table


def _readme(args, config: FinetuneConfig, table: pd.DataFrame, models, targets) -> str:
    """README of the result folder: exact command, versions, configuration, progress."""
    import numpy
    import sklearn
    import torch

    cmd = "python -m potran.groundtruth " + " ".join(shlex.quote(a) for a in args)
    missing = [f"{m}/{t}" for t in targets for m in models
               if not ((table.model == m) & (table.target == t)).any()]
    pivot = (table.pivot(index="model", columns="target", values="test_acc").round(3)
             .to_string() if len(table) else "(none yet)")
    return f"""# Fine-tuning ground truth

Produced by `potran/groundtruth.py` (protocol in `potran/finetune.py`):

```bash
{cmd}
```

- Versions: python {sys.version.split()[0]}, torch {torch.__version__}, numpy {numpy.__version__},
  scikit-learn {sklearn.__version__}; torch threads {torch.get_num_threads()}.
- Seed {config.seed}; configuration: `{json.dumps(config.to_dict())}`.
- Cells: {len(table)} of {len(models) * len(targets)} done; the cells' wall times sum to
  {table.wall_s.sum() / 60:.1f} min (cells computed by concurrent processes overlap in time, and
  each then runs slower, so this is not the grid's wall-clock time).
- Missing: {", ".join(missing) if missing else "none"}.

Protocol (scaled down from SFDA/PED so that the whole grid fits in 90 min on 2 shared CPU
cores): the backbone is unfrozen and a new linear head added; the training images are split
{1 - config.val_fraction:.0%}/{config.val_fraction:.0%} (seeded, stratified) into fitting and
validation images; {config.optimizer} with learning rate in {list(config.lrs)} x weight decay in
{list(config.wds)}, batch {config.batch_size}, {config.epochs} epochs, cosine decay; the run with
the highest validation accuracy is evaluated once on the test split (no retraining). Why: AdamW
rather than SGD because HED's VGG16 (Caffe-scaled inputs, no BatchNorm) diverged under SGD at
0.01 and 0.03. HED needs 1e-4 (it diverges at 1e-3); the others pick 1e-3 or 3e-3 (a first
grid with only 1e-4 and 1e-3 chose its upper edge in 45 of 60 cells, hence 3e-3). Every
BatchNorm gets momentum {config.bn_momentum} (EfficientNet-Lite's own 0.01 left stale running
statistics after so few steps: 0.67 instead of 0.92 on digits). One torch thread: with other jobs
on the two cores, two threads ran 4x slower than one.

`accuracy.csv`: one row per (model, target), test accuracy of the configuration chosen on the
validation split. `cells/*.json`: full record (validation accuracy and training loss of every
configuration, sizes, timing). `snapshots/*.npz`: penultimate features (`features`, K x P x D) of
P fixed training images (`indices` into the target's training split, `labels`) at iterations
`steps` of the chosen run.

Test accuracy (rows: model, columns: target):

```
{pivot}
```
"""


def main(argv=None) -> int:
    """Command-line entry point; see ``--help``."""
    import torch

    args = list(sys.argv[1:] if argv is None else argv)
    d = FinetuneConfig()
    floats = lambda s: tuple(float(v) for v in s.split(","))  # noqa: E731
    p = argparse.ArgumentParser(prog="python -m potran.groundtruth", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="data/groundtruth", help="result folder")
    p.add_argument("--models", help="comma-separated zoo names (default: all)")
    p.add_argument("--targets", help="comma-separated target names (default: all)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (1: fastest when other jobs share the CPU)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--optimizer", choices=("adamw", "sgd"), default=d.optimizer)
    p.add_argument("--lrs", type=floats, default=d.lrs)
    p.add_argument("--wds", type=floats, default=d.wds)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--n-train", type=int, default=d.n_train, help="default: all")
    p.add_argument("--n-test", type=int, default=d.n_test, help="default: all")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(args)

    from . import datasets, zoo

    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    models = a.models.split(",") if a.models else list(zoo.names())
    targets = a.targets.split(",") if a.targets else list(datasets.TARGETS)
    config = FinetuneConfig(optimizer=a.optimizer, lrs=a.lrs, wds=a.wds, epochs=a.epochs, batch_size=a.batch_size,
                            n_train=a.n_train, n_test=a.n_test, seed=a.seed)
    out = Path(a.out)
    t0 = time.perf_counter()
    readme = lambda table: write_text(out / "README.md",  # noqa: E731
                                      _readme(args, config, table, models, targets))
    table = run_grid(models, targets, out, config, device=a.device,
                     progress=not a.no_progress, after_cell=readme)
    readme(table)
    print(f"{len(table)} cells in {out} ({time.perf_counter() - t0:.0f} s this run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
