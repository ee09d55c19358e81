"""Fine-tuning one v4 model on one v3 target: one run of the ground truth's protocol.

A run unfreezes the whole encoder, adds a new linear head and trains both with AdamW (cosine
decay to zero over the run, no warm-up) on mini-batches of the images in ``fit``, for a fixed
number of epochs, without augmentation: several targets' labels are geometric (the rotation
targets, ``photo_scale``'s crop side), which crops and flips would corrupt. Every epoch records
the training loss and accuracy (over that epoch's batches) and, when a validation part is given,
its loss and accuracy in eval mode; at the end the test split is scored image by image. The
pilot and the grid of ``data/bench_v4/README.md`` are made of such runs.

Images enter as v3 stores them (uint8, (N, H, W, 3)); 28-pixel images (MNIST, Fashion-MNIST)
get a 2-pixel black border, as the pool's garments did, so that every model sees 32 pixels.
"""
from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...resources import data_path
from . import IMAGE_SIZE
from .pretrain import init_encoder

__all__ = ["BATCH", "OPTIMIZER", "WEIGHTS", "to_tensor", "load_encoder", "validation_split", "finetune_run",
           "test_record", "levelled_off", "not_trained"]

BATCH = 64
OPTIMIZER = "AdamW"   # the torch.optim class of every run (cosine decay to zero, no warm-up)
WEIGHTS = data_path("bench_v4", "weights")


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) images -> float (N, 3, 32, 32) in [0, 1], centred on a black border
    when smaller than 32 pixels."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 of shape (N, H, W, 3), got {images.dtype} "
                         f"{images.shape}")
    pad = IMAGE_SIZE - images.shape[1]
    if pad < 0 or pad % 2 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be square with an even side of at most {IMAGE_SIZE}, "
                         f"got {images.shape[1]}x{images.shape[2]}")
    if pad:
        images = np.pad(images, ((0, 0), (pad // 2,) * 2, (pad // 2,) * 2, (0, 0)))
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255


def load_encoder(name: str, weights: str | Path | None = None) -> nn.Module:
    """The v4 encoder ``name`` with its committed weights (``random``: the shared initialisation)."""
    path = Path(weights or WEIGHTS) / f"{name}.pt"
    if not path.exists():
        raise FileNotFoundError(f"no weights for the v4 model {name!r}: {path} is missing "
                                "(benchmarks/v4_pretrain.py makes it)")
    net = init_encoder()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net


def validation_split(labels, share: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified, seeded split of ``range(len(labels))`` into (fit, validation) positions, each
    sorted; every class keeps at least one image on each side when it has two."""
    labels = np.asarray(labels)
    if not 0 < share < 1:
        raise ValueError(f"share must be in (0, 1), got {share}")
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        k = int(round(share * len(where)))
        k = min(max(k, 1), len(where) - 1) if len(where) > 1 else 0
        val.extend(rng.permutation(where)[:k])
    val = np.sort(np.array(val, dtype=np.int64))
    return np.setdiff1d(np.arange(len(labels)), val), val


@torch.no_grad()
def _evaluate(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 500):
    """Mean cross-entropy, and per-image correctness, in eval mode."""
    net.eval()
    losses, correct = [], []
    for i in range(0, len(x), batch):
        logits = net(x[i:i + batch])
        losses.append(nn.functional.cross_entropy(logits, y[i:i + batch], reduction="sum"))
        correct.append(logits.argmax(1) == y[i:i + batch])
    net.train()
    return float(torch.stack(losses).sum()) / len(x), torch.cat(correct).cpu().numpy()


def finetune_run(encoder: nn.Module, target, *, lr: float, wd: float, epochs: int, seed: int,
                 fit=None, val=None, test: bool = True, snapshot_fractions=(),
                 snapshot_images=None, return_net: bool = False, device: str = "cpu"):
    """Train ``encoder`` (a copy is trained; the argument is untouched) with a new head on
    ``target``'s training images at positions ``fit`` (all by default).

    Returns ``(record, snapshots)``: ``record`` holds per-epoch ``train_loss``, ``train_acc``,
    ``val_loss``, ``val_acc`` (empty without ``val``), ``test_acc`` and the packed per-image
    ``test_correct`` (when ``test``), sizes and seconds; ``snapshots`` maps each step at
    ``snapshot_fractions`` of the run to the encoder's features (float32, (P, d)) of
    ``snapshot_images`` (positions in the training split). With ``return_net`` the trained
    network (encoder, then head) comes third, for `test_record` later.
    """
    if epochs < 1 or lr <= 0 or wd < 0:
        raise ValueError(f"need epochs >= 1, lr > 0 and wd >= 0, got {epochs}, {lr}, {wd}")
    y_all = np.asarray(target.y_train)
    fit = np.arange(len(y_all)) if fit is None else np.asarray(fit)
    if len(fit) < BATCH:
        raise ValueError(f"{target.name}: {len(fit)} training images, fewer than a batch ({BATCH})")
    n_classes = len(target.classes)
    x_fit = to_tensor(target.x_train[fit]).to(device)
    y_fit = torch.as_tensor(y_all[fit], dtype=torch.long).to(device)
    torch.manual_seed(seed)
    backbone = copy.deepcopy(encoder).train()
    net = nn.Sequential(backbone, nn.Linear(backbone.feat_dim, n_classes)).to(device).train()
    opt = getattr(torch.optim, OPTIMIZER)(net.parameters(), lr=lr, weight_decay=wd)
    per_epoch = len(fit) // BATCH
    total = epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    snap_at = sorted({int(round(f * total)) for f in snapshot_fractions})
    x_snap = to_tensor(target.x_train[np.asarray(snapshot_images)]).to(device) if snap_at else None
    snapshots = {}

    def snap(step):
        if step in snap_at:
            backbone.eval()
            with torch.no_grad():
                snapshots[step] = backbone(x_snap).cpu().numpy()
            backbone.train()

    if val is not None:
        x_val = to_tensor(target.x_train[np.asarray(val)]).to(device)
        y_val = torch.as_tensor(y_all[np.asarray(val)], dtype=torch.long).to(device)
    gen = torch.Generator().manual_seed(seed)
    rec = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    t0, step = time.perf_counter(), 0
    for _ in range(epochs):
        perm = torch.randperm(len(fit), generator=gen).to(device)
        loss_sum, hits = 0.0, 0
        for b in range(per_epoch):
            snap(step)
            idx = perm[b * BATCH:(b + 1) * BATCH]
            logits = net(x_fit[idx])
            loss = nn.functional.cross_entropy(logits, y_fit[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            loss_sum += loss.item()
            hits += int((logits.argmax(1) == y_fit[idx]).sum())
        rec["train_loss"].append(round(loss_sum / per_epoch, 6))
        rec["train_acc"].append(round(hits / (per_epoch * BATCH), 6))
        if val is not None:
            v_loss, v_correct = _evaluate(net, x_val, y_val)
            rec["val_loss"].append(round(v_loss, 6))
            rec["val_acc"].append(round(float(v_correct.mean()), 6))
    snap(step)
    record = {"model": None, "target": target.name, "lr": lr, "wd": wd, "epochs": epochs,
              "seed": seed, "batch": BATCH, "n_fit": len(fit), "n_val": 0 if val is None else len(val),
              "n_classes": n_classes, "steps": total, **rec}
    if test:
        record.update(test_record(net, target))
    record["device"] = str(device)
    record["seconds"] = round(time.perf_counter() - t0, 2)
    record["threads"] = torch.get_num_threads()
    return (record, snapshots, net) if return_net else (record, snapshots)


def test_record(net: nn.Module, target) -> dict:
    """``test_acc``, ``n_test`` and the packed per-image ``test_correct`` of a trained network
    on ``target``'s test split."""
    from ..finetune import pack_correctness

    device = next(net.parameters()).device
    _, correct = _evaluate(net, to_tensor(target.x_test).to(device),
                           torch.as_tensor(np.asarray(target.y_test), dtype=torch.long).to(device))
    return {"test_acc": round(float(correct.mean()), 6), "n_test": len(correct),
            "test_correct": pack_correctness(correct)}


def levelled_off(losses, *, window: int = 3, rel: float = 0.02, tol: float = 0.01) -> bool:
    """Has a training-loss curve levelled off? The mean of its last ``window`` epochs is within
    ``rel`` (relative) or ``tol`` (absolute) of the mean of the ``window`` before."""
    losses = np.asarray(losses, dtype=float)
    if len(losses) < 2 * window or not np.isfinite(losses[-2 * window:]).all():
        return False
    last, before = losses[-window:].mean(), losses[-2 * window:-window].mean()
    return bool(abs(last - before) <= max(tol, rel * abs(before)))


def not_trained(train_loss: float, train_acc: float, n_classes: int) -> bool:
    """The pre-registered flag of a run that did not train: its final training loss above 90 %
    of ln C, or its training accuracy below twice chance (C classes)."""
    return bool(train_loss > 0.9 * math.log(n_classes) or train_acc < 2 / n_classes)
