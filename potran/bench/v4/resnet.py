"""The v4 zoo's one architecture: a small pre-activation-free ResNet for 32-pixel images.

A 3x3 stem, then stages of basic residual blocks (two 3x3 convolutions with batch norm, an
identity or 1x1 projection shortcut; He et al., 2016, in the CIFAR layout: no max-pool, the first
stage at full resolution, each later stage halves it), then global average pooling. The input
normalisation is part of the network, as fixed buffers, so that every caller feeds images in
[0, 1] and no caller can forget or double it.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MEAN", "STD", "BasicBlock", "ResNet", "resnet", "n_parameters"]

#: fixed pixel normalisation (per channel), the same for every v4 model
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus a shortcut, then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """(B, 3, S, S) images in [0, 1] -> (B, feat_dim) pooled features.

    ``features_map(x)`` gives the last stage's map (B, feat_dim, S / 2**(len(widths) - 1), ...)
    before pooling, for objectives that need spatial features.
    """

    def __init__(self, widths: tuple[int, ...], blocks: tuple[int, ...]):
        super().__init__()
        if len(widths) != len(blocks) or not widths:
            raise ValueError(f"widths and blocks must have the same non-zero length, "
                             f"got {len(widths)} and {len(blocks)}")
        if any(int(w) < 1 for w in widths) or any(int(b) < 1 for b in blocks):
            raise ValueError(f"widths and blocks must be integers >= 1, got {widths} and {blocks}")
        self.widths, self.blocks = tuple(widths), tuple(blocks)
        self.feat_dim = int(widths[-1])
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        stages, c_in = [], widths[0]
        for i, (c_out, n) in enumerate(zip(widths, blocks)):
            layers = [BasicBlock(c_in, c_out, 1 if i == 0 else 2)]
            layers += [BasicBlock(c_out, c_out, 1) for _ in range(n - 1)]
            stages.append(nn.Sequential(*layers))
            c_in = c_out
        self.stages = nn.Sequential(*stages)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def features_map(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"x must be a (B, 3, S, S) batch of images, got shape {tuple(x.shape)}")
        return self.stages(self.stem((x - self.mean) / self.std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_map(x).mean(dim=(2, 3))


def resnet(widths: tuple[int, ...] | None = None, blocks: tuple[int, ...] | None = None) -> ResNet:
    """The v4 encoder; by default at the size `potran.bench.v4.ARCH` fixes."""
    if widths is None or blocks is None:
        from . import ARCH

        widths = ARCH["widths"] if widths is None else widths
        blocks = ARCH["blocks"] if blocks is None else blocks
    return ResNet(tuple(widths), tuple(blocks))


def n_parameters(net: nn.Module) -> int:
    """Number of trainable parameters (the buffers are not counted)."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
