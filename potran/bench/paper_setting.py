"""The paper's setting as a benchmark definition: 12 self-supervised ResNet-50s on 11 targets.

Everything here reads local files; nothing is downloaded unless ``download=True`` is passed.

**What the user provides.**

``checkpoint_dir``
    One ``<name>.pth`` per model of `MODELS`, as the ssl-transfer project distributes them: the
    state dict of a torchvision ``resnet50`` without its ``fc`` layer. There is no published
    checksum for these files, so :func:`paper_models` *records* each file's sha256 (it is part of
    every feature-cache key) and checks before each use that the file has not changed since;
    it cannot tell a correct file from a wrong one.
``data_root``
    One folder holding every target in the on-disk layout of its torchvision dataset class
    (`REQUIRED` lists the files and folders; :func:`check_paper_setting` names all that are
    missing in one error). SUN397 also needs the official partition files ``Training_01.txt``
    and ``Testing_01.txt`` (``Partitions.zip``) in ``SUN397/``.
``imagenet_val``
    A folder with the ImageNet validation images (any layout; image files are found
    recursively): PED's general set.

**Splits** (the protocol of the PED/SFDA code, without its mistakes). Aircraft, DTD (partition
1), Flowers and VOC2007 have an official validation split; the others' validation split is a
seeded 20 % of their training split (`VAL_FRACTION`, `VAL_SEED`, drawn as the official
fine-tuning script draws it), and ``trainval`` is then the whole training split. Caltech-101
has no official split in torchvision: `CALTECH_TRAIN_PER_CLASS` (30) seeded images per class
train, the rest test. SUN397 uses partition 01. CIFAR-10/100 and SUN397 use their real test
images: the official feature script passed the split name where torchvision expects
``train=``, so its "test" part was the training set again, and those targets were scored on
their training images twice. VOC2007 is multi-label; like the official code (the argmax of the
multi-hot vector) an image gets the first of `VOC_CLASSES` among its objects (all objects,
"difficult" ones included). Torchvision's Caltech101 has 101 classes: it drops
``BACKGROUND_Google``, which the paper's 102-class version kept. Scoring uses the ``all`` split
(train + val + test, each image once) as the paper's features did (``scored_split="trainval"``
scores only the images fine-tuning learns from).

**Images are never held as one array.** A paper target is a
:class:`~potran.bench.datasets.Target` whose ``x_*`` are object arrays of :class:`ImageRef` (a
dataset split and an index, a few bytes each); pixels are read, resized (shorter side to 224
px, bicubic) and centre-cropped image by image when a batch is needed. The runner's calls
(``np.asarray(tgt.x_train)[idx]``, ``len(tgt.y_train)``) work on such arrays unchanged, so
:mod:`potran.bench.runner` and :mod:`potran.bench.finetune` are reused as they are;
:meth:`PaperSetting.extract` streams batches through a torch ``DataLoader`` (optionally with
worker processes) and caches the features under a key made of the images' identities (dataset,
split, index, root folder), the model's weights sha256 and the preprocessing. This keeps
:mod:`potran.bench.features` unchanged: its cache key hashes the images' bytes, which a lazy
target does not have. (Files replaced in place under the same root need a fresh cache.)

**The general set: moments in one pass.** :func:`general_moments` runs a model over the
ImageNet folder once, merging every batch's count, mean and centred second moments into float64
running totals (Chan's pairwise update), so it never holds the set's features. ``.stats()``
gives the :class:`potran.ped.GeneralStats` (mean, population std) PED needs:
``potran.score(X, y, "logme", ped=True, general=stats)``. The runner needs a general *matrix*
(it projects it onto the target's principal components when a model is wider than
``score_dim``); ``.surrogate()`` gives a small matrix (2 rows per non-zero eigenvalue) with
exactly the set's mean and covariance, so every projection of it has the projected set's mean
and std, and PED standardises as with the full set.

**Ground truth.** :meth:`PaperSetting.finetune_grid` fine-tunes with the existing
:func:`potran.bench.finetune.finetune` once per setting of the official learning-rate x
weight-decay grid (`SWEEP_GRID`: learning rates 1e-1 .. 1e-4 and weight decays 0 and 1e-6 ..
1e-3 *divided by the learning rate*, 20 settings; the released script kept only the first),
fitting on ``train`` and evaluating on ``val`` (cells
``<out>/sweep/cells/<model>__<target>__lr<lr>_wd<wd>.json``), then fits the best setting
(highest validation accuracy, the first on ties) on ``trainval`` and evaluates on ``test``
(``<out>/cells/<model>__<target>.json`` and ``accuracy.csv``, as
:mod:`potran.bench.groundtruth` writes them). Every cell is resumable. The schedule
(`FINETUNE`): SGD, momentum 0.9, batch 128, cosine decay, `STEPS` (5000) steps turned into
epochs per split, one seed. Deviations from the official script: no Nesterov momentum, no
augmentation, top-1 accuracy for every target (it used mean per-class accuracy on Aircraft,
Caltech-101, Flowers and Pets and 11-point mAP on VOC). :func:`~potran.bench.finetune.finetune`
reads and preprocesses the images of each batch when it needs them, so a split is never held
as floats (at 224 px that would be 0.6 MB per image, 30 GB for CIFAR's training split); the
images are decoded in the training process, one batch at a time.

**Running a book page on this setting.** The pages that score models take the parameters
``paper_checkpoints``, ``paper_data`` and ``paper_imagenet_val`` (:mod:`potran.bench.pages`), e.g.::

    python -m jupytext --to ipynb --output - notebooks/main_table.py \\
      | python -m papermill - _build/paper/main_table.ipynb -k python3 --cwd notebooks \\
          -p paper_checkpoints /data/ssl-transfer/models \\
          -p paper_data /data/targets \\
          -p paper_imagenet_val /data/imagenet/val -p device cuda

ranks the models against the paper's published accuracies, or, with
``-p groundtruth /data/paper-groundtruth/accuracy.csv``, against a ground truth made by
``benchmark(...).finetune_grid("/data/paper-groundtruth", device="cuda")``.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from ..metrics import FEATURE_METRICS
from .datasets import Target
from .finetune import FinetuneConfig, finetune, training_indices
from .runner import Benchmark
from .store import CellStore, write_bytes, write_npz
from .zoo import IMAGENET, ChecksumError, Normalisation, ZooModel
from .zoo.weights import WeightsFile, sha256_of

__all__ = [
    "MODELS", "TARGETS", "REQUIRED", "IMAGE_SIZE", "FEATURE_DIM", "VAL_FRACTION", "VAL_SEED",
    "CALTECH_TRAIN_PER_CLASS", "VOC_CLASSES", "SWEEP_GRID", "STEPS", "FINETUNE",
    "LocalWeightsFile", "PaperModel", "paper_models",
    "ImageRef", "PaperSplits", "paper_splits", "missing_files", "check_paper_setting",
    "GeneralSet", "general_set", "GeneralMoments", "general_moments", "general_stats",
    "extract_features", "setting_name", "PaperSetting", "benchmark",
]

MODELS: tuple[str, ...] = ("byol", "deepcluster-v2", "infomin", "insdis", "moco-v1", "moco-v2",
                           "pcl-v1", "pcl-v2", "sela-v2", "simclr-v1", "simclr-v2", "swav")
#: Target names as in :func:`potran.paper.groundtruth`.
TARGETS: tuple[str, ...] = ("aircraft", "caltech101", "cars", "cifar10", "cifar100", "dtd",
                            "flowers", "food", "pets", "sun397", "voc2007")
IMAGE_SIZE, FEATURE_DIM = 224, 2048
VAL_FRACTION, VAL_SEED = 0.2, 5
CALTECH_TRAIN_PER_CLASS, CALTECH_SEED = 30, 0
VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor")
#: (learning rate, weight decay) settings of the official fine-tuning grid, in its order.
SWEEP_GRID: tuple[tuple[float, float], ...] = tuple(
    (lr, product / lr) for lr in (1e-1, 1e-2, 1e-3, 1e-4) for product in (0.0, 1e-6, 1e-5, 1e-4, 1e-3))
STEPS = 5000
FINETUNE = FinetuneConfig(optimizer="sgd", lr=1e-1, lr_overrides=(), wd=0.0, epochs=1,
                          batch_size=128, momentum=0.9, bn_momentum=None, seeds=(0,))
_IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")

# target -> (path relative to data_root, "file" or "dir"); what torchvision's classes read
_AIRCRAFT, _CARS, _VOC = "fgvc-aircraft-2013b/data", "stanford_cars", "VOCdevkit/VOC2007"
_SPLITS3 = ("train", "val", "test")
REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "aircraft": ((f"{_AIRCRAFT}/images", "dir"), (f"{_AIRCRAFT}/variants.txt", "file"),
                 *((f"{_AIRCRAFT}/images_variant_{s}.txt", "file") for s in _SPLITS3)),
    "caltech101": (("caltech101/101_ObjectCategories", "dir"),),
    "cars": ((f"{_CARS}/devkit/cars_meta.mat", "file"), (f"{_CARS}/devkit/cars_train_annos.mat", "file"),
             (f"{_CARS}/cars_test_annos_withlabels.mat", "file"), (f"{_CARS}/cars_train", "dir"),
             (f"{_CARS}/cars_test", "dir")),
    "cifar10": tuple((f"cifar-10-batches-py/{f}", "file") for f in
                     (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")),
    "cifar100": tuple((f"cifar-100-python/{f}", "file") for f in ("train", "test", "meta")),
    "dtd": (("dtd/dtd/images", "dir"), *((f"dtd/dtd/labels/{s}1.txt", "file") for s in _SPLITS3)),
    "flowers": (("flowers-102/jpg", "dir"), ("flowers-102/imagelabels.mat", "file"),
                ("flowers-102/setid.mat", "file")),
    "food": (("food-101/images", "dir"), ("food-101/meta/train.json", "file"),
             ("food-101/meta/test.json", "file")),
    "pets": (("oxford-iiit-pet/images", "dir"), ("oxford-iiit-pet/annotations/trainval.txt", "file"),
             ("oxford-iiit-pet/annotations/test.txt", "file")),
    "sun397": (("SUN397/ClassName.txt", "file"), ("SUN397/Training_01.txt", "file"),
               ("SUN397/Testing_01.txt", "file")),
    "voc2007": ((f"{_VOC}/JPEGImages", "dir"), (f"{_VOC}/Annotations", "dir"),
                *((f"{_VOC}/ImageSets/Main/{s}.txt", "file") for s in _SPLITS3)),
}

# target -> (torchvision class, fixed keyword arguments, {raw split: split keyword arguments})
_TORCHVISION = {
    "aircraft": ("FGVCAircraft", {"annotation_level": "variant"}, {s: {"split": s} for s in _SPLITS3}),
    "caltech101": ("Caltech101", {"target_type": "category"}, {"all": {}}),
    "cars": ("StanfordCars", {}, {s: {"split": s} for s in ("train", "test")}),
    "cifar10": ("CIFAR10", {}, {"train": {"train": True}, "test": {"train": False}}),
    "cifar100": ("CIFAR100", {}, {"train": {"train": True}, "test": {"train": False}}),
    "dtd": ("DTD", {"partition": 1}, {s: {"split": s} for s in _SPLITS3}),
    "flowers": ("Flowers102", {}, {s: {"split": s} for s in _SPLITS3}),
    "food": ("Food101", {}, {s: {"split": s} for s in ("train", "test")}),
    "pets": ("OxfordIIITPet", {"target_types": "category"},
             {"train": {"split": "trainval"}, "test": {"split": "test"}}),
    "sun397": ("SUN397", {}, {"all": {}}),
    "voc2007": ("VOCDetection", {"year": "2007"}, {s: {"image_set": s} for s in _SPLITS3}),
}
_HINTS = (
    "checkpoints: ssl-transfer's download_and_prepare_models.py writes <name>.pth files",
    "SUN397: Training_01.txt and Testing_01.txt come from the dataset's Partitions.zip",
    "Stanford Cars cannot be downloaded by torchvision any more; ImageNet needs an image-net.org account",
)


# --- models -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocalWeightsFile(WeightsFile):
    """A weight file the user supplies, at an absolute path (``relpath``).

    No checksum is published for it: ``sha256`` is the digest recorded when the zoo entry was
    made (it keys the feature cache), and :meth:`verified_path` only checks that the file has not
    changed since.
    """

    def path(self) -> Path:
        path = Path(self.relpath)
        if not path.is_file():
            raise FileNotFoundError(f"Weight file {path} is missing.")
        return path

    def verified_path(self) -> Path:
        path = self.path()
        digest = sha256_of(path)
        if digest != self.sha256:
            raise ChecksumError(f"Weight file {path} changed since it was hashed ({self.sha256} then, "
                                f"{digest} now); build the models again with paper_models().")
        return path


@dataclass(frozen=True)
class PaperModel(ZooModel):
    """A :class:`~potran.bench.zoo.ZooModel` with the paper's preprocessing.

    Images (PIL images read through :class:`ImageRef`, or uint8 arrays) are resized so that their
    shorter side is ``image_size`` (bicubic), centre-cropped to a square and normalised: the
    aspect ratio is kept, unlike the zoo's whole-image resize.
    """

    def transform(self):
        """The torchvision transform of one PIL image -> float32 (3, S, S)."""
        from torchvision import transforms

        norm = self.normalisation
        if norm.bgr or norm.scale != 1:
            raise ValueError("PaperModel normalises RGB images in [0, 1]: bgr and scale are not supported")
        return transforms.Compose([
            transforms.Resize(self.image_size, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop(self.image_size), transforms.ToTensor(),
            transforms.Normalize(norm.mean, norm.std)])

    def preprocess(self, images):
        """Object array of :class:`ImageRef` or uint8 (N, H, W, 3) RGB -> float32 (N, 3, S, S)."""
        import torch
        from PIL import Image

        images = np.asarray(images)
        if images.dtype == object:
            pil = (ref.load() for ref in images)
        elif images.dtype == np.uint8 and images.ndim == 4 and images.shape[-1] == 3:
            pil = (Image.fromarray(im) for im in images)
        else:
            raise ValueError(f"images must be ImageRefs or uint8 of shape (N, H, W, 3); got "
                             f"{images.dtype} of shape {images.shape}.")
        tf = self.transform()
        tensors = [tf(im) for im in pil]  # one decoded image at a time
        if not tensors:
            return torch.empty(0, 3, self.image_size, self.image_size)
        return torch.stack(tensors)

    def preprocess_params(self) -> dict:
        return {"image_size": self.image_size, "resize": "shorter-side-bicubic+center-crop",
                "normalisation": vars(self.normalisation)}


def _load_state(path: Path) -> dict:
    """The resnet50 state dict in ``path``, without ``fc`` (module./state_dict wrappers removed)."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 -- pickle, zip and tensor errors alike
        message = f"{path} cannot be read as a torch checkpoint: {type(err).__name__}: {err}"
        raise ValueError(message) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    for key in [k for k in state if k.endswith(".running_mean")]:  # saved by torch < 0.4.1
        state.setdefault(key.replace("running_mean", "num_batches_tracked"),
                         torch.zeros((), dtype=torch.long))
    return state


