"""SwAV: online clustering onto learnt prototypes, predicting one view's code from the other view.

Caron, Misra, Mairal, Goyal, Bojanowski & Joulin (2020), "Unsupervised Learning of Visual Features
by Contrasting Cluster Assignments", NeurIPS. The scores of each view's unit embedding against K
unit prototypes are turned into codes Q by Sinkhorn-Knopp (an equipartition of the batch over the
prototypes, entropic regularisation eps 0.05, 3 iterations); the loss is the cross-entropy of each
view's code against the other view's softmax(scores / tau), tau 0.1 (swapped prediction).
K = 100 prototypes (under the batch of 256, so no queue is needed), two views without multi-crop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import Objective, mlp, seeded

TAU, EPS, SINKHORN_ITERS, PROTOTYPES = 0.1, 0.05, 3, 100
HIDDEN, OUT = 512, 128


@torch.no_grad()
def sinkhorn(scores: torch.Tensor, eps: float = EPS, n_iters: int = SINKHORN_ITERS) -> torch.Tensor:
    """Codes (B, K) for the scores (B, K): each row sums to 1 (one sample's soft assignment) and,
    as the iterations converge, each column to B / K (the prototypes share the batch equally)."""
    b, k = scores.shape
    q = torch.exp((scores - scores.max()) / eps).T  # (K, B)
    q /= q.sum()
    for _ in range(n_iters):
        q /= q.sum(dim=1, keepdim=True) * k  # each prototype: total mass 1/K
        q /= q.sum(dim=0, keepdim=True) * b  # each sample: total mass 1/B
    return (q * b).T


def swapped_prediction(s1: torch.Tensor, s2: torch.Tensor, tau: float = TAU) -> torch.Tensor:
    """Cross-entropy of each view's Sinkhorn code against the other view's softmax(scores / tau),
    averaged over both directions and the batch."""
    q1, q2 = sinkhorn(s1.detach()), sinkhorn(s2.detach())
    ce12 = (q1 * F.log_softmax(s2 / tau, dim=1)).sum(1)
    ce21 = (q2 * F.log_softmax(s1 / tau, dim=1)).sum(1)
    return -0.5 * (ce12 + ce21).mean()


class SwAV(Objective):
    name = "swav"
    family = "clustering"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.projector = mlp(feat_dim, HIDDEN, OUT)
            self.prototypes = nn.Linear(OUT, PROTOTYPES, bias=False)

    def forward(self, x, idx, augment, y=None):
        with torch.no_grad():  # the prototypes stay on the unit sphere (normalised every step)
            self.prototypes.weight.copy_(F.normalize(self.prototypes.weight, dim=1))
        s1 = self.prototypes(F.normalize(self.projector(self.encoder(augment(x))), dim=1))
        s2 = self.prototypes(F.normalize(self.projector(self.encoder(augment(x))), dim=1))
        return swapped_prediction(s1, s2)
