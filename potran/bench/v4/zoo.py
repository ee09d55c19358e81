"""Benchmark v4's models as the benchmark machinery reads them: `V4_SOURCES` for a
:class:`potran.bench.runner.Benchmark` (the models of ``data/bench_v4/MANIFEST.json``, v3's
targets, the pool's held-out part as the general set, the cached feature extraction).

A v4 model is a :class:`potran.bench.zoo.ZooModel` whose weights are the committed
``data/bench_v4/weights/<name>.pt`` (sha256 from the manifest) and whose preprocessing is the
fine-tuning's (`potran.bench.v4.finetune.to_tensor`: 28-pixel images get a black border, no
resizing; the normalisation is inside the network).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .. import features, targets_v3
from ..sources import Sources
from ..zoo import Normalisation, ZooModel
from ..zoo.weights import ZOO_DIR, WeightsFile
from . import CONTROLS, IMAGE_SIZE
from .finetune import WEIGHTS, to_tensor
from .pretrain import init_encoder

__all__ = ["MANIFEST", "V4Model", "names", "ranked", "get", "load_general", "V4_SOURCES"]

MANIFEST = WEIGHTS.parent / "MANIFEST.json"
_IDENTITY = Normalisation((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))


@dataclass(frozen=True)
class V4Model(ZooModel):
    """A v4 encoder: `ZooModel` with the fine-tuning's preprocessing."""

    def preprocess(self, images: np.ndarray) -> torch.Tensor:
        return to_tensor(images)

    def preprocess_params(self) -> dict:
        return {"image_size": IMAGE_SIZE, "resize": "none, black border to 32 px",
                "normalisation": "inside the network"}


def _build(path, image_size) -> torch.nn.Module:
    net = init_encoder()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net


@lru_cache(maxsize=1)
def _manifest() -> dict:
    return json.loads(MANIFEST.read_text())["models"] if MANIFEST.exists() else {}


def names() -> list[str]:
    """Every pretrained v4 model (weights committed): the self-supervised ones, then the controls."""
    done = [n for n, e in _manifest().items() if "sha256" in e and (WEIGHTS / f"{n}.pt").exists()]
    return [n for n in done if n not in CONTROLS] + [n for n in CONTROLS if n in done]


def ranked() -> list[str]:
    """The models the benchmark ranks: the self-supervised ones (the controls are reported only)."""
    return [n for n in names() if n not in CONTROLS]


def get(name: str) -> V4Model:
    """The v4 model ``name``; ValueError listing the known ones if there is none."""
    entry = _manifest().get(name)
    if entry is None or "sha256" not in entry:
        raise ValueError(f"unknown v4 model {name!r}; known: {', '.join(names())}")
    relpath = Path("..", *(WEIGHTS / f"{name}.pt").relative_to(ZOO_DIR.parent).parts)
    return V4Model(name, int(init_encoder().feat_dim), IMAGE_SIZE, entry.get("family", ""),
                   f"v4 ResNet pretrained by {name}", _IDENTITY,
                   WeightsFile(str(relpath), entry["sha256"]), _build)


def load_general() -> np.ndarray:
    """PED's general set for this zoo: the pool's held-out part (4 999 images, never pretrained on)."""
    from .pool import load_pool

    return load_pool().general[0]


V4_SOURCES = Sources(get_model=get, load_target=targets_v3.load_target, load_general=load_general,
                     extract=features.extract_features)
