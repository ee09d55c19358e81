"""Rotation prediction: which of four rotations (0, 90, 180, 270 degrees) was applied.

Gidaris, Singh & Komodakis (2018), "Unsupervised Representation Learning by Predicting Image
Rotations", ICLR. Here each image gets one rotation drawn at random (the paper feeds all four;
one keeps the cost of a step equal to a single forward pass), after a crop-and-flip view.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import Objective, seeded


def rotate(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Rotate image i of ``x`` (B, C, S, S) by ``k[i]`` quarter turns (counter-clockwise); a new
    tensor. ``rotate(rotate(x, k), -k)`` is ``x``."""
    k = k % 4
    out = torch.empty_like(x)
    for r in range(4):
        sel = k == r
        out[sel] = torch.rot90(x[sel], r, dims=(2, 3))
    return out


class Rotation(Objective):
    name = "rotation"
    family = "pretext"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.head = nn.Linear(feat_dim, 4)

    def forward(self, x, idx, augment, y=None):
        k = self.randint(4, x.shape[0], x.device)
        return F.cross_entropy(self.head(self.encoder(rotate(augment.weak(x), k))), k)
