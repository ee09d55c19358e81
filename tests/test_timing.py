"""potran.bench.timing: the dense PED agrees with potran's, and the timing helper measures what it says."""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import potran
from potran.bench import timing
from potran.bench.timing import dense_ped, loglog_slope, measure, slopes, sweep, synthetic_task


@pytest.mark.parametrize("n, d, c", [(60, 5, 3), (200, 12, 8)])
def test_dense_ped_matches_simulate(n, d, c):
    X, y, G = synthetic_task(n, d, c, seed=3)
    moved, changes = dense_ped(X, y, G)
    result = potran.simulate(X, y, G)
    assert result.trace.steps == len(changes) > 0          # the classes did move
    assert np.abs(moved - X).max() > 1e-6
    assert np.abs(result.features - moved).max() < 1e-10
    np.testing.assert_allclose(result.trace.displacements, changes, rtol=1e-10)


def test_synthetic_task_shapes():
    X, y, G = synthetic_task(50, 7, 5, n_general=30, seed=1)
    assert X.shape == (50, 7) and G.shape == (30, 7) and y.shape == (50,)
    assert np.bincount(y).tolist() == [10] * 5
    with pytest.raises(ValueError, match="n >= c"):
        synthetic_task(3, 4, 5)


def test_measure_times_and_numpy_memory():
    size = 1_000_000

    def allocate():
        a = np.ones(size)
        time.sleep(0.002)
        return float(a.sum())

    m = measure(allocate, repeats=3)
    assert len(m.times) == 3 and all(t >= 0.002 for t in m.times)
    assert m.seconds == min(m.times) and m.seconds <= m.median_seconds
    assert m.traced_bytes >= size * 8
    assert m.peak_bytes >= size * 8


def test_measure_passes_arguments_and_skips_memory():
    calls = []
    m = measure(lambda a, b=0: calls.append((a, b)), 1, b=2, repeats=2, warmup=1, memory=False)
    assert calls == [(1, 2)] * 3
    assert m.peak_bytes == 0 and m.rss_bytes is None and m.cuda_bytes is None


def test_measure_traces_torch_cpu_tensors():
    torch = pytest.importorskip("torch")
    n = 1000

    def temporaries():
        a = torch.ones(n, 64, dtype=torch.float64)   # 512 kB
        b = a @ a.T                                  # 8 MB, freed before c is made
        del b
        c = torch.ones(n, 32, dtype=torch.float64)   # 256 kB
        return float(c.sum() + a.sum())

    m = measure(temporaries, repeats=1)
    expected = n * 64 * 8 + n * n * 8                # a and b alive together; not the sum of all three
    assert expected <= m.traced_bytes < expected + n * 32 * 8
    assert m.peak_bytes >= m.traced_bytes


