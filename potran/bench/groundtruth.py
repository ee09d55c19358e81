"""Ground-truth grid (``potran groundtruth``): fine-tune every zoo model on every target, one
resumable cell each. Each cell writes ``snapshots/<model>__<target>.npz``, then its record in the
:class:`~potran.bench.store.CellStore` (atomically; the record marks it done, so a killed run
resumes and several processes can share one folder); after every cell ``accuracy.csv`` and
``README.md`` are rewritten from the cell files. Default folder:
:data:`~potran.bench.folders.GROUNDTRUTH_OUT`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from .finetune import FinetuneConfig, finetune
from .reduction import SCORE_DIM
from .sources import OFFLINE, Sources
from .store import CellStore, write_csv, write_npz, write_text

__all__ = ["COLUMNS", "finetune_one", "run_grid", "collect", "write_readme"]

#: Columns of ``accuracy.csv``, one row per (model, target).
COLUMNS = ["model", "target", "test_acc", "test_acc_sd", "n_seeds", "lr", "wd", "epochs",
           "n_train", "n_test", "image_size", "wall_s", "torch", "device"]


def _is_done(store: CellStore, model: str, target: str, config: FinetuneConfig) -> bool:
    """True when the cell is finished with ``config``; raise if it was made with another."""
    record = store.load(model, target)
    if record is None:
        return False
    if record["config"] != config.to_dict():
        raise ValueError(f"{store.path(model, target)} was made with another configuration "
                         f"({record['config']}); use another --out or delete the cell")
    return True


def finetune_one(model: str, target: str, out_dir, config: FinetuneConfig, *,
                 sources: Sources = OFFLINE, device: str = "cpu") -> dict:
    """Fine-tune one (model, target) cell of ``sources`` unless it is done; save and return its
    record. Safe to call from several processes (or Dask workers) on one ``out_dir``."""
    store = CellStore(out_dir)
    if _is_done(store, model, target, config):
        return store.load(model, target)
    res = finetune(sources.get_model(model), sources.load_target(target), config, device=device)
    if res.snapshots:  # a protocol without snapshots writes none
        write_npz(Path(out_dir) / "snapshots" / f"{model}__{target}.npz", **res.snapshots)
    store.save(model, target, res.record)
    return res.record


def run_grid(models, targets, out_dir, config: FinetuneConfig = FinetuneConfig(), *,
             sources: Sources = OFFLINE, device: str = "cpu", progress: bool = True,
             after_cell=None, client=None) -> pd.DataFrame:
    """Fine-tune every missing cell of ``models`` x ``targets``, target by target, into ``out_dir``
    (``cells/``, ``snapshots/``, ``accuracy.csv``) and return the tidy accuracy table; finished cells
    made with another ``config`` raise. ``after_cell`` is called with the updated table after every
    finished cell; ``client`` (dask.distributed): fine-tune the cells on that cluster."""
    from .distributed import map_cells

    store = CellStore(out_dir)
    todo = [(m, t) for t in targets for m in models if not _is_done(store, m, t, config)]
    on_done = None if after_cell is None else (lambda _: after_cell(collect(out_dir)))
    map_cells(finetune_one, todo, client=client, progress=progress, desc="ground truth",
              kwargs=dict(out_dir=str(out_dir), config=config, sources=sources, device=device),
              on_done=on_done)
    return collect(out_dir)


def collect(out_dir) -> pd.DataFrame:
    """Gather every finished cell into ``accuracy.csv`` (sorted by target, model)."""
    out_dir = Path(out_dir)
    rows = CellStore(out_dir).records()
    table = pd.DataFrame([{c: r[c] for c in COLUMNS} for r in rows], columns=COLUMNS)
    table = table.sort_values(["target", "model"], ignore_index=True)
    write_csv(out_dir / "accuracy.csv", table)
    return table


def write_readme(out_dir, command: str, config: FinetuneConfig, models, targets) -> Path:
    """Write ``README.md`` of the result folder: command, versions, configuration, progress."""
    import numpy
    import sklearn
    import torch

    table = collect(out_dir)
    missing = [f"{m}/{t}" for t in targets for m in models
               if not ((table.model == m) & (table.target == t)).any()]
    pivot = (table.pivot(index="model", columns="target", values="test_acc").round(3)
             .to_string() if len(table) else "(none yet)")
    return write_text(Path(out_dir) / "README.md", f"""# Fine-tuning ground truth

Produced by `potran/bench/groundtruth.py` (protocol in `potran/bench/finetune.py`):

```bash
{command}
```

- Versions: python {sys.version.split()[0]}, torch {torch.__version__}, numpy {numpy.__version__},
  scikit-learn {sklearn.__version__}; torch threads {torch.get_num_threads()}.
- Configuration: `{json.dumps(config.to_dict())}`.
- Cells: {len(table)} of {len(models) * len(targets)} done; the cells' wall times sum to
  {table.wall_s.sum() / 60:.1f} min (cells computed by concurrent processes overlap in time, and
  each then runs slower, so this is not the grid's wall-clock time).
- Missing: {", ".join(missing) if missing else "none"}.

Protocol (scaled down from SFDA/PED so that the grid fits a 2-core CPU): the backbone is
unfrozen and a new linear head added; {config.optimizer}, learning rate {config.lr:g}
(overrides: {dict(config.lr_overrides)}), weight decay {config.wd:g}, batch
{config.batch_size}, {config.epochs} epochs over all training images, cosine decay, one run
per seed {list(config.seeds)}; the cell's accuracy is the mean test accuracy over the seeds.
The rates are the ones the first benchmark's validation sweep (1e-4, 1e-3, 3e-3 on an 80/20
split) chose most often: HED's VGG16 (Caffe-scaled inputs, no BatchNorm) 1e-4 on 6 of 6
targets (it diverges at 1e-3), every other model 1e-3 in 34 of 54 cells. Every BatchNorm gets
momentum {config.bn_momentum} (EfficientNet-Lite's own 0.01 left stale running statistics
after a short schedule). One torch thread per process.

`accuracy.csv`: one row per (model, target): mean and standard deviation of the test accuracy
over the seeds. `cells/*.json`: full record (each seed's test accuracy and per-epoch training
loss, the last epoch's relative loss change, sizes, timing). `snapshots/*.npz`: penultimate
features (`features`, K x P x d, reduced to at most {SCORE_DIM} principal components per snapshot) of P
fixed training images (`indices` into the target's training split, `labels`) at iterations
`steps` of the first seed's run.

Test accuracy (rows: model, columns: target):

```
{pivot}
```
""")
