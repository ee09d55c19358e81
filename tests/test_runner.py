"""The scoring grid (potran.bench.runner): tidy tables, the dimension protocol, tau against the
ground truth, seeds, resume, failing metrics."""
import zlib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import potran
from potran.bench.finetune import FinetuneConfig, training_indices
from potran.bench.reduction import SCORE_DIM, reduce_features
from potran.bench.runner import (
    DEFAULT_METRICS,
    SCORE_COLUMNS,
    Benchmark,
    cell_seed,
    collect,
    run,
    score_cell,
)
from potran.bench.sources import OFFLINE
from potran.bench.store import CellStore
from potran.bench.tau import TAU_COLUMNS
from potran.metrics import FEATURE_METRICS, REGISTRY

from conftest import blobs
from fake_zoo import GENERAL, MODELS, SOURCES, TARGETS, features_of

BENCH = Benchmark(models=tuple(MODELS), targets=("t1", "t2"), metrics=("logme", "norm"),
                  finetune=FinetuneConfig(n_train=40))
GT = pd.DataFrame({"model": [m for m in MODELS for _ in "12"],
                   "target": ["t1", "t2"] * len(MODELS),
                   "test_acc": [0.5, 0.9, 0.7, 0.6, 0.8, 0.4]})
TARGET_KEYS = {f"{m}/{t}/train-n40" for m in MODELS for t in ("t1", "t2")}


class Killed(RuntimeError):
    pass


def recording(calls, fail_on=None):
    """The fake sources, with an extraction that records its cache keys (and dies on one)."""

    def extract(zm, images, *, device, cache_dir, key, progress):
        call = f"{zm.name}/{key}"
        calls.append(call)
        if call == fail_on:
            raise Killed(call)
        return features_of(zm, images)

    return replace(SOURCES, extract=extract)


def bench_run(out, calls, bench=BENCH, fail_on=None, groundtruth=GT):
    return run(replace(bench, sources=recording(calls, fail_on)), out, groundtruth=groundtruth,
               progress=False)


def target_calls(calls):
    return [c for c in calls if not c.endswith("/general")]


def cell_arrays(bench, model, target):
    """Raw (X, G) and labels of a cell, computed here without the runner."""
    tgt = TARGETS[target]
    idx = training_indices(len(tgt.y_train), bench.finetune)
    zm = MODELS[model]
    return features_of(zm, tgt.x_train[idx]), features_of(zm, GENERAL), tgt.y_train[idx]


def test_defaults():
    assert DEFAULT_METRICS == FEATURE_METRICS and "leep" not in DEFAULT_METRICS
    assert SCORE_COLUMNS[:7] == ["model", "target", "metric", "perturbation", "score", "seconds",
                                "error"]
    bench = Benchmark(models=("a",), targets=("b",))
    assert bench.score_dim == SCORE_DIM and bench.perturbations == ("none", "ped") and bench.seed == 0
    assert bench.finetune == FinetuneConfig() and bench.sources == OFFLINE


def test_end_to_end_tables(tmp_path):
    calls = []
    scores, tau = bench_run(tmp_path, calls)
    assert list(scores.columns) == SCORE_COLUMNS and len(scores) == 3 * 2 * 2 * 2
    assert scores.error.fillna("").eq("").all() and np.isfinite(scores.score).all()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "scores.csv").drop(columns="error"),
                                  scores.drop(columns="error"), check_dtype=False)
    # the general set's features of every model, the fine-tuning images' of every cell, once
    assert sorted(target_calls(calls)) == sorted(TARGET_KEYS)
    assert {c for c in calls if c.endswith("/general")} == {f"{m}/general" for m in MODELS}
    assert list(tau.columns) == TAU_COLUMNS and len(tau) == (2 + 1) * 2 * 2
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "tau.csv"), tau, check_dtype=False)
    acc = GT.set_index(["model", "target"]).test_acc
    for (t, metric, p), grp in scores.groupby(["target", "metric", "perturbation"]):
        expected = scipy.stats.weightedtau(grp.score, [acc[(m, t)] for m in grp.model]).statistic
        row = tau[(tau.target == t) & (tau.metric == metric) & (tau.perturbation == p)]
        assert row.weighted_tau.item() == pytest.approx(expected, abs=1e-12)
        assert row.n_models.item() == 3
    mean = tau[tau.target == "mean"].set_index(["metric", "perturbation"]).weighted_tau
    per_target = tau[tau.target != "mean"].groupby(["metric", "perturbation"]).weighted_tau.mean()
    pd.testing.assert_series_equal(mean.sort_index(), per_target.sort_index(), check_names=False)


