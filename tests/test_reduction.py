"""The benchmark's dimension protocol (potran.bench.reduction): PCA to at most 128 dimensions."""
import numpy as np
import pytest
from sklearn.decomposition import PCA

import potran
from potran.bench.reduction import SCORE_DIM, reduce_features


def correlated(n, d, seed=0):
    """Features with a decaying spectrum (distinct eigenvalues) and a non-zero mean."""
    rng = np.random.default_rng(seed)
    scales = np.geomspace(10, 0.1, d)
    mix, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (rng.normal(size=(n, d)) * scales) @ mix.T + rng.normal(3, 1, d)


def components(X, out):
    """The projection W with out = (X - mean) @ W (least squares; exact for full-rank X)."""
    return np.linalg.lstsq(X - X.mean(0), out, rcond=None)[0]


def test_every_scored_training_set_has_at_least_twice_the_scored_width():
    """The protocol's premise (module docstring): N >= 2 * SCORE_DIM images on every target of
    the offline benchmark and of benchmark v3, so no scored cell is in the D >= N regime."""
    from potran.bench import datasets, targets_v3

    sizes = [n_train for _, n_train, _, _ in datasets.SIZES.values()]
    sizes += [spec.n_train for spec in targets_v3.SPECS]
    assert len(sizes) == len(datasets.AVAILABLE) + len(targets_v3.NAMES)
    assert min(sizes) >= 2 * SCORE_DIM


@pytest.mark.parametrize("d", [5, 128])
def test_narrow_features_are_returned_unchanged(d):
    X = np.random.default_rng(0).normal(size=(40, d)).astype(np.float32)
    G = np.random.default_rng(1).normal(size=(7, d))
    out = reduce_features(X)
    assert out.dtype == np.float32 and np.array_equal(out, X)  # not even centred or converted
    X_out, G_out = reduce_features(X, G)
    assert np.array_equal(X_out, X) and np.array_equal(G_out, G)


def test_wide_features_get_the_leading_principal_components():
    X = correlated(300, 150)
    out = reduce_features(X)
    assert out.shape == (300, SCORE_DIM) and out.dtype == np.float64
    ref = PCA(n_components=SCORE_DIM, svd_solver="full").fit_transform(X)
    signs = np.sign((out * ref).sum(0))  # each component up to its sign
    np.testing.assert_allclose(out, ref * signs, atol=1e-8 * np.abs(ref).max())
    # centred, uncorrelated, variances in decreasing order = the top eigenvalues of cov(X)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-10)
    cov = np.cov(out, rowvar=False)
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-9 * cov.max())
    eig = np.linalg.eigvalsh(np.cov(X, rowvar=False))[::-1][:SCORE_DIM]
    np.testing.assert_allclose(np.diag(cov), eig, rtol=1e-9)
    assert np.all(np.diff(np.diag(cov)) < 0)


def test_components_are_orthonormal_and_signed_by_their_largest_entry():
    X = correlated(300, 150, seed=1)
    W = components(X, reduce_features(X))
    np.testing.assert_allclose(W.T @ W, np.eye(SCORE_DIM), atol=1e-8)
    largest = W[np.abs(W).argmax(0), np.arange(SCORE_DIM)]
    assert np.all(largest > 0)


def test_result_does_not_depend_on_sample_order_or_a_translation():
    X = correlated(260, 140, seed=2)
    out = reduce_features(X)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(reduce_features(X[perm]), out[perm], atol=1e-9)
    np.testing.assert_allclose(reduce_features(X + 1e3), out, atol=1e-7)  # signs do not flip


def test_general_set_goes_through_the_projection_fitted_on_x():
    X = correlated(300, 150, seed=3)
    G = correlated(50, 150, seed=4) * 2  # other mean and scale: not used in the fit
    X_red, G_red = reduce_features(X, G)
    np.testing.assert_array_equal(X_red, reduce_features(X))
    W = components(X, X_red)
    np.testing.assert_allclose(G_red, (G - X.mean(0)) @ W, atol=1e-8 * np.abs(G_red).max())
    # rows of X given as general set land exactly where X's rows do
    _, X_as_G = reduce_features(X, X[:10])
    np.testing.assert_allclose(X_as_G, X_red[:10], atol=1e-10)


