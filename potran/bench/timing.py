"""Time and memory of a call, synthetic tasks to time, and the dense PED they are compared with.

Used by :mod:`potran.bench.snapshots`, the runtime page, ``benchmarks/bench_core.py`` and the tests
(the dense PED is the yardstick of :func:`potran.ped.simulate`, which never forms its C x C x D array).
"""
from __future__ import annotations

import re
import sys
import time
import tracemalloc
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Measurement", "measure", "dense_ped", "dense_step", "synthetic_task", "loglog_slope", "slopes"]

@dataclass(frozen=True)
class Measurement:
    """What :func:`measure` saw.

    ``seconds``: fastest timed run (load from other processes only adds time, so the minimum is the
    most repeatable on a shared machine); ``times``: every timed run. ``traced_bytes``: peak rise of
    the :mod:`tracemalloc` timeline (Python objects, NumPy buffers, torch's CPU tensors; not kernel
    workspaces). ``rss_bytes``: rise of the resident high-water mark (None where unavailable): sees
    everything but memory reused from earlier frees, so a lower bound, 0 for small calls.
    ``peak_bytes``: the larger of the two. ``cuda_bytes``: peak rise of torch's CUDA allocator.
    """

    seconds: float
    median_seconds: float
    times: tuple
    peak_bytes: int
    traced_bytes: int
    rss_bytes: int | None
    cuda_bytes: int | None = None


def _status_bytes(field: str, reset: bool = False) -> int | None:
    """``field`` of ``/proc/self/status`` in bytes, after resetting the resident high-water mark
    to the resident size with ``reset``; None where unavailable."""
    try:
        if reset:
            Path("/proc/self/clear_refs").write_text("5")
        match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


_TORCH_DOMAIN = 0x746F7263  # tracemalloc domain of the torch storages registered below ("torc")


@cache
def _torch_tracker_class():
    """A context class (built and warmed up once) that enters torch's CPU tensors into tracemalloc.

    Torch allocates outside Python's allocators; a ``TorchDispatchMode`` sees each operation's result
    and tracks its new storages with ``PyTraceMalloc_Track`` (as NumPy does) until they are freed, so
    NumPy and torch share one timeline. Kernel workspaces and tensors made without an operation
    (``torch.from_numpy``) are not seen.
    """
    import ctypes
    import weakref

    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    track, untrack = ctypes.pythonapi.PyTraceMalloc_Track, ctypes.pythonapi.PyTraceMalloc_Untrack
    track.argtypes = [ctypes.c_uint, ctypes.c_size_t, ctypes.c_size_t]
    untrack.argtypes = [ctypes.c_uint, ctypes.c_size_t]

    class Tracker(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.live = set()

        def _release(self, ptr):
            if ptr in self.live:
                self.live.discard(ptr)
                untrack(_TORCH_DOMAIN, ptr)

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor) and t.device.type == "cpu":
                    storage = t.untyped_storage()
                    ptr, size = storage.data_ptr(), storage.nbytes()
                    if ptr and size and ptr not in self.live:
                        self.live.add(ptr)
                        track(_TORCH_DOMAIN, ptr, size)
                        weakref.finalize(storage, self._release, ptr)
            return out

        def __exit__(self, *exc):
            for ptr in list(self.live):   # storages that outlive the call (e.g. a returned tensor)
                self._release(ptr)
            return super().__exit__(*exc)

    with Tracker():   # the first operation under a dispatch mode imports and caches a lot
        torch.zeros(2, dtype=torch.float64).add_(1).sum()
    return Tracker


def measure(fn: Callable, *args, repeats: int = 3, warmup: int = 0, memory: bool = True,
            device=None, min_time: float = 0.0, max_repeats: int = 100, **kwargs) -> Measurement:
    """Time ``fn(*args, **kwargs)`` and measure its peak memory.

    At least ``repeats`` timed runs (:func:`time.perf_counter`; result discarded) after ``warmup``
    untimed ones (imports, caches, CUDA kernels); more, up to ``max_repeats``, until they add up to
    ``min_time`` seconds (more chances at an undisturbed run on a loaded machine). ``memory``: one
    more, untimed run under :mod:`tracemalloc` (tracing slows Python code), resident and CUDA peaks
    reset; False leaves the memory fields 0 / None. ``device="cuda..."`` synchronises the GPU
    around every timed run and records the CUDA peak.
    """
    if int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    if int(warmup) != warmup or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
    on_cuda = str(device).startswith("cuda")
    if on_cuda:
        import torch
    sync = torch.cuda.synchronize if on_cuda else lambda: None
    for _ in range(warmup):
        fn(*args, **kwargs)
    sync()
    times = []
    while len(times) < repeats or (sum(times) < min_time and len(times) < max_repeats):
        t0 = time.perf_counter()
        fn(*args, **kwargs)
        sync()
        times.append(time.perf_counter() - t0)
    traced, rss, cuda = 0, None, None
    if memory:
        if on_cuda:
            torch.cuda.reset_peak_memory_stats(device)
            cuda_base = torch.cuda.memory_allocated(device)
        # torch's tracker (when torch is in use) imports before tracing starts
        tracker = _torch_tracker_class()() if "torch" in sys.modules else nullcontext()
        was_tracing = tracemalloc.is_tracing()
        if not was_tracing:
            tracemalloc.start()
        tracemalloc.reset_peak()
        traced_base = tracemalloc.get_traced_memory()[0]
        rss_base = _status_bytes("VmRSS", reset=True)
        with tracker:
            fn(*args, **kwargs)
        sync()
        hwm = _status_bytes("VmHWM")
        traced = max(tracemalloc.get_traced_memory()[1] - traced_base, 0)
        if not was_tracing:
            tracemalloc.stop()
        if rss_base is not None and hwm is not None:
            rss = max(hwm - rss_base, 0)
        if on_cuda:
            cuda = max(torch.cuda.max_memory_allocated(device) - cuda_base, 0)
    return Measurement(seconds=min(times), median_seconds=float(np.median(times)), times=tuple(times),
                       peak_bytes=int(max(traced, rss or 0)), traced_bytes=int(traced), rss_bytes=rss,
                       cuda_bytes=cuda)


