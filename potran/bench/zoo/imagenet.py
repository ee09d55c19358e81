"""Backbones pretrained elsewhere whose weights ship in pip packages: MobileNetV2,
EfficientNet-Lite0/1/2 (ImageNet) and HED's VGG16 (ImageNet, then BSDS500 edges).

Each builder takes the weight path (None: keep the seeded random initialisation) and the input
side, and returns a module mapping (B, 3, S, S) to the globally average-pooled last feature map.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

__all__ = ["GlobalAvgPool", "mobilenet_v2", "efficientnet_lite", "hed_vgg16"]


class GlobalAvgPool(nn.Module):
    """(B, C, H, W) -> (B, C) mean over the spatial axes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def _state_dict(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def mobilenet_v2(path: Path | None, image_size: int) -> nn.Module:
    """torchvision MobileNetV2 trunk (1280-d)."""
    import torchvision

    net = torchvision.models.mobilenet_v2()
    if path is not None:
        net.load_state_dict(_state_dict(path))
    return nn.Sequential(net.features, GlobalAvgPool())


class _LiteTrunk(nn.Module):
    """EfficientNet-Lite without its classifier (1280-d)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(x).mean(dim=(2, 3))


def efficientnet_lite(variant: int):
    """Builder of EfficientNet-Lite``variant``; 'same' padding is fixed for the input side."""

    def build(path: Path | None, image_size: int) -> nn.Module:
        from efficientnet_lite_pytorch import EfficientNet

        net = EfficientNet.from_name(f"efficientnet-lite{variant}", image_size=image_size)
        if path is not None:
            net.load_state_dict(_state_dict(path))
        del net._fc, net._dropout
        return _LiteTrunk(net)

    return build


# HED's Keras layer names, in torchvision vgg16().features order (13 convolutions)
_HED_CONVS = [f"block{b}/layers/conv2d{s}" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3))
              for s in ("", "_1", "_2")[:n]]


def hed_vgg16(path: Path | None, image_size: int) -> nn.Module:
    """VGG16 convolutions up to conv5_3 from HED's Keras .h5 (512-d)."""
    import torchvision

    trunk = torchvision.models.vgg16().features[:30]  # conv5_3 + ReLU, without the last pooling
    if path is not None:
        import h5py

        convs = [m for m in trunk if isinstance(m, nn.Conv2d)]
        with h5py.File(path, "r") as f, torch.no_grad():
            for conv, key in zip(convs, _HED_CONVS, strict=True):
                kernel = torch.from_numpy(f[key + "/vars/0"][()])  # (kh, kw, in, out)
                conv.weight.copy_(kernel.permute(3, 2, 0, 1))
                conv.bias.copy_(torch.from_numpy(f[key + "/vars/1"][()]))
    return nn.Sequential(trunk, GlobalAvgPool())
