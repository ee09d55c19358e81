"""Tiny stand-ins of the paper's files, written in their real on-disk formats (for tests).

ResNet-50 checkpoints of random weights in ssl-transfer's format (a torchvision ``resnet50``
state dict without ``fc``), CIFAR-10 as python pickle batches, DTD, VOC2007, SUN397 and
Caltech-101 in their folder layouts, and a small ImageNet-val folder of noise images.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from PIL import Image

DTD_CLASSES = ("banded", "dotted")
# VOC images: objects -> expected single label (first of VOC_CLASSES present)
VOC = {"000001": (("dog", "cat"), 7), "000002": (("person", "bicycle", "person"), 1),
       "000003": (("tvmonitor",), 19), "000004": (("car",), 6), "000005": (("sheep", "cow"), 9),
       "000006": (("aeroplane", "train"), 0)}
VOC_SPLITS = {"train": ("000001", "000002"), "val": ("000003", "000004"), "test": ("000005", "000006")}


def _noise_image(rng, h, w, colour):
    base = np.array(colour, dtype=float)[None, None, :]
    return np.clip(base + rng.normal(0, 40, (h, w, 3)), 0, 255).astype(np.uint8)


def _write_cifar(root, rng):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    colours = ((200, 40, 40), (40, 200, 40), (40, 40, 200))

    def batch(labels):
        images = np.stack([_noise_image(rng, 32, 32, colours[c]) for c in labels])
        return {"data": images.transpose(0, 3, 1, 2).reshape(len(labels), -1), "labels": list(labels)}

    batches = {f"data_batch_{i}": batch([0, 1, 2]) for i in range(1, 6)}
    batches["test_batch"] = batch([0, 1, 2, 0, 1, 2])
    for name, content in batches.items():
        (folder / name).write_bytes(pickle.dumps(content))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names}))
    return batches


def _write_dtd(root, rng):
    base = root / "dtd" / "dtd"
    (base / "labels").mkdir(parents=True)
    for split in ("train", "val", "test"):
        lines = []
        for k, cls in enumerate(DTD_CLASSES):
            (base / "images" / cls).mkdir(parents=True, exist_ok=True)
            for i in range(2):
                name = f"{cls}_{split}_{i}.jpg"
                image = _noise_image(rng, 24, 40, (60 + 120 * k, 90, 90))
                Image.fromarray(image).save(base / "images" / cls / name)
                lines.append(f"{cls}/{name}")
        (base / "labels" / f"{split}1.txt").write_text("\n".join(lines) + "\n")


def _write_voc(root, rng):
    base = root / "VOCdevkit" / "VOC2007"
    for sub in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (base / sub).mkdir(parents=True)
    for image_id, (objects, _) in VOC.items():
        image = _noise_image(rng, 30, 36, (120, 120, 120))
        Image.fromarray(image).save(base / "JPEGImages" / f"{image_id}.jpg")
        body = "".join(f"<object><name>{o}</name><difficult>0</difficult></object>" for o in objects)
        (base / "Annotations" / f"{image_id}.xml").write_text(
            f"<annotation><filename>{image_id}.jpg</filename>{body}</annotation>")
    for split, ids in VOC_SPLITS.items():
        (base / "ImageSets" / "Main" / f"{split}.txt").write_text("\n".join(ids) + "\n")


def _write_sun397(root, rng):
    base = root / "SUN397"
    classes = ("/a/abbey", "/b/bedroom")
    (base).mkdir(parents=True)
    (base / "ClassName.txt").write_text("\n".join(classes) + "\n")
    parts = {"Training_01.txt": [], "Testing_01.txt": []}
    for k, cls in enumerate(classes):
        (base / cls[1:]).mkdir(parents=True)
        for i in range(5):  # the fifth image is in neither partition
            name = f"{cls}/sun_{k}{i}.jpg"
            Image.fromarray(_noise_image(rng, 26, 30, (90, 60 * k, 90))).save(base / name[1:])
            if i < 4:
                parts["Training_01.txt" if i < 2 else "Testing_01.txt"].append(name)
    for filename, lines in parts.items():
        (base / filename).write_text("\n".join(lines) + "\n")


def _write_caltech(root, rng):
    base = root / "caltech101" / "101_ObjectCategories"
    for k, cls in enumerate(("BACKGROUND_Google", "Faces", "accordion")):
        (base / cls).mkdir(parents=True)
        for i in range(6):
            image = Image.fromarray(_noise_image(rng, 22, 25, (50 * k, 50, 50)))
            (image.convert("L") if i == 0 else image).save(base / cls / f"image_{i + 1:04d}.jpg")


def _write_imagenet(folder, rng):
    for i in range(7):
        sub = folder / f"n0{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(_noise_image(rng, 20 + 3 * i, 28, (30 * i, 100, 200 - 20 * i))).save(
            sub / f"ILSVRC2012_val_{i:08d}.JPEG")
    (folder / "README.txt").write_text("not an image")


def write_checkpoints(folder: Path, models) -> None:
    """One random-weight checkpoint per model: the same network (residual branches start at
    zero, so activations stay bounded) with its own random first convolution, so that every
    model has different features."""
    from torchvision.models import resnet50

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    state = resnet50(zero_init_residual=True).state_dict()
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    for i, name in enumerate(models):
        generator = torch.Generator().manual_seed(1000 + i)
        conv1 = torch.randn(state["conv1.weight"].shape, generator=generator) * (2 / (3 * 7 * 7)) ** 0.5
        torch.save(dict(state, **{"conv1.weight": conv1}), folder / f"{name}.pth")


def write_paper_files(base: Path, models=("byol", "swav"), seed: int = 0) -> dict:
    """Checkpoints, every target and the general set under ``base``; returns their paths
    (``ckpt``, ``data``, ``imagenet``, ``cache``) and the CIFAR batches written (``cifar``)."""
    rng = np.random.default_rng(seed)
    write_checkpoints(base / "checkpoints", models)
    data = base / "data"
    cifar = _write_cifar(data, rng)
    _write_dtd(data, rng)
    _write_voc(data, rng)
    _write_sun397(data, rng)
    _write_caltech(data, rng)
    _write_imagenet(base / "imagenet", rng)
    return {"ckpt": base / "checkpoints", "data": data, "imagenet": base / "imagenet", "cifar": cifar,
            "cache": base / "cache"}
