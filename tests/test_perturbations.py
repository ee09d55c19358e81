"""Perturbations as one axis (potran.perturbations): labels, their validation, and the motion."""
import numpy as np
import pytest

import potran
from potran import perturbations as pt

from conftest import blobs


def test_labels_read_and_write_one_way():
    assert pt.parse("none") == ("none", {}) and pt.parse("ped") == ("ped", {})
    assert pt.parse("ped:standardize=False,nsigma=2") == ("ped", {"standardize": False, "nsigma": 2})
    assert pt.parse("sa:alpha=group2") == ("sa", {"alpha": "group2"})
    assert pt.label("ped", standardize=False, nsigma=2.0) == "ped:nsigma=2.0,standardize=False"
    assert pt.label("ped") == "ped" and pt.kind("ped:nsigma=2") == "ped"
    for name in ("ped:nsigma=0.6", "ped:max_steps=0,nsigma=1.5", "sa:alpha=0.1,gate=False"):
        kind, options = pt.parse(name)
        assert pt.label(kind, **options) == name
    assert pt.metric_label("logme", "none") == "logme" and pt.metric_label("logme", "ped") == "logme+PED"
    assert pt.metric_label("gbc", "sa") == "gbc+SA"
    assert pt.metric_label("gbc", "ped:nsigma=2") == "gbc+PED[nsigma=2]" == "gbc+" + pt.title("ped:nsigma=2")


@pytest.mark.parametrize("name, message", [
    ("PED", "unknown perturbation 'PED'"),
    ("ped:sigma=2", r"unknown option\(s\) \['sigma'\] of perturbation 'ped'"),
    ("none:nsigma=2", r"unknown option\(s\) \['nsigma'\] of perturbation 'none'"),
    ("ped:device=cpu", r"unknown option\(s\) \['device'\]"),
    ("ped:nsigma", "options are key=value pairs, got 'nsigma'"),
    ("ped:nsigma=1,nsigma=2", "sets 'nsigma' twice"),
    ("ped:nsigma=-1", "nsigma"),
    (True, "a perturbation is a label"),
])
def test_bad_labels_are_named(name, message):
    with pytest.raises(ValueError, match=message):
        pt.parse(name)


def test_a_value_that_cannot_be_written_in_a_label():
    with pytest.raises(ValueError, match="cannot be written in a label"):
        pt.label("sa", alpha="a,b")


def test_move_is_what_potran_score_scores():
    X, y = blobs(dim=6)
    G = np.random.default_rng(0).normal(size=(30, 6))
    assert pt.move("none", X, y, G).features is X and pt.move("none", X, y).trace is None
    for name, kw in (("ped", {"ped": True, "general": G}),
                     ("ped:nsigma=2.0", {"ped": True, "general": G, "nsigma": 2.0}),
                     ("sa:alpha=group2", {"sa": True, "alpha": "group2"})):
        moved = pt.move(name, X, y, G)
        assert potran.score(moved.features, y, "logme") == potran.score(X, y, "logme", **kw)
    assert pt.trace_columns(pt.move("ped", X, y, G)) == {"ped_steps": 0, "energy_ratio": None}  # apart
    mixed = np.random.default_rng(1).normal(size=(60, 6))  # random labels: the balls overlap
    ped = pt.move("ped", mixed, np.arange(60) % 3, G)
    energies = ped.trace.energies
    assert pt.trace_columns(ped) == {"ped_steps": ped.trace.steps,
                                     "energy_ratio": energies[-1] / energies[0]} and ped.trace.steps > 0
    assert pt.trace_columns(pt.move("sa", X, y)) == {} == pt.trace_columns(pt.move("none", X, y))
    with pytest.raises(ValueError, match="'ped' needs a general feature set"):
        pt.move("ped", X, y)
