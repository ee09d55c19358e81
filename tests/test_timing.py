"""potran.bench.timing: the dense PED agrees with potran's, the timing helper measures what it says, and the
fitted exponents are those of the growth."""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import potran
from potran.bench.timing import dense_ped, dense_step, loglog_slope, measure, slopes, synthetic_task


@pytest.mark.parametrize("n, d, c", [(60, 5, 3), (200, 12, 8)])
def test_dense_ped_matches_simulate(n, d, c):
    X, y, G = synthetic_task(n, d, c, seed=3)
    moved, changes = dense_ped(X, y, G)
    result = potran.simulate(X, y, G)
    assert result.trace.steps == len(changes) > 0          # the classes did move
    assert np.abs(moved - X).max() > 1e-6
    assert np.abs(result.features - moved).max() < 1e-10
    np.testing.assert_allclose(result.trace.displacements, changes, rtol=1e-10)


def test_one_dense_step_is_one_step_of_simulate():
    X, y, G = synthetic_task(120, 6, 5, seed=2)
    moved, displacement = dense_step(X, y, G, 0.6, 0.1, 1.0, 1e-3)
    result = potran.simulate(X, y, G, max_steps=1, exit_ratio=0.0)
    assert result.trace.steps == 1 and displacement > 0
    np.testing.assert_allclose(result.features, moved, atol=1e-10)
    assert result.trace.displacements[0] == pytest.approx(displacement, rel=1e-10)


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
    with pytest.raises(ValueError, match="last"):
        slopes(table, last=1)
