"""Transferability metrics: each ``f(features, labels, **options) -> float``, higher is better.

``SPECS`` describes each metric (:class:`MetricSpec`), ``REGISTRY`` maps the names to the functions.
``leep`` and ``nce`` take source class probabilities; ``ncti`` returns one model's components,
which :func:`potran.metrics.ncti_pool_scores` scores over a pool of models.
"""
from collections.abc import Callable
from dataclasses import dataclass

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
from potran.params import options_of


@dataclass(frozen=True)
class MetricSpec:
    """What a metric takes (``"features"`` or source ``"probabilities"``) and gives (a ``"score"``
    or NCTI's ``"components"``); ``device``: computes with torch on the input's device;
    ``with_ped_in_paper``: the paper's main table reports it with and without PED ("+Ours")."""

    name: str
    function: Callable
    takes: str = "features"
    gives: str = "score"
    device: bool = False
    with_ped_in_paper: bool = False

    @property
    def options(self) -> tuple:
        """The declared keyword options (:mod:`potran.params`)."""
        return options_of(self.function)

    @property
    def stochastic(self) -> bool:
        """Draws random numbers (it takes a ``seed``)."""
        return any(o.name == "seed" for o in self.options)


#: Every metric's :class:`MetricSpec`, by name.
SPECS = {spec.name: spec for spec in (
    MetricSpec("logme", logme, device=True, with_ped_in_paper=True),
    MetricSpec("sfda", sfda, device=True, with_ped_in_paper=True),
    MetricSpec("gbc", gbc, device=True, with_ped_in_paper=True),
    MetricSpec("nleep", nleep),
    MetricSpec("parc", parc),
    MetricSpec("hscore", hscore),
    MetricSpec("reg_hscore", reg_hscore),
    MetricSpec("transrate", transrate),
    MetricSpec("leep", leep, takes="probabilities"),
    MetricSpec("nce", nce, takes="probabilities"),
    MetricSpec("ncti", ncti, gives="components"),
    MetricSpec("random", random_score),
    MetricSpec("dim", dim),
    MetricSpec("norm", norm),
    MetricSpec("knn", knn),
)}

#: The public metric names mapped to the metric functions (:func:`potran.scoring.score` looks here).
REGISTRY = {name: spec.function for name, spec in SPECS.items()}

#: metrics that turn one model's features into one float score: the offline benchmark's default set
FEATURE_METRICS = tuple(n for n, s in SPECS.items() if s.takes == "features" and s.gives == "score")

#: the metrics the paper reports with and without PED (its "+Ours" rows)
PED_METRICS = tuple(n for n, s in SPECS.items() if s.with_ped_in_paper)

__all__ = ["SPECS", "MetricSpec", "REGISTRY", "FEATURE_METRICS", "PED_METRICS",
           "dim", "gbc", "hscore", "knn", "leep", "logme", "nce", "ncti", "ncti_pool_scores", "nleep", "norm",
           "parc", "random_score", "reg_hscore", "sfda", "transrate"]
