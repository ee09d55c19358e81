"""The paper's 12 ResNet-50 checkpoints from a local folder (sha256 recorded, never downloaded)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..zoo import IMAGENET, ChecksumError, Normalisation, ZooModel
from ..zoo.weights import WeightsFile, sha256_of
from .files import _missing_checkpoints
from .layout import FEATURE_DIM, IMAGE_SIZE, MODELS


@dataclass(frozen=True)
class LocalWeightsFile(WeightsFile):
    """A weight file the user supplies, at an absolute path (``relpath``).

    No checksum is published: ``sha256`` is recorded when the entry is made (it keys the feature
    cache); :meth:`verified_path` only checks the file has not changed since.
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

    Images (PIL via :class:`ImageRef`, or uint8 arrays): shorter side resized to ``image_size``
    (bicubic), centre square crop, normalised; aspect kept, unlike the zoo's whole-image resize.
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

    With a weight file: built on the meta device, the file's tensors assigned; every key must match.
    """
    import torch
    from torch import nn
    from torchvision.models import resnet50

    state = None if path is None else _load_state(path)
    with torch.device("cpu" if state is None else "meta"):
        net = resnet50(weights=None)
    net.fc = nn.Identity()
    if state is None:
        return net
    try:
        net.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as err:
        raise ValueError(f"{path} is not the state dict of a torchvision resnet50 without fc "
                         f"(the ssl-transfer format): {err}") from None
    return net


def paper_models(checkpoint_dir, *, names=MODELS, image_size: int = IMAGE_SIZE,
                 normalisation: Normalisation = IMAGENET) -> dict[str, PaperModel]:
    """The paper's models as zoo entries, from ``<checkpoint_dir>/<name>.pth``.

    Each file is hashed once (sha256 recorded, not verified: none is published). ``image_size``
    other than 224 is for tests. ValueError for unknown names or missing files (all listed).
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
