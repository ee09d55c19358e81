"""Benchmark runner: tidy tables, tau against ground truth, resume, failing metrics."""
import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch

from fake_zoo import MODELS, TARGETS
from potran.bench import SCORE_COLUMNS, TAU_COLUMNS, Benchmark, run
from potran.finetune import FinetuneConfig, training_indices

GENERAL = TARGETS["t2"].x_test  # any images; the runner only needs their features
BENCH = Benchmark(models=tuple(MODELS), targets=("t1", "t2"), metrics=("logme", "norm"),
                  finetune=FinetuneConfig(n_train=40))
GT = pd.DataFrame({"model": [m for m in MODELS for _ in "12"],
                   "target": ["t1", "t2"] * len(MODELS),
                   "test_acc": [0.5, 0.9, 0.7, 0.6, 0.8, 0.4]})


class Killed(RuntimeError):
    pass


def extractor(calls, fail_at=None):
    """Stand-in for potran.features.extract_features that records its cache keys."""

    def extract(zm, images, *, device, cache_dir, key, progress):
        calls.append(f"{zm.name}/{key}")
        if len(calls) == fail_at:
            raise Killed(key)
        with torch.no_grad():
            return zm.build().eval()(zm.preprocess(images)).numpy()

    return extract


def bench_run(out, calls, bench=BENCH, fail_at=None):
    return run(bench, out, groundtruth=GT, get_model=MODELS.__getitem__,
               load_target=TARGETS.__getitem__, load_general=lambda: GENERAL,
               extract=extractor(calls, fail_at), progress=False)


def test_end_to_end_tables(tmp_path):
    calls = []
    scores, tau = bench_run(tmp_path, calls)
    assert list(scores.columns) == SCORE_COLUMNS and len(scores) == 3 * 2 * 2 * 2
    assert scores.error.fillna("").eq("").all() and np.isfinite(scores.score).all()
    assert pd.read_csv(tmp_path / "scores.csv").shape == scores.shape
    # features of the general set once per model, of each target's fine-tuning images per cell
    assert sorted(calls) == sorted([f"{m}/general" for m in MODELS]
                                   + [f"{m}/{t}/train-n40-seed0" for m in MODELS
                                      for t in ("t1", "t2")])
    assert list(tau.columns) == TAU_COLUMNS and len(tau) == (2 + 1) * 2 * 2
    for (t, metric, ped), grp in scores.groupby(["target", "metric", "ped"]):
        acc = GT.set_index(["model", "target"]).test_acc
        expected = scipy.stats.weightedtau(grp.score, [acc[(m, t)] for m in grp.model]).statistic
        row = tau[(tau.target == t) & (tau.metric == metric) & (tau.ped == ped)]
        assert row.weighted_tau.item() == pytest.approx(expected, abs=1e-12)
        assert row.n_models.item() == 3
    mean = tau[tau.target == "mean"].set_index(["metric", "ped"]).weighted_tau
    per_target = tau[tau.target != "mean"].groupby(["metric", "ped"]).weighted_tau.mean()
    pd.testing.assert_series_equal(mean.sort_index(), per_target.sort_index(), check_names=False)


def test_scores_the_fine_tuning_images(tmp_path):
    bench_run(tmp_path, [])
    cell = json.loads((tmp_path / "cells" / "fake-a__t1.json").read_text())
    assert (cell["n"], cell["dim"]) == (40, MODELS["fake-a"].feature_dim)
    idx = training_indices(len(TARGETS["t1"].y_train), BENCH.finetune)
    import potran

    zm = MODELS["fake-a"]
    with torch.no_grad():
        X = zm.build().eval()(zm.preprocess(TARGETS["t1"].x_train[idx])).numpy()
    row = next(r for r in cell["rows"] if r["metric"] == "logme" and not r["ped"])
    assert row["score"] == pytest.approx(potran.score(X, TARGETS["t1"].y_train[idx], "logme"),
                                         rel=1e-12)


