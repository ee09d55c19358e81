"""The benchmark's dimension protocol: every model is scored on at most ``SCORE_DIM`` features.

Metrics that fit a covariance or a linear map saturate when the feature dimension D reaches the
number of images N (SFDA is then exactly 1, H-score C - 1, and LogME is dominated by its D > N
evidence term), so ranking wide models against narrow ones measures width, not transfer. The
benchmark therefore projects every model's features wider than ``SCORE_DIM`` onto their leading
``SCORE_DIM`` principal components, fitted on the target's training features being scored; the
general set (PED's standardisation) goes through the same projection. Every scored training set
has at least ``2 * SCORE_DIM`` images.

Benchmark v3 (``data/bench_v3/README.md``) uses one preprocessing for every model:
``always=True`` centres and rotates every model's features onto their leading principal
components, also those already at most ``SCORE_DIM`` wide, so that no metric sees raw features
for one model family and centred, rotated ones for another. The default keeps the landed
benchmark's protocol (and numbers).

The projection lives in the core (:mod:`potran.reduction`), where :func:`potran.rank_models` and
``potran select`` use it with their own width rule; this module is the benchmark's name for it.
"""
from __future__ import annotations

from ..reduction import SCORE_DIM, reduce_features

__all__ = ["SCORE_DIM", "reduce_features"]