def _build_resnet50(path: Path | None, image_size: int):
    """torchvision ``resnet50`` with ``fc`` replaced by the identity: (B, 3, S, S) -> (B, 2048).

    With a weight file the network is built on the meta device and the file's tensors are
    assigned (no random initialisation to throw away); every key must match.
    """
    import torch
    from torch import nn
    from torchvision.models import resnet50

    if path is None:
        net = resnet50(weights=None)
        net.fc = nn.Identity()
        return net
    state = _load_state(path)
    with torch.device("meta"):
        net = resnet50(weights=None)
    net.fc = nn.Identity()
    try:
        net.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as err:
        raise ValueError(f"{path} is not the state dict of a torchvision resnet50 without fc "
                         f"(the ssl-transfer format): {err}") from None
    return net


def paper_models(checkpoint_dir, *, names=MODELS, image_size: int = IMAGE_SIZE,
                 normalisation: Normalisation = IMAGENET) -> dict[str, PaperModel]:
    """The paper's models as zoo entries, from ``<checkpoint_dir>/<name>.pth``.

    Each file is hashed once here (sha256 recorded, not verified: none is published).
    ``image_size`` other than 224 is for tests.

    Raises
    ------
    ValueError
        Unknown names, or missing files (all of them listed).
    """
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ValueError(f"Unknown model(s) {unknown}; the paper's models are {', '.join(MODELS)}.")
    lines = _missing_checkpoints(checkpoint_dir, names)
    if lines:
        raise ValueError("Missing checkpoint(s):\n  " + "\n  ".join(lines))
    models = {}
    for name in names:
        path = (Path(checkpoint_dir) / f"{name}.pth").resolve()
        models[name] = PaperModel(
            name, FEATURE_DIM, image_size, "imagenet-self-supervised",
            f"ResNet-50, self-supervised on ImageNet ({name}, ssl-transfer checkpoint {path.name})",
            normalisation, LocalWeightsFile(str(path), sha256_of(path)), _build_resnet50)
    return models


