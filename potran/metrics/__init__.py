"""Transferability metrics: each ``f(features, labels, **options) -> float``, higher is better.

``SPECS`` describes each metric (:class:`MetricSpec`: what it takes and gives, whether it runs
on a torch device, its declared options); ``REGISTRY`` maps the names to the functions.
``leep`` and ``nce`` take the source model's class probabilities as their features. ``ncti`` is
the exception to "-> float": it returns one model's three NCTI components, which
:func:`potran.metrics.ncti_pool_scores` turns into scores over a pool of models.
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
    """What a metric takes and gives, beside its function.

    Attributes
    ----------
    takes : {"features", "probabilities"}
        A model's features, or its source classifier's class probabilities (LEEP, NCE).
    gives : {"score", "components"}
        One float (higher is better), or one model's components, scored over a pool of models
        (NCTI: :func:`ncti_pool_scores`).
    device : bool
        Computes with torch on the input's device (or ``device=``).
    with_ped_in_paper : bool
        The paper's main table reports it with and without PED ("+Ours").
    """

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

#: The public metric names mapped to the metric functions: :func:`potran.scoring.score` looks
#: metrics up here (``ncti`` gives per-model components, scored by :func:`ncti_pool_scores`).
REGISTRY = {name: spec.function for name, spec in SPECS.items()}

#: metrics that turn one model's features into one float score: the offline benchmark's default set
FEATURE_METRICS = tuple(n for n, s in SPECS.items() if s.takes == "features" and s.gives == "score")

#: the metrics the paper reports with and without PED (its "+Ours" rows)
PED_METRICS = tuple(n for n, s in SPECS.items() if s.with_ped_in_paper)

__all__ = ["SPECS", "MetricSpec", "REGISTRY", "FEATURE_METRICS", "PED_METRICS",
           "dim", "gbc", "hscore", "knn", "leep", "logme", "nce", "ncti", "ncti_pool_scores", "nleep", "norm",
           "parc", "random_score", "reg_hscore", "sfda", "transrate"]