def test_without_ground_truth_there_is_no_tau(tmp_path):
    scores, tau = bench_run(tmp_path, [], groundtruth=None)
    assert tau is None and not (tmp_path / "tau.csv").exists() and len(scores) == 24


def test_ground_truth_may_be_a_csv_path(tmp_path):
    GT.to_csv(tmp_path / "accuracy.csv", index=False)
    _, from_path = bench_run(tmp_path / "a", [], groundtruth=tmp_path / "accuracy.csv")
    _, from_frame = bench_run(tmp_path / "b", [])
    pd.testing.assert_frame_equal(from_path, from_frame)


def test_scores_the_fine_tuning_images(tmp_path):
    bench_run(tmp_path, [])
    cell = CellStore(tmp_path).load("fake-a", "t1")
    assert (cell["n"], cell["dim"], cell["score_dim"]) == (40, MODELS["fake-a"].feature_dim, 8)
    X, G, y = cell_arrays(BENCH, "fake-a", "t1")
    rows = {(r["metric"], r["perturbation"]): r["score"] for r in cell["rows"]}
    assert rows[("logme", "none")] == pytest.approx(potran.score(X, y, "logme"), rel=1e-12)
    assert rows[("logme", "ped")] == pytest.approx(
        potran.score(X, y, "logme", ped=True, general=G), rel=1e-12)


def test_wide_features_are_scored_after_the_reduction_except_width_baselines(tmp_path):
    """With score_dim 4 the fake models' 8 features are reduced (PCA fitted on the target
    features, the general set projected alike), except for the dim and norm baselines."""
    bench = Benchmark(models=("fake-b",), targets=("t2",), metrics=("logme", "dim", "norm"),
                      finetune=FinetuneConfig(n_train=40), score_dim=4)
    bench_run(tmp_path, [], bench=bench, groundtruth=None)
    cell = CellStore(tmp_path).load("fake-b", "t2")
    assert (cell["n"], cell["dim"], cell["score_dim"]) == (40, 8, 4)
    X, G, y = cell_arrays(bench, "fake-b", "t2")
    X_red, G_red = reduce_features(X, G, 4)
    rows = {(r["metric"], r["perturbation"]): r["score"] for r in cell["rows"]}
    assert rows[("logme", "none")] == pytest.approx(potran.score(X_red, y, "logme"), rel=1e-10)
    assert rows[("logme", "ped")] == pytest.approx(
        potran.score(X_red, y, "logme", ped=True, general=G_red), rel=1e-10)
    assert rows[("logme", "none")] != pytest.approx(potran.score(X, y, "logme"), rel=1e-6)
    assert rows[("dim", "none")] == rows[("dim", "ped")] == 8.0  # the backbone's width
    assert rows[("norm", "none")] == pytest.approx(potran.score(X, y, "norm"), rel=1e-12)
    assert rows[("norm", "ped")] == pytest.approx(
        potran.score(X, y, "norm", ped=True, general=G), rel=1e-12)


def test_cell_seed_is_stable_and_distinct():
    assert cell_seed(0, "fake-a", "t1") == zlib.crc32(b"0/fake-a/t1")
    seeds = {cell_seed(s, m, t) for s in (0, 1) for m in MODELS for t in ("t1", "t2")}
    assert len(seeds) == 12


def test_stochastic_metrics_get_their_cells_seed(tmp_path):
    bench = Benchmark(models=tuple(MODELS), targets=("t1",), metrics=("random",), perturbations=("none",),
                      finetune=FinetuneConfig(n_train=40), seed=3)
    scores, _ = bench_run(tmp_path, [], bench=bench, groundtruth=None)
    X, _, y = cell_arrays(bench, "fake-a", "t1")
    for row in scores.itertuples():
        assert row.score == potran.score(X, y, "random", seed=cell_seed(3, row.model, "t1"))
    assert scores.score.nunique() == 3  # models do not share one draw


