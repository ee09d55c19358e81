"""NumPy / torch interoperability.

LogME, SFDA, GBC and PED compute with torch in float64, so NumPy input runs on the CPU and
CUDA tensors (or ``device="cuda"``) run on the GPU with the same code. The other metrics are
NumPy/scikit-learn code and receive NumPy arrays.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def is_tensor(x: Any) -> bool:
    """True for a ``torch.Tensor`` (without importing torch when it is not loaded)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy view/copy of an array-like or tensor (moved to the CPU)."""
    if is_tensor(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def as_torch(x: Any, device: Any = None, *, keep_float32: bool = False):
    """``x`` as a float64 torch tensor on ``device`` (default: the tensor's own device, else the CPU).

    ``keep_float32=True`` keeps float32 input in float32 (no full float64 copy).
    """
    import torch

    if is_tensor(x):
        dtype = x.dtype if keep_float32 and x.dtype == torch.float32 else torch.float64
        return x.detach().to(dtype=dtype, device=device if device is not None else x.device)
    dtype = np.float32 if keep_float32 and np.asarray(x).dtype == np.float32 else np.float64
    return torch.as_tensor(np.asarray(x, dtype=dtype), device=device)


def labels_to_torch(codes: np.ndarray, device: Any):
    """Integer class codes as an int64 tensor on ``device``."""
    import torch

    return torch.as_tensor(codes, dtype=torch.int64, device=device)


def class_means(X, codes, n_classes: int):
    """Per-class means (C x D) of a float64 tensor; ``codes`` is an int64 tensor of 0..C-1."""
    import torch

    sums = torch.zeros(n_classes, X.shape[1], dtype=X.dtype, device=X.device).index_add_(0, codes, X)
    counts = torch.bincount(codes, minlength=n_classes).to(X.dtype)
    return sums / counts[:, None]
