"""Benchmark v3's committed score tables (data/bench_v3/scores*/, benchmarks/v3_scores.py):
a seeded random sample of committed cells is recomputed from scratch (features extracted
afresh, no cache) and must give the same scores; the v3 preprocessing (every model centred and
rotated) and the landed benchmark's (narrow models untouched, a committed cell reproduced)."""
import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from potran.bench import settings, targets_v3, v3, zoo
from potran.bench.finetune import FinetuneConfig
from potran.bench.runner import SCORE_COLUMNS, Benchmark, cell_features, score_one

V3 = settings.get("v3").bench
DATA = Path(__file__).resolve().parents[1] / "data"
FOLDERS = {"general": DATA / "bench_v3" / "scores",
           "family": DATA / "bench_v3" / "scores_general_family",
           "target": DATA / "bench_v3" / "scores_general_target"}
CONV4 = tuple(m for m in zoo.names() if m.startswith("conv4_"))
#: cells recomputed per folder, all of one seeded random conv4 model, so that its general and
#: family features are extracted once (an ImageNet network's features take minutes)
SAMPLE = {"general": 2, "family": 1, "target": 1}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A fresh feature cache shared by this module's tests: features computed from scratch."""
    return tmp_path_factory.mktemp("features")


def committed_cells(general, models=CONV4):
    """Committed cells of ``models`` in the folder of ``general``; a missing folder fails."""
    cells = FOLDERS[general] / "cells"
    if not cells.is_dir():
        pytest.fail(f"{cells} is missing: run `.venv/bin/python benchmarks/v3_scores.py` "
                    "(data/bench_v3/README.md, 'Score tables') and commit the folder")
    found = sorted(p for p in cells.glob("*.json") if p.name.split("__")[0] in models)
    if not found:
        pytest.fail(f"{cells} holds no cell of {', '.join(models)} to recompute")
    return found


@lru_cache(maxsize=1)
def sampled_model() -> str:
    """A seeded random conv4 model among those with committed cells in every folder."""
    have = [{p.name.split("__")[0] for p in committed_cells(g)} for g in v3.GENERAL_SETS]
    return str(np.random.default_rng(17).choice(sorted(set.intersection(*have))))


def sample(general):
    cells = committed_cells(general, (sampled_model(),))
    rng = np.random.default_rng(17)
    return [cells[i] for i in sorted(rng.choice(len(cells), min(SAMPLE[general], len(cells)),
                                                replace=False))]


def assert_same_cell(committed: dict, recomputed: dict):
    for key in ("model", "target", "n", "dim", "score_dim", "floored_raw", "floored_scored"):
        assert recomputed[key] == committed[key], key
    ours = {(r["metric"], r["perturbation"]): r for r in recomputed["rows"]}
    assert sorted(ours) == sorted((r["metric"], r["perturbation"]) for r in committed["rows"])
    for row in committed["rows"]:
        new = ours[row["metric"], row["perturbation"]]
        what = f"{committed['model']}/{committed['target']} {row['metric']} {row['perturbation']}"
        assert new["error"] == row["error"], what
        if row["score"] is None:
            assert new["score"] is None, what
        else:  # the same code on the same inputs; BLAS threading may move the last bits
            np.testing.assert_allclose(new["score"], row["score"], rtol=1e-12, atol=1e-15,
                                       err_msg=what)
        if row["perturbation"] == "ped":
            assert new["ped_steps"] == row["ped_steps"], what
            np.testing.assert_allclose(new["energy_ratio"], row["energy_ratio"], rtol=1e-12,
                                       err_msg=what)


@pytest.mark.slow  # real zoo models, features extracted afresh
@pytest.mark.parametrize("general", v3.GENERAL_SETS)
def test_a_random_sample_of_committed_cells_is_recomputed_exactly(general, cache, tmp_path):
    for path in sample(general):
        committed = json.loads(path.read_text())
        recomputed = v3.score_cell(committed["model"], committed["target"], tmp_path, general,
                                   cache_dir=cache)
        assert_same_cell(committed, recomputed)


@pytest.mark.parametrize("general", v3.GENERAL_SETS)
def test_scores_csv_is_the_collected_cells(general):
    """scores.csv (SCORE_COLUMNS) holds, for every cell it names, exactly that cell's rows: all
    of the benchmark's metrics and perturbations. (Cells of a target still being scored are
    collected when the target is done.)"""
    committed_cells(general)
    table = pd.read_csv(FOLDERS[general] / "scores.csv", keep_default_na=False,
                        na_values=[""])
    assert list(table.columns) == SCORE_COLUMNS and len(table)
    bench = V3 if general == "general" else v3.ABLATION
    for (model, target), rows in table.groupby(["model", "target"], sort=False):
        cell = json.loads((FOLDERS[general] / "cells" / f"{model}__{target}.json").read_text())
        expected = pd.DataFrame(cell["rows"])
        assert sorted(zip(rows.metric, rows.perturbation)) == sorted(
            (m, p) for m in bench.metrics for p in bench.perturbations) == sorted(
            zip(expected.metric, expected.perturbation))
        np.testing.assert_array_equal(rows.score.to_numpy(float),
                                      expected.score.to_numpy(float))
        np.testing.assert_array_equal(rows.ped_steps.to_numpy(float),
                                      expected.get("ped_steps", np.nan) * np.ones(len(rows)))


