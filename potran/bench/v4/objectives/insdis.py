"""Instance discrimination with a memory bank (InsDis).

Wu, Xiong, Yu & Lin (2018), "Unsupervised Feature Learning via Non-Parametric Instance
Discrimination", CVPR. Every image is its own class: the unit embedding v of a view of image i is
scored against all n memory-bank entries (non-parametric softmax, P(i|v) = exp(v.m_i / tau) /
sum_j exp(v.m_j / tau), tau 0.07), and after the step the bank entry moves toward v,
m_i <- normalise(lambda m_i + (1 - lambda) v) with lambda 0.5 (the paper's proximal update).
The full softmax over the bank is computed exactly (the paper approximates it by NCE because its
bank holds 1.28 million entries; ours holds the pool, some tens of thousands).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import Objective, seeded

TAU, BANK_MOMENTUM, OUT = 0.07, 0.5, 128


class InsDis(Objective):
    name = "insdis"
    family = "memory bank"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.head = nn.Linear(feat_dim, OUT)  # the paper's linear projection to 128-d
            bank = F.normalize(torch.randn(n_images, OUT), dim=1)
        self.register_buffer("bank", bank)
        self._pending = None

    def forward(self, x, idx, augment, y=None):
        v = F.normalize(self.head(self.encoder(augment(x))), dim=1)
        self._pending = (idx, v.detach())
        return F.cross_entropy(v @ self.bank.clone().T / TAU, idx.to(v.device))

    @torch.no_grad()
    def after_step(self):
        if self._pending is not None:
            idx, v = self._pending
            self.bank[idx] = F.normalize(BANK_MOMENTUM * self.bank[idx] + (1 - BANK_MOMENTUM) * v, dim=1)
            self._pending = None
