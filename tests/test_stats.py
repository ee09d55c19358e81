"""potran.stats: exact tests on enumerable cases, agreement with scipy, interval coverage."""
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from potran import evaluation as ev
from potran import stats
from potran.bench import finetuned, readme, report, significance
from potran.bench import paper_analysis as pa
from potran.bench.intervals import compare, tau_intervals

# --- weighted tau, row by row ---------------------------------------------------------------------

def test_weighted_tau_rows_is_scipys_weightedtau_with_ties_and_masks():
    rng = np.random.default_rng(0)
    for n in (2, 3, 7, 16):
        x = rng.integers(0, 3, (60, n)).astype(float)
        y = np.where(rng.random((60, n)) < 0.5, rng.integers(0, 4, (60, n)), rng.random((60, n)))
        got = stats.weighted_tau_rows(x, y)
        want = np.array([sps.weightedtau(a, b).statistic for a, b in zip(x, y)])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)  # NaN where scipy gives NaN
    x, y = rng.random(10), rng.random(10)
    keep = np.ones(10, bool)
    keep[[1, 6]] = False
    assert stats.weighted_tau_rows(x, y, keep)[0] == pytest.approx(
        sps.weightedtau(x[keep], y[keep]).statistic, abs=1e-14)


# --- sign-flip test -------------------------------------------------------------------------------

def _enumerated_p(v):
    """Two-sided sign-flip p by listing every sign pattern by hand."""
    means = np.array([np.mean(np.array(s) * v) for s in itertools.product((1, -1), repeat=len(v))])
    obs = v.mean()
    return min(1.0, 2 * min(np.mean(means >= obs - 1e-12), np.mean(means <= obs + 1e-12)))


@pytest.mark.parametrize("values", [[0.3, 0.1, 0.2, 0.5], [0.3, -0.1, 0.2, 0.5, -0.05],
                                    [1.0, 2.0, -3.0, 0.5, 0.25, -0.75, 2.5]])
def test_sign_flip_is_the_enumerated_exact_test(values):
    v = np.asarray(values)
    res = stats.sign_flip(v)
    assert res.p_value == pytest.approx(_enumerated_p(v), abs=1e-12)
    assert res.min_p == 2 / 2 ** len(v) and res.n == len(v)
    assert len(res.distribution) == 2 ** len(v)
    assert "exact sign-flip" in res.test