def test_the_v3_definition():
    b = V3
    assert b.models == tuple(zoo.names()) and len(b.models) == 16
    assert b.targets == targets_v3.NAMES and len(b.targets) == 24
    assert b.reduce_all and b.perturbations == ("none", "ped") and b.score_dim == 128
    assert v3.ABLATION.perturbations == ("ped",) and {"logme", "sfda", "gbc", "nleep", "parc"} <= set(
        v3.ABLATION.metrics)
    # the scores are made on the images the fine-tuning ground truth learns from
    gt = json.loads(next((DATA / "bench_v3" / "cells").glob("*.json")).read_text())
    assert FinetuneConfig.from_dict(gt["config"]) == settings.V3_FINETUNE == b.finetune
    assert Benchmark(models=("a",), targets=("b",)).reduce_all is False  # the landed protocol


@pytest.mark.slow  # builds the 20000-image pretraining source
def test_family_general_sets(monkeypatch):
    """conv4 models: 5000 distinct crops of their pretraining source; ImageNet networks: the
    photo views (object-scale crops of the photographs no target uses)."""
    from potran.bench.datasets import load_pretrain_source

    conv4 = v3.family_general("conv4_random")
    assert conv4.shape == (v3.FAMILY_SIZE, 32, 32, 3) and v3.family_general("conv4_simclr") is conv4
    source = load_pretrain_source().reshape(20000, -1)
    rows = {r.tobytes(): i for i, r in enumerate(source)}
    assert len({rows[r.tobytes()] for r in conv4.reshape(len(conv4), -1)}) == v3.FAMILY_SIZE
    views = v3.photo_views(60)
    assert views.shape == (60, 32, 32, 3) and views.dtype == np.uint8
    np.testing.assert_array_equal(views, v3.photo_views.__wrapped__(60))  # seeded
    assert views.reshape(60, -1, 3).std(1).max(1).min() >= 8  # flat views are redrawn
    monkeypatch.setattr(v3, "photo_views", lambda: "views")
    assert {v3.family_general(m) for m in ("mobilenet_v2", "efficientnet_lite2", "hed_vgg16")} \
        == {"views"}
    with pytest.raises(ValueError, match="Unknown general set 'imagenet'; known: general"):
        v3.score_cell("conv4_random", "mnist5k", "/nonexistent", "imagenet")


@pytest.mark.slow  # real zoo model features
def test_v3_centres_and_rotates_conv4_features(cache):
    """conv4 features are already 128 wide: v3 centres and rotates them (inner products of the
    centred features kept, G through the same map); the landed protocol leaves them raw."""
    model, target = sampled_model(), "mnist5k"
    a = cell_features(V3, model, target, cache_dir=cache)
    X, G, Xs, Gs = (a[k].astype(np.float64) for k in ("X", "G", "X_scored", "G_scored"))
    assert Xs.shape == X.shape == (500, 128) and not np.allclose(Xs, X)
    np.testing.assert_allclose(Xs.mean(0), 0, atol=1e-9 * np.abs(Xs).max())
    Xc, Gc = X - X.mean(0), G - X.mean(0)
    np.testing.assert_allclose(Xs @ Xs.T, Xc @ Xc.T, rtol=1e-9, atol=1e-9 * np.abs(Xc).max() ** 2)
    np.testing.assert_allclose(Gs[:50] @ Xs[:50].T, Gc[:50] @ Xc[:50].T, rtol=1e-9,
                               atol=1e-9 * np.abs(Gc).max() ** 2)
    cov = np.cov(Xs, rowvar=False)
    assert np.all(np.diff(np.diag(cov)) <= 0)  # principal axes, in decreasing variance
    raw = cell_features(replace(V3, reduce_all=False), model, target, cache_dir=cache)
    assert raw["X_scored"] is raw["X"] and raw["G_scored"] is raw["G"]


@pytest.mark.slow  # real zoo model features
def test_the_landed_benchmark_keeps_its_committed_numbers(cache, tmp_path):
    """A landed cell (data/bench, the default protocol: narrow models unreduced) recomputed."""
    model = sampled_model()
    committed = json.loads((DATA / "bench" / "cells" / f"{model}__mnist5k.json").read_text())
    bench = Benchmark(models=(model,), targets=("mnist5k",))
    assert_same_cell(committed, score_one(bench, model, "mnist5k", tmp_path, cache_dir=cache))
