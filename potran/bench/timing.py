"""Time and memory of a call, scaling sweeps on synthetic tasks, and the dense PED they are compared with.

- :func:`measure` times a callable (fastest and median of ``repeats`` runs) and measures its peak
  memory in one more run: Python, NumPy and torch CPU allocations on one :mod:`tracemalloc`
  timeline (torch storages are registered with it while the call runs), the rise of the process's
  resident set high-water mark (Linux) and, on a GPU, torch's CUDA allocator peak.
- :func:`synthetic_task` makes features, labels and a general set of a given size;
  :func:`sweep` measures a set of functions while one of N, D, C grows;
  :func:`loglog_slope` fits the exponent of the growth.
- :func:`dense_ped` is the straightforward transcription of PED (one C x C x D array of pairwise
  pushes per step, per-pair Python loop), the yardstick of :func:`potran.ped.simulate`, which
  never forms it. The test suite's reference implementations import it from here.
"""
from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Measurement", "measure", "dense_ped", "synthetic_task", "sweep", "loglog_slope", "slopes",
           "scoring_functions", "by_axis", "slope_table", "flat_columns", "ped_comparison", "time_at",
           "runtime_summary", "prepare", "environment", "size_rows", "ped_functions", "ped_agreement",
           "gpu_unavailable"]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class Measurement:
    """What :func:`measure` saw.

    Attributes
    ----------
    seconds : float
        Fastest of the timed runs (load from other processes only adds time, so the minimum is
        the most repeatable estimate on a shared machine).
    median_seconds : float
        Median of the timed runs.
    times : tuple of float
        Every timed run, in order.
    peak_bytes : int
        Host memory: the larger of ``traced_bytes`` and ``rss_bytes``.
    traced_bytes : int
        Peak, above the level before the call, of the allocations on the :mod:`tracemalloc`
        timeline: Python objects, NumPy buffers and the storages of the CPU tensors that torch
        operations create (see :func:`_torch_tracker`; workspaces inside a single kernel are not
        seen).
    rss_bytes : int or None
        Rise of the process's resident set high-water mark during the call (``VmHWM`` after
        resetting it through ``/proc/self/clear_refs``); None where that is unavailable. It sees
        everything the call touches, kernel workspaces included, but misses memory the allocator
        hands out again from earlier frees without growing the process, so it is a lower bound
        that reads 0 for small calls.
    cuda_bytes : int or None
        Peak of torch's CUDA allocator above its level before the call (``device="cuda"``).
    """

    seconds: float
    median_seconds: float
    times: tuple
    peak_bytes: int
    traced_bytes: int
    rss_bytes: int | None
    cuda_bytes: int | None = None


