"""The benchmark's dimension protocol (book/method.md, "The offline benchmark's dimension
protocol"): every model is scored on at most ``SCORE_DIM`` features, its leading principal
components fitted on the target's training features being scored, the general set through the
same projection; benchmark v3 also centres and rotates narrower features (``always=True``). The
projection lives in the core (:mod:`potran.reduction`); this module is the benchmark's name for it.
"""
from __future__ import annotations

from ..reduction import SCORE_DIM, reduce_features

__all__ = ["SCORE_DIM", "reduce_features"]
