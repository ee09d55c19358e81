"""NLEEP's vectorised EM against scikit-learn's GaussianMixture, the reference it transcribes."""
import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from potran.metrics import nleep
from potran.metrics.nleep import fit_mixture, leep_from_posteriors

RTOL = 1e-10  # the parity tolerance of NLEEP (tests/parity/README.md)


def make(n, d, c, spread, seed):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    X = rng.normal(0, spread, (c, d))[y] + rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) / np.sqrt(d)
    return X, y


def nleep_sklearn(X, y, seed, ratio=5):
    """The official path: PCA, then scikit-learn's GaussianMixture fitted and queried."""
    reduced = PCA(n_components=0.8).fit_transform(X)
    c = len(np.unique(y))
    mixture = GaussianMixture(n_components=ratio * c, random_state=np.random.RandomState(seed)).fit(reduced)
    return leep_from_posteriors(mixture.predict_proba(reduced), y, c, log=False)


CASES = [(400, 20, 4, 1.0, 0), (600, 40, 8, 3.0, 1), (300, 60, 5, 0.3, 2), (900, 12, 30, 2.0, 3)]


@pytest.mark.parametrize("n,d,c,spread,seed", CASES)
def test_mixture_is_scikit_learns(n, d, c, spread, seed):
    """Same k-means start, EM iterations and stopping: weights, means, precisions and posteriors."""
    X, _ = make(n, d, c, spread, seed)
    reduced = PCA(n_components=0.8).fit_transform(X)
    k = 5 * c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = GaussianMixture(n_components=k, random_state=np.random.RandomState(seed)).fit(reduced)
        ours = fit_mixture(reduced, k, np.random.RandomState(seed))
    np.testing.assert_allclose(ours.weights, expected.weights_, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(ours.means, expected.means_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.precisions_cholesky, expected.precisions_cholesky_, rtol=1e-7,
                               atol=1e-9 * np.abs(expected.precisions_cholesky_).max())
    np.testing.assert_allclose(ours.posterior(reduced), expected.predict_proba(reduced), rtol=0, atol=1e-9)


@pytest.mark.parametrize("n,d,c,spread,seed", CASES)
def test_nleep_equals_the_scikit_learn_path(n, d, c, spread, seed):
    X, y = make(n, d, c, spread, seed)
    assert nleep(X, y, seed=seed) == pytest.approx(nleep_sklearn(X, y, seed), rel=RTOL)
    assert nleep(X, y, seed=seed, component_ratio=1) == pytest.approx(nleep_sklearn(X, y, seed, 1), rel=RTOL)


def test_blas_threads_do_not_change_the_mixture():
    X, _ = make(600, 40, 8, 3.0, 5)
    reduced = PCA(n_components=0.8).fit_transform(X)
    with threadpool_limits(limits=1, user_api="blas"):
        one = fit_mixture(reduced, 40, 0).posterior(reduced)
    with threadpool_limits(limits=2, user_api="blas"):
        two = fit_mixture(reduced, 40, 0).posterior(reduced)
    np.testing.assert_allclose(one, two, rtol=0, atol=1e-12)


def test_ill_defined_covariance_raises_a_clear_error_where_scikit_learn_does():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) * 1e12
    X[:, 2] = 3 * X[:, 0]  # a collinear column at a scale where reg_covar = 1e-6 is lost in rounding
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        GaussianMixture(n_components=4, random_state=np.random.RandomState(0)).fit(X)
    with pytest.raises(ValueError, match="ill-defined covariance"):
        fit_mixture(X, 4, np.random.RandomState(0))
