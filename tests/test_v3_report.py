"""Benchmark v3's analysis (potran.bench.v3_data, v3_tests, v3_power) on synthetic benchmarks with
known answers: the inclusion rule, the family random effect, the two Holm families of PED, the
within-family rankings, the agreement of two ground truths, the ablation, the power simulation,
and the README writer (benchmarks/v3_readme.py) on the committed data."""
import json
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from potran import stats
from potran.bench import targets_v3, zoo
from potran.bench import v3_data as vd
from potran.bench import v3_power as vp
from potran.bench import v3_tests as vt
from potran.bench.finetune import pack_correctness
from potran.bench.settings import GroundTruth

MODELS = zoo.names()
#: one target per family (6 families)
TARGETS = ("mnist_rot", "fashion_tops", "photo_rot", "fonts", "hebrew", "hangul")


def _truth(targets=TARGETS, runs=2, n=400, seed=0, spread=(0.4, 0.9), protocol="fine-tuning"):
    """A ground truth whose models' true accuracies are spread evenly, in a random order per target."""
    rng = np.random.default_rng(seed)
    acc, seeds, correct = [], [], {}
    for t in targets:
        p = rng.permutation(np.linspace(*spread, len(MODELS)))
        for m, pm in zip(MODELS, p):
            c = rng.random((runs, n)) < pm
            correct[(m, t)] = c
            acc.append({"model": m, "target": t, "test_acc": c.mean()})
            seeds += [{"model": m, "target": t, "seed": k, "test_acc": c[k].mean(), "n_test": n}
                      for k in range(runs)]
    return GroundTruth(pd.DataFrame(acc), pd.DataFrame(seeds), "simulated", protocol, correct)


def _scores(truth, rows):
    """Score table: ``rows`` maps (metric, with PED) to a function of the measured accuracies."""
    out = []
    for t, grp in truth.accuracy.groupby("target"):
        for (metric, ped), f in rows.items():
            out += [{"model": m, "target": t, "metric": metric, "perturbation": "ped" if ped else "none",
                     "score": s}
                    for m, s in zip(grp.model, f(grp.test_acc.to_numpy()))]
    return pd.DataFrame(out)


