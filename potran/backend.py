"""NumPy / torch interoperability, and where the heavy linear algebra runs.

LogME, SFDA, GBC and PED compute with torch in float64: NumPy input runs on the CPU, CUDA tensors
(or ``device="cuda"``) on the GPU, same code; the other metrics are NumPy/scikit-learn code.

Heavy products go through :func:`gram`, :func:`eigh` / :func:`top_eigh`, :func:`solve` and
:func:`matmul`: GPU tensors stay there; CPU tensors run in NumPy (zero-copy views) unless
:func:`cpu_blas` says torch. NumPy's ``A^T A`` is a symmetric rank-k update (half the flops of
torch's general product), and torch's CPU BLAS is MKL, slow on this project's AMD EPYC machines:
the float64 Gram matrix takes about half the time in NumPy's OpenBLAS
(``benchmarks/bench_core.py`` times both). Override with ``POTRAN_CPU_BLAS=torch`` (or ``numpy``)
before the first call, or :func:`set_cpu_blas` any time. Both compute in float64 and agree to
rounding (parity tolerances hold on both; ``tests/test_backend.py``). Problems of at most
``SMALL_WORK`` multiply-adds run on one BLAS thread (:func:`blas_threads_for`).
"""
from __future__ import annotations

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
    """The backend of the heavy linear algebra on CPU tensors: "numpy" (default) or "torch".

    Read once per process from ``POTRAN_CPU_BLAS``; :func:`set_cpu_blas` changes it.
    """
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

    In NumPy, with at least ``SUBSET_MIN_SIDE`` rows and ``k`` at most half the side, only those
    pairs are computed (SciPy, LAPACK ``syevr``): about 2.5x faster than the full ``eigh`` for 64
    of 2048 (``benchmarks/bench_core.py``); equal to the full solver's to rounding (up to sign).
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


def one_thread():
    """Context in which NumPy/SciPy's BLAS and OpenMP (scikit-learn's k-means) run one thread."""
    return _threadpools().limit(limits=1)


def blas_threads_for(work: float, *, openmp: bool = False):
    """One BLAS thread for a problem of at most ``SMALL_WORK`` multiply-adds, the default otherwise.

    Up to that size (an eigh of 512 x 512; a 1000 x 128 cell's Gram matrix is 1.6e7) the work
    takes milliseconds and OpenBLAS's thread hand-offs on a busy machine cost far more (2 loaded
    cores, 1000 x 128 cell, default vs one thread: H-score 1.5 s vs 0.02-0.09 s; PARC 1.0-2.8 s vs
    0.5 s; k-NN 1.1-1.4 s vs 0.15-0.2 s). ``openmp=True`` also holds OpenMP (scikit-learn's
    neighbour search, k-means) to one thread. Results equal to rounding.
    """
    if work > SMALL_WORK:
        return nullcontext()
    return _threadpools().limit(limits=1, user_api=None if openmp else "blas")


_controller = None


def _threadpools() -> ThreadpoolController:
    """The process's thread pools, inspected once (inspecting them takes milliseconds)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller
