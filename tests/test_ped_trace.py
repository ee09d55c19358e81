"""PED's trace (potran.ped.PEDTrace): class centres and radii along the motion, the options list."""
import inspect
import json

import numpy as np
import pytest
import torch

import potran
from potran import ped
from potran.cli import build_parser

from conftest import blobs


@pytest.fixture(scope="module")
def data():
    X, y = blobs(n_per_class=(35, 50, 20, 45), dim=10, spread=3.0)
    G = np.random.default_rng(5).normal(0.5, 2.0, size=(60, 10))
    return X, y, G


def standardised(X, G):
    return (X - G.mean(0)) / np.maximum(G.std(0), ped.EPS)


def class_means(Z, y):
    return np.stack([Z[y == c].mean(0) for c in np.unique(y)])


def energy(centres, radii, nsigma=ped.NSIGMA, constant=ped.CONSTANT):
    d = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    o = np.clip(nsigma * (radii[:, None] + radii[None]) - d, 0, None)
    np.fill_diagonal(o, 0)
    return constant / 2 * (o ** 2).sum() / 2


def test_options_are_the_simulations_keyword_options():
    params = inspect.signature(ped.simulate).parameters
    keyword = [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and n != "device"]
    assert sorted(ped.OPTIONS) == sorted(keyword)
    assert "standardize" in ped.OPTIONS and params["standardize"].default is True
    # every option is a flag of `potran score` (standardize as --ped-standardize/--no-ped-standardize)
    flags = {a.dest for a in build_parser()._subparsers._group_actions[0].choices["score"]._actions}
    assert {f"ped_{name}" for name in ped.OPTIONS} <= flags


def test_centres_follow_the_accepted_steps(data):
    X, y, G = data
    trace = potran.simulate(X, y, G).trace
    assert trace.steps == 6 and len(trace.centres) == trace.steps + 1
    assert all(c.shape == (4, 10) and c.dtype == np.float64 for c in trace.centres)
    np.testing.assert_allclose(trace.centres[0], class_means(standardised(X, G), y), atol=1e-12)
    moves = [np.abs(b - a).sum() for a, b in zip(trace.centres, trace.centres[1:])]
    np.testing.assert_allclose(moves, trace.displacements, rtol=1e-10)


def test_last_centres_are_the_moved_features_class_means(data):
    X, y, G = data
    result = potran.simulate(X, y, G)
    np.testing.assert_allclose(result.trace.centres[-1],
                               class_means(standardised(result.features, G), y), atol=1e-10)


def test_radii_and_energies(data):
    X, y, G = data
    for nsigma in (ped.NSIGMA, 1.5):
        trace = potran.simulate(X, y, G, nsigma=nsigma).trace
        Z = standardised(X, G)
        radii = np.sqrt([((Z[y == c] - Z[y == c].mean(0)) ** 2).sum(1).mean() for c in range(4)])
        np.testing.assert_allclose(trace.radii, radii, rtol=1e-12)
        assert trace.radii.shape == (4,)
        # the energy of every recorded configuration, recomputed from its centres and the radii
        recomputed = [energy(c, trace.radii, nsigma) for c in trace.centres]
        np.testing.assert_allclose(trace.energies, recomputed, rtol=1e-9)


def test_no_motion_keeps_one_configuration(data):
    X, y, G = data
    trace = potran.simulate(X, y, G, max_steps=0).trace
    assert trace.steps == 0 and len(trace.centres) == 1 and trace.energies == [
        pytest.approx(energy(trace.centres[0], trace.radii))]


def test_raw_space_trace(data):
    X, y, _ = data
    trace = potran.simulate(X, y, None, standardize=False).trace
    np.testing.assert_allclose(trace.centres[0], class_means(X, y), atol=1e-12)
    radii = np.sqrt([((X[y == c] - X[y == c].mean(0)) ** 2).sum(1).mean() for c in range(4)])
    np.testing.assert_allclose(trace.radii, radii, rtol=1e-12)


def test_standardize_passes_through_score(data):
    X, y, G = data
    moved = potran.simulate(X, y, None, standardize=False).features
    raw = potran.score(X, y, "logme", ped=True, standardize=False)
    assert raw == potran.score(moved, y, "logme")
    assert raw != pytest.approx(potran.score(X, y, "logme", ped=True, general=G), rel=1e-6)
    with pytest.raises(ValueError, match=r"PED options \['standardize'\] given but ped=False"):
        potran.score(X, y, "logme", standardize=False)


def test_tensor_input_gives_numpy_centres_on_the_cpu(data):
    X, y, G = data
    from_numpy = potran.simulate(X, y, G).trace
    from_torch = potran.simulate(torch.as_tensor(X), torch.as_tensor(y), torch.as_tensor(G)).trace
    assert isinstance(from_torch.radii, np.ndarray)
    for a, b in zip(from_numpy.centres, from_torch.centres):
        assert isinstance(b, np.ndarray)
        np.testing.assert_array_equal(a, b)


def test_to_dict_is_the_json_ready_summary(data):
    X, y, G = data
    trace = potran.simulate(X, y, G, exit_ratio=0.995, nsigma=2.0, time_step=1.0).trace
    d = trace.to_dict()
    assert set(d) == {"steps", "displacements", "rejected_displacement", "energies", "max_shift"}
    assert d["rejected_displacement"] is not None and d["steps"] == len(d["displacements"])
    assert json.loads(json.dumps(d)) == d
    assert len(trace.centres) == trace.steps + 1  # the arrays stay on the object
    assert "centres" not in repr(trace) and "radii" not in repr(trace)


@pytest.mark.parametrize("max_steps", [True, False, 1.5, -1])
def test_max_steps_must_be_a_non_negative_integer(data, max_steps):
    X, y, G = data
    with pytest.raises(ValueError, match="max_steps must be an integer >= 0, got"):
        potran.simulate(X, y, G, max_steps=max_steps)
