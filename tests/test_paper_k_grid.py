"""The supplementary's Table 1 (PED after a grid search of k) as published, and how it relates to
the main table."""
import pytest

from potran import paper

DATASETS = {"aircraft", "caltech101", "cars", "cifar10", "cifar100", "flowers", "voc2007", "pets",
            "food", "dtd"}


def test_k_grid_is_the_published_table():
    table = paper.k_grid()
    assert list(table.columns) == ["method", "dataset", "tau_w", "source", "metric", "ped"]
    assert len(table) == 8 * 10 and set(table.dataset) == DATASETS
    assert table.tau_w.between(-1, 1).all()
    assert (table.source == "PED supplementary Table 1 (grid search over k)").all()
    cell = table.set_index(["method", "dataset"]).tau_w
    assert cell[("LogME+Ours", "aircraft")] == 0.509
    assert cell[("SFDA+Ours", "dtd")] == 0.907
    assert cell[("GBC+Ours", "cifar10")] == 0.149
    assert cell[("GBC+Ours", "voc2007")] == 0.552
    assert cell[("NLEEP", "food")] == 0.574   # printed "0574" in the supplementary
    means = table.groupby("method").tau_w.mean()
    assert means["LogME+Ours"] == pytest.approx(0.6923, abs=5e-5)
    assert means["SFDA+Ours"] == pytest.approx(0.6916, abs=5e-5)
    assert means["GBC+Ours"] == pytest.approx(0.5470, abs=5e-5)
    row = table[(table.method == "GBC+Ours") & (table.dataset == "pets")].iloc[0]
    assert (row.metric, row.ped) == ("gbc", True)


def test_k_grid_repeats_the_main_table_without_ped_and_never_falls_below_it_with_ped():
    both = paper.k_grid().merge(paper.main_table(), on=["method", "dataset"], suffixes=("_grid", "_main"))
    assert len(both) == 80
    plain = both[~both.ped_grid]
    assert (plain.tau_w_grid == plain.tau_w_main).all()
    ped = both[both.ped_grid]
    # the grid contains the default setting, so its best result is at least the default's
    assert (ped.tau_w_grid >= ped.tau_w_main).all()
    assert (ped.tau_w_grid > ped.tau_w_main).sum() == 27