def test_sign_flip_smallest_p_and_t_interval():
    four = stats.sign_flip([0.4, 0.5, 0.6, 0.7])        # every target positive
    assert four.p_value == 0.125 == four.min_p            # T = 4 cannot go lower
    ten = stats.sign_flip(np.linspace(0.1, 0.4, 10))
    assert ten.p_value == pytest.approx(2 / 1024)
    v = np.array([0.1, -0.2, 0.35, 0.05, 0.3])
    ci = sps.ttest_1samp(v, 0).confidence_interval(0.9)
    res = stats.sign_flip(v, level=0.9)
    assert (res.low, res.high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    with pytest.raises(ValueError, match="at least 2 targets"):
        stats.sign_flip([0.3])
    with pytest.raises(ValueError, match="non-finite"):
        stats.sign_flip([0.3, np.nan])
    with pytest.raises(ValueError, match="level"):
        stats.sign_flip([0.3, 0.2], level=1.5)


def test_sign_flip_monte_carlo_beyond_the_exact_limit():
    rng = np.random.default_rng(1)
    v = rng.normal(0.05, 1, stats.EXACT_MAX_TARGETS + 4)
    res = stats.sign_flip(v, n_resamples=4000, seed=2)
    assert "Monte Carlo" in res.test and len(res.distribution) == 4000
    ref = sps.ttest_1samp(v, 0).pvalue          # the t-test and the sign-flip test agree closely
    assert abs(res.p_value - ref) < 0.05


# --- the chance test ------------------------------------------------------------------------------

def test_chance_test_agrees_with_scipys_exact_permutation_test():
    rng = np.random.default_rng(3)
    g = rng.random(5)
    s = g + rng.normal(0, 0.15, 5)
    exact = sps.permutation_test((s, g), lambda a, b, axis: stats.weighted_tau_rows(a, b),
                                 permutation_type="pairings", n_resamples=np.inf, vectorized=True)
    assert exact.statistic == pytest.approx(sps.weightedtau(s, g).statistic)
    res = stats.chance_test([s], [g], n_draws=20000, seed=4)
    assert res.estimate == pytest.approx(sps.weightedtau(s, g).statistic)
    assert res.p_value == pytest.approx(exact.pvalue, abs=0.01)
    assert res.min_p == pytest.approx(2 / 20001)


def test_chance_test_keeps_the_metrics_ties_and_averages_targets():
    rng = np.random.default_rng(5)
    truths = [rng.random(8) for _ in range(3)]
    tied = [np.repeat([1.0, 2.0], 4) for _ in truths]   # two groups of tied scores
    res = stats.chance_test(tied, truths, n_draws=500, seed=0)
    one = [stats.weighted_tau_rows(np.random.default_rng(0).permutation(t), g)[0]
           for t, g in zip(tied, truths)]
    assert np.isfinite(one).all()
    # every null draw uses the metric's own two tie groups: per target only C(8, 4) = 70 values
    per_target = stats.chance_test([tied[0]], [truths[0]], n_draws=500, seed=0).distribution
    assert len(np.unique(np.round(per_target, 12))) <= 70
    assert res.low < 0 < res.high and len(res.distribution) == 500


# --- bootstraps -----------------------------------------------------------------------------------

def test_model_bootstrap_agrees_with_scipy_bootstrap():
    rng = np.random.default_rng(6)
    s = np.arange(14.0)
    g = s + rng.normal(0, 4, 14)
    ours = ev.bootstrap_ci(s, g, n_boot=6000, seed=0)
    ref = sps.bootstrap((s, g), lambda a, b: sps.weightedtau(a, b).statistic, paired=True,
                        vectorized=False, n_resamples=6000, method="percentile", random_state=1)
    assert ours.low == pytest.approx(ref.confidence_interval.low, abs=0.04)
    assert ours.high == pytest.approx(ref.confidence_interval.high, abs=0.04)


def test_crossed_bootstrap_one_model_draw_for_all_targets():
    rng = np.random.default_rng(7)
    truths = [rng.random(10) for _ in range(3)]
    scores = {"a": [g + rng.normal(0, 0.2, 10) for g in truths]}
    scores["same"] = [s.copy() for s in scores["a"]]
    est, reps = stats.crossed_bootstrap(scores, truths, n_boot=300, seed=0)
    np.testing.assert_array_equal(reps["a"], reps["same"])      # same replicates for every key
    assert est["a"] == pytest.approx(np.mean([sps.weightedtau(s, g).statistic
                                              for s, g in zip(scores["a"], truths)]))
    # one target, ground truth fixed: the model bootstrap of scipy
    one = {"a": [scores["a"][0]]}
    _, r1 = stats.crossed_bootstrap(one, truths[:1], n_boot=6000, seed=0)
    r1 = r1["a"]
    ref = sps.bootstrap((scores["a"][0], truths[0]), lambda a, b: sps.weightedtau(a, b).statistic,
                        paired=True, vectorized=False, n_resamples=6000, method="percentile",
                        random_state=2)
    lo, hi = np.nanquantile(r1, [0.025, 0.975])
    assert lo == pytest.approx(ref.confidence_interval.low, abs=0.05)
    assert hi == pytest.approx(ref.confidence_interval.high, abs=0.05)


def test_crossed_bootstrap_redraws_seeds_per_cell():
    truths = [np.array([0.1, 0.2, 0.3, 0.4])]
    seeds = [np.array([[0.1, 0.1], [0.2, 0.2], [0.3, np.nan], [0.4, 0.4]])]   # no seed noise
    scores = {"a": [np.array([1.0, 2.0, 3.0, 4.0])]}
    _, with_seeds = stats.crossed_bootstrap(scores, truths, seeds, n_boot=200, seed=0)
    _, without = stats.crossed_bootstrap(scores, truths, None, n_boot=200, seed=0)
    # seeds without noise (one cell with a single seed): every replicate ranks perfectly
    assert np.nanmin(with_seeds["a"]) == 1.0 == np.nanmin(without["a"])
    noisy = [np.array([[0.1, 0.5], [0.2, 0.2], [0.3, 0.3], [0.4, 0.4]])]
    _, r = stats.crossed_bootstrap(scores, truths, noisy, n_boot=400, seed=0)
    assert np.nanmin(r["a"]) < 1.0


def test_bootstrap_result_p_value():
    res = stats.bootstrap(0.2, np.r_[np.full(95, 0.3), np.full(5, -0.1)], comparison="x",
                          resampled="m", population="p")
    assert res.p_value == pytest.approx(2 * 6 / 101)
    with pytest.raises(ValueError, match="no finite bootstrap replicate"):
        stats.bootstrap(0.2, [np.nan], comparison="x", resampled="m", population="p")


# --- Holm and reliability -------------------------------------------------------------------------

def test_holm_by_hand():
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03, 0.005, np.nan]),
                               [0.03, 0.06, 0.06, 0.02, np.nan])
    assert stats.holm([0.6, 0.9]).tolist() == [1.0, 1.0]