def test_fewer_samples_than_dimensions_keep_only_the_samples_span():
    X = correlated(60, 200, seed=5)  # rank 59 after centring
    out = reduce_features(X)
    assert out.shape == (60, SCORE_DIM)
    spread = out.std(0)
    assert spread[:59].min() > 1e-3 * spread[0]
    np.testing.assert_allclose(out[:, 59:], 0, atol=1e-9 * spread[0])


def test_other_dimension_and_deterministic():
    X = correlated(100, 40, seed=6)
    out = reduce_features(X, dim=10)
    assert out.shape == (100, 10)
    np.testing.assert_array_equal(out, reduce_features(X.copy(), dim=10))
    np.testing.assert_allclose(out, reduce_features(X, dim=20)[:, :10], atol=1e-9)  # nested
    assert np.array_equal(reduce_features(X, dim=40), X)


def test_reduction_keeps_scores_of_narrow_projections_invariant():
    """Rotation-invariant metrics score features of rank <= 128 the same after the reduction."""
    rng = np.random.default_rng(7)
    y = np.repeat(np.arange(4), 75)
    Z = rng.normal(size=(300, 20)) + 2 * np.eye(4, 20)[y]
    mix, _ = np.linalg.qr(rng.normal(size=(200, 200)))
    X = Z @ mix[:20]  # 200 features spanning 20 dimensions
    X_red = reduce_features(X)
    np.testing.assert_allclose(X_red[:, 20:], 0, atol=1e-9)
    Zc = Z - Z.mean(0)  # the reduction centres; the 20 components are a rotation of Zc
    for metric in ("logme", "transrate"):
        assert potran.score(X_red[:, :20], y, metric) == pytest.approx(potran.score(Zc, y, metric),
                                                                      rel=1e-7), metric


# --- benchmark v3: one preprocessing for every model (always=True) ------------------------------

def test_v3_protocol_centres_and_rotates_every_model():
    for d in (20, 128):  # at or below the common width: all d components, centred and rotated
        X = correlated(300, d, seed=5).astype(np.float32)
        out = reduce_features(X, always=True)
        assert out.shape == (300, d) and out.dtype == np.float64
        np.testing.assert_allclose(out.mean(0), 0, atol=1e-9)
        cov = np.cov(out, rowvar=False)
        np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-9 * cov.max())
        assert np.all(np.diff(np.diag(cov)) < 0)
        W = components(X.astype(np.float64), out)  # a rotation: distances are kept
        np.testing.assert_allclose(W.T @ W, np.eye(d), atol=1e-6)


@pytest.mark.parametrize("d", [20, 128, 150])
def test_v3_protocol_ignores_a_rotation_and_translation_of_the_input(d):
    """The same reduced features (up to each component's sign) whatever basis and origin the
    model's features come in: the preprocessing no longer depends on the model family."""
    X = correlated(300, d, seed=6)
    G = correlated(40, d, seed=7)
    rng = np.random.default_rng(8)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    t = rng.normal(0, 5, d)
    X_red, G_red = reduce_features(X, G, always=True)
    X_mov, G_mov = reduce_features(X @ Q + t, G @ Q + t, always=True)
    signs = np.sign((X_red * X_mov).sum(0))
    assert set(signs) <= {-1.0, 1.0}
    np.testing.assert_allclose(X_mov * signs, X_red, atol=1e-7 * np.abs(X_red).max())
    np.testing.assert_allclose(G_mov * signs, G_red, atol=1e-7 * np.abs(G_red).max())


def test_v3_protocol_equals_the_landed_one_for_wide_models():
    X, G = correlated(300, 150, seed=9), correlated(30, 150, seed=10)
    for a, b in zip(reduce_features(X, G, always=True), reduce_features(X, G)):
        np.testing.assert_array_equal(a, b)
