"""The official learning-rate x weight-decay fine-tuning grid as resumable cells."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from ..datasets import Target
from ..finetune import FinetuneConfig, finetune, training_indices
from ..store import CellStore, write_npz

#: (learning rate, weight decay) settings of the official fine-tuning grid, in its order.
SWEEP_GRID: tuple[tuple[float, float], ...] = tuple(
    (lr, product / lr) for lr in (1e-1, 1e-2, 1e-3, 1e-4) for product in (0.0, 1e-6, 1e-5, 1e-4, 1e-3))
STEPS = 5000
FINETUNE = FinetuneConfig(optimizer="sgd", lr=1e-1, lr_overrides=(), wd=0.0, epochs=1,
                          batch_size=128, momentum=0.9, bn_momentum=None, seeds=(0,))


def setting_name(lr: float, wd: float) -> str:
    """Cell-name suffix of one grid setting, e.g. ``lr0.1_wd1e-05``."""
    return f"lr{lr:g}_wd{wd:g}"


def _setting_config(base: FinetuneConfig, lr: float, wd: float, n_available: int, steps: int | None):
    """``base`` at one grid setting; with ``steps``, the epochs that make about that many steps."""
    epochs = base.epochs
    if steps is not None:
        n_fit = len(training_indices(n_available, base))
        epochs = max(1, math.ceil(steps / max(1, n_fit // base.batch_size)))
    return replace(base, lr=lr, wd=wd, lr_overrides=(), epochs=epochs)


def _finetune_cell(root: Path, model: str, cell: str, zoo_model, target: Target, config, device,
                   extra: dict) -> dict:
    """Fine-tune one cell unless its record exists (made with the same config); save and return it."""
    store = CellStore(root)
    record = store.load(model, cell)
    if record is not None:
        if record["config"] != config.to_dict():
            raise ValueError(f"{store.path(model, cell)} was made with another configuration "
                             f"({record['config']}); use another out_dir or delete the cell")
        return record
    res = finetune(zoo_model, target, config, device=device)
    write_npz(root / "snapshots" / f"{model}__{cell}.npz", **res.snapshots)
    record = dict(res.record, **extra)
    store.save(model, cell, record)
    return record