def test_reliability_is_spearman_brown_of_the_seed_noise():
    rng = np.random.default_rng(8)
    true = rng.normal(0.7, 0.05, 400)
    accs = true[:, None] + rng.normal(0, 0.05, (400, 3))     # seed noise = spread: r1 = 0.5
    rel = stats.reliability(accs, n_test=10 ** 9)
    assert rel["reliability_1"] == pytest.approx(0.5, abs=0.06)
    r1 = rel["reliability_1"]
    assert rel["reliability"] == pytest.approx(3 * r1 / (1 + 2 * r1))
    assert rel["ratio_seed"] == pytest.approx(rel["spread"] / rel["seed_noise"])
    assert rel["test_noise"] < 1e-4
    low, high = stats.noise_ceiling(rel["reliability"], 400)
    assert (low, high) == (rel["ceiling_low"], rel["ceiling_high"])
    assert stats.noise_ceiling(1.0, 8) == (1.0, 1.0)
    assert abs(stats.noise_ceiling(0.0, 8)[1]) < 0.05


def test_noise_ceiling_brackets_simulated_agreement():
    # a perfect metric against a 3-seed mean, and a second 3-seed mean against the first
    rng = np.random.default_rng(9)
    m, k, sd_true, sd_seed = 16, 3, 1.0, 1.2
    true = rng.normal(0.7, 0.01 * sd_true, (3000, m))
    a = true + rng.normal(0, 0.01 * sd_seed / np.sqrt(k), true.shape)
    b = true + rng.normal(0, 0.01 * sd_seed / np.sqrt(k), true.shape)
    rk = sd_true ** 2 / (sd_true ** 2 + sd_seed ** 2 / k)
    low, high = stats.noise_ceiling(rk, m)
    assert 0 < low < high < 1
    assert np.mean(stats.weighted_tau_rows(true, a)) == pytest.approx(high, abs=0.02)
    assert np.mean(stats.weighted_tau_rows(b, a)) == pytest.approx(low, abs=0.02)


# --- coverage on simulated benchmarks with a known effect -----------------------------------------

def _simulated_targets(rng, n, m=12):
    """n targets: true accuracies and two metrics' scores (b noisier than a)."""
    g = rng.normal(0, 1, (n, m))
    a = g + rng.normal(0, 1.0, (n, m))
    b = g + rng.normal(0, 2.0, (n, m))
    return stats.weighted_tau_rows(a, g), stats.weighted_tau_rows(b, g)


