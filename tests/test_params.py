"""potran.params: declared options, one check and one message for every metric, PED and SA."""
import inspect
import re

import numpy as np
import pytest

import potran
from potran import ped, sa
from potran.metrics import REGISTRY
from potran.params import COUNT, FLAG, POSITIVE, SEED, Interval, OneOf, Option, declare, options_of


@pytest.mark.parametrize(("constraints", "good", "bad", "message"), [
    (POSITIVE, [1e-9, 2, np.float64(0.5)], [0, -1, float("nan"), True, "1", None], "a number > 0"),
    (COUNT, [1, np.int64(7), 3.0], [0, 1.5, False, None], "an integer >= 1"),
    (SEED, [None, 0, 2**32 - 1], [-1, 2**32, 0.5, True], "None or an integer in [0, 4294967295]"),
    (FLAG, [True, False, np.bool_(True)], [0, 1, "yes", None], "True or False"),
    ((Interval(float, 0, 1, closed="right"),), [1, 0.5], [0, 1.01], "a number in (0, 1]"),
    ((OneOf(("a", 1)),), ["a", 1], ["b", True, 2], "one of 'a', 1"),
])
def test_constraints_accept_and_name_what_they_want(constraints, good, bad, message):
    option = Option("x", constraints, "")
    assert option.describe() == message
    for value in good:
        option.check(value)
    for value in bad:
        with pytest.raises(ValueError, match=f"^x must be {re.escape(message)}, got "):
            option.check(value)


def test_declare_checks_keyword_arguments_and_keeps_the_signature():
    @declare(Option("k", COUNT, "neighbours"))
    def f(X, *, k: int = 5):
        return k

    assert f(0) == 5 and f(0, k=2) == 2
    with pytest.raises(ValueError, match="k must be an integer >= 1, got True"):
        f(0, k=True)
    assert options_of(f)[0].name == "k"
    assert list(inspect.signature(f).parameters) == ["X", "k"]


def test_declare_refuses_a_declaration_that_differs_from_the_signature():
    with pytest.raises(TypeError, match="differ from its keyword-only parameters"):
        @declare(Option("k", COUNT, ""))
        def f(X, *, k=1, m=2):
            return k


def test_every_metric_ped_and_sa_declare_their_options():
    """Each keyword option is declared (declare refuses the function at import otherwise)."""
    for name, function in REGISTRY.items():
        assert hasattr(function, "options"), f"{name} has no declared options"
    assert ped.OPTIONS == tuple(o.name for o in options_of(ped.simulate) if o.name != "device")
    assert sa.OPTIONS == tuple(o.name for o in options_of(sa.perturb))


def test_one_message_style_through_score(small):
    X, y, G = small
    for call, message in [
        (lambda: potran.score(X, y, "knn", k=0), "k must be an integer >= 1, got 0"),
        (lambda: potran.score(X, y, "transrate", coding_eps=-1.0), "coding_eps must be a number > 0"),
        (lambda: potran.simulate(X, y, G, standardize="no"), "standardize must be True or False"),
        (lambda: potran.simulate(X, y, G, exit_ratio=-0.5), "exit_ratio must be a number >= 0"),
        (lambda: potran.score(X, y, "random", seed=-3), "seed must be None or an integer in"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()


def test_readme_option_table_is_the_declaration():
    from pathlib import Path

    from potran.metrics import SPECS
    from potran.params import option_table

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("<!-- options: begin -->\n", 1)[1].split("\n<!-- options: end -->", 1)[0]
    assert block == option_table({**{f"`{n}`": s.function for n, s in SPECS.items() if s.options},
                                  "PED (`ped=True`)": ped.simulate, "SA (`sa=True`)": sa.perturb})