def test_model_families_and_the_one_bit_baseline():
    fams = {m: vd.model_family(m) for m in MODELS}
    assert sorted(m for m, f in fams.items() if f == "ImageNet") == sorted(
        ["mobilenet_v2", "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "hed_vgg16"])
    assert all(f == "conv4" for m, f in fams.items() if m.startswith("conv4_"))
    truth = _truth(targets=TARGETS[:2])
    scores = _scores(truth, {("logme", False): lambda a: a})
    with_bit = vd.with_family_bit(scores)
    bit = with_bit[with_bit.metric == vd.FAMILY_BIT]
    assert len(bit) == 2 * len(MODELS) and (bit.perturbation == "none").all()
    assert dict(zip(bit.model, bit.score)) == {m: float(f == "ImageNet") for m, f in fams.items()}
    assert len(scores) == len(MODELS) * 2                          # the caller's table is not changed


def test_ground_truths_read_from_cells_and_from_the_probe_table(tmp_path):
    rng = np.random.default_rng(1)
    correct = {}
    for m in MODELS[:3]:
        for t in ("mnist_rot", "fonts"):
            if (m, t) == (MODELS[2], "fonts"):
                continue                                            # an unfinished cell
            c = rng.random((2, 50)) < 0.6
            correct[(m, t)] = c
            record = {"model": m, "target": t, "n_test": 50,
                      "runs": [{"seed": k, "test_acc": float(c[k].mean()),
                                "test_correct": pack_correctness(c[k])} for k in range(2)]}
            (tmp_path / "cells").mkdir(exist_ok=True)
            (tmp_path / "cells" / f"{m}__{t}.json").write_text(json.dumps(record))
    ft = vd.finetune_truth(tmp_path)
    assert ft.complete(MODELS[:3]) == ["mnist_rot"] and ft.complete(MODELS[:2]) == ["mnist_rot", "fonts"]
    assert ft.correct_array("mnist_rot", MODELS[:3]).shape == (3, 2, 50)
    a = ft.accuracy.set_index(["model", "target"]).test_acc
    assert a[(MODELS[0], "fonts")] == pytest.approx(correct[(MODELS[0], "fonts")].mean())
    probe = pd.DataFrame([{"model": m, "target": t, "test_acc": c[0].mean(), "n_test": 50,
                           "test_correct": pack_correctness(c[0])} for (m, t), c in correct.items()])
    probe.to_csv(tmp_path / "probe.csv", index=False)
    lp = vd.probe_truth(tmp_path / "probe.csv")
    assert lp.protocol == "linear probe" and lp.correct[(MODELS[1], "fonts")].shape == (1, 50)
    assert (lp.correct[(MODELS[1], "fonts")][0] == correct[(MODELS[1], "fonts")][0]).all()
    # the folder as the page reads it: a target counts as scored once every model has its rows
    probe.to_csv(tmp_path / "linear_probe.csv", index=False)
    (tmp_path / "scores").mkdir()
    rows = [{"model": m, "target": t, "metric": "gbc", "perturbation": p, "score": 1.0}
            for m in MODELS[:2] for t in ("mnist_rot", "fonts") for p in ("none", "ped")]
    pd.DataFrame(rows[:-1]).to_csv(tmp_path / "scores" / "scores.csv", index=False)   # fonts unfinished
    bench = vd.load(tmp_path, MODELS[:2])
    assert bench.scored == ["mnist_rot"] and set(bench.scores.target) == {"mnist_rot"}
    assert vd.FAMILY_BIT in set(bench.scores.metric) and bench.general["per-family in-distribution"] is None
    assert bench.ft.complete(MODELS[:2]) == ["mnist_rot", "fonts"] and bench.lp.protocol == "linear probe"
    probe.drop(columns="test_correct").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="lacks the columns \\['test_correct'\\]"):
        vd.probe_truth(tmp_path / "bad.csv")


def test_reliability_table_applies_the_frozen_inclusion_rule():
    spread = _truth(targets=("mnist_rot",), n=2000)
    flat = _truth(targets=("fonts",), n=400, spread=(0.6, 0.61), seed=2)   # models alike: noise
    truth = GroundTruth(pd.concat([spread.accuracy, flat.accuracy]), pd.concat([spread.seeds, flat.seeds]),
                        "simulated", "fine-tuning", {**spread.correct, **flat.correct})
    table = vd.reliability_table(truth, MODELS).set_index("target")
    assert list(table.index) == ["mnist_rot", "fonts"]               # the README's order
    assert table.loc["mnist_rot", "table"] == "main" and table.loc["fonts", "table"] == "second"
    ref = stats.split_half_reliability(truth.correct_array("fonts", MODELS), n_splits=vd.N_HALVINGS)
    assert table.loc["fonts", "reliability"] == pytest.approx(ref["reliability"])
    assert table.loc["fonts", "family"] == "mplfonts" and table.loc["fonts", "runs"] == 2
    assert (table.reliability >= vd.MAIN_TABLE_RELIABILITY).tolist() == (table.table == "main").tolist()
    assert vd.reliability_table(truth, MODELS, targets=["hebrew"]).empty   # not complete: not listed


def test_the_family_test_decides_and_ped_has_two_holm_families():
    truth = _truth()
    scores = _scores(truth, {("logme", False): lambda a: a, ("logme", True): lambda a: -a,
                             ("knn", False): lambda a: a, ("knn", True): lambda a: a,
                             ("dim", False): lambda a: np.round(a, 1), ("dim", True): lambda a: a})
    tests = vt.tests_table(scores, truth, MODELS, TARGETS, n_boot=50, n_draws=200)
    row = tests.set_index(["family", "metric", "perturbation"])
    # PED reverses a perfect ranking on all 6 targets of 6 families: -2 everywhere, p = 2 / 2^6
    ped = row.loc[("PED, families", "logme", "ped")]
    assert ped.estimate == pytest.approx(-2) and ped.p_value == pytest.approx(2 / 64) == ped.p_holm
    assert ped.verdict == "resolved: negative" and ped.n == 6
    # knn is not a published PED metric: its own Holm family; no change gives p = 1
    assert row.loc[("PED, families (others)", "knn", "ped")].p_value == 1.0
    assert ("PED, families", "knn", "ped") not in row.index
    assert not ((tests.metric == "dim") & (tests.perturbation == "ped")).any()    # no PED baseline
    fam = row.loc[("families", "logme", "none")]
    assert fam.estimate == pytest.approx(1.0) and fam.p_value == pytest.approx(2 / 64)
    # Holm within the published metrics (logme, logme+PED) and apart from the others
    # (knn, knn+PED, dim): every row at 2/64
    assert fam.p_holm == pytest.approx(2 * 2 / 64)
    assert row.loc[("families (others)", "knn", "none")].p_holm == pytest.approx(3 * 2 / 64)
    assert row.loc[("chance", "logme", "none")].p_value < 0.01
    quick = vt.tests_table(scores, truth, MODELS, TARGETS, resample=False)
    assert set(quick.family) == {f + half for f in ("targets", "families", "PED", "PED, families")
                                 for half in ("", " (others)")}
    by_family = quick.set_index(["family", "metric", "perturbation"])
    assert by_family.loc[("PED, families", "logme", "ped")].p_holm == ped.p_holm
    peds = vt.ped_table(tests).set_index("metric")
    assert peds.loc["logme", ["over_families", "over_families_low", "over_families_high"]].tolist() \
        == pytest.approx([-2, -2, -2])
    assert peds.loc["knn", "p_families_holm"] == 1.0 and "dim" not in peds.index
    means = vt.mean_table(tests).set_index(["metric", "perturbation"])
    assert means.loc[("logme", "ped"), ["over_targets", "over_targets_low", "over_targets_high"]].tolist() \
        == pytest.approx([-1, -1, -1])
    assert means.loc[("logme", "none"), "p_families_holm"] == pytest.approx(4 / 64)
    assert means.loc[("logme", "none"), "p_chance_holm"] == row.loc[("chance", "logme", "none")].p_holm
    # one Holm family over every PED row (logme at 2/64, knn at 1): logme's p doubles
    both = vt.holm_all(tests).set_index("metric")
    assert both.loc["logme", "p_value"] == pytest.approx(2 / 64) == both.loc["logme", "p_holm_split"]
    assert both.loc["logme", "p_holm_all"] == pytest.approx(2 * 2 / 64)
    assert both.loc["knn", "p_holm_all"] == 1.0 and list(both.index) == ["logme", "knn"]


def test_family_means_weigh_each_source_once():
    # 3 targets of the noto family where PED helps, 1 target each of 2 families where it hurts
    targets = ("hebrew", "greek", "cyrillic", "mnist_rot", "fonts")
    truth = _truth(targets=targets)

    def sign(t):
        return 1 if targets_v3.FAMILIES[t] == "noto" else -1

    rows = []
    for t, grp in truth.accuracy.groupby("target"):
        a = grp.test_acc.to_numpy()
        rows += [{"model": m, "target": t, "metric": "gbc", "perturbation": "none", "score": -s * sign(t)}
                 for m, s in zip(grp.model, a)]
        rows += [{"model": m, "target": t, "metric": "gbc", "perturbation": "ped", "score": s * sign(t)}
                 for m, s in zip(grp.model, a)]
    tests = vt.tests_table(pd.DataFrame(rows), truth, MODELS, targets, n_boot=20, n_draws=50)
    by_family = tests[(tests.family == "PED, families")].iloc[0]
    by_target = tests[(tests.family == "PED")].iloc[0]
    assert by_target.estimate == pytest.approx((3 * 2 - 2 * 2) / 5)        # +0.4 over targets
    assert by_family.estimate == pytest.approx((2 - 2 - 2) / 3)            # -0.667 over families
    assert by_family.n == 3 and by_family.min_p == 0.25
    assert "cannot be resolved" in by_family.verdict
    assert by_family.low < -2                                              # the t-interval leaves the range
    shown = vt.ped_table(tests).set_index("metric").loc["gbc"]                 # clipped to tau_w's range
    assert shown.over_families_low == -2 and shown.over_families_high == pytest.approx(min(by_family.high, 2))


def test_within_family_rankings_leave_the_family_bit_undefined():
    truth = _truth(targets=TARGETS[:3])
    scores = vd.with_family_bit(_scores(truth, {("logme", False): lambda a: a}))
    conv4 = [m for m in MODELS if vd.model_family(m) == "conv4"]
    tau = vt.per_target_tau(scores, truth, conv4, TARGETS[:3])
    assert tau[tau.metric == "logme"].tau.tolist() == pytest.approx([1, 1, 1])
    assert tau[tau.metric == vd.FAMILY_BIT].tau.isna().all()               # constant within a family
    across = vt.per_target_tau(scores, truth, MODELS, TARGETS[:3])
    assert across[across.metric == vd.FAMILY_BIT].tau.notna().all()


def test_within_family_table_ranks_each_model_family_alone():
    truth = _truth(targets=TARGETS[:3])
    scores = vd.with_family_bit(_scores(truth, {("logme", False): lambda a: a,
                                                ("logme", True): lambda a: -a}))
    table = vt.within_family_table(scores, truth, MODELS, TARGETS[:3]).set_index(["metric", "perturbation",
                                                                                  "models"])
    assert table.loc[("logme", "none", "conv4"), "estimate"] == pytest.approx(1)         # perfect in each
    ped = table.loc[("logme", "ped", "ImageNet"), ["estimate", "low", "high"]]
    assert ped.tolist() == pytest.approx([-1] * 3)
    assert table.loc[("logme", "none", "ImageNet"), "n_models"] == 5
    assert (vd.FAMILY_BIT, "none", "all") in table.index                                # defined across
    assert (vd.FAMILY_BIT, "none", "conv4") not in table.index                          # constant within
    assert vt.within_family_table(scores, truth, MODELS, TARGETS[:1]).empty              # one target: none
    change = vt.within_family_change(scores, truth, MODELS, TARGETS[0], ["logme"]).set_index("models")
    assert change.none.tolist() == pytest.approx([1, 1, 1]) and change.ped.tolist() == pytest.approx([-1] * 3)


def test_agreement_of_two_ground_truths():
    ft = _truth(targets=TARGETS[:3])
    same = replace(ft, protocol="linear probe")
    rev = replace(same, accuracy=ft.accuracy.assign(test_acc=-ft.accuracy.test_acc))
    table, summary = vt.agreement(ft, same, MODELS, TARGETS, n_boot=50)
    assert list(table.target) == list(TARGETS[:3])                        # only targets both complete
    assert table.weighted_tau.tolist() == pytest.approx([1] * 3)
    assert table.spearman.tolist() == pytest.approx([1] * 3)
    assert summary.estimate == pytest.approx(1) and summary.n == 3
    rel = {(p, t): 0.81 for p in ("fine-tuning", "linear probe") for t in TARGETS}
    table, _ = vt.agreement(ft, rev, MODELS, TARGETS, reliabilities=rel, n_boot=50)
    assert table.weighted_tau.tolist() == pytest.approx([-1] * 3)
    assert table.spearman_corrected.tolist() == pytest.approx([-1 / 0.81] * 3)


def test_ablation_and_the_share_of_cells_where_pped_exits():
    truth = _truth(targets=TARGETS[:4])
    base = _scores(truth, {("sfda", False): lambda a: a, ("sfda", True): lambda a: a})
    reversed_ = _scores(truth, {("sfda", True): lambda a: -a})
    partial = reversed_[~((reversed_.target == TARGETS[3]) & (reversed_.model == MODELS[0]))]
    table = vt.ablation(base, {"photo crops": base, "own": reversed_, "partial": partial}, truth,
                       MODELS, TARGETS[:4]).set_index("general set")
    assert table.loc["photo crops", "mean of family means"] == pytest.approx(0)
    assert table.loc["own", "mean of family means"] == pytest.approx(-2)
    assert table.loc["own", "p_value"] == pytest.approx(2 / 16) and table.loc["own", "targets"] == 4
    assert table.loc["partial", "targets"] == 3                           # a target not fully scored
    on = base[base.perturbation == "ped"]
    cells = on.assign(ped_steps=[3.0 if vd.model_family(m) == "conv4" else 6.0 for m in on.model],
                      energy_ratio=0.5)
    raw = cells.assign(metric="dim", ped_steps=6.0, energy_ratio=0.9)   # dim/norm: a motion of their own
    share = vt.exit_share({"photo crops": pd.concat([raw, cells])}).set_index("models")
    assert share.loc["conv4", "exit rule fired"] == 1.0 and share.loc["ImageNet", "exit rule fired"] == 0.0
    assert share.loc["conv4", "cells"] == 11 * 4 and share.loc["ImageNet", "median energy ratio"] == 0.5


def test_observed_spread_and_ped_score_correlation():
    tau = pd.DataFrame([{"target": t, "metric": "gbc", "perturbation": p, "tau": x}
                        for t, a, b in zip("abcd", [0.1, 0.2, 0.3, 0.4], [0.1, 0.4, 0.3, 0.8])
                        for p, x in (("none", a), ("ped", b))])
    out = vp.observed_spread(tau, ["gbc"])
    assert out["sd_tau"] == pytest.approx(np.std([0.1, 0.2, 0.3, 0.4], ddof=1))
    assert out["sd_effect"] == pytest.approx(np.std([0, 0.2, 0, 0.4], ddof=1)) and out["targets"] == 4
    truth = _truth(targets=TARGETS[:2])
    scores = _scores(truth, {("gbc", False): lambda a: a, ("gbc", True): lambda a: a,
                             ("sfda", False): lambda a: a, ("sfda", True): lambda a: -a})
    assert vp.ped_score_correlation(scores, ["gbc"]) == pytest.approx(1)
    assert vp.ped_score_correlation(scores, ["sfda"]) == pytest.approx(-1)


def _templates(n_targets=6, n=300, seed=3):
    truth = _truth(targets=targets_v3.NAMES[:n_targets], n=n, seed=seed)
    names = targets_v3.NAMES[:n_targets]
    return [truth.correct_array(t, MODELS) for t in names]


def test_power_curve_size_growth_and_heterogeneity():
    templates = _templates()
    families = list("abcdef")                                            # 6 families: min p 2/64
    kw = dict(effects=(0.0, 0.15, 0.4), alphas=(0.05,), n_sim=300, seed=1)
    plain = vp.power_curve(templates, families, **kw).set_index("effect")
    assert plain.loc[0.0, "power@0.05"] <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)   # the test's size
    assert plain.loc[0.4, "power@0.05"] > 0.95                          # a large, uniform effect
    assert plain["power@0.05"].is_monotonic_increasing
    assert plain.loc[0.15, "mean_effect"] == pytest.approx(0.15, abs=0.03)
    mixed = vp.power_curve(templates, families, sd_effect=0.4, **kw).set_index("effect")
    assert mixed.loc[0.4, "power@0.05"] < plain.loc[0.4, "power@0.05"]
    assert mixed.loc[0.0, "sd_effect_targets"] > plain.loc[0.0, "sd_effect_targets"] + 0.1
    one_family = vp.power_curve(templates, ["a"] * 6, **kw)
    assert one_family["power@0.05"].isna().all()
    with pytest.raises(ValueError, match="6 templates but 5 family labels"):
        vp.power_curve(templates, families[:5])
    with pytest.raises(ValueError, match="score_corr"):
        vp.power_curve(templates, families, score_corr=1.0)


