"""Supervised control: cross-entropy of a linear classifier on the pool's labels.

Not a self-supervised objective: the zoo reports it beside the others (as the paper's hub is
compared with supervised ImageNet training, e.g. He, Zhang, Ren & Sun (2016), "Deep Residual
Learning for Image Recognition", CVPR), but it is not counted among them.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from .base import Objective, seeded


class Supervised(Objective):
    name = "supervised"
    family = "supervised"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        if n_classes is None:
            raise ValueError("the supervised objective needs n_classes")
        with seeded(seed):
            self.head = nn.Linear(feat_dim, n_classes)

    def forward(self, x, idx, augment, y=None):
        if y is None:
            raise ValueError("the supervised objective needs the labels y")
        return F.cross_entropy(self.head(self.encoder(augment.weak(x))), y)