# --- images read lazily -----------------------------------------------------------------------

class _Source:
    """One split of a torchvision dataset (or a folder of images), constructed on first use.

    Pickles without the dataset object (rebuilt where it is used, e.g. in DataLoader workers).
    """

    def __init__(self, key: str, factory=None, folder: Path | None = None, files=()):
        self.key, self.factory, self.folder, self.files = key, factory, folder, tuple(files)
        self._dataset = None

    @property
    def dataset(self):
        if self._dataset is None:
            self._dataset = self.factory()
        return self._dataset

    def image(self, index: int):
        """The image ``index`` as an RGB PIL image."""
        from PIL import Image

        if self.factory is None:
            image = Image.open(self.folder / self.files[index])
        else:
            ds = self.dataset
            paths = getattr(ds, "images", None)  # VOCDetection: read the image, not its XML
            image = Image.open(paths[index]) if isinstance(paths, list) else ds[index][0]
        return image.convert("RGB")

    def __getstate__(self):
        return dict(self.__dict__, _dataset=None)


@dataclass(frozen=True, eq=False)
class ImageRef:
    """One image of a paper target or of the general set, read only when :meth:`load` is called."""

    source: _Source = field(repr=False)
    index: int

    def load(self):
        """The image as an RGB PIL image."""
        return self.source.image(self.index)

    @property
    def key(self) -> str:
        """Identity of the image (source, split, root folder, index) for cache keys."""
        return f"{self.source.key}#{self.index}"

    def __repr__(self) -> str:
        return f"ImageRef({self.key})"


