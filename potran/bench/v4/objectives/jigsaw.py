"""Jigsaw puzzles: which permutation shuffled the image's tiles.

Noroozi & Favaro (2016), "Unsupervised Learning of Visual Representations by Solving Jigsaw
Puzzles", ECCV. The image is cut into a 2 x 2 grid of tiles (16 px tiles at 32 px), the tiles are
shuffled by one of the 4! = 24 permutations, each tile is encoded separately by the shared encoder
(the paper's context-free network, so no tile sees its neighbours' edges), and a small MLP over the
concatenated tile features classifies the permutation. Tiles come from a crop-and-flip view.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from .base import Objective, mlp, seeded

GRID, HIDDEN = 2, 256
PERMUTATIONS = torch.tensor(list(itertools.permutations(range(GRID * GRID))))  # (24, 4)


def to_tiles(x: torch.Tensor, grid: int = GRID) -> torch.Tensor:
    """(B, C, S, S) -> (B, grid*grid, C, S/grid, S/grid), tiles in row-major order."""
    b, c, s, _ = x.shape
    t = s // grid
    return x.reshape(b, c, grid, t, grid, t).permute(0, 2, 4, 1, 3, 5).reshape(b, grid * grid, c, t, t)


def from_tiles(tiles: torch.Tensor, grid: int = GRID) -> torch.Tensor:
    """The inverse of `to_tiles`."""
    b, _, c, t, _ = tiles.shape
    return tiles.reshape(b, grid, grid, c, t, t).permute(0, 3, 1, 4, 2, 5).reshape(b, c, grid * t, grid * t)


def shuffle(tiles: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Position j of image i receives tile PERMUTATIONS[perm[i], j]."""
    order = PERMUTATIONS.to(tiles.device)[perm]
    return tiles[torch.arange(tiles.shape[0], device=tiles.device)[:, None], order]


def unshuffle(tiles: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """The inverse of `shuffle`: tile at position j goes back to position PERMUTATIONS[perm[i], j]."""
    inverse = PERMUTATIONS.to(tiles.device)[perm].argsort(dim=1)
    return tiles[torch.arange(tiles.shape[0], device=tiles.device)[:, None], inverse]


class Jigsaw(Objective):
    name = "jigsaw"
    family = "pretext"

    def __init__(self, encoder, feat_dim, n_images, *, n_classes=None, seed=0):
        super().__init__(encoder, feat_dim, n_images, n_classes=n_classes, seed=seed)
        with seeded(seed):
            self.head = mlp(GRID * GRID * feat_dim, HIDDEN, len(PERMUTATIONS))

    def forward(self, x, idx, augment, y=None):
        perm = self.randint(len(PERMUTATIONS), x.shape[0], x.device)
        tiles = shuffle(to_tiles(augment.weak(x)), perm)
        b, n = tiles.shape[:2]
        feats = self.encoder(tiles.reshape(b * n, *tiles.shape[2:])).reshape(b, -1)
        return F.cross_entropy(self.head(feats), perm)
