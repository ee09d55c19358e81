"""Every interval and test of potran: one engine, small frozen results in scipy.stats style.

Which function answers which question about a benchmark: book/api/stats.md; why: the book's
method page, section "Statistics".
"""
from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats as sps

__all__ = ["Result", "weighted_tau_rows", "sign_flip", "chance_test", "crossed_bootstrap",
           "bootstrap", "holm", "reliability", "noise_ceiling", "redraw_truth",
           "sign_flip_rows", "sign_flip_clustered", "sign_flip_inversion", "split_half_reliability",
           "EXACT_MAX_TARGETS"]

#: Up to this many values the sign-flip test enumerates every sign pattern.
EXACT_MAX_TARGETS = 16


@dataclass(frozen=True)
class Result:
    """One estimate with its interval and test, in the style of scipy.stats results.

    Attributes
    ----------
    comparison : str
        What is estimated, e.g. ``"gbc+PED - gbc"`` or ``"logme vs chance"``.
    estimate, low, high, p_value, min_p : float
        The estimate, its interval (NaN where the test gives none), the two-sided p of the test's
        null (NaN without a test) and the smallest p the test can give here (e.g. 2 / 2^T).
    test, resampled, population : str
        The test's name as the pages cite it; what was resampled or permuted; which population
        the interval and p speak of.
    level : float
        Coverage of the interval (default 0.95).
    n : int
        Independent units (targets for :func:`sign_flip`, replicates otherwise).
    distribution : numpy.ndarray
        Null draws, sign-flip means or bootstrap replicates.
    """

    comparison: str
    estimate: float
    low: float
    high: float
    p_value: float
    test: str
    resampled: str
    population: str
    level: float = 0.95
    min_p: float = float("nan")
    n: int = 0
    distribution: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)

    def record(self) -> dict:
        """The result as a flat dict (no distribution), for tables and ``--json``."""
        return {k: getattr(self, k) for k in ("comparison", "estimate", "low", "high", "p_value", "test",
                                              "min_p", "n", "level", "resampled", "population")}


def _singular(units: str) -> str:
    """"targets" -> "target", "families" -> "family"."""
    return units[:-3] + "y" if units.endswith("ies") else units[:-1]


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