def _status_kb(field: str) -> int | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _reset_rss_peak() -> int | None:
    """Reset the resident high-water mark to the current resident size; return that size in bytes."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return None
    kb = _status_kb("VmRSS")
    return None if kb is None else kb * 1024


_TORCH_DOMAIN = 0x746F7263  # tracemalloc domain of the torch storages registered below ("torc")
_TRACKER_WARM = False


def _torch_tracker():
    """A context that registers every CPU tensor storage created by a torch operation with tracemalloc.

    Torch allocates outside Python's allocators, so tracemalloc alone does not see its tensors. A
    ``TorchDispatchMode`` sees the result of every operation; each new CPU storage is entered with
    ``PyTraceMalloc_Track`` (as NumPy does for its buffers) and removed when the storage is freed, so
    the NumPy and torch allocations share one timeline and one peak. Memory that a kernel uses
    internally (e.g. LAPACK workspaces) and tensors made without an operation (``torch.from_numpy``)
    are not seen. Returns None when torch has not been imported (nothing to track).
    """
    import sys

    if "torch" not in sys.modules:
        return None
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

    global _TRACKER_WARM
    if not _TRACKER_WARM:   # the first operation under a dispatch mode imports and caches a lot
        with Tracker():
            torch.zeros(2, dtype=torch.float64).add_(1).sum()
        _TRACKER_WARM = True
    return Tracker()


def _synchronize(device) -> Callable[[], None]:
    if device is not None and str(device).startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


def measure(fn: Callable, *args, repeats: int = 3, warmup: int = 0, memory: bool = True,
            device=None, min_time: float = 0.0, max_repeats: int = 100, **kwargs) -> Measurement:
    """Time ``fn(*args, **kwargs)`` and measure its peak memory.

    Parameters
    ----------
    fn : callable
        The call to measure; its result is discarded.
    repeats : int, default 3
        Timed runs (wall clock, :func:`time.perf_counter`), at least.
    warmup : int, default 0
        Untimed runs first (lazy imports, caches, CUDA kernels).
    memory : bool, default True
        One more run, untimed, under :mod:`tracemalloc` (and the torch tracker when torch is
        loaded) with the resident and CUDA peaks reset; the tracing slows Python-level code, so it
        never overlaps a timed run. False gives zero / None memory fields.
    device : str, optional
        ``"cuda..."`` synchronises the GPU around every timed run and records the CUDA peak.
    min_time : float, default 0
        More timed runs, up to ``max_repeats`` in all, until they add up to ``min_time`` seconds:
        fast calls get more chances at an undisturbed run on a loaded machine.
    max_repeats : int, default 100

    Returns
    -------
    Measurement

    Examples
    --------
    >>> m = measure(np.ones, 1_000_000, repeats=2)
    >>> m.seconds > 0 and m.traced_bytes >= 8_000_000
    True
    """
    if int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    if int(warmup) != warmup or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
    sync = _synchronize(device)
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
        cuda_base = None
        if device is not None and str(device).startswith("cuda"):
            import torch

            torch.cuda.reset_peak_memory_stats(device)
            cuda_base = torch.cuda.memory_allocated(device)
        tracker = _torch_tracker()   # imports before tracing starts
        was_tracing = tracemalloc.is_tracing()
        if not was_tracing:
            tracemalloc.start()
        tracemalloc.reset_peak()
        traced_base = tracemalloc.get_traced_memory()[0]
        rss_base = _reset_rss_peak()
        if tracker is None:
            fn(*args, **kwargs)
        else:
            with tracker:
                fn(*args, **kwargs)
        sync()
        hwm = _status_kb("VmHWM")
        traced = max(tracemalloc.get_traced_memory()[1] - traced_base, 0)
        if not was_tracing:
            tracemalloc.stop()
        if rss_base is not None and hwm is not None:
            rss = max(hwm * 1024 - rss_base, 0)
        if cuda_base is not None:
            import torch

            cuda = max(torch.cuda.max_memory_allocated(device) - cuda_base, 0)
    peak = max(traced, rss or 0)
    return Measurement(seconds=min(times), median_seconds=float(np.median(times)), times=tuple(times),
                       peak_bytes=int(peak), traced_bytes=int(traced), rss_bytes=rss, cuda_bytes=cuda)


# --- the dense transcription of PED -------------------------------------------------------------

def _dense_step(X, y, G, nsigma, t, k, eps):
    """One PED step as the method page writes it: the C x C x D array of pairwise pushes."""
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

    Every step re-standardises all N x D features by the general set ``G``, loops over the
    C(C-1)/2 class pairs in Python and fills a dense C x C x D array of pushes, so a step costs
    O(N D + C^2 D) time and C^2 D float64 memory. Labels ``y`` must be 0..C-1 (every class
    present) for the shift lookup. Same defaults as :func:`potran.ped.simulate` (λ=0.6, t=0.1,
    k=1, ρ=0.5, ε=1e-3, at most 6 steps), with which it agrees to rounding on classes whose
    centres differ.

    Returns
    -------
    (ndarray (N, D), list of float)
    """
    X = np.asarray(X, dtype=np.float64)
    G = np.asarray(G, dtype=np.float64)
    y = np.asarray(y)
    changes = []
    while len(changes) < 6:
        X_new, p = _dense_step(X, y, G, nsigma, t, k, eps)
        first = changes[0] if changes else p
        with np.errstate(invalid="ignore"):
            if not p / first > exit_ratio:  # 0/0 = NaN on the first step: zero steps
                break
        changes.append(p)
        X = X_new
    return X, changes


# --- scaling sweeps -----------------------------------------------------------------------------

def synthetic_task(n: int, d: int, c: int, *, n_general: int | None = None, spread: float = 2.0,
                   seed: int = 0):
    """A classification task of ``n`` samples, ``d`` features and ``c`` balanced classes.

    Class centres are standard normal, samples scatter around them with standard deviation
    ``spread`` (large enough for the balls to overlap, so PED moves them), and the general set
    (``n_general`` rows, default ``max(n, 2 d)``) is drawn around the global mean with a larger
    spread. Every class has at least one sample (``n >= c``).

    Returns
    -------
    X : ndarray (n, d), y : ndarray (n,) of 0..c-1, G : ndarray (n_general, d)
    """
    if not (n >= c >= 2 and d >= 1):
        raise ValueError(f"need n >= c >= 2 and d >= 1, got n={n}, d={d}, c={c}")
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    centres = rng.normal(size=(c, d))
    X = centres[y] + spread * rng.normal(size=(n, d))
    G = rng.normal(0, 1.5 * spread, size=(n_general or max(n, 2 * d), d))
    return X, y, G


