"""Invariances of every metric and the official-versus-published options.

The options are listed in book/method.md, "The official code's quirks".
"""
import numpy as np
import pytest

import potran
from potran.metrics import FEATURE_METRICS, gbc, leep, logme, nce, nleep, parc

from conftest import blobs, load_case

DETERMINISTIC = ("logme", "sfda", "gbc", "hscore", "reg_hscore", "transrate", "dim", "norm", "random")


@pytest.fixture
def data():
    X, y = blobs(n_per_class=(35, 50, 20, 45), dim=36, spread=3.0)
    G = np.random.default_rng(5).normal(size=(60, 36))
    return X, y, G


@pytest.mark.parametrize("ped", [False, True])
@pytest.mark.parametrize("metric", DETERMINISTIC + ("parc",))
def test_sample_order_invariance(data, metric, ped):
    X, y, G = data
    perm = np.random.default_rng(0).permutation(len(y))
    general = G if ped else None
    a = potran.score(X, y, metric, ped=ped, general=general)
    b = potran.score(X[perm], y[perm], metric, ped=ped, general=general)
    assert b == pytest.approx(a, rel=1e-6 if metric == "parc" else 1e-10)


# knn's majority vote breaks ties by class order and its stratified folds follow the labels, so
# renaming classes may move it by a few samples (tests/test_invariance.py states what holds)
RENAMING_INVARIANT = tuple(m for m in FEATURE_METRICS if m != "knn")


@pytest.mark.parametrize("ped", [False, True])
@pytest.mark.parametrize("metric", RENAMING_INVARIANT)
def test_label_renaming_invariance(data, metric, ped):
    X, y, G = data
    renamed = np.array([30, -4, 7, 2])[y]  # a permutation of the class names, with gaps and negatives
    general = G if ped else None
    a = potran.score(X, y, metric, ped=ped, general=general)
    b = potran.score(X, renamed, metric, ped=ped, general=general)
    assert b == pytest.approx(a, rel=1e-10)


def test_ped_moves_classes_apart_and_energy_declines(data):
    X, y, G = data
    result = potran.simulate(X, y, G)
    energies = result.trace.energies
    assert len(energies) == result.trace.steps + 1 == 7
    assert all(later < earlier for earlier, later in zip(energies, energies[1:]))
    # rigid motion: within-class deviations are untouched
    for c in np.unique(y):
        moved, orig = result.features[y == c], X[y == c]
        np.testing.assert_allclose(moved - moved.mean(0), orig - orig.mean(0), atol=1e-12)


def test_ped_exit_ratio_stops_and_discards_the_step(data):
    X, y, G = data
    result = potran.simulate(X, y, G, exit_ratio=0.995, nsigma=2.0, time_step=1.0)
    trace = result.trace
    assert 1 <= trace.steps < 6
    assert trace.rejected_displacement / trace.displacements[0] <= 0.995
    assert all(p / trace.displacements[0] > 0.995 for p in trace.displacements)


def test_ped_without_overlap_does_not_move():
    X, y = blobs(n_per_class=(20, 20), dim=4, spread=0.01)
    result = potran.simulate(X, y, np.random.default_rng(0).normal(size=(10, 4)))
    assert result.trace.steps == 0
    np.testing.assert_array_equal(result.features, X)


def test_ped_zero_steps_and_trace_through_score(data):
    X, y, G = data
    value, trace = potran.score(X, y, "logme", ped=True, general=G, max_steps=0, return_trace=True)
    assert trace.steps == 0 and value == potran.score(X, y, "logme")
    assert trace.to_dict()["energies"] == trace.energies


def test_logme_full_logdet_is_the_published_evidence():
    """Method page, quirk 6: with D > N the official score omits (D-k)/2 log(alpha);
    the ICML'21 solver gives 0.1871 on case 3."""
    data3, ref3 = load_case(3)
    official = logme(data3["X"], data3["y"])
    published = logme(data3["X"], data3["y"], full_logdet=True)
    assert official == pytest.approx(ref3["logme"], rel=1e-8)
    assert published == pytest.approx(0.1871, abs=2e-4)
    data1, _ = load_case(1)  # N > D, full rank: both definitions agree
    assert logme(data1["X"], data1["y"], full_logdet=True) == logme(data1["X"], data1["y"])


def test_nleep_log_option_is_the_published_mean_log_probability():
    data, ref = load_case(1)
    official = nleep(data["X"], data["y"], seed=0)
    published = nleep(data["X"], data["y"], seed=0, log=True)
    assert official == pytest.approx(ref["nleep"], rel=1e-10)
    assert published < np.log(official)  # Jensen: mean log < log mean (unless all equal)


def test_gbc_scaled_spherical_logdet_is_the_isotropic_bhattacharyya_distance():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1.0, (40, 3)), rng.normal(1, 2.0, (40, 3))])
    y = np.repeat([0, 1], 40)
    v = np.array([X[y == c].var(0).mean() for c in (0, 1)])
    mu = np.array([X[y == c].mean(0) for c in (0, 1)])
    avg = v.mean()
    dist_published = ((mu[0] - mu[1]) ** 2).sum() / (8 * avg) + 3 / 2 * np.log(avg / np.sqrt(v[0] * v[1]))
    dist_official = ((mu[0] - mu[1]) ** 2).sum() / (8 * avg) + 1 / 2 * np.log(avg / np.sqrt(v[0] * v[1]))
    assert gbc(X, y, pca_dim=None, scale_spherical_logdet=True) == pytest.approx(-2 * np.exp(-dist_published))
    assert gbc(X, y, pca_dim=None) == pytest.approx(-2 * np.exp(-dist_official))


