"""Benchmark v4's registered analysis (potran.bench.v4.report) on simulated cells and score tables
with known answers (no v4 model is scored here)."""
import json

import numpy as np
import pandas as pd
import pytest

from potran import stats
from potran.bench import targets_v3, zoo
from potran.bench import v3_data as vd
from potran.bench import v3_tests as vt
from potran.bench.finetune import pack_correctness
from potran.bench.settings import GroundTruth
from potran.bench.v4 import design
from potran.bench.v4 import report as rp

MODELS = [f"ssl{i:02d}" for i in range(12)]
#: two targets of each of v3's 8 families
TARGETS = ("mnist5k", "mnist_rot", "fashion", "fashion_tops", "patches", "photo_scale", "letters", "fonts",
           "greek", "cyrillic", "hanzi", "kana", "emoji_id", "emoji_group", "wallpaper_id", "wallpaper_rot")
GAINS = {"logme": 0.269, "sfda": 0.046, "gbc": 0.255}


def _correct(kind, rng, n):
    """(models, 2 runs, n) correctness: ``spread`` (accuracies 0.3-0.9 in a random order, the runs
    independent draws), ``identical`` (nested: a model is right on every image easier than its
    ability; both runs alike) or ``noise`` (every model at 0.5, every draw independent)."""
    if kind == "noise":
        return rng.random((len(MODELS), 2, n)) < 0.5
    ability = rng.permutation(np.linspace(0.3, 0.9, len(MODELS)))
    if kind == "identical":
        difficulty = rng.permutation(np.arange(n) / n)
        one = difficulty[None, :] < ability[:, None]
        return np.repeat(one[:, None, :], 2, axis=1)
    return rng.random((len(MODELS), 2, n)) < ability[:, None, None]


def _truth(kinds, n=300, seed=0):
    """A v3-type ground truth of ``kinds`` ({target: kind of :func:`_correct`})."""
    rng = np.random.default_rng(seed)
    acc, seeds, correct = [], [], {}
    for t, kind in kinds.items():
        c = _correct(kind, rng, n)
        for m, cm in zip(MODELS, c):
            correct[(m, t)] = cm
            acc.append({"model": m, "target": t, "test_acc": cm.mean()})
            seeds += [{"model": m, "target": t, "seed": k, "test_acc": cm[k].mean(), "n_test": n} for k in range(2)]
    return GroundTruth(pd.DataFrame(acc), pd.DataFrame(seeds), "simulated", "fine-tuning",
                       correct)


