"""The interface every pretraining objective of benchmark v4 follows, and the helpers they share.

An objective owns the heads, projectors, predictors, queues, memory banks and prototypes it needs;
the encoder is shared with the caller, and after pretraining only ``encoder.state_dict()`` is kept.
``forward(x, idx, augment, y)`` takes a batch ``x`` (B, 3, S, S) in [0, 1], the images' indices
``idx`` into the pool, an ``augment`` callable (``augment(x)``: a strong random view;
``augment.weak(x)``: crop and flip only) and, for the supervised control only, the labels ``y``;
it returns the loss. ``after_step`` runs after each optimiser step (EMA of momentum encoders,
queue and bank updates), ``before_epoch`` before each epoch (clustering a feature bank).

Everything an objective draws for itself (initial heads, rotation angles, permutations, masks,
k-means seeds) comes from its ``seed``, not from the global random state, so two objectives built
with one seed on one encoder and fed the same views compute the same losses.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Objective", "seeded", "mlp", "frozen_copy", "ema_", "enqueue_", "kmeans"]


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with the global CPU generator seeded, restoring its state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class Objective(nn.Module):
    """Base class: stores the shared encoder and a private random generator."""

    name: ClassVar[str]
    family: ClassVar[str]

    def __init__(self, encoder: nn.Module, feat_dim: int, n_images: int, *,
                 n_classes: int | None = None, seed: int = 0):
        super().__init__()
        self.encoder = encoder
        self.feat_dim, self.n_images, self.n_classes, self.seed = feat_dim, n_images, n_classes, seed
        self.rng = torch.Generator().manual_seed(seed)

    def forward(self, x: torch.Tensor, idx: torch.Tensor, augment, y: torch.Tensor | None = None
                ) -> torch.Tensor:
        raise NotImplementedError

    def after_step(self) -> None:
        """Called after each optimiser step; no-op by default."""

    def before_epoch(self, epoch: int) -> None:
        """Called before each epoch; no-op by default."""

    def randint(self, high: int, n: int, device: torch.device) -> torch.Tensor:
        """``n`` integers in [0, high) from the objective's own generator."""
        return torch.randint(high, (n,), generator=self.rng).to(device)


def mlp(d_in: int, d_hidden: int, d_out: int, n_hidden: int = 1) -> nn.Sequential:
    """Projection head: ``n_hidden`` blocks of Linear-BN-ReLU, then a Linear layer."""
    layers, d = [], d_in
    for _ in range(n_hidden):
        layers += [nn.Linear(d, d_hidden, bias=False), nn.BatchNorm1d(d_hidden), nn.ReLU(inplace=True)]
        d = d_hidden
    return nn.Sequential(*layers, nn.Linear(d, d_out))


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy that takes no gradient (the target of a momentum update)."""
    target = copy.deepcopy(module)
    target.requires_grad_(False)
    return target


@torch.no_grad()
def ema_(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """target <- momentum * target + (1 - momentum) * online, parameter by parameter."""
    for p_t, p_o in zip(target.parameters(), online.parameters(), strict=True):
        p_t.mul_(momentum).add_(p_o.detach(), alpha=1.0 - momentum)


@torch.no_grad()
def enqueue_(queue: torch.Tensor, ptr: torch.Tensor, keys: torch.Tensor) -> None:
    """Write ``keys`` over the oldest rows of the ring buffer ``queue`` (FIFO), advance ``ptr``."""
    size = queue.shape[0]
    keys = keys[-size:]
    pos = (int(ptr) + torch.arange(keys.shape[0], device=queue.device)) % size
    queue[pos] = keys.to(queue.dtype)
    ptr.fill_((int(ptr) + keys.shape[0]) % size)


@torch.no_grad()
def kmeans(x: torch.Tensor, k: int, seed: int, n_iter: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """Spherical k-means (cosine similarity) of the rows of ``x``: unit centroids (k, D) and the
    label of every row (N,). Seeded: initial centroids are ``k`` distinct rows drawn with ``seed``;
    a cluster left empty is restarted at a random row."""
    gen = torch.Generator().manual_seed(seed)
    x = F.normalize(x.float(), dim=1)
    k = min(k, x.shape[0])
    centroids = x[torch.randperm(x.shape[0], generator=gen)[:k].to(x.device)].clone()
    for _ in range(n_iter):
        labels = (x @ centroids.T).argmax(dim=1)
        sums = torch.zeros_like(centroids).index_add_(0, labels, x)
        counts = torch.bincount(labels, minlength=k)
        empty = counts == 0
        if empty.any():
            sums[empty] = x[torch.randint(x.shape[0], (int(empty.sum()),), generator=gen).to(x.device)]
        centroids = F.normalize(sums, dim=1)
    return centroids, (x @ centroids.T).argmax(dim=1)
