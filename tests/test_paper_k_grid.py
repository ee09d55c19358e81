"""The supplementary's Table 1 (PED after a grid search of k) as published, and how it relates to
the main table."""
import pytest

from potran import paper

DATASETS = {"aircraft", "caltech101", "cars", "cifar10", "cifar100", "flowers", "voc2007", "pets",
            "food", "dtd"}


def test_k_grid_is_the_published_table():
    table = paper.k_grid()
    assert list(table.columns) == ["method", "target", "weighted_tau", "source", "metric", "perturbation"]
    assert len(table) == 8 * 10 and set(table.target) == DATASETS
    assert table.weighted_tau.between(-1, 1).all()
    assert (table.source == "PED supplementary Table 1 (grid search over k)").all()
    cell = table.set_index(["method", "target"]).weighted_tau
    assert cell[("LogME+Ours", "aircraft")] == 0.509
    assert cell[("SFDA+Ours", "dtd")] == 0.907
    assert cell[("GBC+Ours", "cifar10")] == 0.149
    assert cell[("GBC+Ours", "voc2007")] == 0.552
    assert cell[("NLEEP", "food")] == 0.574   # printed "0574" in the supplementary
    means = table.groupby("method").weighted_tau.mean()
    assert means["LogME+Ours"] == pytest.approx(0.6923, abs=5e-5)
    assert means["SFDA+Ours"] == pytest.approx(0.6916, abs=5e-5)
    assert means["GBC+Ours"] == pytest.approx(0.5470, abs=5e-5)
    row = table[(table.method == "GBC+Ours") & (table.target == "pets")].iloc[0]
    assert (row.metric, row.perturbation) == ("gbc", "ped")


def test_k_grid_repeats_the_main_table_without_ped_and_never_falls_below_it_with_ped():
    both = paper.k_grid().merge(paper.main_table(), on=["method", "target"], suffixes=("_grid", "_main"))
    assert len(both) == 80
    plain = both[both.perturbation_grid == "none"]
    assert (plain.weighted_tau_grid == plain.weighted_tau_main).all()
    ped = both[both.perturbation_grid == "ped"]
    # the grid contains the default setting, so its best result is at least the default's
    assert (ped.weighted_tau_grid >= ped.weighted_tau_main).all()
    assert (ped.weighted_tau_grid > ped.weighted_tau_main).sum() == 27
