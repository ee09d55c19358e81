"""The official implementations' outputs on the public parity cases (tests/parity, tolerances in its README)."""
import numpy as np
import pytest

import potran
from potran.metrics import gbc, logme, nleep, parc, sfda
from potran.metrics.hscore import hscore

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


def test_parc(case):
    data, ref = case
    assert rel_err(parc(data["X"], data["y"]), ref["parc"]) < REL


@pytest.mark.parametrize("gaussian", ["spherical", "diagonal"])
def test_gbc(case, gaussian):
    data, ref = case
    assert rel_err(gbc(data["X"], data["y"], gaussian=gaussian, pca_dim=None), ref[f"gbc_{gaussian}_raw_f64"]) < REL
    assert rel_err(gbc(data["X"], data["y"], gaussian=gaussian), ref[f"gbc_{gaussian}_pca64"]) < 1e-5


def test_hscore(case):
    data, ref = case
    assert rel_err(hscore(data["X"], data["y"]), ref["hscore_dbolya_published"]) < REL


def test_ped_moved_features_and_trace(case):
    data, ref = case
    result = potran.simulate(data["X"], data["y"], data["G"])
    assert np.abs(result.features - data["X_moved_ped"]).max() < 1e-12
    assert result.trace.steps == ref["ped_logme_accepted_steps"]
    np.testing.assert_allclose(result.trace.displacements, ref["ped_logme_position_changes"], rtol=1e-10, atol=0)
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
    assert nleep(data["X"], data["y"], seed=0, component_ratio=1) == pytest.approx(ref["nleep_ratio1"], rel=1e-10)
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
