"""PCL: prototypical contrastive learning, MoCo's instance term plus a ProtoNCE term.

Li, Zhou, Xiong & Hoi (2021), "Prototypical Contrastive Learning of Unsupervised
Representations", ICLR (the v2 form, on MoCo v2: MLP head, tau 0.2). Every epoch the bank of
momentum features of the whole pool is clustered (spherical k-means) at M granularities; each
cluster c gets a concentration phi_c = sum_z ||v_z - c||_2 / (Z log(Z + alpha)) (alpha 10, clipped
to its 10th-90th percentiles and scaled to mean tau). The loss adds to the instance InfoNCE the
mean over granularities of the cross-entropy of softmax_c(v . c / phi_c) against the image's
cluster (here over all prototypes, the paper samples r negatives among 25,000+). Until the bank
holds the image (the first epoch) only the instance term counts, as the paper's warm-up does.
"""

from __future__ import annotations

import torch

from .base import kmeans
from .deepcluster import pseudo_label_loss
from .moco import TAU, MoCo, info_nce

GRANULARITIES, ALPHA, KMEANS_ITERS = (64, 128, 256), 10.0, 20


@torch.no_grad()
def concentration(x: torch.Tensor, centroids: torch.Tensor, labels: torch.Tensor,
                  tau: float = TAU) -> torch.Tensor:
    """phi_c per cluster (see the module docstring); single-member or empty clusters get the
    largest phi of the others."""
    k = centroids.shape[0]
    dist = (x - centroids[labels]).norm(dim=1)
    z = torch.bincount(labels, minlength=k).float()
    phi = torch.zeros(k, device=x.device).index_add_(0, labels, dist) / (z * torch.log(z + ALPHA))
    many = z > 1
    phi[~many] = phi[many].max() if many.any() else tau
    lo, hi = torch.quantile(phi, 0.1), torch.quantile(phi, 0.9)
    phi = phi.clamp(lo, hi)
    return tau * phi / phi.mean()


class PCL(MoCo):
    name = "pcl"
    family = "prototypes"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        self.granularities = tuple(min(k, max(2, n_images // 8)) for k in GRANULARITIES)
        dim = self.queue.shape[1]
        self.register_buffer("bank", torch.zeros(n_images, dim))
        self.register_buffer("seen", torch.zeros(n_images, dtype=torch.bool))
        for m, k in enumerate(self.granularities):
            self.register_buffer(f"centroids{m}", torch.zeros(k, dim))
            self.register_buffer(f"phi{m}", torch.ones(k))
            self.register_buffer(f"labels{m}", torch.full((n_images,), -1, dtype=torch.long))
        self._idx = None

    def forward(self, x, idx, augment, y=None):
        q, k = self.query(augment(x)), self.key(augment(x))
        self._keys, self._idx = k, idx
        loss = info_nce(q, k, self.queue.clone())
        proto = [pseudo_label_loss(q @ self._get("centroids", m).clone().T / self._get("phi", m),
                                   self._get("labels", m)[idx]) for m in range(len(self.granularities))]
        return loss + sum(proto) / len(proto)

    def _get(self, what: str, m: int) -> torch.Tensor:
        return getattr(self, f"{what}{m}")

    @torch.no_grad()
    def after_step(self):
        if self._idx is not None and self._keys is not None:
            self.bank[self._idx], self.seen[self._idx] = self._keys, True
        self._idx = None
        super().after_step()

    @torch.no_grad()
    def before_epoch(self, epoch):
        if not self.seen.any():
            return
        feats = self.bank[self.seen]
        for m, k in enumerate(self.granularities):
            centroids, labels = kmeans(feats, k, self.seed * 1000 + 10 * epoch + m, KMEANS_ITERS)
            self._get("centroids", m)[:centroids.shape[0]] = centroids
            self._get("phi", m)[:centroids.shape[0]] = concentration(feats, centroids, labels)
            self._get("labels", m).fill_(-1)
            self._get("labels", m)[self.seen] = labels
