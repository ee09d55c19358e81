"""PARC: pairwise annotation representation comparison (Bolya et al., NeurIPS 2021); method page, §PARC."""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr
from sklearn.decomposition import PCA

from potran.backend import blas_threads_for, to_numpy
from potran.params import COUNT, FLAG, SEED, Option, declare
from potran.validation import check_xy

PCA_SEED = 1919          # fixed in the reference
MAX_SAMPLES = 15000      # the reference subsamples above this many samples


def _subsample(codes: np.ndarray, n_classes: int, max_samples: int, rng: np.random.RandomState) -> np.ndarray:
    """Per class (in code order), int(p * n_c) of its rows without replacement, p = max_samples / N
    (reference ``initLabeled``)."""
    p = max_samples / len(codes)
    picks = [rng.choice(np.flatnonzero(codes == c), int(p * np.sum(codes == c)), replace=False)
             for c in range(n_classes)]
    return np.concatenate(picks)


def _dissimilarity(rows: np.ndarray) -> np.ndarray:
    """Upper triangle (k=1) of the representation dissimilarity matrix 1 - corr(rows)."""
    rdm = 1 - np.corrcoef(rows)
    return rdm[np.triu_indices(rows.shape[0], 1)]


def _label_dissimilarity(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Upper triangle (k=1) of 1 - corr(one_hot) in exact arithmetic: 0 within a class, C/(C-1)
    across (one-hot rows of two classes correlate at -1/(C-1)), so pairs tie exactly."""
    upper = np.triu_indices(len(codes), 1)
    different = codes[upper[0]] != codes[upper[1]]
    return np.where(different, n_classes / (n_classes - 1), 0.0)


@declare(
    Option("n_dims", COUNT, "principal components of the features"),
    Option("seed", SEED, "seed of the subsample above max_samples"),
    Option("max_samples", COUNT, "samples scored at most (a stratified subsample above)"),
    Option("legacy_feature_targets", FLAG, "above 15000 samples, the features as targets (official code)"),
    Option("official_ties", FLAG, "the official label dissimilarities, whose rounding splits ties"),
)
def parc(X, y, *, n_dims: int = 32, seed: int | None = 0, max_samples: int = MAX_SAMPLES,
         legacy_feature_targets: bool = False, official_ties: bool = False) -> float:
    """PARC score: 100 x Spearman correlation between the feature and label dissimilarity matrices.

    Invariant to reordering the samples and renaming the classes up to ``max_samples``; above, such
    changes (other than monotone renaming) draw another, equally valid, seeded subsample.

    Parameters
    ----------
    n_dims : int, default 32
        PCA dimension (randomized solver, ``random_state=1919``, one power iteration); needs D >= n_dims.
    seed : int or None, default 0
        Seeds the per-class subsample above ``max_samples`` (``seed=s``: the official draw after
        ``np.random.seed(s)``).
    legacy_feature_targets : bool, default False
        True reproduces the official wrapper, which above ``max_samples`` passes the features as
        the targets (method page, quirk 11).
    official_ties : bool, default False
        True ranks the official ``1 - np.corrcoef(one_hot)``, whose BLAS-dependent rounding noise
        splits its exact ties (method page, quirk 12; the effect: ``tests/parity/README.md``).
        Ignored when ``legacy_feature_targets`` replaces the labels.
    """
    features, labels = check_xy(to_numpy(X), y)
    if features.shape[1] < n_dims:
        raise ValueError(f"PARC reduces to n_dims={n_dims} principal components and needs D >= {n_dims}, "
                         f"got D={features.shape[1]}")
    codes = labels.codes
    feature_targets = False
    if features.shape[0] > max_samples:
        idx = _subsample(codes, labels.n_classes, max_samples, np.random.RandomState(seed))
        features, codes = features[idx], codes[idx]
        feature_targets = legacy_feature_targets
    if feature_targets:
        label_rdm = _dissimilarity(features)
    elif official_ties:
        label_rdm = _dissimilarity(np.eye(labels.n_classes)[codes])
    else:
        label_rdm = _label_dissimilarity(codes, labels.n_classes)
    with blas_threads_for(features.shape[0] ** 2 * n_dims):  # the N x N correlations dominate
        reduced = PCA(n_components=min(n_dims, features.shape[0]), svd_solver="randomized",
                      random_state=PCA_SEED, iterated_power=1).fit_transform(features)
        reduced = (reduced - reduced.mean(0)) / _safe_std(reduced)
        feature_rdm = _dissimilarity(reduced)
    return float(100 * spearmanr(feature_rdm, label_rdm)[0])


def _safe_std(a: np.ndarray) -> np.ndarray:
    """Population std with zeros replaced by 1, as scikit-learn's StandardScaler does."""
    std = a.std(0)
    return np.where(std == 0, 1.0, std)
