"""Benchmark v4's deciding test, validated before any v4 score exists (potran.bench.v4.design).

The sign-flip over per-family means keeps its size (exactly, by enumeration; and on simulated
benchmarks with family- and target-level heterogeneity of PED's effect), reaches the power the
pre-registration states, and the pilot spread recomputes from v3's committed data.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from potran import stats
from potran.bench import targets_v3
from potran.bench.v4 import design

ALPHAS = (0.05, 0.05 / 3, 0.05 / 6)


def _mc_bound(p: float, n: int) -> float:
    """p plus three Monte-Carlo standard errors of a share over n simulations."""
    return p + 3 * np.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("n_units", [5, 6, 7, 8])
def test_the_sign_flip_size_is_exact_by_enumeration(n_units):
    """Under any null symmetric about 0 the p of every sign pattern of the same |values| is
    equally likely: the share of the 2^F patterns rejected is the test's exact size, <= alpha."""
    rng = np.random.default_rng(n_units)
    magnitudes = np.abs(rng.normal(size=n_units)) + 0.01
    patterns = 1 - 2 * np.array(list(np.ndindex(*(2,) * n_units)), float)
    p = stats.sign_flip_rows(patterns * magnitudes)
    for alpha in ALPHAS:
        size = np.mean(p < alpha)
        assert size == pytest.approx(design.exact_size(n_units, alpha), abs=1e-12)
        assert size <= alpha
    assert p.min() == pytest.approx(2 / 2 ** n_units)


def test_what_the_design_can_never_resolve():
    floor = design.resolution_floor().set_index("families")
    assert floor.loc[5, "exact size at α 0.05"] == 0            # smallest p 0.0625
    assert floor.loc[6, "exact size at first step (1), (2)"] == 0  # 0.031 > 0.05 / 3
    assert floor.loc[7, "exact size at first step (3)"] == 0       # 0.016 > 0.05 / 6
    assert floor.loc[8, "exact size at first step (3)"] == pytest.approx(2 / 256)
    assert floor.loc[8, "exact size at α 0.05"] == pytest.approx(12 / 256)


def test_the_vectorised_rule_is_the_registered_test():
    """decide() gives sign_flip_clustered's p over v3's source families, benchmark by benchmark."""
    rng = np.random.default_rng(1)
    delta = rng.normal(0.1, 0.3, size=(5, len(targets_v3.NAMES)))
    families = [targets_v3.FAMILIES[t] for t in targets_v3.NAMES]
    p = design.decide(delta)
    for row, value in zip(delta, p):
        assert value == pytest.approx(stats.sign_flip_clustered(row, families).p_value)
    shifted = design.decide(delta, null=0.1)
    assert shifted[0] == pytest.approx(stats.sign_flip_clustered(delta[0] - 0.1, families).p_value)


@pytest.fixture(scope="module")
def small():
    """600 simulated benchmarks of v4's design and a coarse tau_w map (seconds, not minutes)."""
    return design.draw_noise(600, seed=3), design.tau_map(n_draws=600, seed=4)


HETEROGENEOUS = {"base_tau": 0.1, "sd_base": 0.2, "error_corr": 0.5, "sd_family": 0.15, "sd_target": 0.1}


def test_type_one_error_with_family_heterogeneity(small):
    noise, curve = small
    delta = design.simulate_deltas(HETEROGENEOUS, (0.0,), noise, curve)[0.0]
    n = len(delta)
    assert abs(delta.mean()) < 0.01                          # the estimand is 0
    for f in design.FAMILY_COUNTS:
        sub = noise["subsets"][f] if f < 8 else None
        p = design.decide(delta, sub)
        for alpha in ALPHAS:
            assert np.mean(p < alpha) <= _mc_bound(alpha, n)
            if design.exact_size(f, alpha) == 0:
                assert np.mean(p < alpha) == 0               # the attainable p cannot go below alpha


def test_power_with_family_heterogeneity(small):
    """A planted effect of +0.30 with family sd 0.15 and target sd 0.10 is found in >= 80 % of
    8-family benchmarks; the power agrees with the normal model of the family means
    (normal family means of the simulated mean and spread) within Monte-Carlo error."""
    noise, curve = small
    delta = design.simulate_deltas(HETEROGENEOUS, (0.3,), noise, curve)[0.3]
    power = np.mean(design.decide(delta) < 0.05)
    assert power >= 0.8
    fam = np.array([targets_v3.FAMILIES[t] for t in targets_v3.NAMES])
    means = np.stack([delta[:, fam == f].mean(1) for f in dict.fromkeys(fam)], axis=1)
    draws = np.random.default_rng(0).normal(means.mean(), means.std(ddof=1, axis=1).mean(), (20000, 8))
    normal = np.mean(stats.sign_flip_rows(draws) < 0.05)
    assert power == pytest.approx(normal, abs=0.08)
    assert delta.mean() == pytest.approx(0.3, abs=0.03)      # tau_w stays clear of its ceiling


@pytest.fixture(scope="module")
def pilot():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        effects = design.pilot_effects()
        return effects, design.pilot_spread(effects)


def test_the_pilot_spread_recomputes_from_v3(pilot):
    effects, spread = pilot
    assert len(design.pilot_models()) == 11
    assert set(effects.metric) == set(design.METRICS) and len(effects) == 9 * 24
    logme = spread.set_index("metric").loc["logme"]
    assert logme.sd_families == pytest.approx(0.589296009988813, abs=1e-12)
    assert logme.family_mean == pytest.approx(-0.24227312505959858, abs=1e-12)
    own = effects[effects.metric == "logme"].groupby("family").effect.mean()
    assert own.std(ddof=1) == pytest.approx(logme.sd_families)


def test_the_published_gains_are_the_paper_numbers():
    gains = design.published_gains()
    assert gains["logme"] == pytest.approx(0.2689) and gains["sfda"] == pytest.approx(0.0456)
    assert gains["gbc"] == pytest.approx(0.255)


@pytest.mark.slow
def test_the_stated_power(pilot):
    """The pre-registration's statements: GBC's published gain is found with power >= 0.9 with 8
    families; SFDA's is not (power < 0.2); Type I stays within Monte-Carlo error of 0.05."""
    _, spread = pilot
    table, _ = design.power_table(spread[spread.metric.isin(["sfda", "gbc"])], n_sim=400, seed=0)
    at8 = table[table.families == 8].set_index("metric")
    assert at8.loc["gbc", "power"] >= 0.9
    assert at8.loc["sfda", "power"] < 0.2
    assert (table.type1 <= _mc_bound(0.05, 400)).all()
    assert (table[table.families == 5][["type1", "power"]] == 0).all().all()
