"""Barlow Twins: make the cross-correlation matrix of two views' embeddings the identity.

Zbontar, Jing, Misra, LeCun & Deny (2021), "Barlow Twins: Self-Supervised Learning via Redundancy
Reduction", ICML. With both views' embeddings standardised over the batch, C = z1^T z2 / B and
loss = sum_i (1 - C_ii)^2 (invariance) + lambda sum_{i != j} C_ij^2 (redundancy reduction).
A 512-d projector (the paper's is 8192-d), lambda = 5e-3 as in the paper.
"""

from __future__ import annotations

import torch

from .base import Objective, mlp, seeded

LAMBDA, HIDDEN, OUT = 5e-3, 512, 512


def standardise(z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Zero mean and unit (biased) variance per dimension over the batch, as BatchNorm without
    affine parameters does."""
    return (z - z.mean(0)) / (z.var(0, unbiased=False) + eps).sqrt()


def barlow_terms(z1: torch.Tensor, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The invariance term sum_i (1 - C_ii)^2 and the redundancy term sum_{i != j} C_ij^2."""
    c = standardise(z1).T @ standardise(z2) / z1.shape[0]
    diag = torch.diagonal(c)
    return (1 - diag).pow(2).sum(), (c.pow(2).sum() - diag.pow(2).sum())


class BarlowTwins(Objective):
    name = "barlow_twins"
    family = "non-contrastive"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.projector = mlp(feat_dim, HIDDEN, OUT, n_hidden=2)

    def forward(self, x, idx, augment, y=None):
        z1 = self.projector(self.encoder(augment(x)))
        z2 = self.projector(self.encoder(augment(x)))
        on, off = barlow_terms(z1, z2)
        return on + LAMBDA * off
