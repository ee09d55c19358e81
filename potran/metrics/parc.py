"""PARC: pairwise annotation representation comparison (Bolya et al., NeurIPS 2021).

Definition: the book's method page, §PARC.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr
from sklearn.decomposition import PCA

from potran.backend import to_numpy
from potran.validation import check_xy

PCA_SEED = 1919          # fixed in the reference
MAX_SAMPLES = 15000      # the reference subsamples above this many samples


def _subsample(codes: np.ndarray, n_classes: int, max_samples: int, rng: np.random.RandomState) -> np.ndarray:
    """Per class, int(p * n_c) indices without replacement, p = max_samples / N (reference ``initLabeled``)."""
    p = max_samples / len(codes)
    picks = [rng.choice(np.flatnonzero(codes == c), int(p * np.sum(codes == c)), replace=False)
             for c in range(n_classes)]
    return np.concatenate(picks)


def _dissimilarity(rows: np.ndarray) -> np.ndarray:
    """Upper triangle (k=1) of the representation dissimilarity matrix 1 - corr(rows)."""
    rdm = 1 - np.corrcoef(rows)
    return rdm[np.triu_indices(rows.shape[0], 1)]


def parc(X, y, *, n_dims: int = 32, seed: int | None = 0, max_samples: int = MAX_SAMPLES,
         legacy_feature_targets: bool = False) -> float:
    """PARC score: 100 x Spearman correlation between the feature and label dissimilarity matrices.

    Parameters
    ----------
    n_dims : int, default 32
        PCA dimension (randomized solver, ``random_state=1919``, one power iteration); needs D >= n_dims.
    seed : int or None, default 0
        Seeds the per-class subsampling used when N > ``max_samples`` (the official code uses the global
        NumPy RNG; ``seed=s`` matches it after ``np.random.seed(s)``).
    max_samples : int, default 15000
        Subsample (stratified) above this many samples: the dissimilarity matrices are N x N.
    legacy_feature_targets : bool, default False
        Above ``max_samples`` samples the official wrapper passes the features as the targets (method
        page, quirk 11), so labels are never used. False (the fix) uses the labels; True reproduces it.
    """
    features, labels = check_xy(to_numpy(X), y)
    if features.shape[1] < n_dims:
        raise ValueError(f"PARC reduces to n_dims={n_dims} principal components and needs D >= {n_dims}, "
                         f"got D={features.shape[1]}")
    codes = labels.codes
    targets = np.eye(labels.n_classes)[codes]
    if features.shape[0] > max_samples:
        idx = _subsample(codes, labels.n_classes, max_samples, np.random.RandomState(seed))
        features = features[idx]
        targets = features if legacy_feature_targets else targets[idx]
    reduced = PCA(n_components=min(n_dims, features.shape[0]), svd_solver="randomized",
                  random_state=PCA_SEED, iterated_power=1).fit_transform(features)
    reduced = (reduced - reduced.mean(0)) / _safe_std(reduced)
    return float(100 * spearmanr(_dissimilarity(reduced), _dissimilarity(targets))[0])


def _safe_std(a: np.ndarray) -> np.ndarray:
    """Population std with zeros replaced by 1, as scikit-learn's StandardScaler does."""
    std = a.std(0)
    return np.where(std == 0, 1.0, std)