def test_t_intervals_cover_the_true_mean_and_difference():
    rng = np.random.default_rng(10)
    ta, tb = _simulated_targets(rng, 40000)
    true_a, true_diff = ta.mean(), (ta - tb).mean()
    assert true_diff > 0.1                                   # a known effect
    runs, t = 400, 10
    ta, tb = _simulated_targets(rng, runs * t)
    ta, tb = ta.reshape(runs, t), tb.reshape(runs, t)
    cover_a = cover_d = 0
    for a, b in zip(ta, tb):
        ra, rd = stats.sign_flip(a), stats.sign_flip(a - b)
        cover_a += ra.low <= true_a <= ra.high
        cover_d += rd.low <= true_diff <= rd.high
    assert 0.93 <= cover_a / runs <= 0.97
    assert 0.93 <= cover_d / runs <= 0.97


# --- the benchmark layer and the paper's numbers re-read ------------------------------------------

def _bench():
    rng = np.random.default_rng(11)
    models = [f"m{i}" for i in range(8)]
    rows, acc, seeds = [], [], []
    for t in ("a", "b", "c", "d", "e"):
        quality = np.linspace(0.5, 0.9, 8) + rng.normal(0, 0.02, 8)
        for i, m in enumerate(models):
            acc.append({"model": m, "target": t, "test_acc": quality[i]})
            for s in range(3):
                seeds.append({"model": m, "target": t, "seed": s, "n_test": 500,
                              "test_acc": quality[i] + rng.normal(0, 0.01)})
            rows.append({"model": m, "target": t, "metric": "good", "perturbation": "none",
                         "score": quality[i]})
            rows.append({"model": m, "target": t, "metric": "good", "perturbation": "ped",
                         "score": quality[i] + rng.normal(0, 0.2)})
            rows.append({"model": m, "target": t, "metric": "noise", "perturbation": "none",
                         "score": rng.random()})
    return pd.DataFrame(rows), pd.DataFrame(acc), pd.DataFrame(seeds)


def test_benchmark_tests_families_and_verdicts():
    scores, acc, seeds = _bench()
    tests = significance.benchmark_tests(scores, acc, seeds, baseline="noise", n_boot=200, n_draws=400)
    assert list(tests.columns) == significance.TEST_COLUMNS
    row = tests.set_index(["family", "metric", "perturbation"])
    good = row.loc[("chance", "good", "none")]
    assert good.estimate == pytest.approx(1.0) and good.verdict == "better than chance"
    assert good.p_value == pytest.approx(2 / 401)
    assert row.loc[("targets", "good", "none")].min_p == 2 / 32
    ped = row.loc[("PED", "good", "ped")]
    assert ped.estimate < 0 and "sign-flip over 5 targets" in ped.test
    # Holm: within a family, adjusted p >= raw p, and equal to stats.holm of the family
    fam = tests[tests.family == "chance"]
    np.testing.assert_allclose(fam.p_holm, stats.holm(fam.p_value))
    assert np.isnan(row.loc[("models", "good", "none")].p_value)
    text = " ".join(readme.verdict_text(tests, baseline="noise"))
    assert "better than chance at p < 0.05: good" in text and "oracle-style" in text
    iv = tau_intervals(scores, acc, seeds, n_boot=200).set_index(["metric", "perturbation"])
    delta = compare(scores, acc, seeds, perturbation="ped", n_boot=200)
    assert list(delta.columns) == ["metric", "perturbation", "reference", "delta", "low", "high", "p_value"]
    assert delta.metric.tolist() == ["good"] and delta.reference.tolist() == ["none"]  # noise: none only
    d = delta.iloc[0]
    assert d.delta == pytest.approx(iv.mean_tau[("good", "ped")] - iv.mean_tau[("good", "none")])
    assert d.low <= d.delta <= d.high and 0 < d.p_value <= 1
    # the paired difference of the crossed bootstrap, the same one benchmark_tests reports
    boot = row.loc[("PED, models", "good", "ped")]
    assert (boot.estimate, boot.low, boot.high, boot.p_value) == pytest.approx((d.delta, d.low, d.high,
                                                                                d.p_value))
    assert row.reference[("PED", "good", "ped")] == "none" and pd.isna(row.reference[("chance", "good",
                                                                                      "none")])
    # any two values of the axis, in either order
    back = compare(scores, acc, seeds, perturbation="none", reference="ped", n_boot=200).iloc[0]
    assert back.delta == pytest.approx(-d.delta) and back.low == pytest.approx(-d.high)
    with pytest.raises(ValueError, match="no scores with perturbation 'sa'"):
        compare(scores, acc, seeds, perturbation="sa", n_boot=5)


