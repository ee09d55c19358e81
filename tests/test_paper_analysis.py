"""potran.bench.paper_analysis (the paper's own numbers) and potran.bench.finetuned (a ground truth)."""
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from potran.bench import finetuned as ft
from potran.bench import intervals
from potran.bench import paper_analysis as pa
from potran.bench.settings import seed_table


@pytest.fixture(scope="module")
def twpy():
    return pa.paper_accuracy("twpy")


@pytest.fixture(scope="module")
def supp():
    return pa.paper_accuracy("supplementary")


def test_pick():
    assert ft.pick(None, ["a", "b"]) == (["a", "b"], "")
    assert ft.pick(["b", "x"], ["a", "b"], "models") == (["b"], "models not available, ignored: x")
    names, note = ft.pick(["x"], ["a", "b"], "models")
    assert names == ["a", "b"] and "using all" in note


def test_paper_accuracy_is_the_main_tables_datasets(twpy):
    assert list(twpy.columns) == ["model", "target", "test_acc"]
    assert twpy.shape == (120, 3) and "sun397" not in set(twpy.target)
    assert twpy.set_index(["target", "model"]).test_acc[("cifar10", "moco-v1")] == 94.15
    with pytest.raises(ValueError, match="no target"):
        pa.paper_accuracy("twpy", datasets=["fonts"])


def test_static_baseline_on_the_papers_groundtruth(twpy, supp):
    tau = pa.static_baseline_taus(twpy).set_index("target").weighted_tau
    assert tau.mean() == pytest.approx(0.674552, abs=1e-6)
    assert tau["aircraft"] == pytest.approx(0.0830, abs=5e-4)
    assert tau["voc2007"] == pytest.approx(0.9122, abs=5e-4)
    # by hand on one dataset: mean accuracy over the other nine, then scipy's weighted tau
    wide = twpy.pivot(index="model", columns="target", values="test_acc")
    by_hand = stats.weightedtau(wide.drop(columns="cars").mean(axis=1), wide["cars"]).statistic
    assert tau["cars"] == pytest.approx(by_hand, abs=1e-12)
    assert pa.static_baseline_taus(supp).weighted_tau.mean() == pytest.approx(0.519350, abs=1e-6)
    # tw.py's 11 datasets (SUN397 as a target too): the "about 0.70"
    every = pa.paper_accuracy("twpy", datasets=sorted(set(pa.paper.groundtruth("twpy").target)))
    assert pa.static_baseline_taus(every).weighted_tau.mean() == pytest.approx(0.7010, abs=5e-4)


def test_static_baseline_needs_two_targets(twpy):
    with pytest.raises(ValueError, match="two targets"):
        pa.static_baseline_taus(twpy[twpy.target == "cars"])


def test_over_datasets_of_the_published_means(twpy):
    taus = pd.concat([pa.published_taus(), pa.static_baseline_taus(twpy)])
    out = pa.over_datasets(taus, reference=("static_loto", "none")).set_index(["metric", "perturbation"])
    assert out.loc[("sfda", "ped"), "mean_tau"] == pytest.approx(0.6275, abs=5e-4)
    assert out.loc[("logme", "ped"), "mean_tau"] == pytest.approx(0.6271, abs=5e-4)
    assert out.loc[("gbc", "none"), "mean_tau"] == pytest.approx(0.1520, abs=5e-4)
    # t-interval with 9 degrees of freedom, by hand
    v = taus[(taus.metric == "gbc") & (taus.perturbation == "ped")].weighted_tau.to_numpy()
    half = stats.t.ppf(0.975, 9) * v.std(ddof=1) / np.sqrt(10)
    assert out.loc[("gbc", "ped"), ["low", "high"]].tolist() == pytest.approx(
        [v.mean() - half, v.mean() + half])
    # the baseline is resolved above LogME without PED, not above SFDA+PED or GBC+PED
    assert out.loc[("logme", "none"), "delta_high"] < 0 and out.loc[("logme", "none"), "p_delta"] < 0.05
    assert out.loc[("sfda", "ped"), "delta_low"] < 0 < out.loc[("sfda", "ped"), "delta_high"]
    assert out.loc[("gbc", "ped"), "p_delta"] == pytest.approx(0.0723, abs=5e-4)
    assert out.loc[("sfda", "ped"), "delta"] == pytest.approx(0.6275 - 0.6746, abs=1e-3)
    assert np.isnan(out.loc[("static_loto", "none"), "delta"])