def weighted_tau_rows(x, y, valid=None) -> np.ndarray:
    """:func:`scipy.stats.weightedtau` (defaults: hyperbolic additive weights, rank=True) per row.

    Parameters
    ----------
    x, y : array_like, shape (B, n) or (n,)
        Scores and ground truths, broadcast against each other.
    valid : array_like of bool, optional
        The entries that take part (default all).

    Returns
    -------
    numpy.ndarray, shape (B,)
        tau_w of each row; NaN where a row's valid x or y are all equal (as scipy).

    Notes
    -----
    tau_w is the sum over pairs i < j of w_ij sgn(x_i - x_j) sgn(y_i - y_j) over sqrt(W_x W_y),
    w_ij = 1/(r_i + 1) + 1/(r_j + 1), r the 0-based rank in decreasing lexicographic order of (x, y),
    W_x (W_y) the summed weight of the pairs not tied in x (y); averaged with the same for the roles
    of x and y exchanged (Vigna 2015; scipy's implementation).
    """
    x, y = np.broadcast_arrays(np.atleast_2d(np.asarray(x, float)), np.atleast_2d(np.asarray(y, float)))
    ok = np.ones(x.shape, bool) if valid is None else np.broadcast_to(np.atleast_2d(valid), x.shape)
    chunk = max(1, 2_000_000 // x.shape[1] ** 2)        # bounded memory: B x n x n per chunk
    if len(x) > chunk:
        return np.concatenate([_weighted_tau_block(x[i:i + chunk], y[i:i + chunk], ok[i:i + chunk])
                               for i in range(0, len(x), chunk)])
    return _weighted_tau_block(x, y, ok)


def _weighted_tau_block(x: np.ndarray, y: np.ndarray, ok: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    keep = ok[:, :, None] & ok[:, None, :] & np.triu(np.ones((n, n), bool), 1)   # valid pairs i < j
    sx = np.sign(x[:, :, None] - x[:, None, :])
    sy = np.sign(y[:, :, None] - y[:, None, :])
    taus = []
    for first, second in ((x, y), (y, x)):
        order = np.lexsort((second, first, ok), axis=-1)[:, ::-1]   # invalid entries last
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(n)[None, :].repeat(len(order), 0), axis=-1)
        h = 1.0 / (rank + 1.0)
        w = (h[:, :, None] + h[:, None, :]) * keep
        wx = (w * (sx != 0)).sum((1, 2))
        wy = (w * (sy != 0)).sum((1, 2))
        num = (w * sx * sy).sum((1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            taus.append(np.where((wx > 0) & (wy > 0), num / np.sqrt(wx * wy), np.nan))
    return (taus[0] + taus[1]) / 2


def _two_sided(null: np.ndarray, observed, exact: bool):
    """Two-sided p, twice the smaller tail (+1 for Monte Carlo), of a scalar ``observed`` in
    ``null`` (n,), or of each observed value (B,) in its null row (B, n)."""
    rows = np.atleast_2d(null)
    obs = np.atleast_1d(np.asarray(observed, float))[:, None]
    tol = 1e-12 * np.maximum(1.0, np.abs(obs))
    tail = np.minimum((rows >= obs - tol).sum(1), (rows <= obs + tol).sum(1))
    n = rows.shape[1]
    p = np.minimum(1.0, 2 * tail / n if exact else 2 * (tail + 1) / (n + 1))
    return float(p[0]) if np.ndim(observed) == 0 else p


@functools.cache
def _sign_patterns(t: int) -> np.ndarray:
    """Every one of the 2^t sign patterns, a read-only (2^t, t) array of +-1."""
    signs = 1 - 2 * np.array(list(np.ndindex(*(2,) * t)), float)
    signs.setflags(write=False)
    return signs


def sign_flip(values, *, comparison: str = "mean", level: float = 0.95, n_resamples: int = 9999,
              seed: int = 0, units: str = "targets", interval: str = "t") -> Result:
    """Exact sign-flip test and interval of the mean of per-unit values (H0: mean 0).

    The values (per-target tau_w, or paired differences) are the independent units: the result
    speaks of other targets like these, with these models. Up to :data:`EXACT_MAX_TARGETS` values
    all 2^T sign patterns (the null of :func:`scipy.stats.permutation_test` with
    ``permutation_type="samples"``, as one matrix product; smallest p 2 / 2^T), beyond
    ``n_resamples`` random ones. The interval: ``"t"``, Student's on T - 1 df; ``"inversion"``
    (exact only), :func:`sign_flip_inversion` (unbounded when 2 / 2^T >= 1 - level).

    ValueError for fewer than 2 values, non-finite ones, an unknown ``interval``, or
    ``"inversion"`` beyond :data:`EXACT_MAX_TARGETS` values.
    """
    _check_level(level)
    if interval not in ("t", "inversion"):
        raise ValueError(f"interval must be 't' or 'inversion', got {interval!r}")
    v = np.asarray(values, float).ravel()
    if v.size < 2:
        raise ValueError(f"the sign-flip test needs at least 2 {units}, got {v.size}")
    if not np.isfinite(v).all():
        raise ValueError(f"non-finite per-{_singular(units)} values: {v}")
    t = v.size
    exact = t <= EXACT_MAX_TARGETS
    if exact:                                  # every pattern: the mean of v flipped by each
        null = _sign_patterns(t) @ v / t
    else:
        null = np.asarray(sps.permutation_test(
            (v,), lambda a, axis: np.mean(a, axis=axis), vectorized=True, permutation_type="samples",
            alternative="two-sided", n_resamples=n_resamples, random_state=seed).null_distribution)
    est = float(v.mean())
    p = _two_sided(null, est, exact)
    name = (f"exact sign-flip over {t} {units} (all {2 ** t} patterns)" if exact
            else f"Monte Carlo sign-flip over {t} {units} ({n_resamples} patterns)")
    if interval == "inversion":
        if not exact:
            raise ValueError(f"the inversion interval needs the exact test (at most {EXACT_MAX_TARGETS} "
                             f"{units}), got {t}")
        low, high = sign_flip_inversion(v, level)
        name += "; interval by inverting the sign-flip test"
    else:
        half = sps.t.ppf(0.5 + level / 2, t - 1) * float(v.std(ddof=1)) / np.sqrt(t)
        low, high = est - half, est + half
        name += f"; t-interval, {t - 1} df"
    return Result(comparison, est, low, high, p, name,
                  f"signs of the per-{_singular(units)} values", f"other {units} like these, same models",
                  level, 2.0 / 2 ** t if exact else 2.0 / (n_resamples + 1), t, null)


def sign_flip_inversion(values, level: float = 0.95) -> tuple[float, float]:
    """The interval of every mu that the exact two-sided sign-flip test of ``values - mu`` keeps
    (p >= 1 - level), by Hartigan's subset means (derivation: book/api/stats.md); at most
    :data:`EXACT_MAX_TARGETS` finite values; (-inf, inf) when 2 / 2^T >= 1 - level."""
    _check_level(level)
    v = np.asarray(values, float).ravel()
    if not 1 <= v.size <= EXACT_MAX_TARGETS or not np.isfinite(v).all():
        raise ValueError(f"the inversion needs 1 to {EXACT_MAX_TARGETS} finite values, got {v}")
    flipped = _sign_patterns(v.size) < 0
    k = flipped.sum(1)
    means = np.sort((flipped[k > 0] @ v) / k[k > 0])
    j = int(np.ceil((1 - level) * 2 ** (v.size - 1) - 1e-9)) - 1
    if j <= 0:
        return float("-inf"), float("inf")
    return float(means[j - 1]), float(means[len(means) - j])


def sign_flip_rows(values) -> np.ndarray:
    """The exact :func:`sign_flip` p-value of every row of ``values`` (B, T), 2 <= T <=
    :data:`EXACT_MAX_TARGETS`: simulations that apply the test thousands of times."""
    v = np.atleast_2d(np.asarray(values, float))
    t = v.shape[1]
    if not 2 <= t <= EXACT_MAX_TARGETS:
        raise ValueError(f"sign_flip_rows enumerates 2 to {EXACT_MAX_TARGETS} values a row, got {t}")
    if not np.isfinite(v).all():
        raise ValueError("non-finite values")
    signs = _sign_patterns(t)
    out = np.empty(len(v))
    chunk = max(1, 4_000_000 // len(signs))
    for i in range(0, len(v), chunk):
        block = v[i:i + chunk]
        out[i:i + chunk] = _two_sided(block @ signs.T / t, block.mean(axis=1), exact=True)
    return out


def sign_flip_clustered(values, clusters, *, comparison: str = "mean", level: float = 0.95,
                        n_resamples: int = 9999, seed: int = 0, units: str = "families",
                        interval: str = "t") -> Result:
    """Two-stage sign-flip test with the cluster as a random effect.

    The values (e.g. per-target tau_w) are averaged within each cluster (e.g. the targets cut
    from one source) and :func:`sign_flip` tests the cluster means, which it also averages: each
    cluster counts once, so several variants of one source do not pass for independent evidence.
    ValueError for ``values`` and ``clusters`` of different lengths, non-finite values, or fewer
    than 2 clusters.
    """
    v = np.asarray(values, float).ravel()
    c = np.asarray(clusters).ravel()
    if v.shape != c.shape:
        raise ValueError(f"{v.size} values but {c.size} cluster labels")
    if not np.isfinite(v).all():
        raise ValueError(f"non-finite values: {v}")
    names, inverse = np.unique(c, return_inverse=True)
    means = np.bincount(inverse, weights=v) / np.bincount(inverse)
    res = sign_flip(means, comparison=comparison, level=level, n_resamples=n_resamples, seed=seed,
                    units=units, interval=interval)
    unit = _singular(units)
    return replace(res, test=f"{res.test}; per-{unit} means of {v.size} values",
                   resampled=f"signs of the per-{unit} means (values averaged within each)")


def chance_test(score_rows: Sequence[np.ndarray], truths: Sequence[np.ndarray], *,
                comparison: str = "vs chance", n_draws: int = 2000, seed: int = 0,
                level: float = 0.95) -> Result:
    """Permutation test of a mean tau_w over targets against the random scorer.

    Parameters
    ----------
    score_rows : sequence of arrays
        Per target, its models' scores (NaN = not scored), or None for a scorer with distinct
        scores (published tau_w: only the ground truth is known).
    truths : sequence of arrays
        Per target, the same models' ground truth.
    n_draws, seed : int, default 2000 and 0
        Random orders per target (draw i of every target makes null mean i) and their seed.

    Returns
    -------
    Result
        ``estimate`` the observed mean tau_w (NaN without scores); ``low``/``high`` the central
        ``level`` band of the null mean (where chance falls); two-sided ``p_value``, at least
        2 / (n_draws + 1); ``distribution`` the null means.
    """
    _check_level(level)
    rng = np.random.default_rng(seed)
    observed, null = [], []
    for scores, truth in zip(score_rows, truths):
        g = np.asarray(truth, float)
        s = np.arange(g.size, dtype=float) if scores is None else np.asarray(scores, float)
        ok = np.isfinite(s) & np.isfinite(g)
        s, g = s[ok], g[ok]
        if scores is not None:
            observed.append(weighted_tau_rows(s, g)[0])
        perm = np.argsort(rng.random((n_draws, s.size)), axis=1)
        null.append(weighted_tau_rows(s[perm], g))
    null_mean = np.nanmean(np.vstack(null), axis=0)
    est = float(np.nanmean(observed)) if observed else float("nan")
    lo, hi = np.quantile(null_mean, [0.5 - level / 2, 0.5 + level / 2])
    p = _two_sided(null_mean, est, exact=False) if np.isfinite(est) else float("nan")
    return Result(comparison, est, float(lo), float(hi), p,
                  f"permutation test vs the random scorer ({n_draws} draws)",
                  "the order of the scores on each target",
                  "these targets and models: could a random ranking do as well?",
                  level, 2.0 / (n_draws + 1), n_draws, null_mean)


def crossed_bootstrap(score_rows: dict, truths: Sequence[np.ndarray], seed_accs=None, *,
                      image_correct=None, n_boot: int = 1000, seed: int = 0) -> tuple[dict, dict]:
    """Bootstrap replicates of the mean tau_w over targets, respecting the crossed design: each
    replicate draws one resample of the M models shared by every target.

    Parameters
    ----------
    score_rows : dict
        ``{key: per-target score arrays}``, each (M,) in one common model order (NaN = not scored).
    truths : sequence of arrays (M,)
        Per target, the ground truth (NaN where missing).
    seed_accs : sequence of arrays (M, K), optional
        Per target, the per-seed accuracies (NaN-padded); each replicate redraws every cell's
        seeds (:func:`redraw_truth`). Default: the ground truth held fixed.
    image_correct : sequence, optional
        Per target, None or the (M, K, N) per-image test correctness (1/0, NaN where missing);
        each replicate then also redraws the N test images, **one draw shared by every model and
        seed** (their noise is paired). Needs ``seed_accs``.
    n_boot, seed : int, default 1000 and 0
        Replicates; the seed of ``numpy.random.default_rng``.

    Returns
    -------
    estimate, replicates : dict
        ``{key: mean tau_w over targets}`` on the full data; ``{key: array (n_boot,)}``, every key
        on the same replicates (so differences are paired).
    """
    if image_correct is not None and seed_accs is None:
        raise ValueError("image_correct needs seed_accs (the per-seed accuracies of the same cells)")
    rng = np.random.default_rng(seed)
    n_models = len(truths[0])
    idx = rng.integers(0, n_models, (n_boot, n_models))
    if seed_accs is None:
        truth_b = [np.asarray(g, float)[idx] for g in truths]
    else:
        correct = [None] * len(truths) if image_correct is None else image_correct
        truth_b = [np.take_along_axis(redraw_truth(seed_accs[t], correct[t], n_boot, rng), idx, axis=1)
                   for t in range(len(truths))]
    estimate, replicates = {}, {}
    for key, rows in score_rows.items():
        full, boot = [], []
        for s, g, gb in zip(rows, truths, truth_b):
            s, g = np.asarray(s, float), np.asarray(g, float)
            full.append(weighted_tau_rows(s, g, np.isfinite(s) & np.isfinite(g))[0])
            sb = s[idx]
            boot.append(weighted_tau_rows(sb, gb, np.isfinite(sb) & np.isfinite(gb)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            estimate[key] = float(np.nanmean(full))
            replicates[key] = np.nanmean(np.vstack(boot), axis=0)
    return estimate, replicates


def redraw_truth(seed_accs, image_correct, n_boot: int, rng) -> np.ndarray:
    """Replicates (n_boot, M) of one target's ground truth: each cell's seeds of ``seed_accs``
    (M, K, NaN-padded) drawn with replacement and averaged; with ``image_correct`` (M, K, N, or
    None) the N test images too, one draw per replicate for every model and seed."""
    a = np.asarray(seed_accs, float)                     # (M, K)
    n_models = a.shape[0]
    k = np.isfinite(a).sum(axis=1)                       # seeds per model
    pick = np.floor(rng.random((n_boot, n_models, a.shape[1])) * k[None, :, None]).astype(int)
    per_seed = np.broadcast_to(a, (n_boot, *a.shape))
    if image_correct is not None:                        # accuracies on redrawn test images
        c = np.asarray(image_correct, float)
        n = c.shape[2]
        counts = np.zeros((n_boot, n))
        np.add.at(counts, (np.arange(n_boot)[:, None], rng.integers(0, n, (n_boot, n))), 1.0)
        acc = (counts @ np.where(np.isfinite(c), c, 0).reshape(-1, n).T / n).reshape(n_boot, *c.shape[:2])
        per_seed = np.where(np.isfinite(c).all(axis=2)[None], acc, a[None])  # no records: fixed
    drawn = np.take_along_axis(per_seed, pick, axis=2)
    mask = np.arange(a.shape[1])[None, None, :] < k[None, :, None]
    with np.errstate(invalid="ignore"):
        means = np.where(mask, drawn, 0).sum(2) / np.maximum(k, 1)[None, :]
    means[:, k == 0] = np.nan
    return means


def bootstrap(estimate: float, replicates: np.ndarray, *, comparison: str, resampled: str,
              population: str, level: float = 0.95, null: float = 0.0) -> Result:
    """Percentile interval and two-sided bootstrap p (H0: value = ``null``) from replicates.

    The p-value is twice the smaller share of replicates on either side of ``null``
    (at least 2 / (n + 1)); non-finite replicates are dropped.
    """
    _check_level(level)
    r = np.asarray(replicates, float)
    r = r[np.isfinite(r)]
    if r.size == 0:
        raise ValueError(f"no finite bootstrap replicate for {comparison}")
    lo, hi = np.quantile(r, [0.5 - level / 2, 0.5 + level / 2])
    p = float(min(1.0, 2 * (min(np.sum(r <= null), np.sum(r >= null)) + 1) / (r.size + 1)))
    return Result(comparison, float(estimate), float(lo), float(hi), p,
                  f"percentile bootstrap ({r.size} replicates)", resampled, population, level,
                  2.0 / (r.size + 1), int(r.size), r)


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error); NaN entries stay NaN."""
    p = np.asarray(p_values, float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    out[order] = np.maximum.accumulate(np.minimum(1.0, (len(order) - np.arange(len(order))) * p[order]))
    return out


def split_half_reliability(correct, *, n_splits: int = 100, seed: int = 0) -> dict:
    """Split-half reliability of a ranking of models from per-image test correctness.

    Per pair of runs a < b (one run: itself) and per random halving of the N test images, run a
    is scored on one half and run b on the other (both noises enter); ``r`` is the Spearman
    correlation of the M models' two accuracies, averaged, and the reliability of the whole
    measure is the Spearman-Brown ``2 r / (1 + r)`` (benchmark v3's inclusion rule,
    data/bench_v3/README.md).

    Parameters
    ----------
    correct : array (M, K, N)
        1/0 (or bool) correctness of each model's K runs on the same N test images; ValueError
        if not 3-D, with fewer than 3 models or 2 images, or non-finite entries.
    n_splits, seed : int, default 100 and 0
        Halvings, drawn by ``numpy.random.default_rng(seed)``.

    Returns
    -------
    dict
        ``r`` (mean split-half Spearman), ``reliability`` (Spearman-Brown), ``n_pairs``,
        ``n_splits``.
    """
    x = np.asarray(correct, float)
    if x.ndim != 3 or x.shape[0] < 3 or x.shape[2] < 2:
        raise ValueError(f"correct must be (models >= 3, runs, images >= 2), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("correct has missing (non-finite) entries: every model needs every run")
    m, k, n = x.shape
    rng = np.random.default_rng(seed)
    half = np.argsort(rng.random((n_splits, n)), axis=1) < n // 2      # (S, N) first half
    h1, h2 = half.astype(float), (~half).astype(float)  # counts (exact) rank as accuracies do
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)] or [(0, 0)]
    rs = []
    for a, b in pairs:
        ra = sps.rankdata(x[:, a] @ h1.T, axis=0)                          # (M, S) ranks
        rb = sps.rankdata(x[:, b] @ h2.T, axis=0)
        ra, rb = ra - ra.mean(0), rb - rb.mean(0)
        with np.errstate(invalid="ignore", divide="ignore"):                # Spearman per halving
            rs.append((ra * rb).sum(0) / np.sqrt((ra ** 2).sum(0) * (rb ** 2).sum(0)))
    r = float(np.nanmean(rs))
    return {"r": r, "reliability": 2 * r / (1 + r), "n_pairs": len(pairs), "n_splits": n_splits}


def noise_ceiling(reliability_k: float, n_models: int, *, n_draws: int = 4000,
                  seed: int = 0) -> tuple[float, float]:
    """``(replicate, perfect)``: the expected tau_w against a ground truth of this reliability
    of a metric as good as another fine-tuning run (two independent measured ground truths) and
    of a perfect one (true accuracies vs measured). Simulated with ``n_models`` true accuracies of
    unit variance and measurement noise of variance (1 - R_k) / R_k; means, not bounds.
    """
    r = float(np.clip(reliability_k, 0.0, 1.0))
    if r == 1.0:
        return 1.0, 1.0
    rng = np.random.default_rng(seed)
    n_draws = max(100, min(n_draws, 20_000_000 // n_models ** 2))
    true = rng.normal(size=(n_draws, n_models))
    sd = np.sqrt((1 - r) / r) if r > 0 else 1e6
    a = true + sd * rng.normal(size=true.shape)
    b = true + sd * rng.normal(size=true.shape)
    return float(np.mean(weighted_tau_rows(b, a))), float(np.mean(weighted_tau_rows(true, a)))


def reliability(seed_accs: np.ndarray, n_test) -> dict:
    """Reliability of one target's k-seed mean ground truth.

    Parameters
    ----------
    seed_accs : array (M, K)
        Per model, its per-seed test accuracies (fraction correct; NaN-padded).
    n_test : int or array (M,)
        Test images of each model's cell (the binomial test noise).

    Returns
    -------
    dict
        ``n_models``; ``n_seeds`` (the most of a model); ``spread`` (sd of the models' mean
        accuracies); ``seed_noise`` (rms over models of seed sd / sqrt(k)); ``test_noise`` (rms
        binomial SE sqrt(p(1-p)/n_test), the noise of one test set, shared by the seeds);
        ``noise`` (both); ``ratio``, ``ratio_seed``, ``ratio_test`` (spread over each noise);
        ``reliability_1`` (one seed); ``reliability`` (the k-seed mean, Spearman-Brown
        k r1 / (1 + (k - 1) r1): seed noise only, the test images held fixed as the metrics are
        scored against them); ``reliability_new_test`` (on a new test set: test noise too);
        ``ceiling_low``/``ceiling_high`` (:func:`noise_ceiling` of ``reliability``).
    """
    a = np.asarray(seed_accs, float)
    k_each = np.isfinite(a).sum(axis=1)
    keep = k_each > 0
    a, k_each = a[keep], k_each[keep]
    n_test = np.broadcast_to(np.asarray(n_test, float), keep.shape)[keep]
    mean = np.nanmean(a, axis=1)
    k = float(np.mean(k_each))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        seed_var = np.where(k_each > 1, np.nanvar(a, axis=1, ddof=1), np.nan)
    seed_var_1 = float(np.nanmean(seed_var)) if np.isfinite(seed_var).any() else float("nan")
    test_var = float(np.mean(mean * (1 - mean) / n_test))
    spread = float(np.std(mean, ddof=1)) if mean.size > 1 else float("nan")
    seed_noise = float(np.sqrt(np.nanmean(seed_var / k_each))) if np.isfinite(seed_var_1) else float("nan")
    true_var = max(spread ** 2 - seed_var_1 / k, 0.0) if np.isfinite(seed_var_1) else float("nan")
    r1 = true_var / (true_var + seed_var_1) if np.isfinite(true_var) and true_var + seed_var_1 > 0 \
        else float("nan")
    rk = k * r1 / (1 + (k - 1) * r1) if np.isfinite(r1) else float("nan")
    r_new = true_var / (true_var + seed_var_1 / k + test_var) if np.isfinite(true_var) else float("nan")
    low, high = noise_ceiling(rk, int(mean.size)) if np.isfinite(rk) else (float("nan"), float("nan"))
    test_noise = float(np.sqrt(test_var))
    noise = float(np.sqrt(seed_noise ** 2 + test_var)) if np.isfinite(seed_noise) else test_noise
    with np.errstate(divide="ignore", invalid="ignore"):    # identical seeds: no seed noise, ratio inf
        ratio, ratio_seed, ratio_test = (float(np.float64(spread) / x)
                                         for x in (noise, seed_noise, test_noise))
    return {"n_models": int(mean.size), "n_seeds": int(k_each.max()) if k_each.size else 0,
            "spread": spread, "seed_noise": seed_noise, "test_noise": test_noise, "noise": noise,
            "ratio": ratio, "ratio_seed": ratio_seed, "ratio_test": ratio_test,
            "reliability_1": r1, "reliability": rk, "reliability_new_test": r_new,
            "ceiling_low": low, "ceiling_high": high}
