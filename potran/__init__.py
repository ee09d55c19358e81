"""potran: transferability estimation and Potential Energy Decline (PED, Li et al., ICCV 2023).

>>> import potran
>>> potran.score(X, y, "logme", ped=True, general=G)   # doctest: +SKIP
"""
from potran.metrics import REGISTRY
from potran.ped import PEDResult, PEDTrace, simulate
from potran.scoring import get_metric, score

__version__ = "0.1.0"
__all__ = ["REGISTRY", "PEDResult", "PEDTrace", "get_metric", "score", "simulate"]
