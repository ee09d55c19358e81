"""A tiny stand-in for potran.bench.zoo / potran.bench.datasets so grid tests take seconds.

`SOURCES` is the one fake :class:`potran.bench.sources.Sources` of the tests: three small
networks (`MODELS`), two targets (`TARGETS`), the general set `GENERAL` and an extraction
without a cache (`extract`). A test that needs a variant replaces one part
(``dataclasses.replace(SOURCES, extract=...)``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from potran.bench.finetune import FinetuneConfig
from potran.bench.sources import Sources


@dataclass(frozen=True)
class FakeZooModel:
    """Same interface as potran.bench.zoo.ZooModel; ``width`` changes the network."""

    name: str
    feature_dim: int = 8
    image_size: int = 8
    family: str = "fake"
    description: str = "two-layer CNN for tests"
    width: int = 4

    def build(self, pretrained: bool = True) -> nn.Module:
        torch.manual_seed(self.width)  # "pretrained" weights: fixed by the model's identity
        return nn.Sequential(nn.Conv2d(3, self.width, 3, padding=1), nn.BatchNorm2d(self.width),
                             nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                             nn.Linear(4 * self.width, self.feature_dim))

    def preprocess(self, images: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(images), dtype=torch.float32).permute(0, 3, 1, 2) / 255
        return nn.functional.interpolate(x, size=self.image_size, mode="bilinear")


@dataclass(frozen=True)
class FakeTarget:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple


def make_target(name: str, n_train: int = 60, n_test: int = 30, n_classes: int = 3,
                seed: int = 0) -> FakeTarget:
    """Class-coloured noisy 10x10 images."""
    rng = np.random.default_rng(seed)

    def draw(n):
        y = np.arange(n) % n_classes
        base = (np.eye(3)[y % 3] * 150)[:, None, None, :]
        x = np.clip(base + rng.normal(60, 40, (n, 10, 10, 3)), 0, 255).astype(np.uint8)
        return x, y.astype(np.int64)

    xtr, ytr = draw(n_train)
    xte, yte = draw(n_test)
    return FakeTarget(name, xtr, ytr, xte, yte, tuple(f"c{i}" for i in range(n_classes)))


MODELS = {m.name: m for m in (FakeZooModel("fake-a", width=4), FakeZooModel("fake-b", width=6),
                              FakeZooModel("fake-c", width=2))}
TARGETS = {"t1": make_target("t1", seed=1), "t2": make_target("t2", n_classes=4, seed=2)}
GENERAL = TARGETS["t2"].x_test  # any images: a grid needs only their features


def load_general() -> np.ndarray:
    return GENERAL


def features_of(model: FakeZooModel, images) -> np.ndarray:
    """The model's features of ``images`` (eval mode, no gradients)."""
    with torch.no_grad():
        return model.build().eval()(model.preprocess(images)).numpy()


def extract(model, images, *, device="cpu", cache_dir=None, key=None, progress=False) -> np.ndarray:
    """Stand-in for potran.bench.features.extract_features, without a cache (the fake models
    have no weight files to hash)."""
    return features_of(model, images)


SOURCES = Sources(get_model=MODELS.__getitem__, load_target=TARGETS.__getitem__,
                  load_general=load_general, extract=extract)


#: A fine-tuning set-up small enough for tests that read a grid's snapshots (probe of 24 images)
SNAPSHOT_CONFIG = FinetuneConfig(epochs=2, seeds=(0,), n_train=40, n_test=12, probe_size=24,
                                 batch_size=8)
#: The models of :func:`snapshot_grid`
GRID_MODELS = ["fake-a", "fake-b", "fake-c"]


def snapshot_grid(out):
    """A finished ground-truth grid in ``out``: :data:`GRID_MODELS` fine-tuned on t1 with
    :data:`SNAPSHOT_CONFIG` (cells/, snapshots/, accuracy.csv). Returns ``out``."""
    from potran.bench.groundtruth import run_grid

    run_grid(GRID_MODELS, ["t1"], out, SNAPSHOT_CONFIG, sources=SOURCES, progress=False)
    return out
