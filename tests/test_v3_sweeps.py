"""Benchmark v3's committed sweeps (data/bench_v3/sweeps, data/bench_v3/successors;
benchmarks/v3_sweeps.py): what they hold, their agreement with the committed scores, and a seeded
sample of cells recomputed from scratch."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from potran.bench import settings, successors
from potran.bench.runner import score_one
from potran.perturbations import PED, SA, label

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import v3_sweeps  # noqa: E402

V3 = settings.get("v3")
SWEEPS, SUCCESSORS = V3.data["sweeps"], V3.data["successors"]


def committed(folder: Path) -> list[Path]:
    cells = sorted((folder / "cells").glob("*.json"))
    if not cells:
        pytest.fail(f"{folder} holds no cell: run `.venv/bin/python benchmarks/v3_sweeps.py`")
    return cells


def test_the_sweeps_hold_what_the_pages_ask_for():
    assert v3_sweeps.PERTURBATIONS == ("none", "ped:nsigma=0.6", "ped:nsigma=0.8", "ped:nsigma=1.0",
                                       "ped:nsigma=1.2", "ped:nsigma=1.5", "ped:nsigma=2.0",
                                       "ped:nsigma=0.6,standardize=False")
    for path in committed(SWEEPS)[:20]:
        cell = json.loads(path.read_text())
        assert sorted((r["metric"], r["perturbation"]) for r in cell["rows"]) == sorted(
            (m, p) for m in ("logme", "sfda", "gbc") for p in v3_sweeps.PERTURBATIONS)
    for path in committed(SUCCESSORS)[:20]:
        cell = json.loads(path.read_text())
        assert (cell["ped"], cell["sa"]) == (label(PED), label(SA, alpha="group1"))


def test_the_sweeps_repeat_the_committed_scores_exactly():
    """Without PED and with PED at the paper's λ, the sweeps' runs and the successors' loop score
    the same features as the committed v3 scores: the same numbers, bit for bit."""
    key = ["model", "target", "metric", "perturbation"]
    main = pd.read_csv(V3.data["scores"] / "scores.csv").set_index(key)
    sweep = pd.read_csv(SWEEPS / "scores.csv").replace({"perturbation": {"ped:nsigma=0.6": "ped"}})
    succ = pd.read_csv(SUCCESSORS / "scores.csv")
    for table in (sweep, succ):
        same = table[table.perturbation.isin(["none", "ped"])].set_index(key)
        assert len(same) >= 6
        np.testing.assert_array_equal(same.score.to_numpy(), main.loc[same.index, "score"].to_numpy())


@pytest.mark.slow  # a real zoo model's features, extracted afresh
def test_a_seeded_sample_of_sweep_cells_is_recomputed_exactly(tmp_path):
    conv4 = [p for p in committed(SWEEPS) if p.name.startswith("conv4_")
             and (SUCCESSORS / "cells" / p.name).is_file()]
    path = conv4[np.random.default_rng(25).integers(len(conv4))]
    model, target = path.stem.split("__")
    cell = json.loads(path.read_text())
    new = score_one(v3_sweeps.sweep_benchmark(V3), model, target, tmp_path / "sweeps",
                    cache_dir=tmp_path / "cache")
    ours = {(r["metric"], r["perturbation"]): r for r in new["rows"]}
    for row in cell["rows"]:
        assert ours[row["metric"], row["perturbation"]]["score"] == row["score"], (path.name, row)
    record = json.loads((SUCCESSORS / "cells" / path.name).read_text())
    again = successors.score_cell(V3, model, target, ped=record["ped"], sa=record["sa"],
                                  cache_dir=tmp_path / "cache")
    assert [(r["metric"], r["perturbation"], r["score"]) for r in again["rows"]] == [
        (r["metric"], r["perturbation"], r["score"]) for r in record["rows"]]
    assert json.loads(json.dumps(again["cell"])) == record["cell"]
