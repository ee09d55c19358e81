"""BYOL: an online network with a predictor regresses a slowly moving target network's projection.

Grill, Strub, Altche, Tallec, Richemond, Buchatskaya, Doersch, Avila Pires, Guo, Gheshlaghi Azar,
Piot, Kavukcuoglu, Munos & Valko (2020), "Bootstrap Your Own Latent: A New Approach to
Self-Supervised Learning", NeurIPS. Loss: 2 - 2 cos(q(z_online(v)), z_target(v')), symmetrised over
the two views; the target (encoder and projector) gets no gradient and follows the online weights
by EMA after each step, xi <- tau xi + (1 - tau) theta. tau = 0.99 (fixed; the paper's 0.996 with a
cosine increase is for long schedules).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Objective, ema_, frozen_copy, mlp, seeded

MOMENTUM, HIDDEN, OUT = 0.99, 512, 128


def regression_loss(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mean of 2 - 2 cos(p, z), i.e. the squared distance of the unit vectors."""
    return (2 - 2 * F.cosine_similarity(p, z, dim=1)).mean()


class BYOL(Objective):
    name = "byol"
    family = "non-contrastive"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.projector = mlp(feat_dim, HIDDEN, OUT)
            self.predictor = mlp(OUT, HIDDEN, OUT)
        self.target_encoder, self.target_projector = frozen_copy(encoder), frozen_copy(self.projector)

    def forward(self, x, idx, augment, y=None):
        v1, v2 = augment(x), augment(x)
        p1 = self.predictor(self.projector(self.encoder(v1)))
        p2 = self.predictor(self.projector(self.encoder(v2)))
        with torch.no_grad():
            t1 = self.target_projector(self.target_encoder(v1))
            t2 = self.target_projector(self.target_encoder(v2))
        return regression_loss(p1, t2) + regression_loss(p2, t1)

    def after_step(self):
        ema_(self.target_encoder, self.encoder, MOMENTUM)
        ema_(self.target_projector, self.projector, MOMENTUM)