def test_over_datasets_exact_on_constant_taus():
    taus = pd.DataFrame({"target": list("abc") * 2, "metric": ["m"] * 3 + ["n"] * 3,
                         "perturbation": "none", "weighted_tau": [0.5, 0.5, 0.5, 0.2, 0.4, 0.6]})
    out = pa.over_datasets(taus).set_index("metric")
    assert out.loc["m", ["mean_tau", "low", "high"]].tolist() == [0.5, 0.5, 0.5]
    assert out.loc["m", "p_value"] == pytest.approx(0.25)      # 3 datasets: 2 / 2^3 at best
    assert out.loc["n", "mean_tau"] == pytest.approx(0.4)
    with pytest.raises(ValueError, match="missing"):
        pa.over_datasets(taus.iloc[:-1])
    with pytest.raises(ValueError, match="reference"):
        pa.over_datasets(taus, reference=("x", "none"))


def test_the_five_discrepancy_cells(twpy, supp):
    cells = pa.groundtruth_discrepancies(twpy, supp, ("twpy", "supp"))
    assert len(cells) == 5
    assert cells.set_index(["target", "model"]).loc[("dtd", "simclr-v2")].tolist() == [74.71, 94.71]
    agree = pa.groundtruth_agreement(twpy, supp)
    assert agree.round(3).to_dict() == {**{t: 1.0 for t in agree.index},
                                        "cifar10": 0.966, "dtd": 0.761, "voc2007": 0.681}
    effect = pa.discrepancy_effect(twpy, supp, lambda a: pa.static_baseline_taus(a).weighted_tau.mean(),
                                   ("twpy", "supp")).set_index("changed")
    assert len(effect) == 7
    assert effect.loc["none (all twpy)", "value"] == pytest.approx(0.674552, abs=1e-6)
    assert effect.loc["all 5 (supp)", "value"] == pytest.approx(0.519350, abs=1e-6)
    assert effect.loc["dtd/simclr-v2", "delta"] == pytest.approx(-0.123, abs=1e-3)
    assert effect.loc["dtd/infomin", "delta"] == pytest.approx(0.0, abs=1e-3)


def test_random_null_on_the_papers_groundtruth(twpy):
    null = intervals.random_null(twpy, n_draws=2000, seed=0)
    assert null["low"] == pytest.approx(-0.164, abs=0.01)
    assert null["high"] == pytest.approx(0.173, abs=0.01)


def _cell(model, target, accs, losses, lr=1e-3, n_test=200, config=None):
    return {"model": model, "target": target, "test_acc": float(np.mean(accs)),
            "test_acc_sd": float(np.std(accs, ddof=1)), "lr": lr, "wd": 0.01, "epochs": 3,
            "n_seeds": len(accs), "n_train": 100, "n_test": n_test, "n_classes": 4,
            "runs": [{"seed": s, "test_acc": a, "train_loss": loss}
                     for s, (a, loss) in enumerate(zip(accs, losses))],
            "loss_last_epoch_rel_change": [abs(c[-1] - c[-2]) / c[-2] for c in losses],
            "wall_s": 1.0, "config": config or {"optimizer": "adamw", "lr": 1e-3, "epochs": 3}}


@pytest.fixture
def gt_dir(tmp_path):
    cells = tmp_path / "cells"
    cells.mkdir()
    records = [
        _cell("a", "t1", [0.50, 0.60], [[2.0, 1.0, 0.9], [2.0, 1.0, 0.8]]),
        _cell("b", "t1", [0.70, 0.70], [[2.0, 0.10, 0.01], [2.0, 0.2, 0.02]], lr=1e-4),
        _cell("a", "t2", [0.90, 0.80], [[1.0, 0.5, 0.25], [1.0, 0.5, 0.5]],
              config={"optimizer": "sgd", "lr": 1e-2, "epochs": 3}),
    ]
    for r in records:
        (cells / f"{r['model']}__{r['target']}.json").write_text(json.dumps(r))
    return tmp_path


def test_cell_table_and_protocol(gt_dir):
    cells = ft.cell_table(gt_dir).set_index(["model", "target"])
    assert cells.loc[("a", "t1"), "loss_rel_change_mean"] == pytest.approx((0.1 + 0.2) / 2)
    assert cells.loc[("a", "t1"), "loss_rel_change_max"] == pytest.approx(0.2)
    assert cells.loc[("b", "t1"), "final_loss"] == pytest.approx(0.015)
    assert cells.loc[("b", "t1"), "lr"] == 1e-4
    config, others = ft.protocol(gt_dir)
    assert config == {"optimizer": "adamw", "lr": 1e-3, "epochs": 3} and others == ["a/t2"]


