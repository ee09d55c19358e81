"""Full fine-tuning of one zoo model on one target (whole backbone, new linear head), once per
seed: the benchmark's ground truth; protocol: book/api/benchmark.md. Deterministic given the
seeds on the CPU (same torch build, same thread count)."""
from __future__ import annotations

import base64
import math
import platform
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from ..evidence import unpack_correctness
from .reduction import reduce_features

__all__ = ["FinetuneConfig", "FinetuneResult", "training_indices", "probe_indices", "finetune",
           "test_correctness", "pack_correctness"]


@dataclass(frozen=True)
class FinetuneConfig:
    """Hyper-parameters of one fine-tuning cell; every constant of the protocol lives here.

    ``optimizer``: ``"adamw"`` or ``"sgd"`` (with ``momentum``); ``lr``: peak rate, cosine decay
    to zero over ``epochs``; ``lr_overrides``: (model name, lr) pairs trained with another rate;
    ``batch_size``: an epoch's last incomplete batch is dropped; ``bn_momentum``: set on every
    BatchNorm layer (None keeps the model's); ``seeds``: one run per seed; ``n_train``,
    ``n_test``: seeded subsets of the splits (None: all); ``probe_size`` training images have
    their features recorded along the first seed's run at ``snapshot_fractions`` of its steps.
    """

    optimizer: str = "adamw"
    lr: float = 1e-3
    lr_overrides: tuple[tuple[str, float], ...] = (("hed_vgg16", 1e-4),)
    wd: float = 1e-2
    epochs: int = 10
    batch_size: int = 16
    momentum: float = 0.9
    bn_momentum: float | None = 0.1
    seeds: tuple[int, ...] = (0, 1, 2)
    n_train: int | None = None
    n_test: int | None = None
    probe_size: int = 400
    snapshot_fractions: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)

    def lr_for(self, model: str) -> float:
        """Learning rate of ``model``."""
        return dict(self.lr_overrides).get(model, self.lr)

    def to_dict(self) -> dict:
        """JSON-ready dictionary (tuples become lists)."""
        d = asdict(self)
        d["lr_overrides"] = {k: v for k, v in self.lr_overrides}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> FinetuneConfig:
        """Inverse of :meth:`to_dict`."""
        d = dict(d, lr_overrides=tuple(sorted(d.get("lr_overrides", {}).items())))
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


@dataclass
class FinetuneResult:
    """Outcome of :func:`finetune`: JSON-ready ``record`` plus the probe-feature snapshots."""

    record: dict
    snapshots: dict = field(default_factory=dict)


def _subset(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted seeded subset of ``range(n)`` of ``size`` elements (all when ``size`` is None)."""
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(rng.permutation(n)[:size])


def training_indices(n_available: int, config: FinetuneConfig) -> np.ndarray:
    """Indices of the target's training split that fine-tuning uses (and the metrics score)."""
    return _subset(n_available, config.n_train, np.random.default_rng(0))


def probe_indices(n: int, config: FinetuneConfig) -> np.ndarray:
    """Seeded positions of the probe subset among the ``n`` training images used."""
    return _subset(n, config.probe_size, np.random.default_rng(1))


class _Preprocessed:
    """A split's images, preprocessed (image by image) only when a batch is indexed: a split is
    never held as floats (at 224 px CIFAR's training split would take 30 GB)."""

    def __init__(self, zoo_model, images):
        self.zoo_model, self.images = zoo_model, np.asarray(images)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, torch.Tensor):
            index = index.numpy()
        return self.zoo_model.preprocess(self.images[index])


@torch.no_grad()
def _predict(net: nn.Module, x: torch.Tensor, device, batch_size: int = 256,
             features: bool = False) -> np.ndarray:
    """Logits' argmax (or backbone features) in eval mode, batched; restores the mode."""
    was_training = net.training
    net.eval()
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size].to(device)
        out.append((net.backbone(xb) if features else net(xb).argmax(1)).cpu())
    net.train(was_training)
    return torch.cat(out).numpy()


def pack_correctness(correct: np.ndarray) -> str:
    """Per-image 0/1 correctness as base64 of the packed bits (JSON-ready, 1 bit per image)."""
    return base64.b64encode(np.packbits(np.asarray(correct, dtype=bool)).tobytes()).decode()


def test_correctness(record: dict) -> np.ndarray:
    """Per-image test correctness of a cell, bool (n_seeds, n_test), in the order of the test
    images it used; ValueError if the cell was made before that was recorded."""
    runs = record["runs"]
    if any("test_correct" not in r for r in runs):
        raise ValueError(f"the cell {record['model']}/{record['target']} has no per-image test "
                         "correctness (made before it was recorded)")
    return np.stack([unpack_correctness(r["test_correct"], record["n_test"]) for r in runs])


