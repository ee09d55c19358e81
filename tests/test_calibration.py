"""The statistics keep their promises on data whose truth is known.

Each test simulates data under a known truth and checks the property a reader relies on when the
library speaks: a test at level 0.05 rejects a true null at most 5 % of the time (the exact
sign-flip exactly at its attainable size), Holm's adjustment keeps the family-wise error, the
bootstrap p-value is calibrated, and the split-half reliability behind benchmark v3's inclusion rule
recovers the reliability of a ground truth built with a known amount of signal and noise. The
Monte Carlo tolerance of each rate is three binomial standard errors.
"""
from __future__ import annotations

import numpy as np
import pytest

from potran import stats

ALPHA = 0.05


def _mc_bound(rate: float, n: int) -> float:
    """Largest rejection rate consistent with ``rate`` over ``n`` simulations (3 standard errors)."""
    return rate + 3 * np.sqrt(rate * (1 - rate) / n)


@pytest.mark.parametrize("t", [5, 6, 8, 10])
def test_exact_sign_flip_rejects_a_true_null_at_its_attainable_size(t):
    """Under H0 (symmetric noise around 0) P(p <= 0.05) is the largest attainable size at or below
    0.05: with 2^t equally likely sign patterns, 2 * floor(0.05 * 2^t / 2) / 2^t (0 for t = 5)."""
    size = 2 * np.floor(ALPHA * 2 ** t / 2) / 2 ** t
    n = 6000
    values = np.random.default_rng(t).standard_t(3, size=(n, t))   # heavy-tailed, symmetric
    rejected = stats.sign_flip_rows(values) <= ALPHA
    assert size <= ALPHA
    assert abs(rejected.mean() - size) <= 3 * np.sqrt(max(size, 1 / n) * (1 - size) / n)
    if t == 5:                      # 5 units: 2 / 32 > 0.05, nothing can ever be rejected
        assert not rejected.any() and stats.sign_flip_rows(np.ones((1, 5)))[0] == pytest.approx(2 / 32)


def test_clustered_sign_flip_keeps_its_size_when_clusters_are_correlated():
    """Targets cut from one source share a random family effect: testing the targets as if they
    were independent rejects far too often; the per-family test keeps the size."""
    rng = np.random.default_rng(1)
    families = np.repeat(np.arange(8), 3)                         # 8 families of 3 targets
    n, naive, clustered = 1500, 0, 0
    for _ in range(n):
        v = rng.normal(0, 1, 8)[families] + rng.normal(0, 0.3, families.size)
        naive += stats.sign_flip(v, n_resamples=199, seed=0).p_value <= ALPHA
        clustered += stats.sign_flip_clustered(v, families).p_value <= ALPHA
    exact_size = 2 * np.floor(ALPHA * 2 ** 8 / 2) / 2 ** 8
    assert clustered / n <= _mc_bound(exact_size, n)
    assert naive / n > 2 * ALPHA                                  # the mistake the families avoid


def test_chance_test_keeps_its_size_against_a_random_scorer():
    """Scores independent of the ground truth: the permutation test against chance rejects at most
    5 % of the time (its p is at least 2 / (n_draws + 1) and conservative by construction)."""
    rng = np.random.default_rng(2)
    n, rejected = 400, 0
    for run in range(n):
        truths = [rng.normal(size=8) for _ in range(6)]
        scores = [rng.normal(size=8) for _ in range(6)]
        rejected += stats.chance_test(scores, truths, n_draws=199, seed=run).p_value <= ALPHA
    assert rejected / n <= _mc_bound(ALPHA, n)


def test_chance_test_has_power_against_an_informative_scorer():
    rng = np.random.default_rng(3)
    truths = [rng.normal(size=8) for _ in range(6)]
    scores = [g + rng.normal(0, 0.3, 8) for g in truths]
    assert stats.chance_test(scores, truths, n_draws=999, seed=0).p_value <= 0.002


@pytest.mark.parametrize("correlated", [False, True], ids=["independent", "correlated"])
def test_holm_keeps_the_family_wise_error(correlated):
    """Nine true nulls (the nine metrics of a Holm family): P(any adjusted p <= 0.05) <= 0.05,
    whether the tests are independent or share one source of noise (Holm needs no independence)."""
    rng = np.random.default_rng(4)
    n, m = 20000, 9
    z = rng.normal(size=(n, m))
    if correlated:
        z = 0.8 * rng.normal(size=(n, 1)) + 0.6 * z
    from scipy.stats import norm

    p = 2 * norm.sf(np.abs(z))                                   # exact p-values of true nulls
    adjusted = np.apply_along_axis(stats.holm, 1, p)
    assert (adjusted.min(axis=1) <= ALPHA).mean() <= _mc_bound(ALPHA, n)
    raw_fwer = (p.min(axis=1) <= ALPHA).mean()
    assert not correlated or raw_fwer > ALPHA                   # unadjusted, the family errs more


