"""Features of one's own torch model on a local image folder, as the ``.npz`` that
``potran score`` and ``potran select`` read.

The model is a torchvision classification architecture with a local state-dict file
(:func:`torchvision_backbone`, nothing downloaded), its final linear classifier replaced by
``nn.Identity``: ``fc`` (ResNet, ResNeXt, Wide ResNet, RegNet, GoogLeNet, Inception v3, ShuffleNet
v2), ``classifier[-1]`` (VGG, AlexNet, MobileNet v2/v3, EfficientNet v1/v2, MNASNet, ConvNeXt,
MaxViT), ``classifier`` (DenseNet), ``head`` (Swin v1/v2), all of ``heads`` (ViT); not SqueezeNet.
Or a TorchScript file (:func:`torchscript_model`, output flattened after the batch dimension).
Images are in ``ImageFolder`` layout (labels: the sorted subfolders' indices, names stored as
``classes``); PED's general set is every image under a second folder, any layout. Preprocessing:
:class:`Preprocessing` (ImageNet mean/std default).
"""
from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "MIN_PER_CLASS", "Preprocessing", "torchvision_backbone",
           "torchscript_model", "unreadable", "extract", "write_features"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Every metric needs at least this many images of each class (potran.validation.check_labels).
MIN_PER_CLASS = 2


@dataclass(frozen=True)
class Preprocessing:
    """Resize the shorter side to ``resize`` (default ``image_size * 8 / 7``, 256 for 224), crop
    the centre ``image_size`` square, scale to [0, 1] and normalise by ``mean`` and ``std``."""

    image_size: int = 224
    resize: int | None = None
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD

    def __post_init__(self):
        if self.image_size < 1 or (self.resize is not None and self.resize < self.image_size):
            raise ValueError(f"need 1 <= image_size <= resize, got image_size={self.image_size}, "
                             f"resize={self.resize}")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError(f"mean and std need 3 values (R, G, B), std > 0; got mean={self.mean}, "
                             f"std={self.std}")

    def transform(self):
        from torchvision import transforms

        resize = self.resize if self.resize is not None else round(self.image_size * 8 / 7)
        return transforms.Compose([transforms.Resize(resize), transforms.CenterCrop(self.image_size),
                                   transforms.ToTensor(), transforms.Normalize(self.mean, self.std)])


def _remove_classifier(model, arch: str) -> str:
    """Replace the final linear classifier of a torchvision model by Identity; returns its name."""
    from torch import nn

    for name in ("fc", "head", "heads", "classifier"):
        module = getattr(model, name, None)
        if isinstance(module, nn.Linear) or (name == "heads" and isinstance(module, nn.Sequential)):
            setattr(model, name, nn.Identity())
            return name
        if isinstance(module, nn.Sequential) and isinstance(module[-1], nn.Linear):
            module[-1] = nn.Identity()
            return f"{name}.{len(module) - 1}"
    raise ValueError(f"architecture {arch!r} has no final linear classifier at fc, classifier, "
                     "classifier[-1], head or heads, so its penultimate features are not defined here; "
                     "export the feature extractor you want with torch.jit.save and pass it as a "
                     "TorchScript file instead")


def _state_dict(path: Path) -> dict:
    import torch

    if not path.is_file():
        raise ValueError(f"no such weights file: {path} (potran never downloads weights)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises pickle, zip and runtime errors for a file it cannot read
        raise ValueError(f"cannot read a state dict from {path}: {err}") from None
    for key in ("state_dict", "model"):  # common checkpoint wrappers
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state:
        raise ValueError(f"{path} holds no state dict (a mapping of parameter names to tensors)")
    if all(k.startswith("module.") for k in state):  # saved from DataParallel
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def torchvision_backbone(arch: str, weights):
    """torchvision ``arch`` with the state dict in the file ``weights`` (every other parameter and
    nothing else; its classifier any size or absent), without its classifier."""
    import torch
    import torchvision

    known = torchvision.models.list_models(module=torchvision.models)
    if arch not in known:
        close = difflib.get_close_matches(arch, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"unknown torchvision classification architecture {arch!r}{hint}; "
                         "torchvision.models.list_models(module=torchvision.models) lists them")
    state = _state_dict(Path(weights))
    model = torchvision.models.get_model(arch, weights=None)
    head = _remove_classifier(model, arch)
    state = {k: v for k, v in state.items() if not k.startswith(head + ".")}
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        problems = [f"{what} {len(keys)} key(s): {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
                    for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
        raise ValueError(f"{weights} is not a state dict of {arch}: {'; '.join(problems)}")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"{weights} does not fit {arch}: {' '.join(str(err).split())}") from None
    return model.to(torch.float32).eval()


def torchscript_model(path):
    """The TorchScript module saved in ``path`` (``torch.jit.save``); its output is the features."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such TorchScript file: {path}")
    try:
        return torch.jit.load(str(path), map_location="cpu").eval()
    except RuntimeError as err:
        raise ValueError(f"cannot load {path} as TorchScript (torch.jit.save): "
                         f"{str(err).splitlines()[0]}") from None


class _Images:
    """Every image file under a folder (sorted paths, any layout), as a dataset of (image, 0):
    PED's general set."""

    def __init__(self, root, transform):
        from torchvision.datasets.folder import IMG_EXTENSIONS

        if not Path(root).is_dir():
            raise ValueError(f"no such image folder: {root}")
        self.root = Path(root)
        self.paths = sorted(p for p in self.root.rglob("*") if p.is_file()
                            and p.suffix.lower() in IMG_EXTENSIONS)
        if not self.paths:
            raise ValueError(f"no images in {root} (extensions: {', '.join(IMG_EXTENSIONS)})")
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.transform(_load(self.paths[i])), 0


def _load(path):
    """The image at ``path`` (torchvision's default loader), or ValueError naming it when unreadable."""
    from torchvision.datasets.folder import default_loader

    try:
        image = default_loader(str(path))
        image.load() if hasattr(image, "load") else None
        return image
    except (OSError, ValueError, SyntaxError) as err:  # PIL: truncated, unidentified, corrupt files
        raise ValueError(f"cannot read image {path}: {' '.join(str(err).split()) or type(err).__name__} "
                         "(--skip-unreadable leaves such images out)") from None


def unreadable(paths) -> list:
    """The paths among ``paths`` that PIL cannot open and decode."""
    bad = []
    for path in paths:
        try:
            _load(path)
        except ValueError:
            bad.append(path)
    return bad


def extract(model, dataset, *, batch_size: int = 64, num_workers: int = 0, device: str = "cpu",
            progress: bool = True, desc: str = "features") -> np.ndarray:
    """``model``'s outputs on every image of ``dataset`` (in order), batched: float32 (N, D)."""
    import torch
    from tqdm.auto import tqdm

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False,
                                         num_workers=num_workers)
    model = model.to(device).eval()
    parts = []
    with torch.inference_mode(), tqdm(total=len(dataset), desc=desc, unit="img", disable=not progress) as bar:
        for images, _ in loader:
            out = model(images.to(device))
            if not isinstance(out, torch.Tensor) or out.ndim < 2:
                kind = type(out).__name__ if not isinstance(out, torch.Tensor) else f"a {out.ndim}-D tensor"
                raise ValueError(f"the model returned {kind}; it must return one tensor of shape "
                                 "(batch, features, ...)")
            parts.append(out.flatten(1).float().cpu().numpy())
            bar.update(len(images))
    return np.concatenate(parts)


