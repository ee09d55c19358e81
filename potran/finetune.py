"""Full fine-tuning of one zoo model on one target: the ground truth of the benchmark.

The protocol of the SFDA/PED papers, scaled down to a 2-core CPU: the whole backbone is
unfrozen, a new linear head is added, a small grid of learning rates (x weight decays) is
trained with SGD-momentum and a cosine schedule, the configuration with the best accuracy on a
seeded validation split of the training images is chosen, and that same run (no retraining) is
evaluated once on the test split. Along the chosen run the penultimate features of a fixed
probe subset of the training images are recorded at a few iterations.

Everything is deterministic given ``seed`` on the CPU (same torch build, same thread count).
"""
from __future__ import annotations

import math
import platform
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

__all__ = ["FinetuneConfig", "FinetuneResult", "training_indices", "split_train_val",
           "probe_indices", "finetune"]


@dataclass(frozen=True)
class FinetuneConfig:
    """Hyper-parameters of one fine-tuning cell; every constant of the protocol lives here.

    Parameters
    ----------
    optimizer : {"adamw", "sgd"}
        AdamW, or SGD with momentum ``momentum``.
    lrs, wds : tuple of float
        Learning-rate and weight-decay grid (full product).
    epochs : int
        Epochs of every run of the grid (cosine decay to zero over ``epochs``).
    batch_size : int
        Mini-batch size; the last incomplete batch of an epoch is dropped (BatchNorm needs > 1).
    momentum : float
        SGD momentum (unused by AdamW).
    bn_momentum : float or None
        Momentum given to every BatchNorm layer before fine-tuning (None keeps the model's).
        EfficientNet-Lite ships TensorFlow's 0.01, which leaves the running statistics stale
        after a short schedule (test accuracy 0.67 instead of 0.92 on digits); 0.1 is
        PyTorch's default and what torchvision's MobileNetV2 uses.
    n_train : int or None
        Images drawn (seeded) from the target's training split; ``None`` takes them all.
        Validation is carved out of these.
    val_fraction : float
        Share of the ``n_train`` images held out for choosing the configuration.
    n_test : int or None
        Test images (seeded subset); ``None`` takes the whole test split.
    probe_size : int
        Training images whose features are recorded along the chosen run.
    snapshot_fractions : tuple of float
        Points of the chosen run (share of its iterations) at which probe features are taken.
    seed : int
        Seed of the subsets, the head initialisation and the batch order.
    """

    optimizer: str = "adamw"
    lrs: tuple[float, ...] = (1e-4, 1e-3, 3e-3)
    wds: tuple[float, ...] = (1e-2,)
    epochs: int = 2
    batch_size: int = 16
    momentum: float = 0.9
    bn_momentum: float | None = 0.1
    n_train: int | None = None
    val_fraction: float = 0.2
    n_test: int | None = None
    probe_size: int = 100
    snapshot_fractions: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)
    seed: int = 0

    def to_dict(self) -> dict:
        """JSON-ready dictionary (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "FinetuneConfig":
        """Inverse of :meth:`to_dict`."""
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
    """Indices of the target's training split that fine-tuning uses (train + validation).

    These are also the images the transferability metrics score in :mod:`potran.bench`.
    """
    return _subset(n_available, config.n_train, np.random.default_rng(config.seed))


def split_train_val(y: np.ndarray, config: FinetuneConfig) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of positions ``0..len(y)-1`` into fitting and validation parts.

    Stratified by class when every class has at least two samples.
    """
    from sklearn.model_selection import train_test_split

    pos = np.arange(len(y))
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    fit, val = train_test_split(pos, test_size=config.val_fraction,
                                random_state=config.seed, stratify=stratify)
    return np.sort(fit), np.sort(val)


def probe_indices(y: np.ndarray, config: FinetuneConfig) -> np.ndarray:
    """Seeded positions of the probe subset among the fitting images."""
    return _subset(len(y), config.probe_size, np.random.default_rng(config.seed + 1))