def test_holm_is_uniformly_more_powerful_than_bonferroni():
    p = np.random.default_rng(5).random((2000, 6)) ** 3
    adjusted = np.apply_along_axis(stats.holm, 1, p)
    assert (adjusted <= np.minimum(1, 6 * p) + 1e-15).all() and (adjusted >= p - 1e-15).all()


def test_bootstrap_p_value_is_calibrated_for_a_mean():
    """The percentile-bootstrap p of :func:`potran.stats.bootstrap` for a mean of 40 normal values
    (replicates from resampling the values) rejects a true null near 5 % of the time."""
    rng = np.random.default_rng(6)
    n, rejected = 600, 0
    for _ in range(n):
        v = rng.normal(size=40)
        reps = v[rng.integers(0, 40, (400, 40))].mean(axis=1)
        res = stats.bootstrap(v.mean(), reps, comparison="mean", resampled="values", population="toy")
        rejected += res.p_value <= ALPHA
    # the percentile bootstrap of a mean is slightly liberal at n = 40 (its intervals are narrow by
    # sqrt((n - 1) / n) and ignore the t tails): about 6 %, never 10 %
    assert rejected / n <= _mc_bound(0.07, n)
    assert rejected / n >= 0.02


def _spearman_of_pearson(r: float) -> float:
    """Spearman correlation of a bivariate normal pair with Pearson correlation r."""
    return 6 / np.pi * np.arcsin(r / 2)


@pytest.mark.parametrize("sd_true", [0.03, 0.06])
def test_split_half_reliability_recovers_a_known_reliability(sd_true):
    """Models with true accuracies of spread ``sd_true``, two runs each with a run offset of sd 0.02,
    N Bernoulli test images: one half of run a against the other half of run b correlates with
    r = s_t^2 / (s_t^2 + s_run^2 + p(1 - p) / (N / 2)), and the reliability of the whole ground truth
    (both runs, all images) is its Spearman-Brown step-up. The estimator ranks (Spearman), so its
    expectation is the Spearman-Brown of the Spearman correlation of r."""
    rng = np.random.default_rng(7)
    m, k, n, sd_run, p0 = 1500, 2, 2000, 0.02, 0.7
    true = p0 + sd_true * rng.normal(size=m)
    acc = np.clip(true[:, None] + sd_run * rng.normal(size=(m, k)), 0, 1)
    correct = rng.random((m, k, n)) < acc[:, :, None]
    r = sd_true ** 2 / (sd_true ** 2 + sd_run ** 2 + p0 * (1 - p0) / (n / 2))
    rs = _spearman_of_pearson(r)
    expected = 2 * rs / (1 + rs)
    got = stats.split_half_reliability(correct, n_splits=20, seed=0)
    assert got["reliability"] == pytest.approx(expected, abs=0.03)     # 1500 models: sampling sd ~0.01
    assert got["r"] == pytest.approx(rs, abs=0.03)


def test_split_half_reliability_is_near_zero_without_signal():
    rng = np.random.default_rng(8)
    correct = rng.random((300, 2, 1000)) < 0.6                    # every model equally good
    assert abs(stats.split_half_reliability(correct, n_splits=20)["r"]) < 0.05


def test_crossed_bootstrap_pairs_the_test_images_across_models():
    """Model b is right wherever model a is, and on 10 more images; the scores rank b above a. With the
    test images redrawn once per replicate for both models, b's accuracy never falls below a's, so the
    replicate tau_w is never -1 (an unpaired redraw would invert them in a fair share of replicates)."""
    rng = np.random.default_rng(12)
    a = rng.random(200) < 0.7
    b = a.copy()
    b[np.flatnonzero(~a)[:10]] = True
    correct = np.stack([a, b])[:, None, :].astype(float)          # (M=2, K=1, N)
    accs = correct.mean(axis=2)
    _, reps = stats.crossed_bootstrap({"right": [np.array([0.0, 1.0])]}, [accs[:, 0]], [accs],
                                      image_correct=[correct], n_boot=400, seed=0)
    finite = reps["right"][np.isfinite(reps["right"])]
    assert finite.size > 0 and (finite > -1).all()
