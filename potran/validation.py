"""One place that checks and converts the inputs of every metric.

Every public entry point goes through :func:`check_features`, :func:`check_labels`,
:func:`check_xy` or :func:`check_general`; each raises :class:`ValueError` with a message that
names the argument and the problem. Inputs are never modified: the returned arrays are float64
views or copies (float64 torch tensors when a tensor is given) that no function writes into.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from potran.backend import is_tensor, to_numpy


@dataclass(frozen=True)
class Labels:
    """Validated labels.

    Attributes
    ----------
    codes : ndarray of int64
        Labels remapped to ``0..C-1`` in the order of ``np.unique`` (label gaps removed).
    classes : ndarray
        The original label values, ``classes[codes] == y``.
    counts : ndarray of int64
        Samples per class.
    """

    codes: np.ndarray
    classes: np.ndarray
    counts: np.ndarray

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def check_features(X: Any, name: str = "X", *, min_rows: int = 1, keep_float32: bool = False) -> Any:
    """Return ``X`` as a 2-D float64 array (or tensor), rejecting empty, ragged or non-finite input.

    ``keep_float32=True`` leaves float32 input as it is (for code that converts it to float64
    in chunks, to save a full copy).
    """
    if is_tensor(X):
        import torch

        if X.is_complex():
            raise ValueError(f"{name} must be real-valued, got a complex tensor")
        keep = keep_float32 and X.dtype == torch.float32
        arr = X.detach() if keep else X.detach().to(torch.float64)
        finite = bool(torch.isfinite(arr).all()) if arr.numel() else True
    else:
        keep = keep_float32 and getattr(X, "dtype", None) == np.float32
        try:
            arr = np.asarray(X, dtype=np.float32 if keep else np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a numeric 2-D array: {exc}") from None
        finite = bool(np.isfinite(arr).all())
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples x features), "
                         f"got {arr.ndim}-D with shape {tuple(arr.shape)}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(arr.shape)})")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows, got {arr.shape[0]}")
    if not finite:
        raise ValueError(f"{name} contains NaN or Inf")
    return arr


def check_labels(y: Any, n_samples: int | None = None, *, name: str = "y", min_per_class: int = 2) -> Labels:
    """Validate class labels: 1-D, integer valued, >= 2 classes, >= ``min_per_class`` samples each.

    Labels with gaps (e.g. ``{0, 2, 5}``) are accepted and remapped to ``0..C-1``.
    """
    arr = to_numpy(y)
    arr = np.asarray(arr)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} have inconsistent numbers of samples: "
            f"{n_samples} rows in X, {arr.shape[0]} labels")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must contain integer class labels, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or Inf")
        bad = arr[arr != np.round(arr)]
        if bad.size:
            raise ValueError(f"{name} must contain integer class labels; "
                             f"found non-integer value {bad[0].item()!r}")
        arr = arr.astype(np.int64)
    classes, codes, counts = np.unique(arr, return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"{name} has a single class ({classes[0].item()!r}); at least 2 classes are needed")
    small = classes[counts < min_per_class]
    if small.size:
        raise ValueError(
            f"class {small[0].item()!r} of {name} has {counts[counts < min_per_class][0]} sample(s); "
            f"every class needs at least {min_per_class}")
    return Labels(codes.astype(np.int64).reshape(-1), classes, counts.astype(np.int64))


def check_xy(X: Any, y: Any, *, name: str = "X", min_per_class: int = 2,
             keep_float32: bool = False) -> tuple[Any, Labels]:
    """Validate a feature matrix and its labels together (shape agreement included)."""
    features = check_features(X, name, keep_float32=keep_float32)
    labels = check_labels(y, features.shape[0], min_per_class=min_per_class)
    return features, labels


def check_general(G: Any, n_features: int, name: str = "general") -> Any:
    """Validate the general feature set PED normalises by: >= 2 rows, same dimension as X."""
    if G is None:
        raise ValueError(f"PED needs a {name} feature set (the same model's features on a generic image set)")
    arr = check_features(G, name, min_rows=2)
    if arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features per row but X has {n_features}")
    return arr
