"""Feature perturbations as the values of one axis: ``"none"``, PED and its settings, SA.

A perturbation is named by a label: ``"none"`` (the features as given), ``"ped"``
(:func:`potran.ped.simulate`), ``"sa"`` (:func:`potran.sa.perturb`), or a kind with comma-separated
``key=value`` options, e.g. ``"ped:nsigma=2,standardize=False"``. :func:`label` writes the options
sorted, so one setting has one label; :func:`move` applies a label to one cell's features.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from potran.params import check_options, options_of

__all__ = ["NONE", "PED", "SA", "KINDS", "Moved", "read_value", "parse", "label", "kind", "title",
           "metric_label", "move", "trace_columns"]

NONE, PED, SA = "none", "ped", "sa"
#: The kinds of perturbation: the features as given, PED, SA.
KINDS = (NONE, PED, SA)


@dataclass(frozen=True)
class Moved:
    """The features after a perturbation and its trace (:class:`potran.ped.PEDTrace`,
    :class:`potran.sa.SATrace`, or None for ``"none"``)."""

    features: Any
    trace: Any = None


def _function(kind_: str):
    from . import ped, sa

    return {PED: ped.simulate, SA: sa.perturb}[kind_]


def _known_options(kind_: str) -> tuple[str, ...]:
    from . import ped, sa

    return {NONE: (), PED: ped.OPTIONS, SA: sa.OPTIONS}[kind_]


def read_value(text: str):
    """``text`` as True, False, None, an int or a float where it reads so, else the string."""
    lowered = text.lower()
    if lowered in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[lowered]
    for type_ in (int, float):
        try:
            return type_(text)
        except ValueError:
            continue
    return text


def parse(name: str) -> tuple[str, dict]:
    """``(kind, options)`` of a label; ValueError for an unknown kind or option, or a malformed pair."""
    if not isinstance(name, str):
        raise ValueError(f"a perturbation is a label such as 'none', 'ped' or 'ped:nsigma=2', got {name!r}")
    kind_, sep, rest = name.partition(":")
    if kind_ not in KINDS:
        raise ValueError(f"unknown perturbation {kind_!r} in {name!r}; known: {', '.join(KINDS)}")
    options = {}
    for pair in rest.split(",") if sep else ():
        key, eq, text = pair.partition("=")
        if not eq or not key.isidentifier():
            raise ValueError(f"perturbation {name!r}: options are key=value pairs, got {pair!r}")
        if key in options:
            raise ValueError(f"perturbation {name!r} sets {key!r} twice")
        options[key] = read_value(text)
    known = _known_options(kind_)  # PED's device is not a label's option
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} of perturbation {kind_!r} in {name!r}; known: "
                         f"{', '.join(known) or 'none'}")
    if options:
        check_options(options_of(_function(kind_)), options)
    return kind_, options


def label(kind_: str, **options) -> str:
    """The label of ``kind_`` with ``options`` (sorted), e.g. ``label("ped", nsigma=2) == "ped:nsigma=2"``."""
    for key, value in options.items():
        if any(ch in str(value) for ch in ",=:"):
            raise ValueError(f"option {key}={value!r} cannot be written in a label (',', '=' or ':')")
    text = kind_ + (":" + ",".join(f"{k}={options[k]}" for k in sorted(options)) if options else "")
    parse(text)  # validates the kind, the option names and values
    return text


def kind(name: str) -> str:
    """The kind of a label: ``"none"``, ``"ped"`` or ``"sa"``."""
    return parse(name)[0]


def move(name: str, X, y, G=None, *, device=None) -> Moved:
    """Apply the perturbation ``name`` to features ``X`` with labels ``y`` (PED needs the general
    set ``G``); ``device`` goes to PED."""
    kind_, options = parse(name)
    if kind_ == NONE:
        return Moved(X)
    if kind_ == PED:
        if G is None:
            raise ValueError(f"perturbation {name!r} needs a general feature set")
        if device is not None:
            options["device"] = device
        result = _function(kind_)(X, y, G, **options)
    else:
        result = _function(kind_)(X, y, **options)
    return Moved(result.features, result.trace)


def trace_columns(moved: Moved) -> dict:
    """What a score row records of the motion: for PED ``ped_steps`` and ``energy_ratio`` (the
    potential energy after the motion over before; None when the balls did not overlap)."""
    from .ped import PEDTrace

    if not isinstance(moved.trace, PEDTrace):
        return {}
    energies = moved.trace.energies
    return {"ped_steps": moved.trace.steps,
            "energy_ratio": energies[-1] / energies[0] if energies[0] > 0 else None}


def title(name: str) -> str:
    """How a label reads after a metric's name: ``"PED"``, ``"SA"``, ``"PED[nsigma=2]"``
    (brackets, so that a label does not read as a Python call)."""
    kind_, _, options = name.partition(":")
    return kind_.upper() + (f"[{options}]" if options else "")


def metric_label(metric: str, name: str) -> str:
    """A metric scored after perturbation ``name``: ``"logme"`` (none), ``"logme+PED"``,
    ``"logme+SA"``, ``"logme+PED[nsigma=2]"``."""
    return metric if name == NONE else f"{metric}+{title(name)}"
