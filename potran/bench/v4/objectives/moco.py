"""MoCo v2: a momentum key encoder and a queue of past keys as negatives.

He, Fan, Wu, Xie & Girshick (2020), "Momentum Contrast for Unsupervised Visual Representation
Learning", CVPR; v2 (MLP head, stronger views, tau 0.2): Chen, Fan, Girshick & He (2020),
"Improved Baselines with Momentum Contrastive Learning", arXiv:2003.04297. The query q of one view
is contrasted (InfoNCE) with the key k of the other view, computed by the momentum encoder, against
the K keys of the queue. After each optimiser step the key encoder moves toward the query encoder
(EMA, momentum m) and the batch's keys replace the queue's oldest (FIFO).

Sized for a pool of some tens of thousands: K = 4096 (at most the pool's size) and m = 0.99 (the
paper's 0.999 is for hundreds of thousands of steps). Shuffled BN is not used (one device).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Objective, ema_, enqueue_, frozen_copy, mlp, seeded

TAU, MOMENTUM, QUEUE = 0.2, 0.99, 4096
HIDDEN, OUT = 512, 128


def info_nce(q: torch.Tensor, k: torch.Tensor, negatives: torch.Tensor, tau: float = TAU) -> torch.Tensor:
    """-log softmax of the positive logit q.k among it and q.n for every negative n (unit rows)."""
    pos = (q * k).sum(dim=1, keepdim=True)
    logits = torch.cat([pos, q @ negatives.T], dim=1) / tau
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long, device=q.device))


class MoCo(Objective):
    name = "moco"
    family = "momentum queue"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.head = mlp(feat_dim, HIDDEN, OUT)
            queue = F.normalize(torch.randn(min(QUEUE, n_images), OUT), dim=1)
        self.key_encoder, self.key_head = frozen_copy(encoder), frozen_copy(self.head)
        self.register_buffer("queue", queue)
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))
        self._keys = None

    def query(self, v: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.encoder(v)), dim=1)

    @torch.no_grad()
    def key(self, v: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.key_head(self.key_encoder(v)), dim=1)

    def forward(self, x, idx, augment, y=None):
        q, k = self.query(augment(x)), self.key(augment(x))
        self._keys = k
        return info_nce(q, k, self.queue.clone())

    def after_step(self):
        ema_(self.key_encoder, self.encoder, MOMENTUM)
        ema_(self.key_head, self.head, MOMENTUM)
        if self._keys is not None:
            enqueue_(self.queue, self.queue_ptr, self._keys)
            self._keys = None
