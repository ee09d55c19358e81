"""SimCLR: two strong views of each image, NT-Xent over the batch.

Chen, Kornblith, Norouzi & Hinton (2020), "A Simple Framework for Contrastive Learning of Visual
Representations", ICML. For the 2B projected views, each view's positive is the other view of its
image and its negatives are the other 2B - 2 views (cosine similarity over temperature tau).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Objective, mlp, seeded

TAU = 0.5  # the paper's value for CIFAR-10 at batch 256
HIDDEN, OUT = 512, 128


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, tau: float = TAU) -> torch.Tensor:
    """Normalised-temperature cross-entropy, averaged over all 2B anchors."""
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = (z @ z.T / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, target)


class SimCLR(Objective):
    name = "simclr"
    family = "in-batch contrastive"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.projector = mlp(feat_dim, HIDDEN, OUT)

    def forward(self, x, idx, augment, y=None):
        z1 = self.projector(self.encoder(augment(x)))
        z2 = self.projector(self.encoder(augment(x)))
        return nt_xent(z1, z2)
