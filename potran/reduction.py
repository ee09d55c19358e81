"""The scoring protocol every ranking shares: the width rule (principal components of wide
features) and the tie rule (scores equal to within a relative tolerance); why: book/api/selection.md.
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
    """Project ``X`` (N x D), and ``G`` when given (then a pair is returned), on the top
    ``min(dim, D)`` principal components of X (float64, centred by X's mean, each component signed
    so that its largest-magnitude entry is positive). ``D <= dim`` is returned unchanged unless
    ``always`` (benchmark v3)."""
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
    """The width at which ``d``-dimensional features of ``n`` labelled images are scored (``d``:
    as they are). ``reduction``: ``"auto"``, ``min(SCORE_DIM, max(MIN_DIM, n // WIDE_RATIO), n - 1)``
    (at least 1) when wider; an integer >= 1, it when wider; None / False, never reduce."""
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
