"""NumPy / torch interoperability, and where the heavy linear algebra runs (README, "Where the
linear algebra runs").

LogME, SFDA, GBC and PED compute with torch in float64 on the input's device. Their heavy products
(:func:`gram`, :func:`eigh`, :func:`top_eigh`, :func:`solve`, :func:`matmul`) run CPU tensors in
NumPy (zero-copy views) unless :func:`cpu_blas` says torch; both agree to rounding.
"""
from __future__ import annotations

import functools
import os
from contextlib import nullcontext
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

SMALL_WORK = 512**3  # multiply-adds up to which a product or factorisation runs on one BLAS thread
SUBSET_MIN_SIDE = 512  # below it a full eigh is as fast as the subset solver (top_eigh)
CPU_BLAS_ENV = "POTRAN_CPU_BLAS"
CPU_BLAS_CHOICES = ("numpy", "torch")
_cpu_blas: str | None = None


def cpu_blas() -> str:
    """The backend of the heavy linear algebra on CPU tensors: "numpy" (default) or "torch", read
    once from ``POTRAN_CPU_BLAS``; :func:`set_cpu_blas` changes it."""
    global _cpu_blas
    if _cpu_blas is None:
        _cpu_blas = _checked(os.environ.get(CPU_BLAS_ENV, "numpy"), CPU_BLAS_ENV)
    return _cpu_blas


def set_cpu_blas(name: str | None) -> str:
    """Set the CPU backend ("numpy" or "torch"; None re-reads the environment); returns the previous one."""
    global _cpu_blas
    previous = cpu_blas()
    _cpu_blas = None if name is None else _checked(name, "cpu_blas")
    return previous


def _checked(name: str, what: str) -> str:
    if name not in CPU_BLAS_CHOICES:
        raise ValueError(f"{what} must be one of {CPU_BLAS_CHOICES}, got {name!r}")
    return name


def _in_numpy(*tensors) -> bool:
    return all(t.device.type == "cpu" for t in tensors) and cpu_blas() == "numpy"


def gram(A, *, rows: bool = False):
    """``A^T A`` (D x D), or ``A A^T`` (N x N) with ``rows=True``, of a float tensor."""
    import torch

    if _in_numpy(A):
        a = A.numpy()
        with blas_threads_for(a.shape[0] * a.shape[1] * (a.shape[0] if rows else a.shape[1])):
            return torch.from_numpy(a @ a.T if rows else a.T @ a)
    return A @ A.T if rows else A.T @ A


def matmul(A, B):
    """``A @ B`` of two tensors on one device."""
    import torch

    if _in_numpy(A, B):
        with blas_threads_for(A.shape[0] * A.shape[1] * B.shape[1]):
            return torch.from_numpy(A.numpy() @ B.numpy())
    return A @ B


def eigh(S):
    """Eigenvalues (ascending) and eigenvectors of a symmetric tensor (its lower triangle)."""
    import torch

    if _in_numpy(S):
        with blas_threads_for(S.shape[0] ** 3):
            evals, evecs = np.linalg.eigh(S.numpy())
        return torch.from_numpy(evals), torch.from_numpy(evecs)
    return torch.linalg.eigh(S)


def top_eigh(S, k: int):
    """The ``k`` largest eigenvalues (descending) and their eigenvectors of a symmetric tensor.

    In NumPy, from ``SUBSET_MIN_SIDE`` rows and ``k`` at most half the side, only those pairs are
    computed (LAPACK ``syevr``; 2.5x faster for 64 of 2048), equal to rounding (up to sign).
    """
    import torch

    n = S.shape[0]
    if _in_numpy(S) and n >= SUBSET_MIN_SIDE and 2 * k <= n:
        from scipy.linalg import eigh as scipy_eigh

        with blas_threads_for(n**3):
            evals, evecs = scipy_eigh(S.numpy(), subset_by_index=[n - k, n - 1], driver="evr")
        return torch.from_numpy(evals[::-1].copy()), torch.from_numpy(evecs[:, ::-1].copy())
    evals, evecs = eigh(S)
    return evals[-k:].flip(0), evecs[:, -k:].flip(1)


def solve(A, B):
    """``A^-1 B`` for a square tensor ``A``."""
    import torch

    if _in_numpy(A, B):
        with blas_threads_for(A.shape[0] ** 3 + A.shape[0] ** 2 * B.shape[1]):
            return torch.from_numpy(np.linalg.solve(A.numpy(), B.numpy()))
    return torch.linalg.solve(A, B)


def is_tensor(x: Any) -> bool:
    """True for a ``torch.Tensor`` (without importing torch when it is not loaded)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy view/copy of an array-like or tensor (moved to the CPU)."""
    if is_tensor(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def as_torch(x: Any, device: Any = None, *, keep_float32: bool = False):
    """``x`` as a float64 torch tensor on ``device`` (default: the tensor's own, else the CPU);
    ``keep_float32=True`` keeps float32 input in float32."""
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


def one_thread():
    """Context in which NumPy/SciPy's BLAS and OpenMP (scikit-learn's k-means) run one thread."""
    return _threadpools().limit(limits=1)


def blas_threads_for(work: float, *, openmp: bool = False):
    """One BLAS thread for a problem of at most ``SMALL_WORK`` multiply-adds, the default otherwise
    (on 2 loaded cores, a 1000 x 128 cell's H-score: 1.5 s vs 0.02-0.09 s on one thread).
    ``openmp=True`` also holds OpenMP (scikit-learn's neighbours, k-means) to one thread.
    """
    if work > SMALL_WORK:
        return nullcontext()
    return _threadpools().limit(limits=1, user_api=None if openmp else "blas")


@functools.cache
def _threadpools() -> ThreadpoolController:
    """The process's thread pools, inspected once (inspecting them takes milliseconds)."""
    return ThreadpoolController()
