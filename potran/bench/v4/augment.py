"""Random views of image batches for self-supervised pretraining, seeded through one generator.

`Augment()(x)` is a strong SimCLR-style view (Chen et al., 2020): a random resized crop (area
fraction in ``scale``, aspect ratio in ``ratio``, log-uniform), a horizontal flip with probability
1/2, with probability ``p_jitter`` colour jitter (brightness, contrast, saturation and hue, in that
order) and with probability ``p_grey`` greyscale. `Augment().weak(x)` is the crop (``weak_scale``)
and flip only. Both work on a whole (B, 3, H, W) batch of floats in [0, 1] at once (one affine
resampling), return a new tensor of the same shape in [0, 1], and never modify their input. All
randomness comes from the object's own ``torch.Generator`` (CPU, whatever the batch's device), so
two objects with one seed give the same views, and `state_dict` / `load_state_dict` let a resumed
run continue the same stream.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["Augment"]

_LUMA = (0.299, 0.587, 0.114)
# RGB <-> YIQ: a hue shift is a rotation of the (I, Q) plane
_RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ2RGB = torch.linalg.inv(_RGB2YIQ)


def _check_range(name: str, value, low: float, high: float) -> tuple[float, float]:
    a, b = (float(v) for v in value)
    if not low <= a <= b <= high:
        raise ValueError(f"{name} must be (a, b) with {low} <= a <= b <= {high}, got {value}")
    return a, b


class Augment:
    """Strong (``__call__``) and weak (``weak``) random views; see the module docstring."""

    def __init__(self, seed: int = 0, *, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3),
                 weak_scale=(0.35, 1.0), brightness: float = 0.4, contrast: float = 0.4,
                 saturation: float = 0.4, hue: float = 0.1, p_jitter: float = 0.8,
                 p_grey: float = 0.2):
        self.scale = _check_range("scale", scale, 1e-3, 1.0)
        self.weak_scale = _check_range("weak_scale", weak_scale, 1e-3, 1.0)
        self.ratio = _check_range("ratio", ratio, 1e-2, 1e2)
        for name, v, high in (("brightness", brightness, 1), ("contrast", contrast, 1),
                              ("saturation", saturation, 1), ("hue", hue, 0.5),
                              ("p_jitter", p_jitter, 1), ("p_grey", p_grey, 1)):
            if not 0 <= float(v) <= high:
                raise ValueError(f"{name} must be in [0, {high}], got {v}")
        self.brightness, self.contrast, self.saturation, self.hue = (
            float(brightness), float(contrast), float(saturation), float(hue))
        self.p_jitter, self.p_grey = float(p_jitter), float(p_grey)
        self.generator = torch.Generator().manual_seed(int(seed))

    # -- the generator's state, for resuming a run
    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])

    def _rand(self, *shape: int, device) -> torch.Tensor:
        return torch.rand(*shape, generator=self.generator).to(device)

    @staticmethod
    def _check(x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 3:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a (B, 3, H, W) tensor of images, got {shape}")
        if not x.is_floating_point():
            raise ValueError(f"x must be a float tensor in [0, 1], got dtype {x.dtype}")
        if x.numel() and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"x must lie in [0, 1], got values in [{x.min().item():.3g}, "
                             f"{x.max().item():.3g}]")

    def _crop_flip(self, x: torch.Tensor, scale: tuple[float, float]) -> torch.Tensor:
        n = x.shape[0]
        u = self._rand(n, 5, device=x.device)
        area = scale[0] + (scale[1] - scale[0]) * u[:, 0]
        log_r = math.log(self.ratio[0]) + (math.log(self.ratio[1]) - math.log(self.ratio[0])) * u[:, 1]
        r = torch.exp(log_r)
        w = torch.sqrt(area * r).clamp(max=1.0)  # side fractions of the crop
        h = torch.sqrt(area / r).clamp(max=1.0)
        flip = torch.where(u[:, 2] < 0.5, -1.0, 1.0).to(x.dtype)
        theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
        theta[:, 0, 0], theta[:, 1, 1] = w * flip, h
        theta[:, 0, 2] = (1 - w) * (2 * u[:, 3] - 1)
        theta[:, 1, 2] = (1 - h) * (2 * u[:, 4] - 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return out.clamp(0, 1)

    def _jitter(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        u = self._rand(n, 6, device=x.device)
        on = (u[:, 0] < self.p_jitter).view(n, 1, 1, 1)
        col = lambda v: v.view(n, 1, 1, 1)  # noqa: E731
        luma = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        y = x * col(1 + self.brightness * (2 * u[:, 1] - 1))
        y = y.clamp(0, 1)
        mean = (y * luma).sum(1, keepdim=True).mean(dim=(2, 3), keepdim=True)
        y = ((y - mean) * col(1 + self.contrast * (2 * u[:, 2] - 1)) + mean).clamp(0, 1)
        grey = (y * luma).sum(1, keepdim=True)
        y = ((y - grey) * col(1 + self.saturation * (2 * u[:, 3] - 1)) + grey).clamp(0, 1)
        angle = 2 * math.pi * self.hue * (2 * u[:, 4] - 1)
        cos, sin = torch.cos(angle), torch.sin(angle)
        rot = torch.zeros(n, 3, 3, dtype=x.dtype, device=x.device)
        rot[:, 0, 0] = 1
        rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = cos, -sin, sin, cos
        to_yiq, to_rgb = _RGB2YIQ.to(x.device, x.dtype), _YIQ2RGB.to(x.device, x.dtype)
        mix = to_rgb @ rot @ to_yiq  # (n, 3, 3)
        y = torch.einsum("nij,njhw->nihw", mix, y).clamp(0, 1)
        return torch.where(on, y, x)

    def _grey(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        on = (self._rand(n, device=x.device) < self.p_grey).view(n, 1, 1, 1)
        luma = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        grey = (x * luma).sum(1, keepdim=True).expand_as(x)
        return torch.where(on, grey, x)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """A strong view of every image of the batch."""
        self._check(x)
        return self._grey(self._jitter(self._crop_flip(x, self.scale)))

    def weak(self, x: torch.Tensor) -> torch.Tensor:
        """A weak view (random resized crop and flip only) of every image of the batch."""
        self._check(x)
        return self._crop_flip(x, self.weak_scale)
