"""Trivial baselines every ranking should beat: a random score, the feature dimension, the mean feature norm."""
from __future__ import annotations

import numpy as np

from potran.backend import to_numpy
from potran.validation import check_xy


def random_score(X, y, *, seed: int | None = 0) -> float:
    """A uniform random number in [0, 1): the chance level of a ranking (seeded)."""
    check_xy(to_numpy(X), y)
    return float(np.random.default_rng(seed).random())


def dim(X, y) -> float:
    """The feature dimension D ("bigger backbones transfer better")."""
    features, _ = check_xy(to_numpy(X), y)
    return float(features.shape[1])


def norm(X, y) -> float:
    """Mean Euclidean norm of the feature vectors."""
    features, _ = check_xy(to_numpy(X), y)
    return float(np.linalg.norm(features, axis=1).mean())