def test_benchmark_reliability_columns():
    _, _, seeds = _bench()
    rel = finetuned.reliability(seeds).set_index("target")
    assert {"reliability", "ceiling_low", "ceiling_high", "ratio_seed", "ratio_test",
            "seed_agreement"} <= set(rel.columns)
    assert (rel.ceiling_low <= rel.ceiling_high).all()


def test_the_papers_numbers_re_read():
    published = pa.published_taus()
    wide = published.pivot_table(index=["metric", "perturbation"], columns="target", values="weighted_tau")
    tests = pa.paper_tests(n_draws=2000).set_index(["family", "metric", "perturbation"])
    for metric, gain, positive in (("logme", 0.2689, 10), ("gbc", 0.2550, 10), ("sfda", 0.0456, 8)):
        diff = wide.loc[(metric, "ped")] - wide.loc[(metric, "none")]
        assert diff.mean() == pytest.approx(gain, abs=5e-5) and (diff > 0).sum() == positive
        row = tests.loc[("PED", metric, "ped")]
        assert row.estimate == pytest.approx(diff.mean())
        assert row.p_value == pytest.approx(_enumerated_p(diff.to_numpy()))
    assert tests.loc[("PED", "logme", "ped")].p_value == pytest.approx(2 / 1024)
    assert tests.loc[("PED", "sfda", "ped")].p_value > 0.05
    assert tests.loc[("PED", "sfda", "ped")].verdict.startswith("not resolved")
    # every published row but GBC alone is better than chance; 2/2001 is the test's floor
    chance = tests.loc["chance"]
    assert chance.loc[("nleep", "none")].p_value == pytest.approx(2 / 2001)
    assert chance.loc[("gbc", "none")].p_value > 0.05
    better = chance[chance.verdict == "better than chance"].index
    assert len(better) == len(chance) - 1
    assert tests.loc[("baseline", "static_loto", "none")].comparison.endswith("sfda+PED (best published)")
    # the static baseline against GBC+Ours: the exact test of the per-dataset differences
    base = pa.static_baseline_taus(pa.paper_accuracy("twpy")).set_index("target").weighted_tau
    over = pa.over_datasets(pd.concat([published, pa.static_baseline_taus(pa.paper_accuracy("twpy"))]),
                            reference=("static_loto", "none")).set_index(["metric", "perturbation"])
    diff = wide.loc[("gbc", "ped")] - base.loc[wide.columns]
    assert over.loc[("gbc", "ped")].p_delta == pytest.approx(_enumerated_p(diff.to_numpy()))
    assert over.loc[("gbc", "ped")].p_delta == pytest.approx(0.0723, abs=5e-4)