def _refs(source: _Source, indices) -> np.ndarray:
    out = np.empty(len(indices), dtype=object)
    out[:] = [ImageRef(source, int(i)) for i in indices]
    return out


def _dataset_class(name: str, verify: bool):
    """The torchvision class of target ``name``; with ``verify=False`` the md5 checks of CIFAR and
    Flowers (files the user converted or made) become existence checks."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, _TORCHVISION[name][0])
    if verify or name not in ("cifar10", "cifar100", "flowers"):
        return cls
    if name == "flowers":
        files = {k: (f, None) for k, (f, _) in cls._file_dict.items()}
        return type(cls.__name__, (cls,), {"_file_dict": files})
    return type(cls.__name__, (cls,), {
        "train_list": [[f, None] for f, _ in cls.train_list],
        "test_list": [[f, None] for f, _ in cls.test_list], "meta": dict(cls.meta, md5=None)})


def _construct(name: str, split: str, root: str, verify: bool, download: bool):
    cls_name, fixed, splits = _TORCHVISION[name]
    return _dataset_class(name, verify)(root, **fixed, **splits[split], download=download)


def _labels(name: str, ds) -> np.ndarray:
    if name == "voc2007":
        return np.array([_voc_label(path) for path in ds.annotations], dtype=np.int64)
    if name == "cars":
        return np.array([label for _, label in ds._samples], dtype=np.int64)
    for attr in ("targets", "y", "_labels"):
        if hasattr(ds, attr):
            return np.asarray(getattr(ds, attr), dtype=np.int64)
    raise TypeError(f"cannot read the labels of {type(ds).__name__} (torchvision changed?)")


def _voc_label(annotation: str) -> int:
    """Single label of a VOC image: the first of `VOC_CLASSES` among its objects."""
    root = ElementTree.parse(annotation).getroot()
    names = {obj.findtext("name", "").strip() for obj in root.iter("object")}
    present = [VOC_CLASSES.index(n) for n in names if n in VOC_CLASSES]
    if not present:
        raise ValueError(f"{annotation} names no VOC object")
    return min(present)


def _classes(name: str, ds, labels) -> tuple[str, ...]:
    if name == "voc2007":
        return VOC_CLASSES
    names = getattr(ds, "classes", None) or getattr(ds, "categories", None)
    if names is None:
        return tuple(str(i) for i in range(int(max(labels, default=-1)) + 1))
    return tuple(str(c) for c in names)


def _validation_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) positions: the official script's seeded shuffle, its first 20 % validate."""
    order = list(range(n))
    np.random.RandomState(VAL_SEED).shuffle(order)
    cut = int(np.floor(VAL_FRACTION * n))
    return np.sort(np.array(order[cut:], dtype=np.int64)), np.sort(np.array(order[:cut], dtype=np.int64))


@dataclass(frozen=True)
class PaperSplits:
    """The splits of one paper target.

    Attributes
    ----------
    name : str
    classes : tuple of str
    images : dict
        Split name (``train``, ``val``, ``trainval``, ``test``, ``all``) -> object array of
        :class:`ImageRef`; ``all`` holds every image once.
    labels : dict
        Split name -> int64 labels.
    """

    name: str
    classes: tuple[str, ...]
    images: dict = field(repr=False)
    labels: dict = field(repr=False)

    def sizes(self) -> dict[str, int]:
        """Images per split."""
        return {s: len(v) for s, v in self.labels.items()}

    def target(self, fit: str = "trainval", evaluate: str = "test") -> Target:
        """A :class:`~potran.bench.datasets.Target` with ``fit`` as its training split and
        ``evaluate`` as its test split (object arrays of :class:`ImageRef` instead of pixels)."""
        return Target(self.name, self.images[fit], self.labels[fit], self.images[evaluate],
                      self.labels[evaluate], self.classes)


