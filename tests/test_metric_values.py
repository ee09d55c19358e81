"""Value checks of the metrics without official parity numbers: TransRate, LEEP, NCE, regularised
H-score and kNN, each against an implementation written here from its defining formula (loops and
eigenvalues where the library uses matrix algebra) and against cases whose value is known by hand.
"""
from __future__ import annotations

import numpy as np
import pytest

from potran.metrics import knn, leep, nce, reg_hscore, transrate

from conftest import blobs


def _softmax_rows(logits):
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


# --- TransRate: R(Z) - mean_c R(Z_c), R(Z) = 1/2 sum_i log(1 + lambda_i / (n eps)) ---------------

def _coding_rate_by_eigenvalues(Z, eps):
    lam = np.linalg.eigvalsh(Z.T @ Z)                     # eigenvalues of Z^T Z, always D x D here
    return 0.5 * np.sum(np.log1p(np.clip(lam, 0, None) / (len(Z) * eps)))


def _transrate_by_formula(X, y, eps=1e-4):
    Z = X - X.mean(0)
    classes = np.unique(y)
    return _coding_rate_by_eigenvalues(Z, eps) - np.mean([_coding_rate_by_eigenvalues(Z[y == c], eps)
                                                          for c in classes])


@pytest.mark.parametrize("shape", [(90, 6), (20, 40)], ids=["N>D", "D>N"])
def test_transrate_is_its_formula(shape):
    rng = np.random.default_rng(0)
    X = rng.normal(size=shape) * rng.uniform(0.5, 3, shape[1])
    y = rng.integers(0, 3, shape[0])
    assert transrate(X, y) == pytest.approx(_transrate_by_formula(X, y), rel=1e-9)
    assert transrate(X, y, coding_eps=1e-2) == pytest.approx(_transrate_by_formula(X, y, 1e-2), rel=1e-9)


def test_transrate_by_hand_on_one_dimension():
    """1-D centred features -a, -a | a, a: R(Z) = 1/2 log(1 + a^2 / eps), and each class alone has
    the same rate (rows are not re-centred within a class), so TransRate is 0. Features -3a, -a | a, 3a:
    R(Z) = 1/2 log(1 + 20 a^2 / (4 eps)) and each class 1/2 log(1 + 10 a^2 / (2 eps))."""
    a, eps = 0.5, 1e-4
    X = np.array([[-a], [-a], [a], [a]])
    assert transrate(X, [0, 0, 1, 1]) == pytest.approx(0.0, abs=1e-12)
    X2 = np.array([[-3 * a], [-a], [a], [3 * a]])
    whole = 0.5 * np.log(1 + (2 * 9 * a * a + 2 * a * a) / (4 * eps))
    per_class = 0.5 * np.log(1 + (9 * a * a + a * a) / (2 * eps))
    assert transrate(X2, [0, 0, 1, 1]) == pytest.approx(whole - per_class, rel=1e-12)


# --- LEEP and NCE ---------------------------------------------------------------------------------

def _leep_by_loops(P, y):
    n, z = P.shape
    classes = np.unique(y)
    joint = np.array([[P[y == c, j].sum() / n for j in range(z)] for c in classes])   # P(y, z)
    cond = joint / joint.sum(0, keepdims=True)                                       # P(y | z)
    index = {c: i for i, c in enumerate(classes)}
    return np.mean([np.log(sum(P[i, j] * cond[index[y[i]], j] for j in range(z))) for i in range(n)])


def _nce_by_counts(P, y):
    zhat = P.argmax(1)
    h = 0.0
    for j in np.unique(zhat):
        in_j = zhat == j
        pz = in_j.mean()
        _, counts = np.unique(y[in_j], return_counts=True)
        q = counts / counts.sum()
        h += pz * -(q * np.log(q)).sum()
    return -h                                                                        # -H(Y | Z)


def test_leep_and_nce_are_their_formulas():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 120)
    P = _softmax_rows(rng.normal(size=(120, 7)) + 2 * np.eye(7)[y])
    assert leep(P, y) == pytest.approx(_leep_by_loops(P, y), rel=1e-10)
    assert nce(P, y) == pytest.approx(_nce_by_counts(P, y), abs=1e-12)