def write_features(out, model, images, *, general=None, preprocessing: Preprocessing = Preprocessing(),
                   batch_size: int = 64, num_workers: int = 0, device: str = "cpu",
                   progress: bool = True, skip_unreadable: bool = False) -> dict:
    """Extract ``model``'s features of the image folder ``images`` (and ``general``) into ``out``,
    a ``.npz`` (also returned, plus ``"skipped"``) of ``X`` (float32, N x D), ``y`` (int64 codes of
    the sorted class subfolders), ``classes``, ``files`` (relative to ``images``) and, with
    ``general``, ``G`` (float32, M x D). An unreadable image raises ValueError naming it, or with
    ``skip_unreadable`` is left out. One class, or a class under :data:`MIN_PER_CLASS` images, warns."""
    from torchvision.datasets import ImageFolder

    out = Path(out)
    if out.suffix != ".npz":
        raise ValueError(f"the output file must end in .npz, got {out}")
    transform = preprocessing.transform()
    if not Path(images).is_dir():
        raise ValueError(f"no such image folder: {images}")
    try:
        target = ImageFolder(str(images), transform=transform, loader=_load)
    except FileNotFoundError as err:
        raise ValueError(f"{images} is not an image folder with one subfolder of images per class: "
                         f"{err}") from None
    skipped = []
    if skip_unreadable:
        skipped = unreadable([p for p, _ in target.samples])
        if skipped:
            left = set(skipped)
            target.samples = [(p, c) for p, c in target.samples if p not in left]
            target.imgs, target.targets = target.samples, [c for _, c in target.samples]
    _check_classes(target, images)
    kwargs = dict(batch_size=batch_size, num_workers=num_workers, device=device, progress=progress)
    arrays = {"X": extract(model, target, desc="images", **kwargs),
              "y": np.asarray(target.targets, dtype=np.int64),
              "classes": np.asarray(target.classes, dtype=str),
              "files": np.asarray([str(Path(p).relative_to(images)) for p, _ in target.samples], dtype=str)}
    if general is not None:
        generic = _Images(general, transform)
        if skip_unreadable:
            bad = unreadable(generic.paths)
            skipped += bad
            generic.paths = [p for p in generic.paths if p not in set(bad)]
            if not generic.paths:
                raise ValueError(f"no readable images in {general}")
        arrays["G"] = extract(model, generic, desc="general", **kwargs)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    return {**arrays, "skipped": [str(p) for p in skipped]}


def _check_classes(target, root) -> None:
    """Warn about labels no metric can score: one class, or a class below :data:`MIN_PER_CLASS`."""
    if not target.samples:
        raise ValueError(f"no readable images in {root}")
    counts = np.bincount(np.asarray(target.targets), minlength=len(target.classes))
    if np.count_nonzero(counts) < 2:
        only = target.classes[int(np.argmax(counts))]
        warnings.warn(f"{root} has images of one class only ({only!r}): the metrics need at least 2 classes",
                      UserWarning, stacklevel=3)
    for name, count in zip(target.classes, counts):
        if count < MIN_PER_CLASS:
            warnings.warn(f"class {name!r} of {root} has {count} image(s): the metrics need at least "
                          f"{MIN_PER_CLASS} of every class", UserWarning, stacklevel=3)