def sweep(functions: dict[str, Callable], grid: dict[str, list[int]], base: dict[str, int], *,
          repeats: int = 2, min_time: float = 0.0, device=None, seed: int = 0,
          to_device: Callable | None = None, progress: Callable[[str], Any] | None = None):
    """Measure every function while one size grows and the others stay at ``base``.

    Parameters
    ----------
    functions : dict of name -> callable(X, y, G)
    grid : dict
        Sizes per axis, e.g. ``{"N": [500, 1000], "D": [16, 32], "C": [4, 8]}``.
    base : dict
        The fixed ``N``, ``D`` and ``C`` of the other axes.
    repeats, min_time : int, float
        Timed runs of each :func:`measure` (at least ``repeats``, more until ``min_time`` seconds).
        Each function is run once, untimed, on the first task of the sweep (imports and caches).
    device : str, optional
        Passed to :func:`measure`.
    to_device : callable, optional
        Applied to ``X`` and ``G`` before the calls (e.g. moving them to the GPU).
    progress : callable, optional
        Called with a short status string before each task.

    Returns
    -------
    pandas.DataFrame
        One row per (axis, size, function): ``axis, size, N, D, C, function, seconds,
        median_seconds, runs, peak_bytes, traced_bytes, rss_bytes, cuda_bytes``.
    """
    import pandas as pd

    rows, warmed = [], set()
    for axis, sizes in grid.items():
        if axis not in ("N", "D", "C"):
            raise ValueError(f"grid axes are 'N', 'D' and 'C', got {axis!r}")
        for size in sizes:
            shape = dict(base, **{axis: int(size)})
            if progress is not None:
                progress(f"{axis}={size}")
            X, y, G = synthetic_task(shape["N"], shape["D"], shape["C"], seed=seed)
            if to_device is not None:
                X, G = to_device(X), to_device(G)
            for name, fn in functions.items():
                m = measure(fn, X, y, G, repeats=repeats, warmup=int(name not in warmed), device=device,
                            min_time=min_time)
                warmed.add(name)
                rows.append({"axis": axis, "size": int(size), **shape, "function": name,
                             "seconds": m.seconds, "median_seconds": m.median_seconds, "runs": len(m.times),
                             "peak_bytes": m.peak_bytes, "traced_bytes": m.traced_bytes,
                             "rss_bytes": m.rss_bytes, "cuda_bytes": m.cuda_bytes})
    return pd.DataFrame(rows)


def loglog_slope(sizes, values) -> float:
    """Exponent b of ``values ~ a * sizes**b``: least-squares line through (log size, log value).

    Non-positive values (a memory rise too small to see) are left out; NaN when fewer than two
    points remain.
    """
    x, v = np.asarray(sizes, dtype=float), np.asarray(values, dtype=float)
    keep = (x > 0) & (v > 0) & np.isfinite(v)
    if keep.sum() < 2 or np.ptp(x[keep]) == 0:
        return float("nan")
    return float(np.polyfit(np.log(x[keep]), np.log(v[keep]), 1)[0])


def slopes(table, value: str = "seconds", last: int | None = None):
    """:func:`loglog_slope` of ``value`` against the growing size, per function (rows) and axis (columns).

    ``table`` is a :func:`sweep` result; ``last=k`` fits only the ``k`` largest sizes of each axis
    (where fixed overheads matter least), None fits all of them.
    """
    import pandas as pd

    if last is not None and (int(last) != last or last < 2):
        raise ValueError(f"last must be an integer >= 2 or None, got {last!r}")
    fits = {}
    for (name, axis), rows in table.groupby(["function", "axis"], sort=False):
        rows = rows.sort_values("size")
        if last is not None:
            rows = rows.iloc[-int(last):]
        fits[(name, axis)] = loglog_slope(rows["size"], rows[value])
    out = pd.Series(fits).unstack()
    order = [a for a in ("N", "D", "C") if a in out.columns]
    return out.loc[list(dict.fromkeys(table["function"]))][order]


