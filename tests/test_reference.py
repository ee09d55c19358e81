"""The fast implementations agree with plain transcriptions of the official algorithms on random
inputs of other sizes (imbalanced classes, D > N, heavy overlap), at the parity tolerances."""
import numpy as np
import pytest

import potran
from potran.metrics import gbc, logme, sfda

from reference_impl import gbc_official, logme_official, ped_official, sfda_official

SHAPES = [  # (class sizes, D, overlap scale)
    ((5, 9, 60, 17), 7, 0.5),
    ((40, 35, 30, 25, 20, 15, 10, 8), 30, 1.5),
    ((12, 11, 13), 90, 1.0),                    # D > N
    (tuple(range(6, 26)), 48, 3.0),             # 20 classes, heavy overlap
]


def make(sizes, dim, overlap, seed):
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    X = np.vstack([rng.normal(0, 1, dim) + overlap * rng.gamma(2, 1, (n, dim)) @ mix for n in sizes])
    y = np.repeat(np.arange(len(sizes)), sizes)
    G = rng.normal(0.3, 2.0, (3 * dim, dim)) @ mix
    return np.abs(X), y, G


@pytest.fixture(params=[(s, i) for i, s in enumerate(SHAPES)], ids=lambda p: f"shape{p[1]}")
def random_case(request):
    (sizes, dim, overlap), i = request.param
    return make(sizes, dim, overlap, seed=100 + i)


def test_logme_matches_reference(random_case):
    X, y, _ = random_case
    assert logme(X, y) == pytest.approx(logme_official(X, y), rel=1e-8)


def test_sfda_matches_reference(random_case):
    X, y, _ = random_case
    assert sfda(X, y) == pytest.approx(sfda_official(X, y), rel=1e-8)


@pytest.mark.parametrize("gaussian", ["spherical", "diagonal"])
def test_gbc_matches_reference(random_case, gaussian):
    X, y, _ = random_case
    assert gbc(X, y, gaussian=gaussian, pca_dim=None) == pytest.approx(gbc_official(X, y, gaussian), rel=1e-8)


@pytest.mark.parametrize("params", [{}, {"nsigma": 2.0, "time_step": 0.5},
                                    {"nsigma": 1.0, "exit_ratio": 0.97},
                                    {"constant": 300.0, "time_step": 0.1, "nsigma": 1.0}])
def test_ped_matches_reference(random_case, params):
    X, y, G = random_case
    names = {"nsigma": "nsigma", "time_step": "t", "constant": "k", "exit_ratio": "exit_ratio"}
    expected, changes = ped_official(X, y, G, **{names[k]: v for k, v in params.items()})
    result = potran.simulate(X, y, G, **params)
    assert np.abs(result.features - expected).max() < 1e-12
    assert result.trace.steps == len(changes)
    np.testing.assert_allclose(result.trace.displacements, changes, rtol=1e-10)
