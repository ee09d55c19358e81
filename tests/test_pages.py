"""potran.bench.pages: the shim that maps the old page parameters onto potran.bench.settings."""
from __future__ import annotations

import pytest

from potran.bench import pages


def test_bench4_without_the_paper_folders():
    page = pages.page_benchmark('["conv4_random", "conv4_simclr"]', "fonts", seed=3)
    assert page.name == "bench4" and page.models == ("conv4_random", "conv4_simclr") and page.bench.seed == 3


@pytest.mark.parametrize("given", [("paper_checkpoints",), ("paper_data", "paper_imagenet_val")])
def test_the_paper_setting_needs_all_three_folders(given, tmp_path):
    with pytest.raises(ValueError) as err:
        pages.page_benchmark(**{name: str(tmp_path) for name in given})
    missing = [name for name in pages.PAPER_PARAMETERS if name not in given]
    assert str(err.value).endswith("missing: " + ", ".join(missing))


def test_paper_options_only_with_the_paper_setting(tmp_path):
    with pytest.raises(ValueError, match="paper_options were given without the paper's setting"):
        pages.page_benchmark(paper_options='{"image_size": 32}')
    folders = {name: str(tmp_path) for name in pages.PAPER_PARAMETERS}
    with pytest.raises(ValueError, match=r"(?s)missing 55 file.*checkpoint byol"):
        pages.page_benchmark(paper_options="{'image_size': 32}", **folders)


def test_results_folder_joins_its_parts_under_the_pages_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(pages, "PAGES_OUT", tmp_path)
    assert pages.results_folder(None, "paper", "k_grid") == tmp_path / "paper" / "k_grid"
    assert (tmp_path / "paper" / "k_grid").is_dir()
    assert pages.results_folder("", "finetuning") == tmp_path / "finetuning"
    assert pages.results_folder(tmp_path / "given", "finetuning") == tmp_path / "given"
