"""NCTI: the Neural-Collapse Transferability Indicator (Wang et al., ICCV 2023); method page, §NCTI.

The indicator exists only relative to a pool of models: :func:`ncti` gives one model's components,
:func:`ncti_pool_scores` the pool's scores. The official code's scikit-learn PCA and LDA, so the
numbers depend on the scikit-learn version (pinned in constraints.txt).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from potran.backend import to_numpy
from potran.params import SEED, Option, declare
from potran.validation import check_xy

N_COMPONENTS = 64      # PCA dimension, fixed in the official code
TOP_VARIANCES = 32     # explained variances summed for the shrinkage
SHRINKAGE_FLOOR = 1e-10
COMPONENTS = ("seli", "ncc", "vc")


class NCTIComponents(NamedTuple):
    """One model's NCTI components on one target (method page, eq-ncti-components): ``seli``, the
    nuclear norm of the centred LDA projection; ``ncc``, the mean LDA posterior of the true class;
    ``vc``, the log of the summed nuclear norms of the classes' posterior blocks (enters negated)."""

    seli: float
    ncc: float
    vc: float


def shrinkage(explained_variance: np.ndarray) -> float:
    """LDA shrinkage ``max(exp(-s_32), 1e-10)``, ``s_32`` the sum of the PCA's 32 largest explained
    variances (method page, eq-ncti-shrinkage; at the floor the LDA is unshrunk)."""
    top = np.sort(np.asarray(explained_variance, dtype=np.float64))[::-1][:TOP_VARIANCES]
    return max(math.exp(-float(top.sum())), SHRINKAGE_FLOOR)


def discriminant(temp: float) -> LinearDiscriminantAnalysis:
    """The official LDA for a shrinkage ``temp``: 'svd' (no shrinkage) at the floor, else 'eigen' with it."""
    if temp == SHRINKAGE_FLOOR:
        return LinearDiscriminantAnalysis(solver="svd")
    return LinearDiscriminantAnalysis(solver="eigen", shrinkage=temp)


def pca64(X: np.ndarray, seed: int | None = 0) -> tuple[np.ndarray, PCA]:
    """The official 64-component PCA (scikit-learn's 'auto' solver) and the fitted PCA. Above 500
    samples or features 'auto' often picks the randomized solver, seeded by
    ``np.random.RandomState(seed)`` (None: NumPy's global generator, as the official code)."""
    rng = np.random.RandomState(seed) if seed is not None else None
    pca = PCA(n_components=N_COMPONENTS, random_state=rng)
    return pca.fit_transform(X), pca


@declare(Option("seed", SEED, "seed of the randomized PCA (None: NumPy's global generator)"))
def ncti(X, y, *, seed: int | None = 0) -> NCTIComponents:
    """NCTI components (seli, ncc, vc) of features ``X`` (N x D) with labels ``y`` (method page, §NCTI).

    ``seed`` seeds the randomized PCA (:func:`~potran.metrics.neural_collapse.pca64`). ValueError
    with fewer than 64 samples or features, or not more samples than classes.
    """
    features, labels = check_xy(to_numpy(X), y)
    n, d = features.shape
    if min(n, d) < N_COMPONENTS:
        raise ValueError(f"NCTI needs at least {N_COMPONENTS} samples and {N_COMPONENTS} features "
                         f"(its PCA has {N_COMPONENTS} components), got X of shape {features.shape}")
    if n <= labels.n_classes:
        raise ValueError(f"NCTI needs more samples than classes, got {n} samples and "
                         f"{labels.n_classes} classes")
    Z, pca = pca64(features, seed)
    lda = discriminant(shrinkage(pca.explained_variance_))
    codes = labels.codes
    projected = lda.fit_transform(Z, codes)
    seli = float(np.linalg.norm(projected - projected.mean(0), "nuc"))
    probs = lda.predict_proba(Z)
    ncc = float(probs[np.arange(n), codes].mean())
    vc = math.log(sum(float(np.linalg.norm(probs[codes == c], "nuc")) for c in range(labels.n_classes)))
    return NCTIComponents(seli, ncc, vc)


def ncti_pool_scores(components):
    """NCTI scores of a pool of models scored on the same target (method page, eq-ncti-score).

    Each component is min-max normalised over the pool; a model's score is ``ncc~ + seli~ - vc~``
    (in [-1, 2], higher is better). A component on which all models tie contributes 0 (the
    official code divides by zero).

    ``components``: :func:`ncti`'s output (or (seli, ncc, vc) triples) for every model of the
    pool, as a mapping of name to components (returns a dict of name to score) or a sequence
    (returns an ndarray, in input order).
    """
    names = list(components) if isinstance(components, Mapping) else None
    rows = [components[name] for name in names] if names is not None else list(components)
    if not rows:
        raise ValueError("the pool is empty: pass the NCTI components of at least one model")
    try:
        table = np.array([tuple(row) for row in rows], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"every pool entry must be a (seli, ncc, vc) triple: {exc}") from None
    if table.ndim != 2 or table.shape[1] != len(COMPONENTS):
        raise ValueError(f"every pool entry must be a (seli, ncc, vc) triple, got shape {table.shape[1:]}")
    if not np.isfinite(table).all():
        raise ValueError("the pool's NCTI components contain NaN or Inf")
    low, span = table.min(0), np.ptp(table, axis=0)
    scaled = np.divide(table - low, span, out=np.zeros_like(table), where=span > 0)
    scores = scaled[:, 1] + scaled[:, 0] - scaled[:, 2]
    return dict(zip(names, scores.tolist())) if names is not None else scores