def test_score_cell_rows_options_and_skips():
    X, y = blobs(dim=6)
    G = np.random.default_rng(0).normal(size=(30, 6))
    rows = score_cell(X, y, G, ("logme", "random"), seed=7)
    assert [(r["metric"], r["perturbation"]) for r in rows] == [("logme", "none"), ("logme", "ped"),
                                                                ("random", "none"), ("random", "ped")]
    assert all(r["error"] == "" and r["seconds"] >= 0 for r in rows)
    assert rows[0]["score"] == potran.score(X, y, "logme")
    assert rows[1]["score"] == potran.score(X, y, "logme", ped=True, general=G)
    assert rows[2]["score"] == potran.score(X, y, "random", seed=7)
    # PED options reach PED only: no motion at all gives the score without PED
    still = score_cell(X, y, G, ("logme",), ("none", "ped:max_steps=0"))
    assert still[0]["score"] == still[1]["score"] == rows[0]["score"]
    # pairs already done are skipped
    rest = score_cell(X, y, G, ("logme", "random"), done={("logme", "none"), ("random", "ped")})
    assert [(r["metric"], r["perturbation"]) for r in rest] == [("logme", "ped"), ("random", "none")]


def test_score_cell_moves_the_classes_once(monkeypatch):
    import potran.ped as ped_module

    X, y = blobs(dim=6)
    G = np.random.default_rng(0).normal(size=(30, 6))
    calls = []
    real = ped_module.simulate
    monkeypatch.setattr(ped_module, "simulate", lambda *a, **k: calls.append(k) or real(*a, **k))
    rows = score_cell(X, y, G, ("logme", "sfda", "gbc"), ("none", "ped:nsigma=1.0"))
    assert calls == [{"nsigma": 1.0}]  # one motion for the three metrics
    score_cell(X, y, G, ("logme",), ("none",))
    assert len(calls) == 1  # and none without PED
    moved = real(X, y, G, nsigma=1.0)
    for r in rows:
        if r["perturbation"] != "none":
            assert r["score"] == potran.score(X, y, r["metric"], ped=True, general=G, nsigma=1.0)
            assert r["ped_steps"] == moved.trace.steps
            assert r["energy_ratio"] == moved.trace.energies[-1] / moved.trace.energies[0]
    # a motion that fails fails every PED row with its message, not the rows without PED
    rows = score_cell(X, y, G[:, :4], ("logme", "sfda"))
    assert [r["error"] == "" for r in rows] == [True, False, True, False]
    assert rows[1]["error"] == rows[3]["error"] and rows[1]["error"].startswith("ValueError: ")


def test_score_cell_records_failures_in_one_line(monkeypatch):
    X, y = blobs(dim=6)
    G = np.random.default_rng(0).normal(size=(30, 6))

    def two_lines(X, y):
        raise RuntimeError("first line\nsecond line")

    monkeypatch.setitem(REGISTRY, "two_lines", two_lines)
    monkeypatch.setitem(REGISTRY, "infinite", lambda X, y: float("inf"))
    rows = score_cell(X, y, G, ("no-such-metric", "two_lines", "infinite", "parc"), ("none",))
    errors = {r["metric"]: r["error"] for r in rows}
    assert all(r["score"] is None for r in rows)
    assert errors["no-such-metric"].startswith("ValueError: unknown metric 'no-such-metric'")
    assert errors["two_lines"] == "RuntimeError: first line"
    assert errors["infinite"] == "non-finite score inf"
    assert errors["parc"].startswith("ValueError: ") and "needs D >= 32" in errors["parc"]


