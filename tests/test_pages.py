"""potran.bench.pages: the benchmark a book page runs on, chosen by the page's parameters."""
from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from potran.bench import datasets, zoo
from potran.bench.pages import PAPER_PARAMETERS, GroundTruth, page_benchmark
from potran.bench.reduction import SCORE_DIM
from potran.bench.sources import OFFLINE


def test_offline_by_default():
    page = page_benchmark()
    assert not page.paper and page.base.sources == OFFLINE
    assert page.models == tuple(zoo.names()) and page.targets == tuple(datasets.TARGETS)
    assert page.base.score_dim == SCORE_DIM
    page = page_benchmark('["conv4_random", "conv4_simclr"]', "fonts", seed=3)
    assert page.models == ("conv4_random", "conv4_simclr") and page.targets == ("fonts",)
    assert page.benchmark(metrics=("logme",)).metrics == ("logme",) and page.base.seed == 3


@pytest.mark.parametrize("given", [("paper_checkpoints",), ("paper_data", "paper_imagenet_val")])
def test_the_paper_setting_needs_all_three_folders(given, tmp_path):
    with pytest.raises(ValueError) as err:
        page_benchmark(**{name: str(tmp_path) for name in given})
    missing = [name for name in PAPER_PARAMETERS if name not in given]
    assert str(err.value).endswith("missing: " + ", ".join(missing))


def test_paper_options_only_with_the_paper_setting(tmp_path):
    with pytest.raises(ValueError, match="paper_options were given without the paper's setting"):
        page_benchmark(paper_options='{"image_size": 32}')
    folders = {name: str(tmp_path) for name in PAPER_PARAMETERS}
    with pytest.raises(ValueError, match="paper_options cannot set models"):
        page_benchmark(paper_options={"models": ["byol"]}, **folders)
    with pytest.raises(ValueError, match="paper_options must be a dict"):
        page_benchmark(paper_options="[1, 2]", **folders)
    with pytest.raises(ValueError, match=r"(?s)missing 55 file.*checkpoint byol"):  # one error, all files
        page_benchmark(paper_options="{'image_size': 32}", **folders)


def test_groundtruth_from_a_folder_with_or_without_seeds(tmp_path):
    page = page_benchmark(["conv4_random", "conv4_simclr"], ["fonts"])
    truth = page.groundtruth()  # the offline benchmark's, with its per-seed cells
    assert set(truth.accuracy.model) == {"conv4_random", "conv4_simclr"}
    assert set(truth.accuracy.target) == {"fonts"} and truth.seeds is not None
    assert set(truth.seeds.seed) == {0, 1, 2} and "per-seed cells" in truth.source
    table = pd.DataFrame({"model": ["conv4_random", "conv4_simclr", "other"], "target": "fonts",
                          "test_acc": [0.5, 0.6, 0.7]})
    table.to_csv(tmp_path / "accuracy.csv", index=False)
    mine = page.groundtruth(tmp_path / "accuracy.csv")
    assert mine.seeds is None and mine.accuracy.test_acc.tolist() == [0.5, 0.6]
    with pytest.raises(FileNotFoundError, match="does not exist: make it with `potran groundtruth`"):
        page.groundtruth(tmp_path / "nothing.csv")


def test_the_paper_setting_ranks_against_the_published_accuracies(monkeypatch):
    from potran.bench.pages import PageBenchmark
    from potran.bench.runner import Benchmark

    page = PageBenchmark(Benchmark(models=("byol", "swav", "unknown"), targets=("dtd", "sun397")), paper=True)
    truth = page.groundtruth()
    assert truth.seeds is None and "published" in truth.source
    assert sorted(truth.accuracy.model.unique()) == ["byol", "swav"]
    byol_dtd = truth.accuracy.query("model == 'byol' and target == 'dtd'").test_acc.item()
    assert byol_dtd == pytest.approx(76.37)  # tw.py's value
    assert json.dumps(sorted(truth.accuracy.target.unique())) == '["dtd", "sun397"]'


def test_results_folder_is_given_or_under_build_and_created(tmp_path):
    page = page_benchmark(["conv4_random"], ["fonts"])
    given = page.results(str(tmp_path / "a" / "b"), "bench")
    assert given == tmp_path / "a" / "b" and given.is_dir()
    assert page.results(None, "bench").parts[-2:] == ("_build", "bench")


def test_results_folder_joins_its_parts_under_the_pages_folder(tmp_path, monkeypatch):
    from potran.bench import pages

    monkeypatch.setattr(pages, "PAGES_OUT", tmp_path)
    assert pages.results_folder(None, "paper", "k_grid") == tmp_path / "paper" / "k_grid"
    assert (tmp_path / "paper" / "k_grid").is_dir()
    assert pages.results_folder("", "finetuning") == tmp_path / "finetuning"
    assert pages.results_folder(tmp_path / "given", "finetuning") == tmp_path / "given"
    paper = pages.page_benchmark(["conv4_random"], ["fonts"])
    assert replace(paper, paper=True).results(None, "bench") == tmp_path / "paper" / "bench"


def test_ranked_keeps_scored_cells_on_targets_with_two_models():
    accuracy = pd.DataFrame({"model": ["a", "b", "c", "a", "b"], "target": ["t1", "t1", "t1", "t2", "t2"],
                             "test_acc": [0.1, 0.2, 0.3, 0.4, 0.5]})
    seeds = pd.concat([accuracy.assign(seed=0), accuracy.assign(seed=1)], ignore_index=True)
    truth = GroundTruth(accuracy, seeds, "here")
    scored = pd.DataFrame(
        {"model": ["a", "b", "a", "a"], "target": ["t1", "t1", "t2", "t2"]}
    )  # t2: one model
    ranked = truth.ranked(scored)
    assert ranked.targets == ["t1"] and sorted(ranked.accuracy.model) == ["a", "b"]
    assert len(ranked.seeds) == 4 and set(ranked.seeds.model) == {"a", "b"} and ranked.source == "here"
    assert GroundTruth(accuracy, None, "x").ranked(scored).seeds is None
