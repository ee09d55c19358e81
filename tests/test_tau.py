"""The benchmark's tau table (potran.bench.tau): tau_w per (target, metric, perturbation)."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from potran.bench.tau import TAU_COLUMNS, tau_table


def _bench_tables():
    """Scores of 4 models on 2 targets (two metrics, +/- PED) and their accuracy table."""
    rng = np.random.default_rng(11)
    rows = [{"model": m, "target": t, "metric": metric, "perturbation": p, "score": rng.normal()}
            for t in ("t1", "t2") for metric in ("logme", "sfda") for p in ("none", "ped")
            for m in "abcd"]
    acc = pd.DataFrame({"model": list("abcd") * 2, "target": ["t1"] * 4 + ["t2"] * 4,
                        "test_acc": rng.uniform(0.5, 1.0, 8)})
    return pd.DataFrame(rows), acc


def test_tau_table_is_weighted_tau_per_target_metric_and_perturbation_plus_the_mean():
    scores, acc = _bench_tables()
    tau = tau_table(scores, acc)
    assert list(tau.columns) == TAU_COLUMNS == ["target", "metric", "perturbation",
                                             "weighted_tau", "n_models"]
    assert len(tau) == (2 + 1) * 2 * 2 and (tau.n_models == 4).all()
    truth = acc.set_index(["model", "target"]).test_acc
    for row in tau[tau.target != "mean"].itertuples():
        grp = scores[(scores.target == row.target) & (scores.metric == row.metric)
                     & (scores.perturbation == row.perturbation)]
        expected = stats.weightedtau(grp.score, [truth[(m, row.target)] for m in grp.model])
        assert row.weighted_tau == pytest.approx(expected.statistic, abs=1e-14)
    per_target = tau[tau.target != "mean"].groupby(["metric", "perturbation"]).weighted_tau.mean()
    for row in tau[tau.target == "mean"].itertuples():
        assert row.weighted_tau == pytest.approx(per_target[(row.metric, row.perturbation)], abs=1e-15)


def test_tau_table_leaves_out_failed_and_unknown_models():
    scores, acc = _bench_tables()
    scores.loc[(scores.model == "a") & (scores.target == "t1") & (scores.metric == "logme"),
               "score"] = np.nan  # a failed score
    acc = acc[~((acc.model == "d") & (acc.target == "t2"))]  # no ground truth for d on t2
    tau = tau_table(scores, acc).set_index(["target", "metric", "perturbation"])
    assert tau.loc[("t1", "logme", "none"), "n_models"] == 3
    assert tau.loc[("t2", "sfda", "ped"), "n_models"] == 3
    assert tau.loc[("t1", "sfda", "ped"), "n_models"] == 4
    assert tau.loc[("mean", "logme", "none"), "n_models"] == 3  # the smallest over targets
    grp = scores[(scores.target == "t1") & (scores.metric == "logme") & (scores.perturbation == "none")
                 & (scores.model != "a")]
    truth = acc[acc.target == "t1"].set_index("model").test_acc
    expected = stats.weightedtau(grp.score, truth[grp.model]).statistic
    assert tau.loc[("t1", "logme", "none"), "weighted_tau"] == pytest.approx(expected, abs=1e-14)


def test_tau_table_is_nan_where_the_ranking_is_undefined():
    scores, acc = _bench_tables()
    scores.loc[scores.metric == "sfda", "score"] = 1.0  # constant
    scores.loc[(scores.metric == "logme") & (scores.target == "t2") & (scores.model != "a"),
               "score"] = np.nan  # a single model left
    tau = tau_table(scores, acc).set_index(["target", "metric", "perturbation"])
    assert tau.xs("sfda", level="metric").weighted_tau.isna().all()
    assert np.isnan(tau.loc[("t2", "logme", "ped"), "weighted_tau"])
    assert tau.loc[("t2", "logme", "ped"), "n_models"] == 1
    # the mean runs over the targets where tau is defined; its n_models (1) flags the gap
    assert tau.loc[("mean", "logme", "ped"), "weighted_tau"] == tau.loc[("t1", "logme", "ped"),
                                                                       "weighted_tau"]
    assert tau.loc[("mean", "logme", "ped"), "n_models"] == 1


def test_tau_table_merges_scores_equal_up_to_round_off():
    scores, acc = _bench_tables()
    t1 = (scores.target == "t1") & (scores.metric == "logme") & (scores.perturbation == "none")
    scores.loc[t1, "score"] = [0.8, 0.8 * (1 + 1e-12), 0.1, 0.3]
    tau = tau_table(scores, acc).set_index(["target", "metric", "perturbation"])
    truth = acc[acc.target == "t1"].set_index("model").test_acc[list("abcd")]
    tied = stats.weightedtau([0.8, 0.8, 0.1, 0.3], truth).statistic
    assert tau.loc[("t1", "logme", "none"), "weighted_tau"] == pytest.approx(tied, abs=1e-14)
    strict = tau_table(scores, acc, tie_rtol=0.0).set_index(["target", "metric", "perturbation"])
    assert strict.loc[("t1", "logme", "none"), "weighted_tau"] == pytest.approx(
        stats.weightedtau(scores[t1].score, truth).statistic, abs=1e-14)


def test_tau_table_needs_its_columns():
    scores, acc = _bench_tables()
    with pytest.raises(ValueError, match=r"scores lacks column\(s\) \['perturbation'\]"):
        tau_table(scores.drop(columns="perturbation"), acc)
    with pytest.raises(ValueError, match=r"gt lacks column\(s\) \['test_acc'\]"):
        tau_table(scores, acc.rename(columns={"test_acc": "acc"}))


def test_the_landed_tau_table_is_recomputed_exactly_from_the_landed_scores():
    """data/bench/tau.csv (written by `potran bench` before the perturbation axis) is what
    tau_table gives today on data/bench/scores.csv: same tau_w, the column migrated."""
    from potran.resources import data_path

    scores = pd.read_csv(data_path("bench", "scores.csv"))
    landed = pd.read_csv(data_path("bench", "tau.csv"))
    assert set(scores.perturbation) == set(landed.perturbation) == {"none", "ped"}
    again = tau_table(scores, pd.read_csv(data_path("groundtruth", "accuracy.csv")))
    pd.testing.assert_frame_equal(again, landed, check_exact=True, check_dtype=False)