def _scores(truth, ped, seed=1, metrics=design.METRICS):
    """Scores of every metric: without PED the accuracy plus noise (sd 0.1), with PED ``ped``
    ({metric: function of (accuracy, score without PED)}; default: the same score)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t, grp in truth.accuracy.groupby("target", sort=False):
        acc = grp.test_acc.to_numpy()
        for metric in metrics:
            none = acc + 0.1 * rng.standard_normal(len(acc))
            with_ped = ped.get(metric, lambda a, s: s)(acc, none)
            for p, values in (("none", none), ("ped", with_ped)):
                rows += [{"model": m, "target": t, "metric": metric, "perturbation": p, "score": float(v)}
                         for m, v in zip(grp.model, values)]
    return pd.DataFrame(rows)


def _inputs(truth, scores):
    return rp.Inputs(truth, scores, list(dict.fromkeys(scores.target)), MODELS)


def _analyse(inputs, **kw):
    return rp.analyse(inputs, gains=GAINS, v3=False, n_sim=0, **kw)


def test_the_inversion_interval_is_the_set_the_sign_flip_keeps():
    rng = np.random.default_rng(3)
    for t in (6, 7, 8):
        v = rng.normal(0.1, 0.3, t)
        low, high = stats.sign_flip_inversion(v)
        for mu in np.linspace(-1.5, 1.5, 601):
            assert (stats.sign_flip(v - mu).p_value >= 0.05) == (low <= mu <= high)
        res = stats.sign_flip_clustered(v, np.arange(t), interval="inversion")
        assert (res.low, res.high) == (low, high) and "inverting" in res.test
    assert stats.sign_flip_inversion(rng.normal(size=5)) == (-np.inf, np.inf)  # 2 / 2^5 > 0.05
    t = stats.sign_flip(v)                                                       # the default stays t
    assert "t-interval" in t.test and np.isclose(t.high - t.estimate, t.estimate - t.low)
    with pytest.raises(ValueError, match="exact test"):
        stats.sign_flip(rng.normal(size=20), interval="inversion")


def test_reliability_identical_seeds_one_noise_near_zero_and_inclusion_drops_the_noisy():
    kinds = {t: ("identical" if i % 2 == 0 else "noise") for i, t in enumerate(TARGETS[:8])}
    truth = _truth(kinds, n=1200)
    rel = vd.reliability_table(truth, MODELS).set_index("target")
    identical = [t for t, k in kinds.items() if k == "identical"]
    noise = [t for t, k in kinds.items() if k == "noise"]
    assert np.allclose(rel.loc[identical, "reliability"], 1.0, atol=1e-12)
    assert (rel.loc[noise, "reliability"] < 0.9).all()
    pure = vd.reliability_table(_truth({t: "noise" for t in TARGETS}, seed=2), MODELS)
    assert abs(pure.split_half_r.mean()) < 0.1 and abs(pure.reliability.median()) < 0.1
    assert (pure.reliability < 0.9).all()
    scores = _scores(truth, {})
    out = _analyse(_inputs(truth, scores))
    assert out.main == identical                                   # the noisy targets leave
    assert out.families == ["mnist", "fashion", "skimage", "mplfonts"]
    assert set(out.tau.target) == set(identical)
    assert set(out.reliability.target) == set(kinds)               # every target is reported


def test_planted_effects_are_found_with_their_sign():
    truth = _truth({t: "spread" for t in TARGETS})
    up, down = (lambda a, s: a), (lambda a, s: -a)                 # PED ranks perfectly / backwards
    scores = _scores(truth, {"logme": up, "sfda": down, "nleep": up, "parc": up, "hscore": up,
                             "reg_hscore": up, "transrate": up, "knn": up})
    out = _analyse(_inputs(truth, scores))
    assert len(out.main) == 16 and len(out.families) == 8
    tests = out.tests.set_index(["analysis", "hypothesis", "metric"])
    fam = tests.loc["families"]
    assert fam.loc[("H0", "logme"), "sign"] == 1 and fam.loc[("H0", "logme"), "rejected"]
    assert fam.loc[("H0", "sfda"), "sign"] == -1 and fam.loc[("H0", "sfda"), "rejected"]
    assert fam.loc[("H0", "gbc"), "p_value"] == 1 and not fam.loc[("H0", "gbc"), "rejected"]
    assert fam.loc[("H0", "logme"), "p_value"] == 2 / 2 ** 8
    assert np.isclose(fam.loc[("H0", "logme"), "p_holm"], 3 * 2 / 2 ** 8)      # Holm over 3
    others = fam.xs("H0").loc[list(design.OTHERS)]
    assert others.rejected.all() and (others.sign == 1).all()                  # all 8 agree: 6 x 2/256
    assert np.allclose(others.p_holm, 6 * 2 / 2 ** 8)
    h0p = fam.xs("H0'")                                                         # H0': effect = gain
    assert set(h0p.index) == set(design.PUBLISHED) and h0p.rejected.all()
    assert h0p.loc["gbc", "sign"] == -1 and h0p.loc["sfda", "sign"] == -1
    for _, r in fam.iterrows():                                  # the interval inverts the same test
        assert (r.low <= r["null"] <= r.high) == (r.p_value >= 0.05)
    grouped = tests.loc["rendering procedures"]
    assert (grouped.n == 7).all() and grouped.loc[("H0", "logme"), "p_value"] == 2 / 2 ** 7
    assert (tests.loc["targets"].n == 16).all() and not tests.loc["targets"].deciding.any()
    assert fam.deciding.all()
    means = out.means.set_index(["metric", "perturbation"])
    assert means.loc[("logme", "ped"), "over_families"] == 1.0 and means.loc[("sfda", "ped"), "low"] == -1.0


def test_ped_equal_to_none_gives_zero_effects_and_p_one():
    truth = _truth({t: "spread" for t in TARGETS})
    out = _analyse(_inputs(truth, _scores(truth, {})))
    assert (out.delta.effect == 0).all() and len(out.delta) == 16 * len(design.METRICS)
    h0 = out.tests[out.tests.hypothesis == "H0"]
    assert len(h0) == 3 * len(design.METRICS)
    assert (h0.p_value == 1).all() and (h0.estimate == 0).all() and (h0.low == 0).all() and (h0.high == 0).all()
    assert not h0.rejected.any() and (h0.sign == 0).all()


def test_holm_families_as_registered_on_a_hand_example():
    p = {("(1) H0", "logme"): 0.01, ("(1) H0", "sfda"): 0.04, ("(1) H0", "gbc"): 0.02,
         ("(2) H0'", "logme"): 0.2, ("(3) H0", "nleep"): 0.008, ("(3) H0", "parc"): 0.5}
    rows = [{"analysis": a, "deciding": a == "families", "hypothesis": fam.split()[1], "holm_family": fam,
             "metric": m, "null": 0.0, "estimate": 0.1, "low": 0, "high": 0.2, "p_value": pv, "min_p": 0.0078,
             "n": 8, "test": ""} for a in ("families", "targets") for (fam, m), pv in p.items()]
    out = rp.holm(pd.DataFrame(rows, columns=rp.TEST_COLUMNS))
    for _, grp in out.groupby("analysis"):
        got = dict(zip(zip(grp.holm_family, grp.metric), grp.p_holm))
        assert got == pytest.approx({("(1) H0", "logme"): 0.03, ("(1) H0", "gbc"): 0.04,
                                     ("(1) H0", "sfda"): 0.04, ("(2) H0'", "logme"): 0.6,   # over 3, not 1
                                     ("(3) H0", "nleep"): 0.048, ("(3) H0", "parc"): 1.0})  # over 6
        assert list(grp.rejected) == [True, True, True, False, True, False]
    assert design.HOLM_FAMILIES == {"(1) H0": ("logme", "sfda", "gbc"), "(2) H0'": ("logme", "sfda", "gbc"),
                                    "(3) H0": ("nleep", "parc", "hscore", "reg_hscore", "transrate", "knn")}


def test_power_from_the_measured_spread():
    truth = _truth({t: "spread" for t in TARGETS})
    scores = _scores(truth, {"logme": lambda a, s: a}, metrics=("logme", "gbc"))
    tau = vt.per_target_tau(scores, truth, MODELS, list(TARGETS))
    delta = rp.deltas(tau)
    table, spread = rp.power(delta, scores, 8, n_sim=40, gains=GAINS)
    assert list(spread.metric) == ["logme", "gbc"] and (spread.families == 8).all()
    assert spread.set_index("metric").loc["gbc", "sd_families"] == 0           # no effect anywhere
    assert list(table.metric) == ["logme", "gbc"] and (table.families == 8).all()
    assert table.power.between(0, 1).all() and table.type1.between(0, 1).all()
    assert rp.power(delta, scores, 1)[0].empty                                   # one family: no test


def test_load_reads_cells_and_keeps_the_complete_targets(tmp_path):
    truth = _truth({t: "spread" for t in TARGETS[:3]}, n=40)
    for (m, t), c in truth.correct.items():
        record = {"model": m, "target": t, "n_test": 40, "test_acc": float(c.mean()),
                  "runs": [{"seed": k, "test_acc": float(c[k].mean()), "test_correct": pack_correctness(c[k])}
                           for k in range(2)]}
        (tmp_path / "cells").mkdir(exist_ok=True)
        (tmp_path / "cells" / f"{m}__{t}.json").write_text(json.dumps(record))
    scores = _scores(truth, {}, metrics=("logme",))
    scores = scores[~((scores.target == TARGETS[2]) & (scores.model == MODELS[0]))]   # being scored
    (tmp_path / "scores").mkdir()
    scores.to_csv(tmp_path / "scores" / "scores.csv", index=False)
    inputs = rp.load(tmp_path, models=MODELS)
    assert inputs.scored == list(TARGETS[:2]) and set(inputs.scores.target) == set(TARGETS[:2])
    assert inputs.truth.complete(MODELS) == list(TARGETS[:3])
    assert np.array_equal(inputs.truth.correct[(MODELS[1], TARGETS[0])], truth.correct[(MODELS[1], TARGETS[0])])


def test_v3_means_are_v3s_family_means(tmp_path):
    v3_models = zoo.names()
    targets = ("mnist_rot", "fonts", "hebrew")
    rng = np.random.default_rng(4)
    cells, probe, acc = tmp_path / "cells", [], {}
    cells.mkdir()
    for t in targets:
        for m, p in zip(v3_models, rng.permutation(np.linspace(0.3, 0.9, len(v3_models)))):
            c = rng.random((2, 200)) < p
            acc[(m, t)] = c.mean()
            runs = [{"seed": k, "test_acc": float(c[k].mean()), "test_correct": pack_correctness(c[k])}
                    for k in range(2)]
            (cells / f"{m}__{t}.json").write_text(json.dumps({"model": m, "target": t, "n_test": 200, "runs": runs}))
            probe.append({"model": m, "target": t, "test_acc": c[0].mean(), "n_test": 200,
                          "test_correct": pack_correctness(c[0])})
    pd.DataFrame(probe).to_csv(tmp_path / "linear_probe.csv", index=False)
    scores = pd.DataFrame([{"model": m, "target": t, "metric": "logme", "perturbation": p,
                            "score": a + rng.normal(0, 0.1)} for (m, t), a in acc.items() for p in ("none", "ped")])
    (tmp_path / "scores").mkdir()
    scores.to_csv(tmp_path / "scores" / "scores.csv", index=False)
    got = rp.v3_means(tmp_path, v3_models).set_index(["metric", "perturbation"])
    data = vd.load(tmp_path, v3_models)
    want = vt.mean_table(vt.tests_table(data.scores, data.ft, v3_models, list(targets), resample=False))
    want = want.set_index(["metric", "perturbation"])
    assert set(got.index) == set(want.index) == {("logme", "none"), ("logme", "ped"), (vd.FAMILY_BIT, "none")}
    assert np.allclose(got.over_families, want.loc[got.index, "over_families"])
    assert (got.families == 3).all() and (got.low == -1).all()     # 3 families: no bounded 95 % interval
    both = rp.side_by_side(got.reset_index(), got.reset_index())
    assert np.array_equal(both.over_families_v4, both.over_families_v3)
    v4 = got.reset_index().iloc[[1, 0]]                              # v4's order first, v3's extras after
    both = rp.side_by_side(v4, got.reset_index())
    assert list(zip(both.metric, both.perturbation))[:2] == list(zip(v4.metric, v4.perturbation))
    assert both.over_families_v4.isna().tolist() == [False, False, True]


def test_units_group_the_glyph_families_by_rendering_procedure():
    names = list(targets_v3.NAMES)
    assert len(set(rp.units(names))) == 8 and len(set(rp.units(names, "rendering procedures"))) == 7
    assert set(rp.units(["greek", "hanzi"], "rendering procedures")) == {"noto+notocjk"}
    assert list(rp.units(["letters"], "targets")) == ["letters"]
    with pytest.raises(ValueError, match="unknown analysis"):
        rp.units(names, "models")


def test_the_settings_main_table_is_the_registered_inclusion_rule(tmp_path):
    """``settings.get("v4", targets="main")`` (potran.evidence.main_table_targets on the ranked
    models) keeps exactly the targets the registered report includes, here from simulated cells
    of 14 models (two controls that never enter the ranking) and on the committed v4 cells."""
    from potran.evidence import main_table_targets

    kinds = {t: ("spread" if i % 3 else "noise") for i, t in enumerate(TARGETS[:6])}
    truth = _truth(kinds, n=120)
    (tmp_path / "cells").mkdir()
    rng = np.random.default_rng(3)
    controls = {(c, t): rng.random((2, 120)) < 0.5 for c in ("control_a", "control_b") for t in kinds}
    for (m, t), c in {**truth.correct, **controls}.items():
        runs = [{"seed": k, "test_acc": float(c[k].mean()), "test_correct": pack_correctness(c[k])}
                for k in range(2)]
        (tmp_path / "cells" / f"{m}__{t}.json").write_text(json.dumps(
            {"model": m, "target": t, "n_test": 120, "test_acc": float(c.mean()), "runs": runs}))
    ours = main_table_targets(tmp_path, tuple(MODELS))
    registered, _ = rp.included(vd.reliability_table(vd.finetune_truth(tmp_path), MODELS))
    assert sorted(ours) == sorted(registered) == sorted(t for t, k in kinds.items() if k == "spread")
    from potran.bench.v4 import zoo as v4_zoo
    from potran.resources import data_path
    folder = data_path("bench_v4")
    assert sorted(main_table_targets(folder, tuple(v4_zoo.ranked()))) == sorted(
        rp.included(vd.reliability_table(vd.finetune_truth(folder), v4_zoo.ranked()))[0])