def test_leep_and_nce_by_hand():
    """A source class that determines the target class: LEEP = NCE = 0. Source predictions independent
    of two balanced target classes: NCE = -log 2, and LEEP = log 1/2 when each source class is split
    evenly between the target classes."""
    y = np.array([0, 0, 1, 1])
    onehot = np.eye(3)[[0, 0, 2, 2]]
    assert leep(onehot, y) == pytest.approx(0.0, abs=1e-12)
    assert nce(onehot, y) == pytest.approx(0.0, abs=1e-12)
    mixed = np.eye(2)[[0, 1, 0, 1]]
    assert nce(mixed, y) == pytest.approx(-np.log(2), rel=1e-12)
    assert leep(mixed, y) == pytest.approx(np.log(0.5), rel=1e-12)


# --- regularised H-score: Ledoit-Wolf shrinkage by its formula --------------------------------------

def _ledoit_wolf(Xc):
    """Ledoit & Wolf (2004): shrink the ML covariance S toward mu I with the estimated optimal weight."""
    n, d = Xc.shape
    S = Xc.T @ Xc / n
    mu = np.trace(S) / d
    delta2 = np.sum((S - mu * np.eye(d)) ** 2) / d
    beta2 = sum(np.sum((np.outer(x, x) - S) ** 2) for x in Xc) / n ** 2 / d
    shrink = min(beta2, delta2) / delta2
    return (1 - shrink) * S + shrink * mu * np.eye(d), shrink


def _reg_hscore_by_formula(X, y):
    Xc = X - X.mean(0)
    cov, shrink = _ledoit_wolf(Xc)
    means = np.vstack([Xc[y == c].mean(0) for c in np.unique(y)])
    g = means[np.searchsorted(np.unique(y), y)]
    cov_g = np.cov(g, rowvar=False)
    return np.trace(np.linalg.pinv(cov) @ ((1 - shrink) * cov_g))


@pytest.mark.parametrize("shape", [(80, 5), (30, 45)], ids=["N>D", "D>N"])
def test_reg_hscore_is_its_formula(shape):
    rng = np.random.default_rng(2)
    X = rng.normal(size=shape) @ rng.normal(size=(shape[1], shape[1]))
    y = rng.integers(0, 3, shape[0])
    assert reg_hscore(X, y) == pytest.approx(_reg_hscore_by_formula(X, y), rel=1e-8)


def test_reg_hscore_without_shrinkage_is_the_hscore_with_ml_covariance():
    """Many samples of well-conditioned features: the shrinkage tends to 0 and the score to the H-score
    tr(Cov_f^-1 Cov_g), which for two classes of means +-m on one axis (unit noise) is
    m^2 / (1 + m^2) up to sampling."""
    rng = np.random.default_rng(3)
    n, m = 20000, 1.5
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 3))
    X[:, 0] += np.where(y == 1, m, -m)
    assert reg_hscore(X, y) == pytest.approx(m * m / (1 + m * m), rel=0.02)


# --- kNN: cross-validated majority vote ------------------------------------------------------------

def _knn_by_hand(X, y, k, folds, seed):
    from sklearn.model_selection import StratifiedKFold

    accs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        d = ((X[test, None, :] - X[None, train, :]) ** 2).sum(-1)
        nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
        votes = np.array([np.bincount(y[train][row], minlength=y.max() + 1) for row in nearest])
        accs.append(np.mean(votes.argmax(1) == y[test]))
    return float(np.mean(accs))


def test_knn_is_the_cross_validated_majority_vote():
    X, y = blobs(n_per_class=(30, 40, 25), dim=6, spread=2.5)       # overlapping: accuracy < 1
    X = X + 1e-6 * np.random.default_rng(4).normal(size=X.shape)     # no distance ties
    value = knn(X, y, k=5, folds=5, seed=0)
    assert value == pytest.approx(_knn_by_hand(X, y, 5, 5, 0), abs=1e-12)
    assert 0.5 < value < 1.0


def test_knn_by_hand_separated_and_uninformative():
    rng = np.random.default_rng(5)
    y = np.repeat([0, 1], 50)
    far = rng.normal(size=(100, 3)) + 100 * y[:, None]
    assert knn(far, y) == 1.0
    noise = rng.normal(size=(4000, 2))
    y_noise = rng.integers(0, 2, 4000)
    # labels independent of the features: accuracy at chance (0.5) within 3 binomial sd
    assert abs(knn(noise, y_noise, k=15) - 0.5) < 3 * np.sqrt(0.25 / 4000) + 0.01
