"""potran: transferability estimation and Potential Energy Decline (PED, Li et al., ICCV 2023).

>>> import potran
>>> potran.score(X, y, "logme", ped=True, general=G)   # doctest: +SKIP

The core (metrics, PED, scoring, rank evaluation, the paper's numbers) lives in this package;
the offline benchmark (data sets, model zoo, fine-tuning, grids) in :mod:`potran.bench`. Names
are imported on first use, so ``import potran`` does not load torch.
"""
from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "REGISTRY": "potran.metrics",
    "FEATURE_METRICS": "potran.metrics",
    "get_metric": "potran.scoring",
    "score": "potran.scoring",
    "simulate": "potran.ped",
    "PEDResult": "potran.ped",
    "PEDTrace": "potran.ped",
    "rank_models": "potran.selection",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'potran' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