def test_crossed_bootstrap_covers_the_mean_over_these_targets():  # about 6 s: in the fast loop
    # 4 fixed targets (the metric's noise differs per target), 16 models drawn anew in each run,
    # crossed: a model's quality is shared by all targets
    noise, m = np.array([0.5, 1.0, 1.5, 2.0]), 16
    rng = np.random.default_rng(0)

    def draw(n):
        g = rng.normal(0, 1, (n, 1, m)) + rng.normal(0, 0.5, (n, 4, m))
        return g + rng.normal(0, 1, (n, 4, m)) * noise[None, :, None], g

    s, g = draw(20000)
    true = np.mean([stats.weighted_tau_rows(s[:, t], g[:, t]).mean() for t in range(4)])
    covered = 0
    for run in range(400):
        s, g = draw(1)
        _, reps = stats.crossed_bootstrap({"a": list(s[0])}, list(g[0]), n_boot=300, seed=run)
        low, high = np.quantile(reps["a"], [0.025, 0.975])
        covered += low <= true <= high
    assert 0.93 <= covered / 400 <= 0.97


def test_test_images_are_redrawn_once_for_all_models():
    # two models on the same 200 test images: b is right wherever a is, and on 10 more images
    rng = np.random.default_rng(12)
    a = rng.random(200) < 0.7
    b = a.copy()
    b[np.flatnonzero(~a)[:10]] = True
    c = a.copy()                                                # a third model, 2 points below a
    c[np.flatnonzero(a)[:8]] = False                            # on images of its own
    c[np.flatnonzero(~a)[-4:]] = True
    correct = np.stack([a, b, c])[:, None, :].astype(float)     # (M, K=1, N)
    accs = correct.mean(axis=2)
    truth = accs[:, 0]
    scores = {"right": [np.array([1.0, 2.0, 0.0])]}
    est, reps = stats.crossed_bootstrap(scores, [truth], [accs], image_correct=[correct],
                                        n_boot=400, seed=0)
    _, fixed = stats.crossed_bootstrap(scores, [truth], [accs], n_boot=400, seed=0)
    assert est["right"] == pytest.approx(1.0)
    # the images' noise reaches the ranking of c, which differs from a on 12 images (that the draw
    # is paired across models is tests/test_calibration.py's test_crossed_bootstrap_pairs_...)
    assert np.nanstd(reps["right"]) > np.nanstd(fixed["right"])
    with pytest.raises(ValueError, match="image_correct needs seed_accs"):
        stats.crossed_bootstrap(scores, [truth], image_correct=[correct], n_boot=5)


def test_benchmark_tests_read_per_image_correctness(tmp_path):
    scores, acc, seeds = _bench()
    rng = np.random.default_rng(13)
    correct = {}
    for (m, t), grp in seeds.groupby(["model", "target"]):
        correct[(m, t)] = rng.random((len(grp), 500)) < grp.test_acc.to_numpy()[:, None]
    with_images = significance.benchmark_tests(scores, acc, seeds, baseline=None, n_boot=100, n_draws=50,
                                         correct=correct)
    row = with_images[with_images.family == "models"].iloc[0]
    assert "test images (one draw per target shared by all models)" in row.resampled
    with pytest.raises(ValueError, match="different test sets"):
        significance.benchmark_tests(scores, acc, seeds, baseline=None, n_boot=5, n_draws=5,
                               correct={**correct, ("m0", "a"): np.zeros((3, 7), bool)})


def test_report_tables_are_empty_when_no_target_has_scores_and_a_ground_truth():
    """E.g. NCTI failed on every cell of a tiny setting: the tables are empty, with their columns."""
    scores = pd.DataFrame({"model": ["a", "b"], "target": "t1", "metric": "ncti", "perturbation": "none",
                           "score": [0.1, 0.2]})
    accuracy = pd.DataFrame({"model": ["a", "b"], "target": "t2", "test_acc": [0.5, 0.6]})
    assert tau_intervals(scores, accuracy).empty
    assert list(tau_intervals(scores, accuracy).columns) == ["metric", "perturbation", "mean_tau",
                                                                      "low", "high"]
    assert compare(scores, accuracy, perturbation="none", reference="none").empty
    tests = significance.benchmark_tests(scores, accuracy, baseline=None)
    assert tests.empty and list(tests.columns) == significance.TEST_COLUMNS


# --- benchmark v3's primitives: ground-truth redraws, clustered and vectorised sign-flip, split-half ---