_RSS_PROBE = """
import torch
from potran.bench.timing import measure
n = 8_000_000
m = measure(lambda: float(torch.ones(n, dtype=torch.float64).sum()), repeats=1)
print(m.rss_bytes, m.peak_bytes, m.traced_bytes)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc/self/clear_refs")
def test_measure_resident_high_water_mark():
    """A 64 MB tensor (above glibc's mmap threshold: fresh resident memory) shows in the RSS peak.

    Measured in a fresh process, up to three times: other work on a loaded machine can page
    memory in and out during one measurement.
    """
    n = 8_000_000
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", _RSS_PROBE], capture_output=True, text=True,
                             check=True).stdout.split()
        rss, peak, traced = (None if v == "None" else int(v) for v in out)
        assert rss is not None, "the resident high-water mark could not be reset"
        if rss >= n * 8 * 0.95:
            break
    assert rss >= n * 8 * 0.95
    assert peak == max(traced, rss) >= n * 8


def test_measure_repeats_fast_calls_up_to_min_time():
    m = measure(time.sleep, 0.001, repeats=2, min_time=0.02, memory=False)
    assert 2 < len(m.times) <= 100 and sum(m.times) >= 0.02
    m = measure(time.sleep, 0.001, repeats=2, min_time=10.0, max_repeats=5, memory=False)
    assert len(m.times) == 5


def test_measure_rejects_bad_counts():
    with pytest.raises(ValueError, match="repeats"):
        measure(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        measure(lambda: None, warmup=-1)


def test_loglog_slope():
    sizes = np.array([10, 20, 40, 80])
    assert loglog_slope(sizes, 3.0 * sizes**2) == pytest.approx(2.0)
    assert loglog_slope(sizes, 5.0 * sizes**0.5) == pytest.approx(0.5)
    assert loglog_slope(sizes, [0, 0, 1.0, 2.0]) == pytest.approx(1.0)   # non-positive values left out
    assert np.isnan(loglog_slope([10], [1.0]))


def test_slopes_of_the_largest_sizes():
    sizes = [8, 16, 32, 64]
    bent = [900.0, 950.0, 32.0**2, 64.0**2]      # flat (overhead), then quadratic
    table = pd.DataFrame({"function": "f", "axis": "C", "size": sizes[::-1], "seconds": bent[::-1]})
    assert slopes(table, last=2).loc["f", "C"] == pytest.approx(2.0)
    assert slopes(table).loc["f", "C"] < 2.0


def test_sweep_rows():
    table = sweep({"sum": lambda X, y, G: X.sum(), "ped": lambda X, y, G: potran.simulate(X, y, G)},
                  {"N": [40, 80], "C": [2, 4]}, {"N": 40, "D": 3, "C": 2}, repeats=1)
    assert len(table) == 8
    assert set(table.function) == {"sum", "ped"}
    assert (table.seconds > 0).all()
    n_rows = table[table.axis == "N"]
    assert n_rows.N.tolist() == [40, 40, 80, 80] and set(n_rows.C) == {2}
    fitted = slopes(table)
    assert list(fitted.index) == ["sum", "ped"] and list(fitted.columns) == ["N", "C"]
    assert np.isfinite(fitted.values).all()
    with pytest.raises(ValueError, match="last"):
        slopes(table, last=1)
    with pytest.raises(ValueError, match="grid axes"):
        sweep({}, {"K": [1]}, {"N": 4, "D": 1, "C": 2})


def _sweep_table():
    """A sweep-like table: time = size (ms) for "a", twice that for "b"; memory = size^2 bytes."""
    rows = []
    for axis, sizes in {"N": [100, 200, 400], "C": [2, 4, 8]}.items():
        for size in sizes:
            shape = dict({"N": 100, "D": 16, "C": 2}, **{axis: size})
            for name, factor in (("a", 1.0), ("b", 2.0)):
                rows.append({"axis": axis, "size": size, **shape, "function": name,
                             "seconds": factor * size / 1000, "traced_bytes": float(size) ** 2})
    return pd.DataFrame(rows)


def test_by_axis_and_slope_table_of_a_sweep():
    table = _sweep_table()
    wide = timing.by_axis(table, "seconds")
    assert list(wide.columns) == ["a", "b"] and list(wide.index) == [("N", 100), ("N", 200), ("N", 400),
                                                                     ("C", 2), ("C", 4), ("C", 8)]
    slopes = timing.slope_table(table)
    assert slopes.loc["a", ("time", "N")] == pytest.approx(1.0)
    assert slopes.loc["b", ("memory", "C")] == pytest.approx(2.0)
    flat = timing.flat_columns(slopes)
    assert list(flat.columns) == ["time over N", "time over C", "memory over N", "memory over C"]
    assert flat.index.name == "function"
    assert timing.time_at(table, "b", {"N": 400, "D": 16, "C": 2}) == pytest.approx(0.8)
    assert np.isnan(timing.time_at(table, "b", {"N": 999, "D": 16, "C": 2}))


def test_ped_comparison_and_the_summary():
    table = _sweep_table().replace({"function": {"a": "ours", "b": "dense"}})
    comparison = timing.ped_comparison(table, "ours", "dense")
    assert (comparison["time ratio dense / potran"] == 2.0).all()
    assert (comparison["memory ratio dense / potran"] == 1.0).all()
    steps = potran.simulate(*timing.synthetic_task(100, 16, 8, seed=0)).trace.steps
    assert comparison.loc[("C", 8), "steps"] == steps
    lines = timing.runtime_summary(table.replace({"function": {"ours": "m", "dense": "m + PED"}}),
                                   {"N": 100, "D": 16, "C": 2}, ["m"], comparison, {"N": 100, "D": 16},
                                   timing.slope_table(table), potran_name="ours", dense_name="dense")
    assert lines[0].endswith("m 2.0 ms, with PED 4.0 ms.")
    assert lines[1].startswith("At C = 8 (N = 100, D = 16) the dense transcription takes 2× the time")
    assert lines[2] == ("PED's memory exponents on the CPU, over N: dense 2.00, potran 2.00; "
                        "over C: dense 2.00, potran 2.00.")
    assert len(lines) == 4


def test_scoring_functions_score_with_and_without_ped():
    X, y, G = timing.synthetic_task(200, 8, 3, seed=0)
    functions = timing.scoring_functions(["logme"])
    assert list(functions) == ["logme", "logme + PED"]
    assert functions["logme"](X, y, G) == pytest.approx(potran.score(X, y, "logme"))
    assert functions["logme + PED"](X, y, G) == pytest.approx(
        potran.score(X, y, "logme", ped=True, general=G)
    )


def test_size_rows_and_ped_functions():
    wide = timing.by_axis(_sweep_table(), "seconds")
    rows = timing.size_rows(1000 * wide)
    assert list(rows.index) == ["N = 100", "N = 200", "N = 400", "C = 2", "C = 4", "C = 8"]
    assert rows.index.name == "task grown" and rows.loc["C = 8", "b"] == pytest.approx(16.0)
    X, y, G = timing.synthetic_task(120, 6, 4, seed=2)
    functions = timing.ped_functions("ours", "dense")
    assert list(functions) == ["ours", "dense"] and list(timing.ped_functions("ours")) == ["ours"]
    ours, (dense, _) = functions["ours"](X, y, G), functions["dense"](X, y, G)
    np.testing.assert_allclose(ours.features, potran.simulate(X, y, G).features)
    assert np.abs(ours.features - dense).max() < 1e-10


def test_ped_agreement_reports_the_same_steps_and_features():
    shape = {"N": 200, "D": 12, "C": 8}
    X, y, G = timing.synthetic_task(200, 12, 8, seed=1)
    result = potran.simulate(X, y, G)
    line = timing.ped_agreement(shape, seed=1)
    assert line.startswith(f"N = 200, D = 12, C = 8: {result.trace.steps} steps "
                           f"(dense: {result.trace.steps}); largest difference of the moved features ")
    difference, shift = line.split("features ")[1].split(", largest shift ")
    assert float(difference) < 1e-10
    assert float(shift) == pytest.approx(np.abs(result.features - X).max(), abs=5e-4) and float(shift) > 0


def test_gpu_unavailable_says_why(monkeypatch):
    import torch

    assert "skipped (run the page with device='cuda'" in timing.gpu_unavailable("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert "torch.cuda.is_available() is False" in timing.gpu_unavailable("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert timing.gpu_unavailable("cuda:0") is None


def test_prepare_creates_the_folder_and_environment_names_versions(tmp_path):
    import platform

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    torch_threads = torch.get_num_threads()
    blas_threads = max([p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"] or [1])
    try:
        folder = timing.prepare(1, str(tmp_path / "a" / "b"))
        assert folder == tmp_path / "a" / "b" and folder.is_dir()
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    finally:                                            # give the other tests their threads back
        torch.set_num_threads(torch_threads)
        threadpool_limits(blas_threads, user_api="blas")
    line = timing.environment(1, "cpu")
    assert f"numpy {np.__version__}, Python {platform.python_version()}, 1 thread(s)" in line
    assert line.endswith("device 'cpu'")