# --- the dense transcription of PED -------------------------------------------------------------

def dense_step(X, y, G, nsigma, t, k, eps):
    """One PED step as the method page writes it: the C x C x D array of pairwise pushes.

    Returns the moved features and the step's total displacement (sum of the absolute shifts of
    the standardised class centres)."""
    m, s = G.mean(0), np.maximum(G.std(0), eps)
    Z = (X - m) / s
    classes = np.unique(y)
    C = len(classes)
    mu = np.array([Z[y == c].mean(0) for c in classes])
    r = np.sqrt(np.array([Z[y == c].var(0).sum() for c in classes]))
    A = np.zeros((C, C, X.shape[1]))
    for i in range(C):
        for j in range(i):
            diff = mu[i] - mu[j]
            dist = np.linalg.norm(diff)
            F = max(nsigma * r[i] + nsigma * r[j] - dist, 0)
            A[j, i] = -diff / dist * min(0.5 * t**2 * k * F, F)
    A = A - A.transpose(1, 0, 2)
    delta = A.sum(1)
    return (Z + delta[y]) * s + m, np.abs(delta).sum()


def dense_ped(X, y, G, nsigma=0.6, t=0.1, k=1.0, exit_ratio=0.5, eps=1e-3):
    """PED transcribed directly: moved features and the accepted steps' displacements.

    Each step re-standardises all N x D features by ``G`` and fills a dense C x C x D array of
    pushes in a Python loop over class pairs: O(N D + C^2 D) time, C^2 D float64 memory. ``y``
    must be 0..C-1, every class present. Defaults and result as :func:`potran.ped.simulate` (at most
    6 steps; equal to rounding where class centres differ). Returns (ndarray (N, D), list of float).
    """
    X, G, y = np.asarray(X, dtype=np.float64), np.asarray(G, dtype=np.float64), np.asarray(y)
    changes = []
    while len(changes) < 6:
        X_new, p = dense_step(X, y, G, nsigma, t, k, eps)
        first = changes[0] if changes else p
        with np.errstate(invalid="ignore"):
            if not p / first > exit_ratio:  # 0/0 = NaN on the first step: zero steps
                break
        changes.append(p)
        X = X_new
    return X, changes


# --- synthetic tasks and the exponents of growth -------------------------------------------------

def synthetic_task(n: int, d: int, c: int, *, n_general: int | None = None, spread: float = 2.0,
                   seed: int = 0):
    """A classification task of ``n`` samples, ``d`` features and ``c`` balanced classes.

    Standard normal class centres, samples around them with std ``spread`` (the balls overlap, so
    PED moves them), a general set of ``n_general`` rows (default ``max(n, 2 d)``) around 0 with
    std ``1.5 * spread``; ``n >= c``. Returns X (n, d), y (n,) of 0..c-1, G (n_general, d).
    """
    if not (n >= c >= 2 and d >= 1):
        raise ValueError(f"need n >= c >= 2 and d >= 1, got n={n}, d={d}, c={c}")
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    centres = rng.normal(size=(c, d))
    X = centres[y] + spread * rng.normal(size=(n, d))
    G = rng.normal(0, 1.5 * spread, size=(n_general or max(n, 2 * d), d))
    return X, y, G


def loglog_slope(sizes, values) -> float:
    """Exponent b of ``values ~ a * sizes**b``: least-squares line through (log size, log value);
    non-positive values (a memory rise too small to see) left out; NaN under two points left."""
    x, v = np.asarray(sizes, dtype=float), np.asarray(values, dtype=float)
    keep = (x > 0) & (v > 0) & np.isfinite(v)
    if keep.sum() < 2 or np.ptp(x[keep]) == 0:
        return float("nan")
    return float(np.polyfit(np.log(x[keep]), np.log(v[keep]), 1)[0])


def slopes(table, value: str = "seconds", last: int | None = None):
    """:func:`loglog_slope` of ``value`` against the growing size, per function (rows) and axis (columns).

    ``table``: one row per measurement, ``function``, ``axis`` (the size that grows), ``size``, ``value``;
    ``last=k`` fits only the ``k`` largest sizes of each axis (fixed overheads matter least there)."""
    if last is not None and (int(last) != last or last < 2):
        raise ValueError(f"last must be an integer >= 2 or None, got {last!r}")
    fits = {}
    for key, rows in table.groupby(["function", "axis"], sort=False):
        rows = rows.sort_values("size").iloc[-int(last or len(rows)):]
        fits[key] = loglog_slope(rows["size"], rows[value])
    out = pd.Series(fits).unstack()
    order = [a for a in ("N", "D", "C") if a in out.columns]
    return out.loc[list(dict.fromkeys(table["function"]))][order]