def test_calibrated_power_matches_the_measured_spread():
    templates, families = _templates(), list("abcdef")
    observed = {"base_tau": 0.3, "sd_tau": 0.05, "sd_effect": 0.5}
    curve, params = vp.calibrated_power(templates, families, observed, score_corr=0.8,
                                       effects=(0.0, 0.3), n_sim=300, seed=2)
    assert params["sd_base"] == 0.0                                       # below the floor: none added
    assert params["sd_effect"] == pytest.approx(np.sqrt(0.5 ** 2 - params["floor_sd_effect"] ** 2))
    assert curve.set_index("effect").loc[0.0, "sd_effect_targets"] == pytest.approx(0.5, abs=0.06)


def test_min_detectable_effect_interpolates():
    curve = pd.DataFrame({"mean_effect": [0.0, 0.1, 0.2, 0.3], "power@0.05": [0.05, 0.3, 0.7, 0.9]})
    assert vp.min_detectable_effect(curve) == pytest.approx(0.25)
    assert vp.min_detectable_effect(curve, power=0.95) == float("inf")
    assert vp.min_detectable_effect(curve, power=0.01) == 0.0


def test_power_statement_measures_its_spreads_on_the_scored_main_table():
    lp = _truth(targets=targets_v3.NAMES, runs=1, n=200, seed=4, protocol="linear probe")
    ft = _truth(targets=TARGETS[:2], n=200, seed=5)
    scored = ["mnist_rot", "fashion_tops", "photo_rot", "fonts"]
    scores = _scores(lp, {("gbc", False): lambda a: a, ("gbc", True): lambda a: a[::-1]})
    scores = scores[scores.target.isin(scored)]
    kw = dict(effects=(0.0, 0.4), n_sim=60, seed=1)
    st = vp.power_statement(ft, lp, scores, MODELS, main_lp=scored, **kw)
    assert st["source"] == {"benchmark": "v3", "protocol": "linear probe", "targets": 4}
    assert st["templates"] == {"fine-tuning": 2, "linear probe": 22} and st["metrics"] == ["gbc"]
    assert st["observed"]["base_tau"] == pytest.approx(1.0) and st["score_corr"] < 0.5
    row = st["table"].iloc[0]
    assert row.design == "the frozen design (24 targets, 8 families)" and row.families == 8
    assert len(st["table"]) == 1                                          # no fine-tuning main table
    landed = (scores, lp)
    fallback = vp.power_statement(ft, lp, scores, MODELS, main_lp=scored[:2], landed=landed, **kw)
    assert fallback["source"]["benchmark"] == "landed"
    with pytest.raises(ValueError, match="no landed benchmark"):
        vp.power_statement(ft, lp, None, MODELS, **kw)


