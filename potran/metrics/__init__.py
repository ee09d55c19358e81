"""Transferability metrics: each ``f(features, labels, **options) -> float``, higher is better.

``REGISTRY`` maps the public metric names to the functions. ``leep`` and ``nce`` take the
source model's class probabilities as their features. ``ncti`` is the exception to "-> float": it
returns one model's three NCTI components, which :func:`potran.metrics.ncti_pool_scores`
turns into scores over a pool of models.
"""
from potran.metrics.baselines import dim, knn, norm, random_score
from potran.metrics.gbc import gbc
from potran.metrics.hscore import hscore, reg_hscore
from potran.metrics.logme import logme
from potran.metrics.neural_collapse import ncti, ncti_pool_scores
from potran.metrics.nleep import nleep
from potran.metrics.parc import parc
from potran.metrics.sfda import sfda
from potran.metrics.source_probs import leep, nce
from potran.metrics.transrate import transrate

REGISTRY = {
    "logme": logme,
    "sfda": sfda,
    "gbc": gbc,
    "nleep": nleep,
    "parc": parc,
    "hscore": hscore,
    "reg_hscore": reg_hscore,
    "transrate": transrate,
    "leep": leep,
    "nce": nce,
    "ncti": ncti,
    "random": random_score,
    "dim": dim,
    "norm": norm,
    "knn": knn,
}

#: Names left out of FEATURE_METRICS: ``leep`` and ``nce`` need source-classifier probabilities;
#: ``ncti`` returns per-model components, not a score, and its score is relative to the pool of
#: models scored on a target (``ncti_pool_scores``), so it cannot be one cell of a grid.
NOT_FEATURE_SCORES = ("leep", "nce", "ncti")

#: metrics that turn one model's features into one float score: the offline benchmark's default set
FEATURE_METRICS = tuple(name for name in REGISTRY if name not in NOT_FEATURE_SCORES)

__all__ = ["REGISTRY", "FEATURE_METRICS", "NOT_FEATURE_SCORES", "dim", "gbc", "hscore", "knn", "leep",
           "logme", "nce", "ncti", "ncti_pool_scores", "nleep", "norm", "parc", "random_score", "reg_hscore",
           "sfda", "transrate"]
