"""Inpainting (context encoder): reconstruct a masked region of the image from its context.

Pathak, Krahenbuhl, Donahue, Darrell & Efros (2016), "Context Encoders: Feature Learning by
Inpainting", CVPR. A square hole of half the image's side, at a random place (the paper's
random-block variant), is filled with grey; the encoder's pooled feature goes through a small
transposed-convolution decoder to a full image in [0, 1], and the loss is the mean squared error
over the hole's pixels (the paper's reconstruction loss, without its adversarial term).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import Objective, seeded

FILL = 0.5


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the masked pixels (mask (B, 1, S, S), 1 in the hole)."""
    mask = mask.expand_as(target)
    return ((pred - target) ** 2 * mask).sum() / mask.sum().clamp_min(1)


def hole_mask(b: int, side: int, gen: torch.Generator) -> torch.Tensor:
    """(B, 1, S, S) masks, each with one (S/2 x S/2) square of ones at a random position."""
    h = side // 2
    top, left = (torch.randint(side - h + 1, (b,), generator=gen) for _ in range(2))
    r = torch.arange(side)
    rows = (r[None] >= top[:, None]) & (r[None] < top[:, None] + h)
    cols = (r[None] >= left[:, None]) & (r[None] < left[:, None] + h)
    return (rows[:, :, None] & cols[:, None, :]).float()[:, None]


def decoder(feat_dim: int) -> nn.Sequential:
    """(B, feat_dim) -> (B, 3, 32, 32) in [0, 1]."""
    def up(c_in, c_out):
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True)]
    return nn.Sequential(nn.Linear(feat_dim, 64 * 4 * 4), nn.Unflatten(1, (64, 4, 4)), nn.ReLU(inplace=True),
                         *up(64, 32), *up(32, 16), nn.ConvTranspose2d(16, 3, 4, 2, 1), nn.Sigmoid())


class Inpainting(Objective):
    name = "inpainting"
    family = "pretext"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.decoder = decoder(feat_dim)

    def forward(self, x, idx, augment, y=None):
        view = augment.weak(x)
        mask = hole_mask(x.shape[0], x.shape[-1], self.rng).to(x.device)
        pred = self.decoder(self.encoder(torch.where(mask.bool(), FILL, view)))
        if pred.shape[-1] != x.shape[-1]:
            pred = F.interpolate(pred, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return reconstruction_loss(pred, view, mask)
