"""DeepCluster (v2): k-means pseudo-labels, re-computed every epoch from a bank of features.

Caron, Bojanowski, Joulin & Douze (2018), "Deep Clustering for Unsupervised Learning of Visual
Features", ECCV; the v2 form (cosine k-means on projected features, centroids as the classifier,
a temperature) from Caron et al. (2020), "Unsupervised Learning of Visual Features by Contrasting
Cluster Assignments", NeurIPS. Each step stores the batch's unit embeddings in the bank (n_images
entries); ``before_epoch`` clusters the bank (spherical k-means, K clusters, seeded by the seed and
the epoch) into pseudo-labels and centroids; the loss is the cross-entropy of
softmax(z . centroids / tau) against the image's pseudo-label. The first epoch, before the bank
has been filled, only fills it (loss 0, as the reference implementation's initial pass over the
data); an image not yet in the bank is left out of the loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Objective, kmeans, mlp, seeded

TAU, CLUSTERS, KMEANS_ITERS = 0.1, 256, 20
HIDDEN, OUT = 512, 128


def pseudo_label_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the rows whose label is >= 0; an exact zero (with a graph) if none is."""
    keep = labels >= 0
    if not keep.any():
        return logits.sum() * 0.0
    return F.cross_entropy(logits[keep], labels[keep])


class DeepCluster(Objective):
    name = "deepcluster"
    family = "clustering"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.projector = mlp(feat_dim, HIDDEN, OUT)
        self.n_clusters = min(CLUSTERS, max(2, n_images // 8))
        self.register_buffer("bank", torch.zeros(n_images, OUT))
        self.register_buffer("seen", torch.zeros(n_images, dtype=torch.bool))
        self.register_buffer("labels", torch.full((n_images,), -1, dtype=torch.long))
        self.register_buffer("centroids", torch.zeros(self.n_clusters, OUT))
        self._pending = None

    def forward(self, x, idx, augment, y=None):
        z = F.normalize(self.projector(self.encoder(augment(x))), dim=1)
        self._pending = (idx, z.detach())
        return pseudo_label_loss(z @ self.centroids.clone().T / TAU, self.labels[idx])

    @torch.no_grad()
    def after_step(self):
        if self._pending is not None:
            idx, z = self._pending
            self.bank[idx], self.seen[idx] = z, True
            self._pending = None

    @torch.no_grad()
    def before_epoch(self, epoch):
        if self.seen.any():
            centroids, labels = kmeans(self.bank[self.seen], self.n_clusters, self.seed * 1000 + epoch,
                                       KMEANS_ITERS)
            self.centroids[:centroids.shape[0]] = centroids
            self.labels.fill_(-1)
            self.labels[self.seen] = labels
