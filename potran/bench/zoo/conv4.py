"""Our own small CNN: four conv-BN-ReLU-maxpool blocks then global average pooling."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .imagenet import GlobalAvgPool

__all__ = ["WIDTHS", "conv4", "build_conv4"]

WIDTHS = (32, 64, 128, 128)  # about 241k parameters; the feature is the last width


def conv4(widths: tuple[int, ...] = WIDTHS) -> nn.Sequential:
    """The conv4 trunk: (B, 3, S, S) -> (B, widths[-1])."""
    layers, c_in = [], 3
    for c_out in widths:
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                   nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        c_in = c_out
    return nn.Sequential(*layers, GlobalAvgPool())


def build_conv4(path: Path | None, image_size: int) -> nn.Module:
    """conv4 with weights from a state-dict file written by `potran.bench.zoo.pretrain`."""
    net = conv4()
    if path is not None:
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net
