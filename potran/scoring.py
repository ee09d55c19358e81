"""``score(X, y, metric, ped=..., sa=..., general=...)``: validation, an optional perturbation
(PED or SA), then the metric."""
from __future__ import annotations

from typing import Any

from potran import ped as ped_module
from potran import sa as sa_module
from potran.metrics import REGISTRY
from potran.params import options_of


def get_metric(name: str):
    """The metric function registered under ``name`` (ValueError listing the known names otherwise)."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown metric {name!r}; known metrics: {', '.join(REGISTRY)}") from None


def score(X, y, metric: str, *, ped: bool = False, sa: bool = False, general=None, return_trace: bool = False,
          **options: Any):
    """Transferability score of features ``X`` (N x D) with labels ``y`` under ``metric``.

    Parameters
    ----------
    metric : str
        A name in :data:`potran.metrics.REGISTRY`.
    ped, sa : bool, default False
        First move the classes with PED (:func:`potran.ped.simulate`) or perturb the features with
        SA (:func:`potran.sa.perturb`: gate, randomized PCA-64, attract), not both; score the result.
    general : array (M, D), optional
        General feature set PED standardises by (required with ``ped=True``).
    return_trace : bool, default False
        Also return the :class:`~potran.ped.PEDTrace` or :class:`~potran.sa.SATrace` (None
        without a perturbation).
    **options
        PED options (:data:`potran.ped.OPTIONS`), SA options (:data:`potran.sa.OPTIONS`) and the
        metric's own keyword options; ``device`` goes to PED and the metric where accepted.

    Returns
    -------
    float, or (float, trace) with ``return_trace=True``
        ``"ncti"`` gives :class:`~potran.metrics.neural_collapse.NCTIComponents` instead of a float.
    """
    function = get_metric(metric)
    accepted = {o.name for o in options_of(function)}
    ped_options = {k: options.pop(k) for k in ped_module.OPTIONS if k in options}
    sa_options = {k: options.pop(k) for k in sa_module.OPTIONS if k in options}
    if ped_options and not ped:
        raise ValueError(f"PED options {sorted(ped_options)} given but ped=False")
    if sa_options and not sa:
        raise ValueError(f"SA options {sorted(sa_options)} given but sa=False")
    if ped and sa:
        raise ValueError("ped=True and sa=True: PED and SA are alternative perturbations, choose one")
    unknown = set(options) - accepted - {"device"}
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for metric {metric!r}; "
                         f"it accepts {sorted(accepted)}")
    if general is not None and not ped:
        raise ValueError("a general feature set was given but ped=False; it is only used by PED")
    trace = None
    if ped or sa:
        result = (ped_module.simulate(X, y, general, device=options.get("device"), **ped_options) if ped
                  else sa_module.perturb(X, y, **sa_options))
        X, trace = result.features, result.trace
    metric_options = {k: v for k, v in options.items() if k in accepted}
    value = function(X, y, **metric_options)
    return (value, trace) if return_trace else value