def paper_splits(name: str, data_root, *, verify: bool = True, download: bool = False) -> PaperSplits:
    """Read target ``name`` from ``data_root`` (labels and file lists only, no pixels).

    Parameters
    ----------
    verify : bool
        Keep torchvision's md5 checks (CIFAR, Flowers); False checks that the files exist.
    download : bool
        Let torchvision download what is missing (fails with a clear message offline).
    """
    if name not in TARGETS:
        raise ValueError(f"Unknown target {name!r}; the paper's targets are {', '.join(TARGETS)}.")
    root = str(Path(data_root).resolve())
    if download:
        _download(name, root)
    check_paper_setting(None, root, None, models=(), targets=(name,))
    raw = {}
    for split in _TORCHVISION[name][2]:
        source = _Source(f"{name}/{split}@{root}", partial(_construct, name, split, root, verify, False))
        raw[split] = (source, _labels(name, source.dataset))
    first_source, first_labels = next(iter(raw.values()))
    classes = _classes(name, first_source.dataset, first_labels)
    for split, (source, labels) in raw.items():  # e.g. DTD names the classes of each split
        if _classes(name, source.dataset, labels) != classes:
            raise ValueError(f"{name}: the {split} split has other classes than the first split")
    if name == "sun397":
        parts = _sun397_partition(first_source.dataset, Path(root) / "SUN397")
        parts = {s: (first_source, idx, first_labels[idx]) for s, idx in parts.items()}
    elif name == "caltech101":
        train, test = _caltech_split(first_labels)
        parts = {s: (first_source, idx, first_labels[idx]) for s, idx in (("train", train), ("test", test))}
    else:
        parts = {s: (src, np.arange(len(lab)), lab) for s, (src, lab) in raw.items()}
    images = {s: _refs(src, idx) for s, (src, idx, _) in parts.items()}
    labels = {s: lab for s, (_, _, lab) in parts.items()}
    if "val" in parts:  # official validation split
        images["trainval"] = np.concatenate([images["train"], images["val"]])
        labels["trainval"] = np.concatenate([labels["train"], labels["val"]])
    else:
        images["trainval"], labels["trainval"] = images["train"], labels["train"]
        fit, val = _validation_split(len(labels["train"]))
        images["train"], images["val"] = images["trainval"][fit], images["trainval"][val]
        labels["train"], labels["val"] = labels["trainval"][fit], labels["trainval"][val]
    images["all"] = np.concatenate([images["trainval"], images["test"]])
    labels["all"] = np.concatenate([labels["trainval"], labels["test"]])
    return PaperSplits(name, classes, images, labels)


