"""Transferability metrics: each ``f(features, labels, **options) -> float``, higher is better.

``REGISTRY`` maps the public metric names to the functions. ``leep`` and ``nce`` take the
source model's class probabilities as their features.
"""
from potran.metrics.baselines import dim, knn, norm, random_score
from potran.metrics.gbc import gbc
from potran.metrics.hscore import hscore, reg_hscore
from potran.metrics.logme import logme
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
    "random": random_score,
    "dim": dim,
    "norm": norm,
    "knn": knn,
}

#: metrics that score features (all but the two that need source-classifier probabilities)
FEATURE_METRICS = tuple(name for name in REGISTRY if name not in ("leep", "nce"))

__all__ = ["REGISTRY", "FEATURE_METRICS", "dim", "gbc", "hscore", "knn", "leep", "logme", "nce", "nleep",
           "norm", "parc", "random_score", "reg_hscore", "sfda", "transrate"]
