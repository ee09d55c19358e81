"""Rank evaluation (method page, §Rank evaluation, quirk 16) and the paper's published numbers."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from potran import evaluation as ev
from potran import paper

MODELS = ["byol", "deepcluster-v2", "infomin", "insdis", "moco-v1", "moco-v2",
          "pcl-v1", "pcl-v2", "sela-v2", "simclr-v1", "simclr-v2", "swav"]


def _random_pair(rng, n, ties):
    s, g = rng.normal(size=n), rng.normal(size=n)
    if ties:  # few distinct values -> many ties in both vectors
        s, g = np.round(s), np.round(g * 2)
    return s, g


# --- weighted tau -------------------------------------------------------------------------------

@pytest.mark.parametrize("ties", [False, True])
def test_weighted_tau_equals_scipy_on_random_inputs(ties):
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(200):
        s, g = _random_pair(rng, int(rng.integers(2, 30)), ties)
        if np.ptp(s) == 0 or np.ptp(g) == 0:
            continue
        assert ev.weighted_tau(s, g) == stats.weightedtau(s, g).statistic
        checked += 1
    assert checked > 150


def test_weighted_tau_invariant_to_joint_permutation_and_symmetric():
    rng = np.random.default_rng(2)
    for ties in (False, True):
        s, g = _random_pair(rng, 15, ties)
        perm = rng.permutation(15)
        tau = ev.weighted_tau(s, g)
        assert ev.weighted_tau(s[perm], g[perm]) == pytest.approx(tau, abs=1e-14)
        assert ev.weighted_tau(g, s) == pytest.approx(tau, abs=1e-14)


def test_weighted_tau_hand_checked_values_weight_the_top():
    # 4 models, hyperbolic weights 1, 1/2, 1/3, 1/4; all 6 pairs weigh 3 * (25/12) = 6.25.
    # One swapped pair of ranks (i, j) gives tau = (6.25 - 2 (w_i + w_j)) / 6.25.
    x = [4, 3, 2, 1]
    assert ev.weighted_tau(x, [3, 4, 2, 1]) == pytest.approx(13 / 25)  # ranks 0,1: w = 3/2
    assert ev.weighted_tau(x, [4, 2, 3, 1]) == pytest.approx(11 / 15)  # ranks 1,2: w = 5/6
    assert ev.weighted_tau(x, [4, 3, 1, 2]) == pytest.approx(61 / 75)  # ranks 2,3: w = 7/12
    assert ev.weighted_tau(x, x) == pytest.approx(1.0)
    assert ev.weighted_tau(x, x[::-1]) == pytest.approx(-1.0)


def test_keyed_inputs_are_aligned_by_model_name():
    rng = np.random.default_rng(3)
    s, g = rng.normal(size=12), rng.normal(size=12)
    expected = ev.weighted_tau(s, g)
    scores = dict(zip(MODELS, s))
    gt = dict(reversed(list(zip(MODELS, g))))  # same models, other order
    assert ev.weighted_tau(scores, gt) == pytest.approx(expected, abs=1e-14)
    assert ev.weighted_tau(pd.Series(scores), pd.Series(gt)) == pytest.approx(expected, abs=1e-14)
    assert ev.weighted_tau(pd.Series(s), pd.Series(g)) == pytest.approx(expected, abs=1e-14)


@pytest.mark.parametrize("scores, gt, message", [
    ({"a": 1.0, "b": 2.0, "c": 3.0}, {"a": 1.0, "b": 2.0, "d": 3.0},
     r"no gt for \['c'\]; no score for \['d'\]"),
    ({"a": 1.0, "b": 2.0}, [1.0, 2.0], "both be keyed"),
    (pd.Series([1.0, 2.0, 3.0], index=["a", "a", "b"]), pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"]),
     "unique"),
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]], "1-D"),
    ([1.0, 2.0, 3.0], [1.0, 2.0], "different lengths: 3 and 2"),
    ([1.0], [2.0], "at least 2 models"),
    ([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], "scores contains NaN"),
    ([1.0, 2.0, 3.0], [1.0, np.inf, 3.0], "gt contains NaN or Inf"),
    (["x", "y"], [1.0, 2.0], "scores must be numeric"),
    ([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], "all scores are equal"),
    ([1.0, 2.0, 3.0], [5.0, 5.0, 5.0], "all gt are equal"),
])
def test_bad_inputs_raise_value_error_naming_the_problem(scores, gt, message):
    for stat in (ev.weighted_tau, ev.kendall_tau, ev.pearson, ev.spearman):
        with pytest.raises(ValueError, match=message):
            stat(scores, gt)


def test_other_correlations_equal_scipy():
    rng = np.random.default_rng(4)
    s, g = _random_pair(rng, 12, ties=True)
    assert ev.kendall_tau(s, g) == stats.kendalltau(s, g).statistic
    assert ev.pearson(s, g) == pytest.approx(stats.pearsonr(s, g).statistic, abs=1e-15)
    assert ev.spearman(s, g) == stats.spearmanr(s, g).statistic


# --- top-k statistics ---------------------------------------------------------------------------

# Models a..e; gt order: c (90) > a (80) > e (70) > b (60) > d (50).
GT = {"a": 80.0, "b": 60.0, "c": 90.0, "d": 50.0, "e": 70.0}
# Score order: b > a > c > e > d.
SCORES = {"a": 0.8, "b": 0.9, "c": 0.7, "d": 0.1, "e": 0.2}


def test_rel_at_k_is_best_accuracy_in_the_top_k_over_best_accuracy():
    assert ev.rel_at_k(SCORES, GT, 1) == pytest.approx(60 / 90)
    assert ev.rel_at_k(SCORES, GT, 2) == pytest.approx(80 / 90)
    assert ev.rel_at_k(SCORES, GT, 3) == 1.0
    assert ev.rel_at_k(SCORES, GT, 5) == 1.0


def test_recall_at_k_is_the_fraction_of_true_top_k_found():
    assert ev.recall_at_k(SCORES, GT, 1) == 0.0  # {b} vs {c}
    assert ev.recall_at_k(SCORES, GT, 2) == 0.5  # {b, a} vs {c, a}
    assert ev.recall_at_k(SCORES, GT, 3) == pytest.approx(2 / 3)  # {b, a, c} vs {c, a, e}
    assert ev.recall_at_k(SCORES, GT, 5) == 1.0


def test_hit_at_k_is_the_official_recall_k_with_the_python3_bug_fixed():
    # The official recall_k slices dict.keys(), which Python 3 refuses (method page, quirk 16) ...
    ordered = dict(sorted(GT.items(), key=lambda item: item[1], reverse=True))
    with pytest.raises(TypeError):
        ordered.keys()[:2]
    # ... what it means to compute: is the top-scored model (b) among the k truly best?
    assert [ev.hit_at_k(SCORES, GT, k) for k in range(1, 6)] == [0.0, 0.0, 0.0, 1.0, 1.0]
    rng = np.random.default_rng(5)
    for _ in range(20):
        s, g = rng.normal(size=8), rng.normal(size=8)
        assert ev.hit_at_k(s, g, 1) == ev.recall_at_k(s, g, 1)


def test_top_k_ties_are_broken_by_input_order():
    # Models 0 and 1 tie on score; the official stable sort keeps the first listed.
    assert ev.rel_at_k([1.0, 1.0, 0.0], [50.0, 100.0, 10.0], 1) == 0.5
    assert ev.rel_at_k([1.0, 1.0, 0.0], [100.0, 50.0, 10.0], 1) == 1.0
    assert ev.recall_at_k([1.0, 1.0, 0.0], [100.0, 100.0, 10.0], 1) == 1.0


@pytest.mark.parametrize("k, message", [(0, "between 1 and"), (6, r"number of models \(5\)"),
                                        (1.5, "integer"), (True, "integer")])
def test_top_k_bad_k(k, message):
    for stat in (ev.rel_at_k, ev.recall_at_k, ev.hit_at_k):
        with pytest.raises(ValueError, match=message):
            stat(SCORES, GT, k)


def test_rel_at_k_needs_positive_accuracy():
    with pytest.raises(ValueError, match="positive accuracies"):
        ev.rel_at_k([1.0, 2.0], [-1.0, 0.0], 1)


# --- bootstrap ----------------------------------------------------------------------------------

def test_bootstrap_is_seeded_and_brackets_resampled_values():
    rng = np.random.default_rng(6)
    s = np.arange(12.0)
    g = s + rng.normal(scale=3.0, size=12)
    a = ev.bootstrap_ci(s, g, n_boot=300, seed=7)
    assert a == ev.bootstrap_ci(s, g, n_boot=300, seed=7)
    assert a != ev.bootstrap_ci(s, g, n_boot=300, seed=8)
    assert a.estimate == ev.weighted_tau(s, g)
    assert -1.0 <= a.low < a.high <= 1.0
    assert (a.n_boot, a.level) == (300, 0.95)
    narrow = ev.bootstrap_ci(s, g, n_boot=300, seed=7, level=0.5)
    assert a.low <= narrow.low <= narrow.high <= a.high


def test_bootstrap_perfect_ranking_gives_a_point_interval():
    ci = ev.bootstrap_ci([1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 20.0, 30.0, 40.0, 50.0], n_boot=200)
    assert ci.low == pytest.approx(1.0) and ci.high == pytest.approx(1.0)


def test_bootstrap_skips_and_counts_degenerate_resamples():
    # With 3 models a resample is degenerate when it draws a single model, or only models whose
    # gt is equal (models 0 and 1 share gt 1.0). Replay the same RNG to count them.
    s, g = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0])
    ci = ev.bootstrap_ci(s, g, n_boot=500, seed=3)
    rng = np.random.default_rng(3)
    expected = 0
    for _ in range(500):
        idx = rng.integers(0, 3, 3)
        expected += len(set(idx)) < 2 or len(set(g[idx])) < 2
    assert ci.n_skipped == expected > 0
    assert np.isfinite([ci.low, ci.high]).all()


def test_bootstrap_never_returns_nan():
    calls = []

    def finite_only_on_the_full_data(s, g):
        calls.append(len(s))
        return 0.5 if len(calls) == 1 else np.nan

    with pytest.raises(ValueError, match="all 50 bootstrap resamples were degenerate"):
        ev.bootstrap_ci([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], stat=finite_only_on_the_full_data,
                        n_boot=50)
    with pytest.raises(ValueError, match="stat returned nan on the full data"):
        ev.bootstrap_ci([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], stat=lambda s, g: np.nan)


def test_bootstrap_other_statistic_and_bad_arguments():
    ci = ev.bootstrap_ci([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0], stat=ev.kendall_tau, n_boot=100)
    assert ci.estimate == pytest.approx(stats.kendalltau([1, 2, 3, 4], [1, 3, 2, 4]).statistic)
    with pytest.raises(ValueError, match="n_boot"):
        ev.bootstrap_ci([1.0, 2.0], [1.0, 2.0], n_boot=0)
    with pytest.raises(ValueError, match="level"):
        ev.bootstrap_ci([1.0, 2.0], [1.0, 2.0], level=1.0)


# --- the paper's tables -------------------------------------------------------------------------

def test_groundtruth_tables_are_complete_and_differ_in_the_five_documented_cells():
    tw, supp = paper.groundtruth("twpy"), paper.groundtruth("supplementary")
    assert list(tw.columns) == ["model", "target", "test_acc", "source"]
    assert len(tw) == 12 * 11 and len(supp) == 12 * 10
    assert sorted(tw["model"].unique()) == MODELS
    assert set(tw["target"]) - set(supp["target"]) == {"sun397"}
    both = tw.merge(supp, on=["model", "target"], suffixes=("_tw", "_supp"))
    diff = both[both["test_acc_tw"] != both["test_acc_supp"]]
    assert sorted(zip(diff["target"], diff["model"], diff["test_acc_supp"])) == [
        ("cifar10", "moco-v1", 84.15), ("cifar10", "pcl-v1", 86.42), ("dtd", "infomin", 73.74),
        ("dtd", "simclr-v2", 94.71), ("voc2007", "pcl-v1", 91.91)]
    assert tw.set_index(["target", "model"]).loc[("cifar10", "deepcluster-v2"), "test_acc"] == 97.17
    with pytest.raises(ValueError, match="unknown ground-truth variant"):
        paper.groundtruth("finetune")


def test_weighted_tau_between_the_two_published_gt_vectors():
    # data/paper/README.md: weighted tau between the two GT vectors, cifar10 0.966, dtd 0.761.
    supp = paper.groundtruth("supplementary").rename(columns={"test_acc": "score"})
    taus = ev.correlate_by_target(supp, paper.groundtruth("twpy"))
    assert round(taus["cifar10"], 3) == 0.966
    assert round(taus["dtd"], 3) == 0.761
    assert round(taus["voc2007"], 3) == 0.681
    assert (taus.drop(["cifar10", "dtd", "voc2007"]) == 1.0).all()


def test_main_table_matches_the_readme_and_the_spec_means():
    table = paper.main_table()
    assert len(table) == 8 * 10 and table["weighted_tau"].between(-1, 1).all()
    cell = table.set_index(["method", "target"]).loc
    assert cell[("SFDA+Ours", "dtd"), "weighted_tau"] == 0.907
    assert cell[("NLEEP", "food"), "weighted_tau"] == 0.574
    assert ((cell[("LogME+Ours", "cifar10"), "metric"], cell[("LogME+Ours", "cifar10"), "perturbation"])
            == ("logme", "ped"))
    means = table.groupby("method", sort=False)["weighted_tau"].mean()
    spec_means = {"NLEEP": 0.365, "PARC": 0.314, "LogME": 0.358, "LogME+Ours": 0.627,
                  "SFDA": 0.582, "SFDA+Ours": 0.628, "GBC": 0.152, "GBC+Ours": 0.407}
    for method, value in spec_means.items():
        assert abs(means[method] - value) <= 5e-4 + 1e-12


# --- tidy tables --------------------------------------------------------------------------------

def test_correlate_by_target_equals_per_target_weighted_tau():
    gt = paper.groundtruth()
    rng = np.random.default_rng(9)
    scores = gt[gt["target"].isin(["pets", "cars"])]
    scores = scores.assign(score=rng.normal(size=len(scores)))[["target", "model", "score"]]
    scores = scores.sample(frac=1.0, random_state=0)  # row order must not matter
    taus = ev.correlate_by_target(scores, gt)
    assert set(taus.index) == {"pets", "cars"}
    for target in ("pets", "cars"):
        s = scores[scores["target"] == target].set_index("model")["score"]
        g = gt[gt["target"] == target].set_index("model")["test_acc"]
        assert taus[target] == pytest.approx(stats.weightedtau(s, g.loc[s.index]).statistic, abs=1e-14)
    single = ev.correlate_by_target(scores[scores["target"] == "pets"].drop(columns="target"),
                                    gt[gt["target"] == "pets"].drop(columns="target"))
    assert list(single.index) == [None] and single.iloc[0] == pytest.approx(taus["pets"], abs=1e-14)


def test_correlate_by_target_errors():
    gt = paper.groundtruth()
    scores = gt[gt["target"] == "pets"].rename(columns={"test_acc": "score"})
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['score'\]"):
        ev.correlate_by_target(gt, gt)
    with pytest.raises(ValueError, match="gt has a 'target' column but scores do not"):
        ev.correlate_by_target(scores.drop(columns="target"), gt)
    with pytest.raises(ValueError, match=r"no ground truth for target\(s\) \['imagenet'\]"):
        ev.correlate_by_target(scores.assign(target="imagenet"), gt)
    with pytest.raises(ValueError, match=r"different models: no score for \['swav'\] \(target 'pets'\)"):
        ev.correlate_by_target(scores[scores["model"] != "swav"], gt)
    doubled = pd.concat([scores, scores.head(1)])
    with pytest.raises(ValueError, match=r"scores list model\(s\) \['byol'\] more than once"):
        ev.correlate_by_target(doubled, gt)


# --- near-ties and the benchmark's tau table ----------------------------------------------------

def test_merge_ties_joins_values_within_rtol_of_the_first_of_their_run():
    v = np.array([1.0 + 1.2e-9, 3.0, 1.0, 1.0 + 0.6e-9, -2.0, -2.0 * (1 + 1e-12)])
    merged = ev.merge_ties(v, 1e-9)
    # sorted: -2(1+1e-12), -2 | 1, 1+0.6e-9 | 1+1.2e-9 (1.2e-9 from the run's first: a new run) | 3
    np.testing.assert_array_equal(merged, [1.0 + 1.2e-9, 3.0, 1.0, 1.0, -2.0 * (1 + 1e-12),
                                           -2.0 * (1 + 1e-12)])
    assert v[3] == 1.0 + 0.6e-9  # the input is not modified
    np.testing.assert_array_equal(ev.merge_ties(v, 0.0), v)
    assert ev.merge_ties(v, 0.0) is not v
    np.testing.assert_array_equal(ev.merge_ties([5.0], 1e-9), [5.0])


def test_weighted_tau_tie_rtol_treats_float_noise_as_a_tie():
    gt = [0.2, 0.9, 0.1, 0.5]
    noisy = [1.0, 1.0 + 1e-13, 0.5, 0.7]  # the first two are equal up to round-off
    exact = stats.weightedtau([1.0, 1.0, 0.5, 0.7], gt).statistic
    assert ev.weighted_tau(noisy, gt, tie_rtol=1e-9) == exact  # the benchmark's rule
    assert ev.weighted_tau(noisy, gt) == stats.weightedtau(noisy, gt).statistic != exact
    # keyed inputs are aligned first, then merged
    keyed = ev.weighted_tau(dict(zip("abcd", noisy)), dict(zip("dcba", gt[::-1])), tie_rtol=1e-9)
    assert keyed == exact
    with pytest.raises(ValueError, match="all scores are equal"):
        ev.weighted_tau([1.0, 1.0 + 1e-13], [0.1, 0.2], tie_rtol=1e-9)


def test_correlate_by_target_reads_test_acc_or_the_named_column():
    scores = pd.DataFrame({"target": ["t"] * 4, "model": list("abcd"), "score": [4.0, 3, 2, 1]})
    acc = pd.DataFrame({"target": ["t"] * 4, "model": list("abcd"),
                        "test_acc": [0.9, 0.7, 0.8, 0.1], "other": [0.1, 0.2, 0.3, 0.4]})
    expected = stats.weightedtau([4, 3, 2, 1], [0.9, 0.7, 0.8, 0.1]).statistic
    assert ev.correlate_by_target(scores, acc)["t"] == pytest.approx(expected, abs=1e-15)
    assert ev.correlate_by_target(scores, acc, accuracy="other")["t"] == pytest.approx(-1.0)
    # one schema: the old names of the paper's tables are not read
    with pytest.raises(ValueError, match=r"gt lacks column\(s\) \['test_acc'\]"):
        ev.correlate_by_target(scores, acc.rename(columns={"test_acc": "accuracy"}))
    with pytest.raises(ValueError, match="gt has a 'target' column but scores do not"):
        ev.correlate_by_target(scores.rename(columns={"target": "dataset"}), acc)
    with pytest.raises(ValueError, match=r"gt lacks column\(s\) \['acc'\]"):
        ev.correlate_by_target(scores, acc, accuracy="acc")