def _caltech_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(CALTECH_SEED)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = min(CALTECH_TRAIN_PER_CLASS, len(idx) // 2)
        train.append(idx[:k])
        test.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _sun397_partition(ds, folder: Path) -> dict[str, np.ndarray]:
    position = {Path(p).relative_to(folder).as_posix(): i for i, p in enumerate(ds._image_files)}
    parts = {}
    for split, filename in (("train", "Training_01.txt"), ("test", "Testing_01.txt")):
        lines = [ln.strip().lstrip("/") for ln in (folder / filename).read_text().splitlines() if ln.strip()]
        absent = [ln for ln in lines if ln not in position]
        if absent:
            raise ValueError(f"{len(absent)} images of {folder / filename} are missing, e.g. {absent[:3]}")
        parts[split] = np.array([position[ln] for ln in lines], dtype=np.int64)
    return parts


def _download(name: str, root: str) -> None:
    """Let torchvision download target ``name``; a clear error when that is impossible."""
    try:
        for split in _TORCHVISION[name][2]:
            _construct(name, split, root, True, True)
    except (OSError, RuntimeError, ValueError) as err:  # urllib's URLError is an OSError
        raise RuntimeError(
            f"Downloading {name} into {root} failed ({type(err).__name__}: {err}). This machine may "
            f"be offline, or the dataset is no longer downloadable: put its files there yourself "
            f"(check_paper_setting lists what is expected).") from err


# --- missing files ----------------------------------------------------------------------------

def _missing_checkpoints(checkpoint_dir, models) -> list[str]:
    return [f"checkpoint {m}: {Path(checkpoint_dir) / f'{m}.pth'} (file)" for m in models
            if not (Path(checkpoint_dir) / f"{m}.pth").is_file()]


def _image_files(folder: Path):
    for base, _, files in os.walk(folder):
        for f in files:
            if f.lower().endswith(_IMAGE_SUFFIXES):
                yield Path(base, f)


def missing_files(checkpoint_dir, data_root, imagenet_val, *, models=MODELS, targets=TARGETS) -> list[str]:
    """One line per missing file or folder of the setting (``None`` skips that part)."""
    lines = [] if checkpoint_dir is None else _missing_checkpoints(checkpoint_dir, models)
    if data_root is not None:
        for target in targets:
            for rel, kind in REQUIRED[target]:
                path = Path(data_root) / rel
                if not (path.is_dir() if kind == "dir" else path.is_file()):
                    lines.append(f"{target}: {path} ({'folder' if kind == 'dir' else 'file'})")
    if imagenet_val is not None:
        folder = Path(imagenet_val)
        if not folder.is_dir():
            lines.append(f"imagenet-val: {folder} (folder of the ImageNet validation images)")
        elif next(_image_files(folder), None) is None:
            lines.append(f"imagenet-val: no image file ({', '.join(_IMAGE_SUFFIXES)}) under {folder}")
    return lines


def check_paper_setting(checkpoint_dir, data_root, imagenet_val=None, *, models=MODELS,
                        targets=TARGETS) -> None:
    """Raise one ValueError listing every missing checkpoint, dataset file or folder (nothing is
    read or downloaded); ``None`` skips a part."""
    unknown = [t for t in targets if t not in TARGETS] + [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"Unknown name(s) {unknown}; models: {', '.join(MODELS)}; "
                         f"targets: {', '.join(TARGETS)}.")
    lines = missing_files(checkpoint_dir, data_root, imagenet_val, models=models, targets=targets)
    if lines:
        raise ValueError(
            f"The paper's setting is missing {len(lines)} file(s) or folder(s) (nothing is "
            f"downloaded unless download=True):\n  " + "\n  ".join(lines)
            + "\nNotes:\n  " + "\n  ".join(_HINTS))


# --- the general set --------------------------------------------------------------------------

@dataclass(frozen=True)
class GeneralSet:
    """The ImageNet validation images of a local folder, read lazily.

    Attributes
    ----------
    folder : Path
    files : tuple of str
        Paths relative to ``folder``, sorted.
    fingerprint : str
        sha256 of the file names and sizes (part of the statistics' cache key).
    """

    folder: Path
    files: tuple[str, ...] = field(repr=False)
    fingerprint: str

    def __len__(self) -> int:
        return len(self.files)

    def refs(self) -> np.ndarray:
        """Object array of :class:`ImageRef`, one per file."""
        source = _Source(f"imagenet-val@{self.folder}", folder=self.folder, files=self.files)
        return _refs(source, range(len(self.files)))


def general_set(folder, *, limit: int | None = None, seed: int = 0) -> GeneralSet:
    """The general set: every image file under ``folder`` (or a seeded subset of ``limit``)."""
    folder = Path(folder).resolve()
    lines = missing_files(None, None, folder)
    if lines:
        raise ValueError("Missing general set: " + lines[0])
    files = sorted(p.relative_to(folder).as_posix() for p in _image_files(folder))
    if limit is not None and limit < len(files):
        keep = np.sort(np.random.default_rng(seed).choice(len(files), limit, replace=False))
        files = [files[i] for i in keep]
    digest = hashlib.sha256("\n".join(f"{f}\t{(folder / f).stat().st_size}" for f in files).encode())
    return GeneralSet(folder, tuple(files), digest.hexdigest())


@dataclass(frozen=True, eq=False)
class GeneralMoments:
    """Count, mean and population covariance (float64) of a model's general-set features."""

    n: int
    mean: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)

    @property
    def std(self) -> np.ndarray:
        """Per-dimension population standard deviation."""
        return np.sqrt(np.clip(np.diag(self.cov), 0, None))

    def stats(self):
        """The :class:`potran.ped.GeneralStats` PED standardises by."""
        from ..ped import GeneralStats

        return GeneralStats(self.mean, self.std)

    def surrogate(self, rtol: float = 1e-12) -> np.ndarray:
        """A (2r x D) matrix with exactly this mean and population covariance.

        With ``cov = sum_k l_k v_k v_k'`` over the r eigenvalues above ``rtol`` times the
        largest, the rows ``mean +/- sqrt(r * l_k) v_k`` have that mean and covariance, so any
        linear projection of them has the projected set's mean and standard deviation.
        """
        vals, vecs = np.linalg.eigh(self.cov)
        top = vals.max(initial=0.0)
        keep = vals > rtol * top if top > 0 else np.zeros(len(vals), dtype=bool)
        if not keep.any():
            return np.vstack([self.mean, self.mean])
        half = (vecs[:, keep] * np.sqrt(keep.sum() * vals[keep])).T
        return np.vstack([self.mean + half, self.mean - half])

    @classmethod
    def from_batches(cls, batches) -> GeneralMoments:
        """Merge feature batches (each B x D) one by one in float64; holds only the totals."""
        n, mean, m2 = 0, None, None
        for batch in batches:
            b = np.asarray(batch, dtype=np.float64)
            if len(b) == 0:
                continue
            nb, mb = len(b), b.mean(0)
            centred = b - mb
            m2b = centred.T @ centred
            if mean is None:
                n, mean, m2 = nb, mb, m2b
                continue
            total = n + nb
            delta = mb - mean
            mean = mean + delta * (nb / total)
            m2 += m2b + np.outer(delta, delta) * (n * nb / total)
            n = total
        if mean is None:
            raise ValueError("the general set is empty")
        return cls(n, mean, m2 / n)


class _Preprocessed:
    """Map-style dataset for a DataLoader: image ``i`` of ``refs`` through ``transform``."""

    def __init__(self, refs, transform):
        self.refs, self.transform = refs, transform

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i):
        return self.transform(self.refs[i].load())


def _feature_batches(model: PaperModel, refs, *, batch_size: int = 64, num_workers: int = 0,
                     device="cpu", progress: bool = False, desc: str = ""):
    """Yield float32 (B, D) features of ``refs``, batch by batch (eval mode, no gradients)."""
    import torch
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}.")
    net = model.build().to(device)
    loader = DataLoader(_Preprocessed(refs, model.transform()), batch_size=batch_size, shuffle=False,
                        num_workers=num_workers)
    with torch.inference_mode():
        for x in tqdm(loader, desc=f"{model.name} {desc}", disable=not progress):
            yield net(x.to(device)).float().cpu().numpy()


def _cache_file(model: PaperModel, identity: str, cache_dir, label: str, suffix: str) -> Path:
    described = {"model": model.name, "weights": model.weights.sha256, "identity": identity,
                 "preprocess": model.preprocess_params()}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:20]
    return Path(cache_dir) / f"{model.name}--{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}--{digest}{suffix}"