# --- helpers and power ---------------------------------------------------------------------------

def test_members():
    rel = pd.DataFrame({"target": ["a", "b", "c"], "table": ["main", "second", "main"]})
    assert vd.members(rel, "main") == ["a", "c"] and vd.members(rel, "second") == ["b"]


def test_family_power_is_exact_where_the_answer_is_known():
    from scipy.stats import norm

    # 3 families at alpha 0.3: only the two all-same-sign patterns give p = 2/8 < 0.3, so the
    # power is P(all positive) + P(all negative) = Phi(d/s)^3 + Phi(-d/s)^3
    for effect, sd in ((0.0, 1.0), (0.27, 0.71), (0.5, 0.3)):
        exact = norm.cdf(effect / sd) ** 3 + norm.cdf(-effect / sd) ** 3
        got = vp.family_power(sd, 3, effect, alpha=0.3, n_sim=40000, seed=1)
        assert got == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 40000))
    # no effect, 8 families: the exact test's size at 0.05 is 12/256 (p takes the values 2k/256)
    size = vp.family_power(1.0, 8, 0.0, alpha=0.05, n_sim=40000, seed=2)
    assert size == pytest.approx(12 / 256, abs=4 * np.sqrt(12 / 256 * (1 - 12 / 256) / 40000))
    # 5 families can never go below 2/32 = 0.0625; 8 cannot go below 0.05/9 (2/256 > 0.0056)
    assert vp.family_power(0.01, 5, 1.0) == 0.0 and vp.family_power(0.01, 8, 1.0, alpha=0.05 / 9) == 0.0
    assert vp.family_power(0.01, 8, 1.0) == 1.0 and np.isnan(vp.family_power(1.0, 1, 1.0))
    assert vp.families_needed(0.05) == 6 and vp.families_needed(0.05 / 3) == 7


