"""The paper's targets through torchvision's dataset classes: lazily read images, the official splits."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from ..datasets import Target
from .files import check_paper_setting
from .layout import (
    _TORCHVISION,
    CALTECH_SEED,
    CALTECH_TRAIN_PER_CLASS,
    TARGETS,
    VAL_FRACTION,
    VAL_SEED,
    VOC_CLASSES,
)


class _Source:
    """One split of a torchvision dataset (or an image folder), constructed on first use; pickles
    without the dataset object (rebuilt where used, e.g. in DataLoader workers)."""

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
    """The splits of one paper target: ``images`` maps split name (``train``, ``val``,
    ``trainval``, ``test``, ``all``: every image once) -> object array of :class:`ImageRef`,
    ``labels`` split name -> int64 labels; ``classes`` a tuple of str."""

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

    ``verify``: keep torchvision's md5 checks (CIFAR, Flowers; False: files exist). ``download``:
    torchvision downloads what is missing (a clear message offline).
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
    if name in ("sun397", "caltech101"):  # one torchvision split, partitioned here
        positions = (_sun397_partition(first_source.dataset, Path(root) / "SUN397") if name == "sun397"
                     else _caltech_split(first_labels))
        raw = {s: (first_source, first_labels[idx]) for s, idx in positions.items()}
    else:
        positions = {s: np.arange(len(lab)) for s, (_, lab) in raw.items()}
    images = {s: _refs(src, positions[s]) for s, (src, _) in raw.items()}
    labels = {s: lab for s, (_, lab) in raw.items()}
    if "val" in raw:  # official validation split
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


def _caltech_split(labels: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(CALTECH_SEED)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = min(CALTECH_TRAIN_PER_CLASS, len(idx) // 2)
        train.append(idx[:k])
        test.append(idx[k:])
    return {"train": np.sort(np.concatenate(train)), "test": np.sort(np.concatenate(test))}


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