def test_resume_after_interruption(tmp_path):
    calls = []
    with pytest.raises(Killed):
        bench_run(tmp_path, calls, fail_at=4)  # general a, a/t1, general b, dies on b/t1
    assert [p.name for p in (tmp_path / "cells").glob("*.json")] == ["fake-a__t1.json"]
    first = (tmp_path / "cells" / "fake-a__t1.json").read_text()
    calls.clear()
    scores, _ = bench_run(tmp_path, calls)
    assert "fake-a/t1/train-n40-seed0" not in calls and len(calls) == 3 + 5
    assert (tmp_path / "cells" / "fake-a__t1.json").read_text() == first
    assert len(scores) == 24
    calls.clear()
    bench_run(tmp_path, calls)
    assert calls == []


def test_new_metric_scores_only_what_is_missing_and_failures_are_recorded(tmp_path):
    bench_run(tmp_path, [])
    before = json.loads((tmp_path / "cells" / "fake-b__t2.json").read_text())["rows"]
    wider = Benchmark(models=BENCH.models, targets=BENCH.targets,
                      metrics=("logme", "norm", "no-such-metric"), finetune=BENCH.finetune)
    scores, tau = bench_run(tmp_path, [], bench=wider)
    after = json.loads((tmp_path / "cells" / "fake-b__t2.json").read_text())["rows"]
    assert after[:len(before)] == before and len(after) == len(before) + 2
    bad = scores[scores.metric == "no-such-metric"]
    assert len(bad) == 12 and bad.score.isna().all() and bad.error.str.len().gt(0).all()
    assert tau[tau.metric == "no-such-metric"].weighted_tau.isna().all()
    assert np.isfinite(tau[tau.metric == "logme"].weighted_tau).all()


def test_real_zoo_model_end_to_end(tmp_path):
    """The smallest real model on two real targets, through the real feature cache."""
    from potran import datasets, features, zoo

    bench = Benchmark(models=("conv4_random",), targets=("lfw", "digits"),
                      metrics=("logme", "sfda"), finetune=FinetuneConfig(n_train=100))
    calls = []

    def extract(*args, **kw):
        calls.append(kw["key"])
        return features.extract_features(*args, **kw)

    gt = pd.DataFrame({"model": ["conv4_random"] * 2, "target": ["lfw", "digits"],
                       "test_acc": [0.9, 0.8]})
    kw = dict(groundtruth=gt, get_model=zoo.get, load_target=datasets.load_target,
              load_general=datasets.load_general, extract=extract,
              cache_dir=tmp_path / "cache", progress=False)
    scores, tau = run(bench, tmp_path / "out", **kw)
    assert len(scores) == 2 * 2 * 2 and np.isfinite(scores.score).all()
    assert tau.weighted_tau.isna().all() and (tau.n_models == 1).all()  # one model: no ranking
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(cached) == 3  # general + two targets
    (tmp_path / "out" / "cells" / "conv4_random__lfw.json").unlink()
    again, _ = run(bench, tmp_path / "out", **kw)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == cached  # features reused
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), scores.drop(columns="seconds"))


def test_command_line_writes_tables_and_readme(tmp_path, capsys):
    from potran.bench import main

    gt = tmp_path / "gt.csv"
    pd.DataFrame({"model": ["conv4_random", "conv4_supervised"], "target": ["lfw", "lfw"],
                  "test_acc": [0.6, 0.9]}).to_csv(gt, index=False)
    out = tmp_path / "out"
    assert main(["--models", "conv4_random,conv4_supervised", "--targets", "lfw",
                 "--metrics", "logme,dim", "--ped", "on", "--ped-option", "max_steps=2",
                 "--groundtruth", str(gt), "--out", str(out), "--cache-dir",
                 str(tmp_path / "cache"), "--no-progress"]) == 0
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 2 * 2 and scores.ped.all()
    tau = pd.read_csv(out / "tau.csv")
    assert sorted(tau.target.unique()) == ["lfw", "mean"] and (tau.n_models == 2).all()
    assert "max_steps" in (out / "README.md").read_text()
    assert "weighted tau" in capsys.readouterr().out
