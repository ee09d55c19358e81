"""One place that checks and converts the inputs of every metric: a ``check_*`` function raises
:class:`ValueError` naming the argument and the problem. Inputs are never modified (results are
float64 views or copies, float64 tensors for a tensor)."""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from potran.backend import is_tensor, to_numpy


@dataclass(frozen=True)
class Labels:
    """Validated labels: int64 ``codes`` 0..C-1 in ``np.unique`` order (gaps removed), the
    original ``classes`` (``classes[codes] == y``) and int64 ``counts`` per class."""

    codes: np.ndarray
    classes: np.ndarray
    counts: np.ndarray

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def check_features(X: Any, name: str = "X", *, min_rows: int = 1, keep_float32: bool = False) -> Any:
    """Return ``X`` as a 2-D float64 array (or tensor), rejecting empty, ragged or non-finite input
    (``keep_float32=True`` keeps float32 input)."""
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


def _label_array(y: Any) -> np.ndarray:
    """``y`` as a NumPy array; a sequence NumPy makes strings or objects of is re-read element by
    element (``np.asarray(["a", 1])`` silently gives ``"1"``)."""
    if is_tensor(y) or isinstance(y, np.ndarray):
        return np.asarray(to_numpy(y))
    arr = np.asarray(y)
    if arr.dtype.kind in "USO" and arr.ndim == 1:
        arr = np.empty(len(arr), dtype=object)
        arr[:] = list(y)
    return arr


def _kind(value) -> str:
    """The type family of one label: ``bool``, ``number``, ``string`` or the type's name."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _shown(value):
    return value.item() if isinstance(value, np.generic) else value


def _class_names(arr: np.ndarray, name: str) -> np.ndarray:
    """Labels that are objects (e.g. a list of strings, a pandas column): one type for all of them,
    numbers made numeric again, None rejected."""
    if any(v is None for v in arr):
        raise ValueError(f"{name} contains None (a missing label)")
    kinds = sorted({_kind(v) for v in arr})
    if len(kinds) > 1:
        raise ValueError(f"{name} mixes label types ({', '.join(kinds)}); "
                         "give every class name as the same type")
    if kinds[0] in ("bool", "number", "string"):
        return np.asarray(arr.tolist())
    try:
        hash(arr[0])
    except TypeError:
        raise ValueError(f"{name} must contain hashable class names, got {kinds[0]}") from None
    return arr


def _unique(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique`` (sorted classes); objects that do not sort keep their order of first appearance."""
    try:
        return np.unique(arr, return_inverse=True, return_counts=True)
    except TypeError:
        index: dict = {}
        codes = np.array([index.setdefault(v, len(index)) for v in arr], dtype=np.int64)
        classes = np.empty(len(index), dtype=object)
        classes[:] = list(index)
        return classes, codes, np.bincount(codes)


def check_labels(y: Any, n_samples: int | None = None, *, name: str = "y", min_per_class: int = 2) -> Labels:
    """Validate class labels: 1-D, >= 2 classes, >= ``min_per_class`` samples each, mapped to
    ``0..C-1`` in sorted order (``np.unique``; unsortable ones by first appearance). Integers,
    integral floats, booleans, strings or other hashables of one type; mixed types, non-integral
    floats and missing labels (None, NaN) are rejected.
    """
    arr = _label_array(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} have inconsistent numbers of samples: "
            f"{n_samples} rows in X, {arr.shape[0]} labels")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype == object:
        arr = _class_names(arr, name)
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must contain class labels, got complex dtype {arr.dtype}")
    if arr.dtype.kind in "mM":
        raise ValueError(f"{name} must contain class labels, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or Inf")
        bad = arr[arr != np.round(arr)]
        if bad.size:
            raise ValueError(f"{name} must contain integer class labels; "
                             f"found non-integer value {bad[0].item()!r} (numeric labels must be "
                             "integral; give class names as strings)")
        arr = arr.astype(np.int64)
    classes, codes, counts = _unique(arr)
    if len(classes) < 2:
        raise ValueError(f"{name} has a single class ({_shown(classes[0])!r}); at least 2 classes are needed")
    small = np.flatnonzero(counts < min_per_class)
    if small.size:
        raise ValueError(
            f"class {_shown(classes[small[0]])!r} of {name} has {counts[small[0]]} sample(s); "
            f"every class needs at least {min_per_class}")
    return Labels(codes.astype(np.int64).reshape(-1), classes, counts.astype(np.int64))


def check_xy(X: Any, y: Any, *, name: str = "X", keep_float32: bool = False) -> tuple[Any, Labels]:
    """Validate a feature matrix and its labels together (shape agreement included)."""
    features = check_features(X, name, keep_float32=keep_float32)
    return features, check_labels(y, features.shape[0])


def check_general(G: Any, n_features: int) -> Any:
    """Validate the general feature set PED normalises by: >= 2 rows, same dimension as X."""
    if G is None:
        raise ValueError("PED needs a general feature set (the same model's features on a generic image set)")
    arr = check_features(G, "general", min_rows=2)
    if arr.shape[1] != n_features:
        raise ValueError(f"general has {arr.shape[1]} features per row but X has {n_features}")
    return arr
