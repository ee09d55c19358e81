"""The official implementations' outputs on the public parity cases (tolerances: tests/parity/README.md)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import potran
from potran.metrics import gbc, logme, nleep, parc, sfda
from potran.metrics.hscore import hscore

from conftest import CASES, load_case

REL = 1e-8


def rel_err(a, b):
    return abs(a - b) / abs(b)


def test_logme(case):
    data, ref = case
    assert rel_err(logme(data["X"], data["y"]), ref["logme"]) < REL
    assert rel_err(logme(data["X_moved_ped"], data["y"]), ref["logme_on_moved"]) < REL


def test_sfda(case):
    data, ref = case
    assert rel_err(sfda(data["X"], data["y"]), ref["sfda"]) < REL


# The official PARC ranks 1 - corrcoef(one_hot), whose ~1e-16 rounding noise breaks the label ties
# (see parc's ``official_ties``); that noise comes from the BLAS. The reference numbers were computed
# with OpenBLAS's SkylakeX (AVX-512) kernel; on CPUs where OpenBLAS picks another kernel (e.g. Haswell
# on AMD EPYC) case 3 differs by 3e-4, so a mismatch is retried with that kernel forced.
#: largest relative difference between BLAS kernels seen on the official tie order (case 3: 3e-4)
KERNEL_REL = 1e-3
SKYLAKEX_FLAGS = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}


def _cpu_flags() -> set:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    flag_lines = (line.split(":", 1)[1] for line in text.splitlines() if line.startswith("flags"))
    return {flag for line in flag_lines for flag in line.split()}


def _official_parc_with_skylakex_kernel(k: int) -> float:
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"from conftest import load_case; from potran.metrics import parc; d, _ = load_case({k}); "
            f"print(repr(parc(d['X'], d['y'], official_ties=True)))")
    # the references were made with OpenBLAS's SkylakeX kernel on 2 threads (case 3 differs with 1)
    env = dict(os.environ, OPENBLAS_CORETYPE="SkylakeX", OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


@pytest.mark.blas_threads  # the references were made on 2 threads (see above)
@pytest.mark.parametrize("k", CASES, ids=[f"case{k}" for k in CASES])
def test_parc_official_ties(k):
    data, ref = load_case(k)
    value = parc(data["X"], data["y"], official_ties=True)
    if rel_err(value, ref["parc"]) >= REL:
        if not SKYLAKEX_FLAGS <= _cpu_flags():
            # the tie order is the BLAS kernel's, which this CPU cannot run: the value must still sit
            # within the kernels' spread (3e-4 relative on case 3), far below any change of the method
            assert rel_err(value, ref["parc"]) < KERNEL_REL, (value, ref["parc"])
            return
        value = _official_parc_with_skylakex_kernel(k)
    assert rel_err(value, ref["parc"]) < REL


# the default (exact label ties) minus the official value, in PARC points (100 x Spearman)
PARC_EXACT_TIES_SHIFT = {1: 0.7429472564914708, 2: 0.00883468688947886, 3: 0.013309395579916838}


@pytest.mark.parametrize("k", CASES, ids=[f"case{k}" for k in CASES])
def test_parc_default_close_to_official(k):
    """Exact ties move PARC by < 1 point of 100 (5.9 % relative on case 1, 0.05 % on cases 2 and 3)."""
    data, ref = load_case(k)
    value = parc(data["X"], data["y"])
    assert abs(value - ref["parc"]) < 1.0
    assert value - ref["parc"] == pytest.approx(PARC_EXACT_TIES_SHIFT[k], rel=1e-6)
    renamed = np.random.default_rng(k).permutation(int(data["y"].max()) + 1)[data["y"]]
    assert parc(data["X"], renamed) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("gaussian", ["spherical", "diagonal"])
def test_gbc(case, gaussian):
    data, ref = case
    raw = gbc(data["X"], data["y"], gaussian=gaussian, pca_dim=None)
    assert rel_err(raw, ref[f"gbc_{gaussian}_raw_f64"]) < REL
    assert rel_err(gbc(data["X"], data["y"], gaussian=gaussian), ref[f"gbc_{gaussian}_pca64"]) < 1e-5


def test_hscore(case):
    data, ref = case
    assert rel_err(hscore(data["X"], data["y"]), ref["hscore_dbolya_published"]) < REL


def test_ped_moved_features_and_trace(case):
    data, ref = case
    result = potran.simulate(data["X"], data["y"], data["G"])
    assert np.abs(result.features - data["X_moved_ped"]).max() < 1e-12
    assert result.trace.steps == ref["ped_logme_accepted_steps"]
    np.testing.assert_allclose(result.trace.displacements, ref["ped_logme_position_changes"],
                               rtol=1e-10, atol=0)
    assert result.trace.max_shift == pytest.approx(ref["ped_moved_max_abs_shift"], rel=1e-10)


@pytest.mark.parametrize("metric,key,options,tol", [
    ("logme", "ped_logme", {}, REL),
    ("sfda", "ped_sfda", {}, REL),
    ("gbc", "ped_gbc_spherical_raw_f64", {"pca_dim": None}, REL),
    ("gbc", "ped_gbc_diagonal_raw_f64", {"pca_dim": None, "gaussian": "diagonal"}, REL),
    ("gbc", "ped_gbc_spherical_pca64", {}, 1e-5),
    ("gbc", "ped_gbc_diagonal_pca64", {"gaussian": "diagonal"}, 1e-5),
])
def test_ped_plus_metric(case, metric, key, options, tol):
    data, ref = case
    value = potran.score(data["X"], data["y"], metric, ped=True, general=data["G"], **options)
    assert rel_err(value, ref[key]) < tol


def test_nleep_matches_official_with_same_seed(case):
    data, ref = case
    assert nleep(data["X"], data["y"], seed=0) == pytest.approx(ref["nleep"], rel=1e-10)
    ratio1 = nleep(data["X"], data["y"], seed=0, component_ratio=1)
    assert ratio1 == pytest.approx(ref["nleep_ratio1"], rel=1e-10)
    moved = potran.score(data["X"], data["y"], "nleep", ped=True, general=data["G"], seed=0)
    assert moved == pytest.approx(ref["ped_nleep"], rel=1e-10)


def test_nleep_seed_is_deterministic_and_leaves_global_rng_alone():
    from conftest import load_case

    data, _ = load_case(1)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = nleep(data["X"], data["y"], seed=7)
    assert np.array_equal(np.random.get_state()[1], before)
    assert nleep(data["X"], data["y"], seed=7) == a