def test_power_by_metric_uses_each_metrics_own_spread():
    rng = np.random.default_rng(0)
    rows = [{"model": m, "target": t, "metric": metric, "perturbation": p, "tau": tau}
            for t in TARGETS for metric, spread in (("logme", 0.7), ("gbc", 0.05))
            for p, tau in (("none", 0.3), ("ped", 0.3 + 0.2 + spread * rng.standard_normal()))
            for m in ["x"]]
    tau = pd.DataFrame(rows).drop(columns="model")
    effects = vt.family_effects(tau)
    assert len(effects) == 12 and (effects.targets == 1).all()          # 6 targets of 6 families
    power = vp.power_by_metric(effects, {"logme": 0.2, "gbc": 0.2}, designs={"six": 6},
                              n_sim=4000).set_index("metric")
    sd = effects.groupby("metric").effect.std()
    assert power.loc["logme", "sd"] == pytest.approx(sd["logme"]) and power.families.eq(6).all()
    # the small spread is detected every time at 2/64 < 0.05, the large one seldom
    assert power.loc["gbc", "power, six, α 0.05"] == 1.0 > 0.5 > power.loc["logme", "power, six, α 0.05"]
    # mnist5k joins mnist_rot's family: 5 families, the mnist one the mean of its two targets
    two = vt.family_effects(tau.assign(target=tau.target.replace({"fashion_tops": "mnist5k"})))
    assert len(two) == 10 and two.targets.max() == 2
    wide = tau.pivot_table(index=["metric", "target"], columns="perturbation", values="tau")
    d = (wide.ped - wide.none).loc["logme"]
    mnist = two[(two.metric == "logme") & (two.family == "mnist")].effect.iloc[0]
    assert mnist == pytest.approx((d["mnist_rot"] + d["fashion_tops"]) / 2)


