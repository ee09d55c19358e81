"""VICReg: variance, invariance and covariance regularisation of two views' embeddings.

Bardes, Ponce & LeCun (2022), "VICReg: Variance-Invariance-Covariance Regularization for
Self-Supervised Learning", ICLR. loss = lambda s(Z, Z') + mu [v(Z) + v(Z')] + nu [c(Z) + c(Z')]:
s the mean squared distance of paired embeddings, v(Z) = mean_j max(0, 1 - sqrt(Var(z_j) + eps))
a hinge on each dimension's standard deviation, c(Z) = sum_{i != j} Cov(Z)_ij^2 / d the
off-diagonal covariance. The paper's lambda = mu = 25, nu = 1; a 512-d projector (theirs 8192).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Objective, mlp, seeded

LAMBDA, MU, NU, EPS = 25.0, 25.0, 1.0, 1e-4
HIDDEN, OUT = 512, 512


def variance_term(z: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - (z.var(0) + EPS).sqrt()).mean()


def covariance_term(z: torch.Tensor) -> torch.Tensor:
    zc = z - z.mean(0)
    cov = zc.T @ zc / (z.shape[0] - 1)
    return (cov.pow(2).sum() - torch.diagonal(cov).pow(2).sum()) / z.shape[1]


def vicreg_terms(z1: torch.Tensor, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(invariance, variance, covariance) terms, the last two summed over both views."""
    return (F.mse_loss(z1, z2), variance_term(z1) + variance_term(z2),
            covariance_term(z1) + covariance_term(z2))


class VICReg(Objective):
    name = "vicreg"
    family = "non-contrastive"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.projector = mlp(feat_dim, HIDDEN, OUT, n_hidden=2)

    def forward(self, x, idx, augment, y=None):
        z1 = self.projector(self.encoder(augment(x)))
        z2 = self.projector(self.encoder(augment(x)))
        inv, var, cov = vicreg_terms(z1, z2)
        return LAMBDA * inv + MU * var + NU * cov