def test_redraw_truth_without_noise_is_the_accuracies_and_keeps_missing_cells():
    rng = np.random.default_rng(20)
    accs = np.array([[0.7], [0.5], [np.nan]])                    # one seed; the third model missing
    reps = stats.redraw_truth(accs, None, 50, rng)
    assert reps.shape == (50, 3)
    assert (reps[:, :2] == [0.7, 0.5]).all() and np.isnan(reps[:, 2]).all()
    correct = (rng.random((2, 2, 400)) < [[[0.8]], [[0.4]]]).astype(float)
    seed_accs = correct.mean(axis=2)
    reps = stats.redraw_truth(seed_accs, correct, 2000, np.random.default_rng(1))
    assert reps.mean(axis=0) == pytest.approx(seed_accs.mean(axis=1), abs=0.01)
    assert ((0 <= reps) & (reps <= 1)).all()


def test_sign_flip_rows_are_sign_flips_p_values():
    rng = np.random.default_rng(21)
    rows = rng.normal(0.2, 1, (25, 6))
    rows[0] = 1.0                                                 # every unit positive: p = 2 / 64
    rows[1] = [0.1, -0.1, 0.2, -0.2, 0.3, -0.3]                   # mean 0 exactly: p = 1
    p = stats.sign_flip_rows(rows)
    assert p == pytest.approx([stats.sign_flip(r).p_value for r in rows], abs=1e-15)
    assert p[0] == 2 / 64 and p[1] == 1.0
    for bad, message in ((rows[:, :1], "2 to 16 values"), (np.zeros((2, 17)), "2 to 16 values"),
                         (np.array([[0.1, np.nan]]), "non-finite")):
        with pytest.raises(ValueError, match=message):
            stats.sign_flip_rows(bad)


def test_sign_flip_clustered_counts_each_cluster_once():
    values = np.array([0.3, 0.5, 0.1, 0.2, -0.1, 0.4])
    clusters = np.array(["a", "a", "b", "c", "c", "d"])
    res = stats.sign_flip_clustered(values, clusters, comparison="x")
    means = [0.4, 0.1, 0.05, 0.4]
    ref = stats.sign_flip(means, units="families")
    assert (res.estimate, res.p_value, res.low, res.high, res.n) == pytest.approx(
        (np.mean(means), ref.p_value, ref.low, ref.high, 4))
    assert res.min_p == 2 / 16 and "per-family means of 6 values" in res.test
    # ten copies of one source's value do not add evidence (they would over targets)
    copies = np.r_[values, [0.4] * 10]
    more = stats.sign_flip_clustered(copies, np.r_[clusters, ["d"] * 10])
    assert more.p_value == res.p_value
    assert stats.sign_flip(copies).p_value < res.p_value
    with pytest.raises(ValueError, match="6 values but 5 cluster labels"):
        stats.sign_flip_clustered(values, clusters[:5])
    with pytest.raises(ValueError, match="non-finite"):
        stats.sign_flip_clustered([0.1, np.nan], ["a", "b"])
    with pytest.raises(ValueError, match="at least 2 families"):
        stats.sign_flip_clustered([0.1, 0.2], ["a", "a"])