def _train_run(zoo_model, n_classes, x_fit, y_fit, x_probe, seed, config, device):
    """One seeded run; returns the trained net, per-epoch losses and probe snapshots."""
    torch.manual_seed(seed)
    net = nn.Sequential(OrderedDict(backbone=zoo_model.build(pretrained=True),  # then a new head
                                    head=nn.Linear(zoo_model.feature_dim, n_classes)))
    if config.bn_momentum is not None:
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.momentum = config.bn_momentum
    net = net.to(device).train()
    lr, wd = config.lr_for(zoo_model.name), config.wd
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=config.momentum, weight_decay=wd)
    elif config.optimizer == "adamw":
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)
    else:
        raise ValueError(f"optimizer must be 'adamw' or 'sgd', got {config.optimizer!r}")
    per_epoch = len(x_fit) // config.batch_size
    if per_epoch < 1:
        raise ValueError(f"batch_size {config.batch_size} exceeds the {len(x_fit)} training images")
    total = config.epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    snap_at = (sorted({int(round(f * total)) for f in config.snapshot_fractions})
               if x_probe is not None else [])
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    snapshots, losses, step = {}, [], 0
    for _ in range(config.epochs):
        perm = torch.randperm(len(x_fit), generator=gen)
        running = 0.0
        for b in range(per_epoch):
            if step in snap_at:
                snapshots[step] = _predict(net, x_probe, device, features=True)
            idx = perm[b * config.batch_size:(b + 1) * config.batch_size]
            loss = loss_fn(net(x_fit[idx].to(device)), y_fit[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item()
            step += 1
        losses.append(running / per_epoch)
    if step in snap_at:
        snapshots[step] = _predict(net, x_probe, device, features=True)
    losses = [v if math.isfinite(v) else None for v in losses]  # JSON has no NaN
    return net, losses, snapshots


def finetune(zoo_model, target, config: FinetuneConfig = FinetuneConfig(), *,
             device: str = "cpu", progress=None) -> FinetuneResult:
    """Fine-tune ``zoo_model`` (a ``potran.bench.zoo.ZooModel``) on ``target`` (a
    ``potran.bench.datasets.Target``) once per seed of ``config``; ``progress`` is called with a
    short status before each run.

    ``record``: mean and sd of the seeds' test accuracy, each run's accuracy, per-image test
    correctness (`test_correctness` decodes it) and per-epoch loss, sizes, wall time, versions.
    ``snapshots``: the first seed's probe features reduced by
    :func:`potran.bench.reduction.reduce_features`, ``features`` (K, P, d) float16 (float32 if out
    of its range), ``steps`` (K,), ``labels`` (P,), ``indices`` (P,) into ``target.x_train``.
    """
    t0 = time.perf_counter()
    n_classes = len(target.classes)
    train_idx = training_indices(len(target.y_train), config)
    y_np = np.asarray(target.y_train)[train_idx]
    probe_pos = probe_indices(len(train_idx), config)
    test_idx = _subset(len(target.y_test), config.n_test, np.random.default_rng(2))

    x_fit = _Preprocessed(zoo_model, np.asarray(target.x_train)[train_idx])
    y_fit = torch.as_tensor(y_np, dtype=torch.long)
    x_test = _Preprocessed(zoo_model, np.asarray(target.x_test)[test_idx])
    y_test = torch.as_tensor(np.asarray(target.y_test)[test_idx], dtype=torch.long)

    runs, snaps = [], None
    for seed in config.seeds:
        if progress is not None:
            progress(f"seed {seed}")
        t_run = time.perf_counter()
        probe = (_Preprocessed(zoo_model, x_fit.images[probe_pos])
                 if snaps is None and config.snapshot_fractions else None)
        net, losses, run_snaps = _train_run(zoo_model, n_classes, x_fit, y_fit, probe, seed,
                                            config, device)
        snaps = run_snaps if snaps is None else snaps
        correct = _predict(net, x_test, device) == y_test.numpy()
        runs.append({"seed": seed, "test_acc": float(correct.mean()), "train_loss": losses,
                     "seconds": time.perf_counter() - t_run, "test_correct": pack_correctness(correct)})
        del net

    accs = np.array([r["test_acc"] for r in runs])
    last_change = [abs(r["train_loss"][-1] - r["train_loss"][-2]) / abs(r["train_loss"][-2])
                   if len(r["train_loss"]) > 1 and None not in r["train_loss"][-2:] else None
                   for r in runs]
    steps = np.array(sorted(snaps), dtype=np.int64)
    snapshots = {}
    if len(steps):
        feats = np.stack([reduce_features(snaps[s]) for s in steps])
        small = np.isfinite(feats).all() and np.abs(feats).max() < 6e4  # float16 halves the files
        snapshots = {"features": feats.astype(np.float16 if small else np.float32),
                     "steps": steps, "labels": y_np[probe_pos], "indices": train_idx[probe_pos]}
    record = {
        "model": zoo_model.name, "target": target.name, "test_acc": float(accs.mean()),
        "test_acc_sd": float(accs.std(ddof=1)) if len(accs) > 1 else 0.0,
        "lr": config.lr_for(zoo_model.name), "wd": config.wd, "epochs": config.epochs,
        "n_seeds": len(runs), "runs": runs, "loss_last_epoch_rel_change": last_change,
        "n_train": len(train_idx), "n_test": len(test_idx), "n_classes": n_classes,
        "image_size": int(x_fit[:1].shape[-1]),
        "iterations": config.epochs * (len(train_idx) // config.batch_size),
        "snapshot_steps": steps.tolist(),
        "wall_s": time.perf_counter() - t0, "device": str(device),
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "python": platform.python_version(), "config": config.to_dict(),
    }
    return FinetuneResult(record, snapshots)