def test_gbc_rejects_unknown_gaussian(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="gaussian must be one of"):
        gbc(X, y, gaussian="full")


def test_parc_large_n_fix_and_legacy_bug():
    """Method page, quirk 11: above the subsampling threshold the official PARC correlates features
    with features."""
    X, y = blobs(n_per_class=(120, 150, 130), dim=40, spread=3.0)
    fixed = parc(X, y, max_samples=200)
    legacy = parc(X, y, max_samples=200, legacy_feature_targets=True)
    assert parc(X, y, max_samples=200) == fixed                      # seeded subsample
    assert abs(fixed - parc(X, y)) < 10                             # fix: a subsample of the same score
    assert abs(legacy - fixed) > 5                                  # labels never used
    with pytest.raises(ValueError, match="needs D >= 32"):
        parc(X[:, :10], y)


def test_leep_and_nce_on_source_probabilities():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 50)
    informative = np.eye(4)[np.where(y == 2, 3, y)] * 0.9 + 0.025   # source class determines the target
    noise = rng.dirichlet(np.ones(4), size=150)
    assert leep(informative, y) > leep(noise, y)
    assert nce(informative, y) == pytest.approx(0.0, abs=1e-12)     # H(Y|Z) = 0
    assert nce(noise, y) < -0.5


def test_baselines():
    X, y = blobs(dim=5)
    assert potran.score(X, y, "dim") == 5.0
    assert potran.score(X, y, "norm") == pytest.approx(np.linalg.norm(X, axis=1).mean())
    assert potran.score(X, y, "random", seed=1) == potran.score(X, y, "random", seed=1)
    assert potran.score(X, y, "random", seed=1) != potran.score(X, y, "random", seed=2)


def test_metrics_prefer_separable_features():
    """A sanity ranking: every feature metric but the trivial ones scores well-separated classes higher."""
    tight, y = blobs(n_per_class=(40, 40, 40), dim=36, spread=0.3, seed=3)
    loose, _ = blobs(n_per_class=(40, 40, 40), dim=36, spread=3.0, seed=3)
    for metric in ("logme", "sfda", "gbc", "nleep", "parc", "hscore", "reg_hscore"):
        assert potran.score(tight, y, metric) > potran.score(loose, y, metric), metric


def test_transrate_option_does_not_clash_with_ped_eps():
    X, y = blobs(dim=6)
    loose = potran.score(X, y, "transrate", coding_eps=1e-2)
    assert loose < potran.score(X, y, "transrate")          # larger distortion, lower coding rates
    assert np.isfinite(potran.score(X, y, "transrate", ped=True, general=X, eps=1e-2, coding_eps=1e-2))


def _with_constant_column():
    """10 float32 classes whose first feature is exactly 0; with this general set PED leaves
    ~1e-34 of rounding on that feature (class by class)."""
    X, y = blobs(n_per_class=(20,) * 10, dim=16, spread=3.0, seed=1)
    X[:, 0] = 0.0
    G = np.random.default_rng(2).normal(0.37, 1.3, size=(50, 16)).astype(np.float32)
    return X.astype(np.float32), y, G


@pytest.mark.parametrize("ped", [False, True])
def test_hscore_ignores_rounding_noise_on_a_constant_feature(ped):
    X, y, G = _with_constant_column()
    noisy = X.astype(np.float64)
    noisy[:, 0] = 1e-30 * np.random.default_rng(3).normal(size=len(y))
    kw = {"ped": True, "general": G} if ped else {}
    value = potran.score(X, y, "hscore", **kw)
    assert potran.score(noisy, y, "hscore", **kw) == pytest.approx(value, rel=1e-10)
    # the constant feature carries nothing: the score is that of the other 15 features
    without = potran.score(X[:, 1:], y, "hscore", **({"ped": True, "general": G[:, 1:]} if ped else {}))
    assert value == pytest.approx(without, rel=1e-10)


def test_hscore_constant_threshold_is_relative_to_the_largest_std():
    X, y, _ = _with_constant_column()
    X = X.astype(np.float64)
    base = potran.score(X[:, 1:], y, "hscore")
    class_rounding = X.copy()
    class_rounding[:, 0] = 1e-35 * y  # what PED's rounding looks like: separates the classes
    assert potran.score(class_rounding, y, "hscore") == pytest.approx(base, rel=1e-10)
    # a small but real feature (1e-8 of the largest spread) is standardised like any other:
    # H-score is invariant to rescaling a feature
    tiny = X.copy()
    tiny[:, 0] = X[:, 5]
    scaled = tiny.copy()
    scaled[:, 0] *= 1e-8 * X.std(0).max() / X[:, 5].std()
    assert potran.score(scaled, y, "hscore") == pytest.approx(potran.score(tiny, y, "hscore"),
                                                               rel=1e-6)