def test_the_readme_section_is_replaced_not_repeated(tmp_path, monkeypatch):
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    sys.modules.pop("v3_readme", None)
    import v3_readme

    readme = tmp_path / "README.md"
    readme.write_text("# Frozen protocol\n\nbody\n")
    v3_readme.write_readme(readme, "first | report")
    v3_readme.write_readme(readme, "second")
    text = readme.read_text()
    assert text.startswith("# Frozen protocol\n\nbody\n\n" + v3_readme.README_START)
    assert text.count(v3_readme.README_START) == 1 and "second" in text and "first" not in text
    table = v3_readme.markdown(pd.DataFrame({"a": ["x|y"], "b": [0.5], "c": [np.nan]}))
    assert table.splitlines()[2] == "| x\\|y | 0.500 | – |"
    # the committed README's section is this template filled in (its sentences, between the numbers)
    template = v3_readme.TEMPLATE.read_text(encoding="utf-8").strip()
    pattern = "(.+?)".join(re.escape(part) for part in re.split(r"\{\w+\}", template))
    committed = (Path(__file__).resolve().parents[1] / "data" / "bench_v3" / "README.md").read_text()
    section = committed.split(v3_readme.README_START + "\n", 1)[1].split("\n" + v3_readme.README_END, 1)[0]
    filled = re.fullmatch(pattern, section, flags=re.DOTALL)
    assert filled is not None
    names = re.findall(r"\{(\w+)\}", template)
    values = dict(zip(names, filled.groups()))
    assert values["ft_n_main"] == "12" and values["lp_n_main"] == "23" and values["n_models"] == "16"
