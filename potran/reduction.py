"""The scoring protocol every ranking shares: the width rule (principal components of wide
features) and the tie rule (scores equal to within a relative tolerance).

Metrics that fit a covariance or a linear map saturate when the feature dimension D approaches
the number of labelled images N: SFDA is then exactly 1 and H-score exactly C - 1 for every model,
LogME is dominated by its D > N evidence term, and a ranking of wide models against narrow ones
measures width, not transfer. Every ranking of this project therefore projects features that are
wide for their N onto their leading principal components, fitted on the target's images being
scored (never on a test set), and maps a general set (PED's standardisation) through the same map:

- :func:`reduce_features` is the projection (the offline benchmark's, unchanged:
  ``potran.bench.reduction`` re-exports it);
- :func:`scored_width` is the rule of :func:`potran.rank_models` and ``potran select``: with
  ``reduction="auto"`` a model is reduced when D exceeds ``min(SCORE_DIM, max(MIN_DIM, N //
  WIDE_RATIO), N - 1)`` (the benchmark's ratio: at least 4 images per scored dimension, never
  below the 64 components GBC, SA and NCTI project on themselves unless N itself is smaller:
  N images span at most N - 1 centred directions), to that width; an integer reduces to that
  width whatever N; ``None`` keeps every feature.

Scores equal to within :data:`TIE_RTOL` (relative) are ties (:func:`tie_ranks`): round-off of
different computation paths, e.g. H-score's 3.0000000000000187 and 2.999999999999998, cannot
decide a ranking. The benchmark's tau uses the same tolerance (``potran.bench.tau``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["SCORE_DIM", "MIN_DIM", "WIDE_RATIO", "TIE_RTOL", "reduce_features", "scored_width",
           "tie_ranks"]

#: The benchmark's scored width: wider features are projected on this many principal components.
SCORE_DIM = 128
#: The automatic rule never reduces below this width (GBC, SA and NCTI project on 64 themselves).
MIN_DIM = 64
#: The automatic rule keeps at least this many labelled images per scored dimension.
WIDE_RATIO = 4
#: Scores equal to within this relative tolerance are ties.
TIE_RTOL = 1e-9


def reduce_features(X, G=None, dim: int = SCORE_DIM, always: bool = False):
    """Project ``X`` (N x D) and optionally ``G`` onto the top ``min(dim, D)`` principal
    components of X, centred by X's mean.

    Features with ``D <= dim`` are returned unchanged unless ``always`` (benchmark v3: the same
    centring and rotation for every model; with ``D <= dim`` all D components are kept).
    Components come from the eigenvectors of X's covariance (float64), each signed so that its
    largest-magnitude entry is positive, so the result is deterministic.

    Returns
    -------
    ndarray or (ndarray, ndarray)
        The projected X (float64), and the projected G when ``G`` is given.
    """
    X = np.asarray(X)
    if X.shape[1] <= dim and not always:
        return X if G is None else (X, np.asarray(G))
    dim = min(dim, X.shape[1])
    Xd = X.astype(np.float64)
    mean = Xd.mean(axis=0)
    Xc = Xd - mean
    _, vecs = np.linalg.eigh(Xc.T @ Xc)
    comps = vecs[:, ::-1][:, :dim]
    comps *= np.sign(comps[np.abs(comps).argmax(axis=0), np.arange(dim)])
    out = Xc @ comps
    if G is None:
        return out
    return out, (np.asarray(G, dtype=np.float64) - mean) @ comps


def scored_width(n: int, d: int, reduction="auto") -> int:
    """The width at which ``d``-dimensional features of ``n`` labelled images are scored.

    ``reduction``: ``"auto"`` (the rule of the module docstring), an integer >= 1 (reduce to it
    when wider), or None / False (never reduce). Returns ``d`` when the features stay as they are.
    """
    if reduction is None or reduction is False:
        return d
    if reduction == "auto":
        target = max(1, min(SCORE_DIM, max(MIN_DIM, n // WIDE_RATIO), n - 1))
    elif isinstance(reduction, (int, np.integer)) and not isinstance(reduction, bool) and reduction >= 1:
        target = int(reduction)
    else:
        raise ValueError(f"reduction must be 'auto', None or an integer >= 1, got {reduction!r}")
    return min(d, target)


def tie_ranks(scores, rtol: float = TIE_RTOL) -> np.ndarray:
    """Ranks of ``scores``, 1 the highest; scores equal to within ``rtol`` share the smallest rank
    (:func:`potran.evaluation.merge_ties`). NaN scores get rank 0 (unranked)."""
    from potran.evaluation import merge_ties  # scipy: imported when ranks are needed

    s = np.asarray(scores, dtype=np.float64)
    ranks = np.zeros(s.shape, dtype=np.int64)
    ok = np.isfinite(s)
    merged = merge_ties(s[ok], rtol)
    ranks[ok] = [1 + int(np.sum(merged > v)) for v in merged]
    return ranks