def test_split_half_reliability_by_hand_and_its_invariances():
    # 3 models, 2 images, one run: every halving puts one image on each side, and the two
    # halvings give the same Spearman correlation (it is symmetric)
    tiny = np.array([[1, 1], [0, 0], [1, 0]], float)[:, None, :]
    res = stats.split_half_reliability(tiny, n_splits=10)
    r = sps.spearmanr([1, 0, 1], [1, 0, 0]).statistic
    assert res["r"] == pytest.approx(r) and res["reliability"] == pytest.approx(2 * r / (1 + r))
    assert res["n_pairs"] == 1 and res["n_splits"] == 10
    rng = np.random.default_rng(22)
    p = np.linspace(0.3, 0.7, 12)[:, None, None]
    one = (rng.random((12, 1, 600)) < p).astype(float)
    # two identical runs are one run: the pair (0, 1) sees exactly the halvings of (0, 0)
    assert stats.split_half_reliability(np.repeat(one, 2, axis=1))["r"] == pytest.approx(
        stats.split_half_reliability(one)["r"], abs=1e-12)
    order = rng.permutation(12)                                   # the models' order does not matter
    assert stats.split_half_reliability(one[order])["r"] == pytest.approx(
        stats.split_half_reliability(one)["r"], abs=1e-12)
    # a loop over halvings with scipy's spearmanr gives the same mean (same halvings)
    halves = np.argsort(np.random.default_rng(0).random((100, 600)), axis=1) < 300
    ref = np.mean([sps.spearmanr(one[:, 0, h].mean(1), one[:, 0, ~h].mean(1)).statistic for h in halves])
    assert stats.split_half_reliability(one)["r"] == pytest.approx(ref, abs=1e-12)


def test_split_half_reliability_separates_signal_from_noise():
    rng = np.random.default_rng(23)
    spread = (rng.random((16, 2, 2000)) < np.linspace(0.3, 0.7, 16)[:, None, None]).astype(float)
    same = (rng.random((16, 2, 2000)) < 0.5).astype(float)        # every model alike: pure noise
    assert stats.split_half_reliability(spread)["reliability"] > 0.97
    assert abs(stats.split_half_reliability(same)["r"]) < 0.15
    for bad, message in ((np.zeros((2, 1, 10)), "models >= 3"), (np.full((3, 1, 4), np.nan), "missing")):
        with pytest.raises(ValueError, match=message):
            stats.split_half_reliability(bad)


def test_resolve_a_benchmark_and_say_what_it_resolves():
    rng = np.random.default_rng(3)
    models, targets = [f"m{i}" for i in range(6)], ["t1", "t2", "t3"]
    accuracy = pd.DataFrame([{"model": m, "target": t, "test_acc": rng.random()}
                             for t in targets for m in models])
    rows = []
    for r in accuracy.itertuples():
        rows += [
            {
                "model": r.model,
                "target": r.target,
                "metric": "good",
                "perturbation": "none",
                "score": r.test_acc,
            },
            {
                "model": r.model,
                "target": r.target,
                "metric": "good",
                "perturbation": "ped",
                "score": -r.test_acc,
            },
            {"model": r.model, "target": r.target, "metric": "flat", "perturbation": "none", "score": 1.0},
        ]
    scores = pd.DataFrame(rows)
    intervals, tests, null = report.resolve(scores, accuracy, accuracy, None, targets, n_boot=50, n_null=100)
    row = intervals.set_index(["metric", "setting"])
    assert row.loc[("good", "without PED"), "mean_tau"] == pytest.approx(1.0)
    assert row.loc[("good", "with − without"), "mean_tau"] == pytest.approx(-2.0)
    assert not row.loc[("flat", "without PED"), "computable"] and "static_loto" in set(intervals.metric)
    assert null["low"] < 0 < null["high"]
    chance = tests[(tests.family == "chance") & (tests.metric == "good") & (tests.perturbation == "none")]
    assert chance.p_holm.iloc[0] < 0.1
    # one crossed bootstrap for all three: the numbers of the three functions with the same seed
    pool = pd.concat([scores, finetuned.leave_one_target_out(accuracy)], ignore_index=True)
    alone = pd.concat([tau_intervals(pool, accuracy, n_boot=50),
                       compare(pool, accuracy, perturbation="ped", n_boot=50).rename(
                           columns={"delta": "mean_tau"})], ignore_index=True)
    pd.testing.assert_frame_equal(intervals[alone.columns], alone)
    pd.testing.assert_frame_equal(tests, significance.benchmark_tests(pool, accuracy, n_boot=50, n_draws=100))
    empty, no_tests, no_null = report.resolve(scores, accuracy, accuracy, None, [])
    assert empty.empty and no_tests.empty and no_null is None