class _Classifier(nn.Module):
    """Pretrained backbone followed by a new linear head."""

    def __init__(self, backbone: nn.Module, feature_dim: int, n_classes: int):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(feature_dim, n_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


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


def _accuracy(net, x, y, device) -> float:
    return float((_predict(net, x, device) == y.numpy()).mean())


def _train_run(zoo_model, n_classes, x_fit, y_fit, x_probe, lr, wd, config, device):
    """One run of the grid; returns the trained net, per-epoch losses and probe snapshots."""
    torch.manual_seed(config.seed)
    net = _Classifier(zoo_model.build(pretrained=True), zoo_model.feature_dim, n_classes)
    if config.bn_momentum is not None:
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.momentum = config.bn_momentum
    net = net.to(device).train()
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=config.momentum, weight_decay=wd)
    elif config.optimizer == "adamw":
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)
    else:
        raise ValueError(f"optimizer must be 'adamw' or 'sgd', got {config.optimizer!r}")
    per_epoch = len(x_fit) // config.batch_size
    if per_epoch < 1:
        raise ValueError(f"batch_size {config.batch_size} exceeds the {len(x_fit)} fitting images")
    total = config.epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    snap_at = sorted({int(round(f * total)) for f in config.snapshot_fractions})
    gen = torch.Generator().manual_seed(config.seed)
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
    """Fine-tune ``zoo_model`` on ``target`` with a validation-chosen configuration.

    Parameters
    ----------
    zoo_model : potran.zoo.ZooModel
        Provides ``name``, ``feature_dim``, ``build(pretrained=True)`` and ``preprocess``.
    target : potran.datasets.Target
        Provides ``name``, ``x_train``, ``y_train``, ``x_test``, ``y_test``, ``classes``.
    config : FinetuneConfig
        Sizes, grid, schedule and seed.
    device : str
        Torch device ("cpu" or "cuda").
    progress : callable, optional
        Called with a short status string before each run (e.g. ``tqdm.set_postfix_str``).

    Returns
    -------
    FinetuneResult
        ``record`` holds test accuracy, validation accuracy per configuration, the chosen
        configuration, sizes, wall time and versions; ``snapshots`` holds the chosen run's
        probe features as ``features`` (K, P, D) float16 (float32 if out of its range),
        ``steps`` (K,), ``labels`` (P,), ``indices`` (P,) into ``target.x_train``.
    """
    t0 = time.perf_counter()
    n_classes = len(target.classes)
    train_idx = training_indices(len(target.y_train), config)
    y_all = np.asarray(target.y_train)[train_idx]
    fit_pos, val_pos = split_train_val(y_all, config)
    probe_pos = fit_pos[probe_indices(y_all[fit_pos], config)]
    test_idx = _subset(len(target.y_test), config.n_test, np.random.default_rng(config.seed + 2))

    x_all = zoo_model.preprocess(np.asarray(target.x_train)[train_idx])
    y_all_t = torch.as_tensor(y_all, dtype=torch.long)
    x_fit, y_fit = x_all[fit_pos], y_all_t[fit_pos]
    x_val, y_val = x_all[val_pos], y_all_t[val_pos]
    x_probe = x_all[probe_pos]

    runs, best = [], None
    for lr in config.lrs:
        for wd in config.wds:
            if progress is not None:
                progress(f"lr={lr:g} wd={wd:g}")
            t_run = time.perf_counter()
            net, losses, snaps = _train_run(zoo_model, n_classes, x_fit, y_fit, x_probe,
                                            lr, wd, config, device)
            val_acc = _accuracy(net, x_val, y_val, device)
            runs.append({"lr": lr, "wd": wd, "val_acc": val_acc, "train_loss": losses,
                         "seconds": time.perf_counter() - t_run})
            if best is None or val_acc > best[0]:  # ties keep the earlier configuration
                best = (val_acc, lr, wd, net, snaps)
            del net

    val_acc, lr, wd, net, snaps = best
    x_test = zoo_model.preprocess(np.asarray(target.x_test)[test_idx])
    y_test = torch.as_tensor(np.asarray(target.y_test)[test_idx], dtype=torch.long)
    test_acc = _accuracy(net, x_test, y_test, device)

    steps = np.array(sorted(snaps))
    feats = np.stack([snaps[s] for s in steps])
    small = np.isfinite(feats).all() and np.abs(feats).max() < 6e4  # float16 halves the files
    snapshots = {"features": feats.astype(np.float16 if small else np.float32),
                 "steps": steps, "labels": y_all[probe_pos],
                 "indices": train_idx[probe_pos]}
    record = {
        "model": zoo_model.name, "target": target.name, "test_acc": test_acc,
        "val_acc": val_acc, "lr": lr, "wd": wd, "epochs": config.epochs,
        "runs": runs, "n_fit": len(fit_pos), "n_val": len(val_pos), "n_test": len(test_idx),
        "n_classes": n_classes, "image_size": int(x_all.shape[-1]),
        "iterations": config.epochs * (len(fit_pos) // config.batch_size),
        "snapshot_steps": steps.tolist(), "seed": config.seed,
        "wall_s": time.perf_counter() - t0, "device": str(device),
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "python": platform.python_version(), "config": config.to_dict(),
    }
    return FinetuneResult(record, snapshots)