def test_resume_after_interruption(tmp_path):
    calls = []
    with pytest.raises(Killed):
        bench_run(tmp_path, calls, fail_on="fake-b/t1/train-n40")  # dies in the second cell
    assert [p.name for p in (tmp_path / "cells").glob("*.json")] == ["fake-a__t1.json"]
    first = (tmp_path / "cells" / "fake-a__t1.json").read_text()
    calls.clear()
    scores, _ = bench_run(tmp_path, calls)
    assert sorted(target_calls(calls)) == sorted(TARGET_KEYS - {"fake-a/t1/train-n40"})
    assert (tmp_path / "cells" / "fake-a__t1.json").read_text() == first
    assert len(scores) == 24
    calls.clear()
    bench_run(tmp_path, calls)
    assert calls == []  # nothing to extract, nothing to score


def test_new_metric_scores_only_what_is_missing(tmp_path):
    bench_run(tmp_path, [])
    before = CellStore(tmp_path).load("fake-b", "t2")["rows"]
    wider = Benchmark(models=BENCH.models, targets=BENCH.targets,
                      metrics=("logme", "norm", "no-such-metric"), finetune=BENCH.finetune)
    scores, tau = bench_run(tmp_path, [], bench=wider)
    after = CellStore(tmp_path).load("fake-b", "t2")["rows"]
    assert after[:len(before)] == before and len(after) == len(before) + 2
    bad = scores[scores.metric == "no-such-metric"]
    assert len(bad) == 12 and bad.score.isna().all() and bad.error.str.len().gt(0).all()
    assert tau[tau.metric == "no-such-metric"].weighted_tau.isna().all()
    assert (tau[tau.metric == "no-such-metric"].n_models == 0).all()
    assert np.isfinite(tau[tau.metric == "logme"].weighted_tau).all()


def test_collect_reports_only_the_benchmarks_scores(tmp_path):
    bench_run(tmp_path, [])
    narrow = Benchmark(models=("fake-a", "fake-c"), targets=("t2",), metrics=("norm",),
                       perturbations=("ped",), finetune=BENCH.finetune)
    table = collect(narrow, tmp_path)
    assert sorted(table.model) == ["fake-a", "fake-c"] and set(table.target) == {"t2"}
    assert set(table.metric) == {"norm"} and (table.perturbation == "ped").all()
    assert len(pd.read_csv(tmp_path / "scores.csv")) == 2  # scores.csv is rewritten to match
    empty = collect(Benchmark(models=("nobody",), targets=("t1",)), tmp_path / "new")
    assert list(empty.columns) == SCORE_COLUMNS and len(empty) == 0
    assert empty.score.dtype == float


@pytest.mark.slow  # real zoo models on a real target
def test_real_zoo_models_end_to_end(tmp_path):
    """Two real conv4 models on a real target, through the real feature cache (the target's test
    images stand for the general set, which takes seconds to build)."""
    from potran.bench import datasets, features

    general = datasets.load_target("patches").x_test[:400]

    keys = []

    def extract(*args, **kw):
        keys.append(kw["key"])
        return features.extract_features(*args, **kw)

    models = ("conv4_random", "conv4_supervised_p10")
    bench = Benchmark(models=models, targets=("patches",), metrics=("logme", "sfda"),
                      finetune=FinetuneConfig(n_train=100),
                      sources=replace(OFFLINE, load_general=lambda: general, extract=extract))
    gt = pd.DataFrame({"model": list(models), "target": "patches", "test_acc": [0.5, 0.8]})
    kw = dict(groundtruth=gt, cache_dir=tmp_path / "cache", progress=False)
    scores, tau = run(bench, tmp_path / "out", **kw)
    assert len(scores) == 2 * 2 * 2 and np.isfinite(scores.score).all()
    assert set(keys) == {"general", "patches/train-n100"}
    assert (tau.n_models == 2).all() and np.isin(tau.weighted_tau, [-1.0, 1.0]).all()
    cell = CellStore(tmp_path / "out").load("conv4_random", "patches")
    assert (cell["n"], cell["dim"], cell["score_dim"]) == (100, 128, 128)
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(cached) == 4  # general + target, per model
    CellStore(tmp_path / "out").path("conv4_random", "patches").unlink()
    again, _ = run(bench, tmp_path / "out", **kw)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == cached  # features reused
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), scores.drop(columns="seconds"))