def general_moments(model: PaperModel, general: GeneralSet, *, batch_size: int = 64,
                    num_workers: int = 0, device="cpu", cache_dir=None,
                    progress: bool = False) -> GeneralMoments:
    """Moments of ``model``'s features on the general set, in one streaming pass (cached)."""
    path = None
    if cache_dir is not None:
        path = _cache_file(model, general.fingerprint, cache_dir, "general", ".npz")
    if path is not None and path.exists():
        with np.load(path) as z:
            return GeneralMoments(int(z["n"]), z["mean"], z["cov"])
    moments = GeneralMoments.from_batches(_feature_batches(
        model, general.refs(), batch_size=batch_size, num_workers=num_workers, device=device,
        progress=progress, desc="imagenet-val"))
    if path is not None:
        write_npz(path, n=moments.n, mean=moments.mean, cov=moments.cov)
    return moments


def general_stats(model: PaperModel, general: GeneralSet, **options):
    """:class:`potran.ped.GeneralStats` (mean, std) of ``model`` on the general set; ``options``
    as for :func:`general_moments`."""
    return general_moments(model, general, **options).stats()


def extract_features(model, images, *, batch_size: int = 64, num_workers: int = 0, device="cpu",
                     cache_dir=None, key: str | None = None, progress: bool = False) -> np.ndarray:
    """Features (float32, N x D) of an object array of :class:`ImageRef`, streamed in batches.

    uint8 image arrays go to :func:`potran.bench.features.extract_features`. The cache key holds
    the images' identities (:attr:`ImageRef.key`), the weights' sha256 and the preprocessing.
    """
    images = np.asarray(images)
    if images.dtype != object:
        from .features import extract_features as extract_pixels

        return extract_pixels(model, images, batch_size=batch_size, device=device,
                              cache_dir=cache_dir, key=key, progress=progress)
    path = None
    if cache_dir is not None:
        identity = hashlib.sha256("\n".join(ref.key for ref in images).encode()).hexdigest()
        path = _cache_file(model, identity, cache_dir, key or "images", ".npy")
        if path.exists():
            return np.load(path)
    batches = list(_feature_batches(model, images, batch_size=batch_size, num_workers=num_workers,
                                    device=device, progress=progress, desc=key or ""))
    feats = np.concatenate(batches) if batches else np.empty((0, model.feature_dim), np.float32)
    if path is not None:
        import io

        buffer = io.BytesIO()
        np.save(buffer, feats)
        write_bytes(path, buffer.getvalue())
    return feats


# --- ground truth: the learning-rate x weight-decay sweep ----------------------------------------

def setting_name(lr: float, wd: float) -> str:
    """Cell-name suffix of one grid setting, e.g. ``lr0.1_wd1e-05``."""
    return f"lr{lr:g}_wd{wd:g}"