def test_empty_groundtruth_folder(tmp_path):
    (tmp_path / "cells").mkdir()
    assert ft.cell_table(tmp_path).empty and list(ft.cell_table(tmp_path).columns) == ft.CELL_COLUMNS
    assert ft.protocol(tmp_path) == ({}, [])
    assert ft.accuracy_errors(seed_table(tmp_path)).empty


def test_accuracy_errors(gt_dir):
    err = ft.accuracy_errors(seed_table(gt_dir)).set_index(["model", "target"])
    row = err.loc[("a", "t1")]
    assert row.test_acc == pytest.approx(0.55)
    assert row.seed_sd == pytest.approx(np.std([0.5, 0.6], ddof=1))
    assert row.binomial_se == pytest.approx(np.sqrt(0.55 * 0.45 / 200))


def test_reliability_verdicts():
    rel = pd.DataFrame({"target": ["clear", "close", "flat", "new"], "n_models": [8, 8, 8, 2],
                        "spread": [0.05, 0.02, 0.002, 0.1], "seed_noise": [0.01] * 4,
                        "test_noise": [0.02] * 4, "ratio_seed": [5.0, 2.0, 0.2, 10.0],
                        "ratio_test": [2.5, 1.0, 0.1, 5.0], "reliability": [0.96, 0.8, 0.1, 0.99],
                        "ceiling_low": [0.8, 0.5, 0.05, 0.9], "ceiling_high": [0.9, 0.7, 0.2, 1.0]})
    v = ft.reliability_verdicts(rel).set_index("target")
    assert v.verdict.to_dict() == {"clear": "reliable", "close": "coarse", "flat": "noise",
                                   "new": "too few models"}
    assert v.loc["clear", "ratio_seed"] == 5.0 and v.loc["clear", "ceiling_low"] == 0.8
    # a high ratio is not enough when the lower ceiling is low
    assert ft.reliability_verdicts(rel.assign(ceiling_low=0.2)).verdict.iloc[0] == "coarse"


def test_reliability_of_the_offline_groundtruth():
    rel = ft.reliability(seed_table("data/groundtruth")).set_index("target").round(2)
    # seed noise alone (test images fixed) and the binomial test noise, separately
    assert rel.ratio_seed.to_dict() == {"fonts": 2.33, "letters": 3.11, "mnist5k": 1.98, "patches": 6.81}
    assert rel.ratio.to_dict() == {"fonts": 0.91, "letters": 1.23, "mnist5k": 0.57, "patches": 2.64}
    # the data's own best tau_w stay below the upper ceiling: static_loto 0.62 on fonts,
    # dim 0.708 on letters, knn+PED 0.81 on patches
    assert rel.ceiling_high.loc["fonts"] > 0.62 and rel.ceiling_high.loc["letters"] > 0.708
    assert rel.ceiling_high.loc["patches"] > 0.81


def test_still_training(gt_dir):
    cells = ft.cell_table(gt_dir)       # last-epoch changes: a/t1 0.2, b/t1 0.9 (loss 0.015), a/t2 0.5
    still = ft.still_training(cells, max_rel_change=0.05, small_loss=0.05)
    assert sorted(zip(still.model, still.target)) == [("a", "t1"), ("a", "t2")]   # b's loss is tiny
    assert ft.still_training(cells, max_rel_change=0.05, small_loss=0.001).shape[0] == 3


def test_still_training_from_the_runs_losses(gt_dir):
    """A cell that keeps only its runs' per-epoch losses (v4's) is judged as one that records the
    last-epoch change: the same changes, the same cells still training, no NaN."""
    for f in (gt_dir / "cells").glob("*.json"):
        r = json.loads(f.read_text())
        del r["loss_last_epoch_rel_change"]
        f.write_text(json.dumps(r))
    cells = ft.cell_table(gt_dir).set_index(["model", "target"])
    assert cells.loss_rel_change_max.notna().all()
    assert cells.loss_rel_change_max[("a", "t2")] == pytest.approx(0.5)
    assert cells.loss_rel_change_mean[("a", "t1")] == pytest.approx((0.1 + 0.2) / 2)
    still = ft.still_training(cells.reset_index(), max_rel_change=0.05, small_loss=0.05)
    assert sorted(zip(still.model, still.target)) == [("a", "t1"), ("a", "t2")]
