"""potran.bench.settings: one definition per setting, opened one way, reading the committed data."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from potran.bench import datasets, settings, targets_v3, zoo
from potran.bench.finetune import FinetuneConfig
from potran.bench.reduction import SCORE_DIM
from potran.bench.runner import DEFAULT_METRICS, DEFAULT_PERTURBATIONS, Benchmark
from potran.bench.sources import OFFLINE
from potran.resources import data_path


def test_v4_is_the_default_and_v3_equals_the_frozen_definition():
    assert settings.DEFAULT == "v4" and settings.get().name == "v4" and settings.NAMES[1] == "v3"
    s = settings.get("v3")
    assert s.name == "v3" and not s.paper
    # benchmark v3 as it was defined when its scores and ground truth were committed
    frozen = Benchmark(models=tuple(zoo.names()), targets=targets_v3.NAMES, metrics=DEFAULT_METRICS,
                       perturbations=DEFAULT_PERTURBATIONS,
                       finetune=FinetuneConfig(epochs=8, seeds=(0, 1), snapshot_fractions=()),
                       reduce_all=True, sources=replace(OFFLINE, load_target=targets_v3.load_target))
    assert s.bench == frozen and len(s.models) == 16 and len(s.targets) == 24
    assert s.bench.score_dim == SCORE_DIM == 128 and s.bench.seed == 0
    cell = json.loads((data_path("bench_v3", "cells") / "conv4_random__fonts.json").read_text())
    assert FinetuneConfig.from_dict(cell["config"]) == s.bench.finetune


def test_bench4_is_the_landed_benchmark():
    s = settings.get("bench4", '["conv4_random", "conv4_simclr"]', "fonts", seed=3)
    assert s.bench == Benchmark(models=("conv4_random", "conv4_simclr"), targets=("fonts",), seed=3)
    full = settings.get("bench4")
    assert full.models == tuple(zoo.names()) and full.targets == tuple(datasets.TARGETS)
    assert full.bench.sources == OFFLINE and not full.bench.reduce_all
    assert full.benchmark(metrics=("logme",)).metrics == ("logme",)


@pytest.mark.parametrize("call, message", [
    (lambda: settings.get("v5"), "unknown setting 'v5'; known: v4, v3, bench4, paper"),
    (lambda: settings.get("v3", models="conv4_random,nope"),
     "unknown model 'nope' in setting 'v3'; known: "),
    (lambda: settings.get("bench4", targets=["greek"]), "unknown target 'greek' in setting 'bench4'"),
    (lambda: settings.chosen_names("a,c", ("a", "b"), "metric"), "unknown metric 'c'; known: a, b"),
    (lambda: settings.get("paper"), "setting 'paper' reads local files: give checkpoints, data, "
                                    "imagenet_val (missing: checkpoints, data, imagenet_val)"),
    (lambda: settings.get("paper", data="/x", imagenet_val="/y"), "(missing: checkpoints)"),
    (lambda: settings.get("v3", checkpoints="/x"), "checkpoints belong to setting 'paper', not 'v3'"),
])
def test_bad_input_gets_one_line(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value) and "\n" not in str(err.value)


def test_paper_options_and_missing_files(tmp_path):
    files = dict(checkpoints=str(tmp_path), data=str(tmp_path), imagenet_val=str(tmp_path))
    with pytest.raises(ValueError, match="options cannot set models"):
        settings.get("paper", options={"models": ["byol"]}, **files)
    with pytest.raises(ValueError, match="options must be a dict"):
        settings.get("paper", options="[1, 2]", **files)
    with pytest.raises(ValueError, match=r"(?s)missing 55 file.*checkpoint byol"):  # one error, all files
        settings.get("paper", options="{'image_size': 32}", **files)
    with pytest.raises(TypeError, match="unexpected argument"):
        settings.get("v3", checkpoint="/x")


def test_the_paper_setting_ranks_against_the_published_accuracies():
    s = settings.Setting("paper", Benchmark(models=("byol", "swav", "unknown"), targets=("dtd", "sun397")))
    truth = s.groundtruth()
    assert s.paper and truth.seeds is None and "published" in truth.source
    assert sorted(truth.accuracy.model.unique()) == ["byol", "swav"]
    assert truth.accuracy.query("model == 'byol' and target == 'dtd'").test_acc.item() == pytest.approx(76.37)
    assert sorted(truth.accuracy.target.unique()) == ["dtd", "sun397"]


def test_v3_groundtruth_is_the_committed_two_seed_grid():
    truth = settings.get("v3").groundtruth()
    committed = pd.read_csv(data_path("bench_v3", "accuracy.csv"))
    assert len(truth.accuracy) == len(committed) == 384
    pd.testing.assert_frame_equal(truth.accuracy, committed)
    assert set(truth.seeds.seed) == {0, 1} and len(truth.seeds) == 2 * 384
    mean = truth.seeds.groupby(["model", "target"]).test_acc.mean()
    np.testing.assert_allclose(truth.accuracy.set_index(["model", "target"]).test_acc.loc[mean.index], mean,
                               rtol=0, atol=1e-12)


def test_groundtruth_from_a_given_file(tmp_path):
    s = settings.get("bench4", ["conv4_random", "conv4_simclr"], ["fonts"])
    truth = s.groundtruth()  # data/groundtruth, with its per-seed cells
    assert set(truth.accuracy.model) == {"conv4_random", "conv4_simclr"}
    assert set(truth.seeds.seed) == {0, 1, 2}
    pd.DataFrame({"model": ["conv4_random", "conv4_simclr", "other"], "target": "fonts",
                  "test_acc": [0.5, 0.6, 0.7]}).to_csv(tmp_path / "accuracy.csv", index=False)
    mine = s.groundtruth(tmp_path / "accuracy.csv")
    assert mine.seeds is None and mine.accuracy.test_acc.tolist() == [0.5, 0.6]
    with pytest.raises(FileNotFoundError, match="does not exist: make it with `potran groundtruth`"):
        s.groundtruth(tmp_path / "nothing.csv")


def test_v3_scores_are_read_from_the_committed_cells_without_features(tmp_path):
    s = settings.get("v3")
    scores, tau = s.scores(tmp_path / "out", groundtruth=s.groundtruth().accuracy,
                           cache_dir=tmp_path / "cache")
    written = (tmp_path / "out" / "scores.csv").read_bytes()
    assert written == data_path("bench_v3", "scores", "scores.csv").read_bytes() and len(scores) == 384 * 24
    committed = pd.read_csv(data_path("bench_v3", "scores", "scores.csv"))
    assert not (tmp_path / "cache").exists()  # nothing was extracted
    assert set(tau.target) == {*s.targets, "mean"}
    # a subset reads the same rows
    some = settings.get("v3", ["conv4_random", "mobilenet_v2"], ["fonts", "greek"])
    part, _ = some.scores(tmp_path / "part", metrics=("logme",), cache_dir=tmp_path / "cache")
    want = committed.query("model in ['conv4_random', 'mobilenet_v2'] and target in ['fonts', 'greek'] "
                           "and metric == 'logme'")
    assert len(part) == 8
    key = ["model", "target", "perturbation"]
    np.testing.assert_array_equal(part.sort_values(key).score, want.sort_values(key).score)


def test_results_folders_never_mix_settings(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "PAGES_OUT", tmp_path)
    assert settings.get("bench4").results(None, "k_grid") == tmp_path / "k_grid"
    assert settings.get("v3").results(None, "k_grid") == tmp_path / "v3" / "k_grid"
    assert (tmp_path / "v3" / "k_grid").is_dir()
    assert settings.get("v3").results(str(tmp_path / "given"), "x") == tmp_path / "given"


def test_ranked_keeps_scored_cells_on_targets_with_two_models():
    accuracy = pd.DataFrame({"model": ["a", "b", "c", "a", "b"], "target": ["t1", "t1", "t1", "t2", "t2"],
                             "test_acc": [0.1, 0.2, 0.3, 0.4, 0.5]})
    seeds = pd.concat([accuracy.assign(seed=0), accuracy.assign(seed=1)], ignore_index=True)
    truth = settings.GroundTruth(accuracy, seeds, "here")
    scored = pd.DataFrame({"model": ["a", "b", "a", "a"], "target": ["t1", "t1", "t2", "t2"]})  # t2: 1 model
    ranked = truth.ranked(scored)
    assert ranked.targets == ["t1"] and ranked.accuracy.model.tolist() == ["a", "b"]
    assert len(ranked.seeds) == 4 and ranked.source == "here"


@pytest.mark.parametrize("value, expected", [
    (None, ["d"]), ("", ["d"]), ("a, b", ["a", "b"]), ('["a", "b"]', ["a", "b"]), (("a",), ["a"]),
    ([], ["d"]),
])
def test_name_list(value, expected):
    assert settings.name_list(value, ["d"]) == expected


def test_main_is_v3s_frozen_inclusion_rule():
    from potran.evidence import main_table_targets

    main = settings.get("v3", targets=settings.MAIN)
    assert set(main.targets) == set(main_table_targets()) and len(main.targets) == 12
    assert main.targets == tuple(t for t in targets_v3.NAMES if t in main.targets)  # the v3 order
    assert settings.get("bench4", targets="main").targets == tuple(datasets.TARGETS)
