"""Benchmark v3's general-set ablation and the scoring of its cells (the setting itself is
``settings.get("v3")`` of :mod:`potran.bench.settings`; protocols frozen in
``data/bench_v3/README.md``).

The ablation (issue 17) standardises PED by one of `GENERAL_SETS`: ``"general"``, the landed
photo crops (:func:`~potran.bench.datasets.load_general`); ``"family"``, a set in the
distribution each model family was pretrained on (:func:`family_general`); ``"target"``, the
scored training images themselves (G = X). `ABLATION` scores only the PED rows of
`ABLATION_METRICS` (rows without PED do not depend on the general set). :func:`score_cell`
scores one cell into a :class:`~potran.bench.store.CellStore` folder (resumable).
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np
from PIL import Image

from ..perturbations import PED
from . import datasets, settings, targets_v3, zoo
from .finetune import training_indices
from .runner import score_one

__all__ = ["ABLATION", "ABLATION_METRICS", "GENERAL_SETS", "FAMILY_SIZE", "VIEW_PHOTOS", "VIEW_SCALE",
           "VIEW_MAX_SHORT_SIDE", "family_general", "photo_views", "scored_images", "score_cell"]

_V3 = settings.get("v3").bench
#: metrics of the general-set ablation: every metric that uses the features' geometry (not
#: ``random``, nor ``dim``/``norm``, which are scored before the reduction)
ABLATION_METRICS = ("logme", "sfda", "gbc", "nleep", "parc", "hscore", "reg_hscore", "transrate",
                    "knn")
ABLATION = replace(_V3, metrics=ABLATION_METRICS, perturbations=(PED,))
GENERAL_SETS = ("general", "family", "target")
FAMILY_SIZE = 5000
#: natural photographs that ship with pip packages and that no v3 target (nor the landed
#: ``patches``) uses; the landed general set and the conv4 pretraining crop them too
VIEW_PHOTOS = ("skimage:chelsea", "skimage:coins", "skimage:grass", "skimage:retina",
               "skimage:clock", "skimage:stereo_motorcycle", "sklearn:china.jpg",
               "sklearn:flower.jpg", "matplotlib:grace_hopper.jpg")
#: side of a view, as a share of the photograph's short side: 9 % to 100 % of the area, close
#: to the 8 % to 100 % of the random resized crops ImageNet training draws
VIEW_SCALE = (0.3, 1.0)
VIEW_MAX_SHORT_SIDE = 512  # larger photographs (retina, 1411 px) are first downscaled to it


def _at_most(photo: np.ndarray, short_side: int) -> np.ndarray:
    scale = short_side / min(photo.shape[:2])
    if scale >= 1:
        return photo
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    return np.asarray(Image.fromarray(photo).resize(size, Image.LANCZOS))


@lru_cache(maxsize=1)
def photo_views(n: int = FAMILY_SIZE, seed: int = 3) -> np.ndarray:
    """``n`` object-scale views (32 px RGB uint8) of `VIEW_PHOTOS` (short side at most
    `VIEW_MAX_SHORT_SIDE`): square crops with a side a `VIEW_SCALE` share of the short side,
    resized to 32 px (flat views redrawn), half mirrored. The ImageNet networks' in-distribution
    set: whole scenes and objects, where the landed general set is mostly texture. Cached: never
    modify the array."""
    rng = np.random.default_rng(seed)
    photos = [_at_most(datasets._photo(spec), VIEW_MAX_SHORT_SIDE) for spec in VIEW_PHOTOS]
    out = np.empty((n, datasets.CROP_SIDE, datasets.CROP_SIDE, 3), dtype=np.uint8)
    for i, k in enumerate(rng.integers(len(photos), size=n)):
        img = photos[k]
        short = min(img.shape[:2])
        while True:  # redraw flat views (the landed sets' rule): they carry no content
            side = int(rng.integers(round(VIEW_SCALE[0] * short), short + 1))
            top = int(rng.integers(img.shape[0] - side + 1))
            left = int(rng.integers(img.shape[1] - side + 1))
            view = np.asarray(Image.fromarray(img[top:top + side, left:left + side])
                              .resize((datasets.CROP_SIDE, datasets.CROP_SIDE), Image.BILINEAR))
            if view.reshape(-1, 3).std(axis=0).max() >= datasets.MIN_CROP_STD:
                break
        out[i] = view[:, ::-1] if rng.random() < 0.5 else view
    return out


@lru_cache(maxsize=1)
def _pretrain_subset() -> np.ndarray:
    source = datasets.load_pretrain_source()
    keep = np.sort(np.random.default_rng(4).permutation(len(source))[:FAMILY_SIZE])
    return source[keep]


def family_general(model: str) -> np.ndarray:
    """General set ``"family"`` of ``model``: for the conv4 models (``conv4_random`` included), a
    seeded subset of 5000 of their 20000 pretraining crops
    (:func:`~potran.bench.datasets.load_pretrain_source`); for the ImageNet networks,
    :func:`photo_views`. Cached: never modify the array."""
    return photo_views() if zoo.get(model).family.startswith("imagenet") else _pretrain_subset()


def scored_images(target: str) -> np.ndarray:
    """The training images of ``target`` that the cells score (general set ``"target"``)."""
    t = targets_v3.load_target(target)
    return np.asarray(t.x_train)[training_indices(len(t.y_train), settings.V3_FINETUNE)]


def score_cell(model: str, target: str, out_dir, general: str = "general", **options) -> dict:
    """Score what is missing of one v3 cell with general set ``general`` (one of
    `GENERAL_SETS`) into ``out_dir``; ``options`` go to :func:`~potran.bench.runner.score_one`
    (``cache_dir``, ``device``). Returns the cell's record."""
    if general not in GENERAL_SETS:
        raise ValueError(f"Unknown general set {general!r}; known: {', '.join(GENERAL_SETS)}.")
    if general == "general":
        return score_one(_V3, model, target, out_dir, **options)
    load = (lambda: family_general(model)) if general == "family" else lambda: scored_images(target)
    bench = replace(ABLATION, sources=replace(ABLATION.sources, load_general=load))
    return score_one(bench, model, target, out_dir, **options)