def scoring_functions(metrics) -> dict[str, Callable]:
    """``name`` and ``name + PED`` -> callable(X, y, G) scoring with each of ``metrics``
    (:func:`potran.score`; with PED, ``G`` is the general set), for :func:`sweep`."""
    import potran

    functions = {}
    for metric in metrics:
        functions[metric] = lambda X, y, G, m=metric: potran.score(X, y, m)
        functions[f"{metric} + PED"] = lambda X, y, G, m=metric: potran.score(X, y, m, ped=True, general=G)
    return functions


def by_axis(table, value: str):
    """``value`` of a :func:`sweep` result per (axis, size) and function: axes in N, D, C order,
    sizes ascending, functions in the order measured."""
    wide = table.pivot_table(index=["axis", "size"], columns="function", values=value, sort=False)
    order = {"N": 0, "D": 1, "C": 2}
    wide = wide.sort_index(key=lambda level: level.map(order) if level.name == "axis" else level)
    return wide[list(dict.fromkeys(table.function))]


def slope_table(table, memory: str = "traced_bytes", last: int | None = None):
    """:func:`slopes` of the time and of ``memory`` side by side: columns (kind, axis), kind
    "time" or "memory"."""
    import pandas as pd

    return pd.concat(
        {"time": slopes(table, "seconds", last=last), "memory": slopes(table, memory, last=last)}, axis=1
    )


def flat_columns(slope_frame):
    """A :func:`slope_table`'s (kind, axis) columns as "time over N", ..., its rows named "function"."""
    return slope_frame.set_axis(
        [f"{kind} over {axis}" for kind, axis in slope_frame.columns], axis=1
    ).rename_axis("function")


def ped_comparison(table, potran_name: str, dense_name: str, *, seed: int = 0):
    """Per (axis, size) of a :func:`sweep` of potran's PED (``potran_name``) and the dense
    transcription (``dense_name``): PED's accepted steps on that task, both times (ms), both
    peak memories (MB, traced) and the ratios dense / potran."""
    import pandas as pd

    from ..ped import simulate

    times, peaks = by_axis(table, "seconds"), by_axis(table, "traced_bytes")
    shapes = table.drop_duplicates(["axis", "size"]).set_index(["axis", "size"])
    steps = {
        key: simulate(*synthetic_task(r.N, r.D, r.C, seed=seed)).trace.steps for key, r in shapes.iterrows()
    }
    return pd.DataFrame(
        {
            "steps": pd.Series(steps),
            "potran (ms)": 1000 * times[potran_name],
            "dense (ms)": 1000 * times[dense_name],
            "time ratio dense / potran": times[dense_name] / times[potran_name],
            "potran (MB)": peaks[potran_name] / 1e6,
            "dense (MB)": peaks[dense_name] / 1e6,
            "memory ratio dense / potran": peaks[dense_name] / peaks[potran_name],
        },
        index=times.index,
    )


def time_at(table, name: str, shape: dict) -> float:
    """Fastest time of ``name`` in a :func:`sweep` result on the task of ``shape``'s N, D and C
    (NaN when the sweep lacks it)."""
    rows = table[
        (table.function == name) & (table.N == shape["N"]) & (table.D == shape["D"]) & (table.C == shape["C"])
    ]
    return rows.seconds.min() if len(rows) else float("nan")


