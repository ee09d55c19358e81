"""Baselines every ranking should beat: a random score, the feature dimension, the mean feature
norm, and the cross-validated k-NN accuracy of the frozen features."""
from __future__ import annotations

import numpy as np

from potran.backend import blas_threads_for, to_numpy
from potran.params import COUNT, SEED, Interval, Option, declare
from potran.validation import check_xy


@declare(Option("seed", SEED, "seed of the random number"))
def random_score(X, y, *, seed: int | None = 0) -> float:
    """A uniform random number in [0, 1): the chance level of a ranking (seeded)."""
    check_xy(to_numpy(X), y)
    return float(np.random.default_rng(seed).random())


@declare()
def dim(X, y) -> float:
    """The feature dimension D ("bigger backbones transfer better")."""
    features, _ = check_xy(to_numpy(X), y)
    return float(features.shape[1])


@declare()
def norm(X, y) -> float:
    """Mean Euclidean norm of the feature vectors."""
    features, _ = check_xy(to_numpy(X), y)
    return float(np.linalg.norm(features, axis=1).mean())


@declare(Option("k", COUNT, "neighbours that vote"),
         Option("folds", (Interval(int, 2, None),), "cross-validation folds (fewer when a class is smaller)"),
         Option("seed", SEED, "seed of the folds' shuffle"))
def knn(X, y, *, k: int = 5, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated accuracy (stratified, seeded folds) of a Euclidean k-nearest-neighbour
    classifier on the frozen features."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    features, labels = check_xy(to_numpy(X), y)
    folds = min(folds, int(labels.counts.min()))
    if folds < 2:
        raise ValueError("knn needs at least 2 samples of every class for cross-validation")
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    smallest = min(len(train) for train, _ in split.split(features, labels.codes))
    if k > smallest:
        raise ValueError(f"knn: k = {k} neighbours, but a cross-validation fold trains on {smallest} of the "
                         f"{features.shape[0]} samples ({folds} folds); give k <= {smallest}")
    clf = KNeighborsClassifier(n_neighbors=k)
    # each fold: distances of N/folds test samples to the others
    with blas_threads_for(features.shape[0] ** 2 * features.shape[1] / folds, openmp=True):
        return float(cross_val_score(clf, features, labels.codes, cv=split).mean())
