"""Declared options: every keyword option of a metric, of PED and of SA, with its constraint.

One declaration (:func:`declare`, after scikit-learn's ``_parameter_constraints``) serves the check
of every call (``"<name> must be <constraint>, got <value>"``), the command line's flags and the
README's option table.
"""
from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Interval", "OneOf", "Boolean", "Anything", "Option", "declare", "options_of", "check_options",
           "option_table", "defaults_of",
           "POSITIVE", "COUNT", "SEED", "FLAG", "DEVICE"]


@dataclass(frozen=True)
class Interval:
    """An integer (``kind=int``) or a real number (``kind=float``) between ``low`` and ``high``
    (None: unbounded); ``closed`` says which ends belong: "both", "left", "right" or "neither"."""

    kind: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or value != value:
            return False  # value != value: NaN
        if self.kind is int and int(value) != value:
            return False
        closed_low, closed_high = self.closed in ("both", "left"), self.closed in ("both", "right")
        low_ok = self.low is None or (value >= self.low if closed_low else value > self.low)
        high_ok = self.high is None or (value <= self.high if closed_high else value < self.high)
        return low_ok and high_ok

    def __str__(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        low, high = (v if v is None or not float(v).is_integer() else int(v) for v in (self.low, self.high))
        if low is not None and high is not None:
            left = "[" if self.closed in ("both", "left") else "("
            right = "]" if self.closed in ("both", "right") else ")"
            return f"{what} in {left}{low}, {high}{right}"
        if low is not None:
            return f"{what} {'>=' if self.closed in ('both', 'left') else '>'} {low}"
        if high is not None:
            return f"{what} {'<=' if self.closed in ('both', 'right') else '<'} {high}"
        return what


@dataclass(frozen=True)
class OneOf:
    """One of the given values (compared with ``==``, booleans never equal to numbers)."""

    values: tuple

    def accepts(self, value) -> bool:
        return any(value == v and isinstance(value, bool) == isinstance(v, bool) for v in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))


@dataclass(frozen=True)
class Boolean:
    """True or False (NumPy's too; not 0/1)."""

    def accepts(self, value) -> bool:
        return isinstance(value, (bool, np.bool_))

    def __str__(self) -> str:
        return "True or False"


@dataclass(frozen=True)
class Anything:
    """Any value; checked where it is used (e.g. a torch device)."""

    what: str = "any value"

    def accepts(self, value) -> bool:
        return True

    def __str__(self) -> str:
        return self.what


@dataclass(frozen=True)
class Option:
    """One keyword option: its name, the constraints a value must meet one of (None among them
    allows None), and a short help text."""

    name: str
    constraints: tuple
    help: str

    def accepts(self, value) -> bool:
        return any(value is None if c is None else c.accepts(value) for c in self.constraints)

    def describe(self) -> str:
        return " or ".join("None" if c is None else str(c) for c in self.constraints)

    def check(self, value) -> None:
        if not self.accepts(value):
            raise ValueError(f"{self.name} must be {self.describe()}, got {value!r}")


#: the constraints most options share: a positive number, a positive integer, a seed
#: (None: fresh randomness), a flag, a torch device (None: the input's)
POSITIVE = (Interval(float, 0, None, closed="neither"),)
COUNT = (Interval(int, 1, None),)
SEED = (None, Interval(int, 0, 2**32 - 1))
FLAG = (Boolean(),)
DEVICE = (None, Anything("a torch device"))


def options_of(function: Callable) -> tuple[Option, ...]:
    """The options declared on ``function`` with :func:`declare` (empty when it takes none)."""
    return getattr(function, "options", ())


def defaults_of(function: Callable) -> dict:
    """The default value of each keyword option of ``function``, from its signature."""
    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


def check_options(options: tuple[Option, ...], values: dict) -> None:
    """Check each given value against its declared option (names not declared are not checked)."""
    declared = {o.name: o for o in options}
    for name, value in values.items():
        if name in declared:
            declared[name].check(value)


def declare(*options: Option):
    """Attach ``options`` to the decorated function and check its keyword arguments at every call;
    they must be exactly its keyword-only parameters (TypeError at import)."""
    def decorate(function):
        keyword_only = [p.name for p in inspect.signature(function).parameters.values()
                        if p.kind is inspect.Parameter.KEYWORD_ONLY]
        if sorted(keyword_only) != sorted(o.name for o in options):
            raise TypeError(f"{function.__qualname__}: declared options {sorted(o.name for o in options)} "
                            f"differ from its keyword-only parameters {sorted(keyword_only)}")

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any):
            check_options(options, kwargs)
            return function(*args, **kwargs)

        checked.options = tuple(options)
        return checked

    return decorate


def option_table(functions: dict[str, Callable]) -> str:
    """The Markdown table (the README's, a test keeps them equal) of the declared options of
    ``functions`` (label -> function): default, what it accepts, what it does."""
    rows = ["| for | option | default | accepts | meaning |", "|---|---|---|---|---|"]
    for label, function in functions.items():
        defaults = defaults_of(function)
        for option in options_of(function):
            rows.append(f"| {label} | `{option.name}` | `{defaults[option.name]!r}` | {option.describe()} "
                        f"| {option.help} |")
    return "\n".join(rows)