def runtime_summary(
    cpu,
    base: dict,
    fast_metrics,
    comparison,
    ped_base: dict,
    ped_slopes,
    gpu_slopes=None,
    *,
    potran_name: str = "PED (potran)",
    dense_name: str = "PED (dense C×C×D)",
) -> list[str]:
    """What the runtime page's measurements show, one sentence each: what PED adds to each of
    ``fast_metrics`` at ``base`` (``cpu``, a :func:`sweep`), the dense transcription's cost at the
    largest C of ``comparison`` (:func:`ped_comparison`), PED's memory and time exponents
    (``ped_slopes``, :func:`slope_table`) and, with ``gpu_slopes``, PED's memory exponents on the GPU."""
    lines = []
    if len(fast_metrics):
        lines.append(
            f"What PED adds to a score on the CPU, at the base task of Figure 1 (N = {base['N']}, "
            f"D = {base['D']}, C = {base['C']}): "
            + "; ".join(
                f"{m} {1000 * time_at(cpu, m, base):.1f} ms, with PED "
                f"{1000 * time_at(cpu, m + ' + PED', base):.1f} ms"
                for m in fast_metrics
            )
            + "."
        )
    if "C" in comparison.index.get_level_values(0):
        largest = comparison.loc["C"].index.max()
        row = comparison.loc[("C", largest)]
        lines.append(
            f"At C = {largest} (N = {ped_base['N']}, D = {ped_base['D']}) the dense transcription "
            f"takes {row['time ratio dense / potran']:.0f}× the time and "
            f"{row['memory ratio dense / potran']:.1f}× the memory of potran's PED "
            f"({row['dense (MB)']:.1f} MB against {row['potran (MB)']:.1f} MB)."
        )
    for kind in ("memory", "time"):
        parts = [
            f"over {axis}: dense {ped_slopes.loc[dense_name, (kind, axis)]:.2f}, "
            f"potran {ped_slopes.loc[potran_name, (kind, axis)]:.2f}"
            for axis in ("N", "D", "C")
            if (kind, axis) in ped_slopes.columns
        ]
        lines.append(f"PED's {kind} exponents on the CPU, " + "; ".join(parts) + ".")
    if gpu_slopes is not None:
        lines.append(
            "On the GPU, memory exponents of PED alone: "
            + ", ".join(
                f"{axis} {gpu_slopes.loc[potran_name, ('memory', axis)]:.2f}"
                for axis in ("N", "D", "C")
                if ("memory", axis) in gpu_slopes.columns
            )
            + "."
        )
    return lines


def prepare(threads: int, out_dir) -> Path:
    """Set a timing page up: :func:`potran.bench.book.setup_page` with ``threads``, the BLAS
    limited to as many threads (threadpoolctl) and ``out_dir`` created; returns it as a Path."""
    from threadpoolctl import threadpool_limits

    from . import book

    book.setup_page(threads)
    threadpool_limits(threads)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def environment(threads: int, device) -> str:
    """One line naming the versions of torch, NumPy and Python, the threads and the device."""
    import platform

    import torch

    return (f"torch {torch.__version__}, numpy {np.__version__}, "
            f"Python {platform.python_version()}, {threads} thread(s), device {device!r}")


def size_rows(frame):
    """``frame`` indexed by (axis, size), as :func:`by_axis` gives it, with rows named
    "N = 1000", ... and the index named "task grown"."""
    rows = [f"{axis} = {size}" for axis, size in frame.index]
    return frame.set_axis(rows).rename_axis("task grown")


def ped_functions(potran_name: str, dense_name: str | None = None) -> dict[str, Callable]:
    """``potran_name`` -> callable(X, y, G) running :func:`potran.simulate` and, with
    ``dense_name``, that name -> :func:`dense_ped`, for :func:`sweep`."""
    from ..ped import simulate

    functions = {potran_name: lambda X, y, G: simulate(X, y, G)}
    if dense_name is not None:
        functions[dense_name] = lambda X, y, G: dense_ped(X, y, G)
    return functions


def ped_agreement(shape: dict, *, seed: int = 0) -> str:
    """One line comparing :func:`potran.simulate` with :func:`dense_ped` on the
    :func:`synthetic_task` of ``shape``'s N, D and C: both numbers of steps, the largest
    difference of their moved features and the largest shift."""
    from ..ped import simulate

    X, y, G = synthetic_task(shape["N"], shape["D"], shape["C"], seed=seed)
    ours = simulate(X, y, G)
    dense, changes = dense_ped(X, y, G)
    return (f"N = {shape['N']}, D = {shape['D']}, C = {shape['C']}: {ours.trace.steps} steps "
            f"(dense: {len(changes)}); largest difference of the moved features "
            f"{np.abs(ours.features - dense).max():.1e}, "
            f"largest shift {np.abs(ours.features - X).max():.3f}")


def gpu_unavailable(device) -> str | None:
    """Why GPU measurements on ``device`` are skipped (it is not a CUDA device, or torch sees no
    usable GPU), or None when they can run."""
    import torch

    if not str(device).startswith("cuda"):
        return (f"device = {device!r}: the GPU measurements are skipped (run the page with "
                "device='cuda' on a machine with a GPU to add them).")
    if not torch.cuda.is_available():
        return (f"device = {device!r}, but torch.cuda.is_available() is False (torch "
                f"{torch.__version__}, built for CUDA {torch.version.cuda}; no usable GPU here): "
                "the GPU measurements are skipped.")
    return None