def _setting_config(base: FinetuneConfig, lr: float, wd: float, n_available: int, steps: int | None):
    """``base`` at one grid setting; with ``steps``, the epochs that make about that many steps."""
    epochs = base.epochs
    if steps is not None:
        n_fit = len(training_indices(n_available, base))
        epochs = max(1, math.ceil(steps / max(1, n_fit // base.batch_size)))
    return replace(base, lr=lr, wd=wd, lr_overrides=(), epochs=epochs)


def _finetune_cell(root: Path, model: str, cell: str, zoo_model, target: Target, config, device,
                   extra: dict) -> dict:
    """Fine-tune one cell unless its record exists (made with the same config); save and return it."""
    store = CellStore(root)
    record = store.load(model, cell)
    if record is not None:
        if record["config"] != config.to_dict():
            raise ValueError(f"{store.path(model, cell)} was made with another configuration "
                             f"({record['config']}); use another out_dir or delete the cell")
        return record
    res = finetune(zoo_model, target, config, device=device)
    write_npz(root / "snapshots" / f"{model}__{cell}.npz", **res.snapshots)
    record = dict(res.record, **extra)
    store.save(model, cell, record)
    return record


# --- the benchmark ----------------------------------------------------------------------------

@dataclass
class PaperSetting:
    """The paper's setting, with the hooks :func:`potran.bench.runner.run` takes.

    ``run(setting.bench, out_dir, **setting.hooks())`` scores it;
    :meth:`finetune_grid` makes its ground truth. Build it with :func:`benchmark`.
    """

    bench: Benchmark
    models: dict
    data_root: Path
    general: GeneralSet
    verify: bool = True
    scored_split: str = "all"
    batch_size: int = 64
    num_workers: int = 0
    _splits: dict = field(default_factory=dict, repr=False)
    _surrogates: dict = field(default_factory=dict, repr=False)

    def get_model(self, name: str) -> PaperModel:
        """The :class:`PaperModel` called ``name``."""
        try:
            return self.models[name]
        except KeyError:
            raise ValueError(f"Unknown model {name!r}; this setting has {', '.join(self.models)}.") from None

    def splits(self, name: str) -> PaperSplits:
        """The (cached) splits of target ``name``."""
        if name not in self._splits:
            self._splits[name] = paper_splits(name, self.data_root, verify=self.verify)
        return self._splits[name]

    def load_target(self, name: str) -> Target:
        """The scoring view of target ``name``: ``x_train`` is the scored split."""
        return self.splits(name).target(self.scored_split, "test")

    def load_general(self) -> GeneralSet:
        """The general set (the runner passes it to :meth:`extract`)."""
        return self.general

    def extract(self, model, images, *, device="cpu", cache_dir=None, key=None, progress=False):
        """Features of a target's images, or the general set's :meth:`GeneralMoments.surrogate`."""
        if isinstance(images, GeneralSet):
            if model.name not in self._surrogates:
                moments = general_moments(model, images, batch_size=self.batch_size,
                                          num_workers=self.num_workers, device=device,
                                          cache_dir=cache_dir, progress=progress)
                self._surrogates[model.name] = moments.surrogate()
            return self._surrogates[model.name]
        return extract_features(model, images, batch_size=self.batch_size, num_workers=self.num_workers,
                                device=device, cache_dir=cache_dir, key=key, progress=progress)

    def hooks(self) -> dict:
        """``get_model``, ``load_target``, ``load_general`` and ``extract`` for the runner."""
        return {"get_model": self.get_model, "load_target": self.load_target,
                "load_general": self.load_general, "extract": self.extract}

    def sweep_cell(self, model: str, target: str, out_dir, *, grid=SWEEP_GRID,
                   config: FinetuneConfig = FINETUNE, steps: int | None = STEPS, device="cpu") -> dict:
        """Ground truth of one (model, target): the grid on train/val, then the best setting on
        trainval/test; every fine-tuning is a resumable cell. Returns the final record."""
        out_dir = Path(out_dir)
        zoo_model, splits = self.get_model(model), self.splits(target)
        validate = splits.target("train", "val")
        tried = []
        for lr, wd in grid:
            cfg = _setting_config(config, lr, wd, len(validate.y_train), steps)
            record = _finetune_cell(out_dir / "sweep", model, f"{target}__{setting_name(lr, wd)}", zoo_model,
                                    validate, cfg, device, {"fit_split": "train", "evaluated_on": "val"})
            tried.append({"lr": lr, "wd": wd, "val_acc": record["test_acc"]})
        best = max(tried, key=lambda t: t["val_acc"])  # the first of equals, as the official script
        final = splits.target("trainval", "test")
        cfg = _setting_config(config, best["lr"], best["wd"], len(final.y_train), steps)
        return _finetune_cell(out_dir, model, target, zoo_model, final, cfg, device,
                              {"fit_split": "trainval", "evaluated_on": "test",
                               "selection": {"by": "val_acc", "best": best, "tried": tried}})

    def finetune_grid(self, out_dir, *, models=None, targets=None, grid=SWEEP_GRID,
                      config: FinetuneConfig = FINETUNE, steps: int | None = STEPS, device="cpu",
                      progress: bool = True, client=None) -> pd.DataFrame:
        """Run (or resume) the ground truth of every (model, target); returns ``accuracy.csv``'s
        table (:func:`potran.bench.groundtruth.collect`). ``client``: a Dask client, as in
        :func:`potran.bench.groundtruth.run_grid`."""
        from .distributed import map_cells
        from .groundtruth import collect

        cells = [(m, t) for t in (targets or self.bench.targets) for m in (models or self.bench.models)]
        map_cells(self.sweep_cell, cells, client=client, progress=progress, desc="paper ground truth",
                  kwargs=dict(out_dir=str(out_dir), grid=grid, config=config, steps=steps, device=device))
        return collect(out_dir)

    def sweep_table(self, out_dir) -> pd.DataFrame:
        """Validation accuracy of every finished grid setting (model, target, lr, wd, val_acc)."""
        rows = [{"model": r["model"], "target": r["target"], "lr": r["lr"], "wd": r["wd"],
                 "val_acc": r["test_acc"]} for r in CellStore(Path(out_dir) / "sweep").records()]
        return pd.DataFrame(rows, columns=["model", "target", "lr", "wd", "val_acc"])


def benchmark(checkpoint_dir, data_root, imagenet_val, *, models=MODELS, targets=TARGETS,
              metrics=FEATURE_METRICS, ped=(False, True), ped_options=None,
              image_size: int = IMAGE_SIZE, verify: bool = True, download: bool = False,
              scored_split: str = "all", batch_size: int = 64, num_workers: int = 0,
              general_limit: int | None = None, seed: int = 0) -> PaperSetting:
    """The paper's setting, checked for missing files first (one error listing them all).

    Parameters
    ----------
    checkpoint_dir, data_root, imagenet_val : path
        See the module's docstring.
    models, targets, metrics, ped, ped_options, seed
        As in :class:`potran.bench.runner.Benchmark`; features are scored at their full width
        (``score_dim`` 2048, as the paper did).
    image_size : int
        224 in the paper (smaller only for tests).
    verify : bool
        Keep torchvision's md5 checks of CIFAR and Flowers.
    download : bool
        Let torchvision download the targets it can (never the checkpoints or ImageNet);
        fails with a clear message offline.
    scored_split : {"all", "trainval"}
        Images the metrics score.
    batch_size, num_workers : int
        Feature extraction's batches and DataLoader workers.
    general_limit : int, optional
        Use a seeded subset of that many general-set images (all by default).
    """
    if scored_split not in ("all", "trainval"):
        raise ValueError(f"scored_split must be 'all' or 'trainval', got {scored_split!r}")
    models, targets = tuple(models), tuple(targets)
    check_paper_setting(None, None, None, models=models, targets=targets)  # names first
    if download:
        for target in targets:
            _download(target, str(Path(data_root).resolve()))
    check_paper_setting(checkpoint_dir, data_root, imagenet_val, models=models, targets=targets)
    zoo = paper_models(checkpoint_dir, names=models, image_size=image_size)
    bench = Benchmark(models=models, targets=targets, metrics=tuple(metrics), ped=tuple(ped),
                      ped_options=dict(ped_options or {}), finetune=FINETUNE, score_dim=FEATURE_DIM,
                      seed=seed)
    general = general_set(imagenet_val, limit=general_limit)
    return PaperSetting(bench, zoo, Path(data_root).resolve(), general, verify=verify,
                        scored_split=scored_split, batch_size=batch_size, num_workers=num_workers)
