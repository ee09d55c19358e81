"""Benchmark v4's committed scores (data/bench_v4/scores, benchmarks/v4_scores.py) and sweeps
(data/bench_v4/sweeps and successors, benchmarks/v3_sweeps.py --setting v4): complete, consistent
with each other, and a seeded cell recomputed from the committed weights bit for bit."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from potran.bench import settings, successors, targets_v3
from potran.bench.runner import collect, score_one
from potran.bench.v4 import zoo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import v3_sweeps  # noqa: E402

V4 = settings.get("v4", models=zoo.names())   # the registered scores include the controls
SCORES, SWEEPS, SUCCESSORS = (V4.data[k] for k in ("scores", "sweeps", "successors"))
KEY = ["model", "target", "metric", "perturbation"]


def test_every_cell_of_the_zoo_is_scored_once_without_a_missing_value():
    table = pd.read_csv(SCORES / "scores.csv")
    assert set(zip(table.model, table.target)) == {(m, t) for m in zoo.names() for t in targets_v3.NAMES}
    assert len(table) == 14 * 24 * len(V4.bench.metrics) * 2 and not table.duplicated(KEY).any()
    assert table.error.isna().all() and np.isfinite(table.score).all()
    assert sorted(table.perturbation.unique()) == ["none", "ped"]


def test_scores_csv_is_the_collected_cells():
    np.testing.assert_array_equal(collect(V4.bench, SCORES).sort_values(KEY).score.to_numpy(),
                                  pd.read_csv(SCORES / "scores.csv").sort_values(KEY).score.to_numpy())


def test_the_sweeps_repeat_the_registered_scores_exactly():
    """Without PED and with PED at the paper's λ, the sweeps and the successors' loop score the
    same features as the registered scores: the same numbers, bit for bit, on every cell."""
    main = pd.read_csv(SCORES / "scores.csv").set_index(KEY)
    sweep = pd.read_csv(SWEEPS / "scores.csv").replace({"perturbation": {"ped:nsigma=0.6": "ped"}})
    succ = pd.read_csv(SUCCESSORS / "scores.csv")
    for table in (sweep, succ):
        same = table[table.perturbation.isin(["none", "ped"])].set_index(KEY)
        assert len(same) == 14 * 24 * 3 * 2
        np.testing.assert_array_equal(same.score.to_numpy(), main.loc[same.index, "score"].to_numpy())


@pytest.mark.slow  # a v4 model's features, extracted afresh from its committed weights
def test_a_seeded_cell_is_recomputed_exactly(tmp_path):
    cells = sorted((SCORES / "cells").glob("*.json"))
    path = cells[np.random.default_rng(26).integers(len(cells))]
    model, target = path.stem.split("__")
    cache = tmp_path / "cache"
    new = score_one(V4.bench, model, target, tmp_path / "scores", cache_dir=cache)
    old = json.loads(path.read_text())
    assert [(r["metric"], r["perturbation"], r["score"]) for r in new["rows"]] == [
        (r["metric"], r["perturbation"], r["score"]) for r in old["rows"]]
    sweep = score_one(v3_sweeps.sweep_benchmark(V4), model, target, tmp_path / "sweeps", cache_dir=cache)
    old = json.loads((SWEEPS / "cells" / path.name).read_text())
    assert [r["score"] for r in sweep["rows"]] == [r["score"] for r in old["rows"]]
    record = json.loads((SUCCESSORS / "cells" / path.name).read_text())
    again = successors.score_cell(V4, model, target, ped=record["ped"], sa=record["sa"], cache_dir=cache)
    assert [r["score"] for r in again["rows"]] == [r["score"] for r in record["rows"]]


@pytest.mark.slow  # a v4 model's features of one target, extracted afresh
def test_a_seeded_linear_probe_row_is_recomputed_exactly(tmp_path):
    """Amendment 1's ground truth (data/bench_v4/linear_probe.csv, benchmarks/v3_linear_probe.py
    --setting v4): one seeded row again from the committed weights, bit for bit."""
    from potran.bench.features import extract_features
    from potran.bench.linear_probe import linear_probe

    table = pd.read_csv(V4.groundtruth_dir / "linear_probe.csv")
    assert len(table) == 14 * 24 and not table.duplicated(["model", "target"]).any()
    row = table.iloc[np.random.default_rng(27).integers(len(table))]
    task, model = V4.load_target(row.target), V4.get_model(row.model)
    X = {part: extract_features(model, getattr(task, f"x_{part}"), cache_dir=tmp_path, key=f"v3/{row.target}/{part}",
                                progress=False) for part in ("train", "test")}
    again = linear_probe(X["train"], task.y_train, X["test"], task.y_test)
    assert (again["test_acc"], again["C"], again["test_correct"]) == (row.test_acc, row.C, row.test_correct)
