"""Command line: ``potran score`` (one transferability score), ``potran rank`` (tau_w) and ``potran bench``.

Each subcommand is added by an ``add_<name>_parser(subparsers)`` function that sets
``func=run_<name>`` as a parser default; :func:`main` calls ``args.func(args)``, which returns the
exit status. A ``ValueError`` or ``OSError`` raised by a subcommand (bad input, missing file) is
printed as one line on stderr, without traceback, with exit status 1 (2 for options that do not
fit together).
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

import potran
from potran import evaluation
from potran.bench import add_bench_parser
from potran.metrics import REGISTRY

# PED options of ``potran.ped.simulate`` (spec §4); None means "the library default".
PED_OPTIONS = ("nsigma", "time_step", "constant", "exit_ratio", "max_steps")

RANK_STATS = {
    "weighted_tau": evaluation.weighted_tau,
    "kendall_tau": evaluation.kendall_tau,
    "pearson": evaluation.pearson,
    "spearman": evaluation.spearman,
}


class UsageError(ValueError):
    """Options that do not fit together; exit status 2."""


def _read_array(path: Path, what: str) -> np.ndarray:
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"cannot read {what} from {path}: {err}") from None


def load_inputs(file: str, labels: str | None = None, general: str | None = None):
    """Features ``X``, labels ``y`` and the optional general set ``G`` of ``potran score``.

    An ``.npz`` holds the arrays under the keys ``X``, ``y`` and optionally ``G`` (as in
    ``tests/parity``); an ``.npy`` holds the features only, with ``labels`` (and ``general``)
    naming further ``.npy`` files.
    """
    path = Path(file)
    if path.suffix == ".npz":
        if labels is not None or general is not None:
            raise UsageError("--labels/--general are for .npy features; an .npz holds X, y and G")
        archive = _read_array(path, "arrays")
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{path} is not an .npz archive")
        with archive:
            missing = [key for key in ("X", "y") if key not in archive.files]
            if missing:
                raise ValueError(f"{path} has no array {missing[0]!r} (it has {archive.files})")
            try:
                return archive["X"], archive["y"], archive["G"] if "G" in archive.files else None
            except ValueError as err:
                raise ValueError(f"cannot read arrays from {path}: {err}") from None
    if path.suffix == ".npy":
        if labels is None:
            raise UsageError("a .npy features file needs --labels y.npy")
        X = _read_array(path, "features")
        y = _read_array(Path(labels), "labels")
        G = None if general is None else _read_array(Path(general), "the general set")
        return X, y, G
    raise UsageError(f"expected a .npz or .npy file, got {file!r}")


def parse_options(pairs: list[str]) -> dict:
    """``KEY=VALUE`` strings to keyword options; values become bool, None, int or float if they read so."""
    options = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise UsageError(f"--option wants KEY=VALUE, got {pair!r}")
        lowered = text.lower()
        if lowered in ("true", "false", "none"):
            options[key] = {"true": True, "false": False, "none": None}[lowered]
            continue
        for kind in (int, float):
            try:
                options[key] = kind(text)
                break
            except ValueError:
                continue
        else:
            options[key] = text
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


def _accepts(function, name: str) -> bool:
    params = inspect.signature(function).parameters.values()
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


def _trace_lines(trace) -> list[str]:
    """Human-readable PED trace; ``trace.energies`` holds the energy before step 1, then after each."""
    lines = [f"ped steps: {trace.steps}", f"  start: energy = {trace.energies[0]:.10g}"]
    for step, p in enumerate(trace.displacements, start=1):
        lines.append(f"  step {step}: displacement P = {p:.10g}, energy = {trace.energies[step]:.10g}")
    if trace.rejected_displacement is not None:
        lines.append(f"  rejected step: displacement P = {trace.rejected_displacement:.10g}")
    return lines


def run_score(args) -> int:
    """``potran score``: print one metric's score, optionally after PED (spec §4)."""
    if args.metric not in REGISTRY:
        raise UsageError(f"unknown metric {args.metric!r}; choose from {', '.join(sorted(REGISTRY))}")
    ped_options = {k: getattr(args, k) for k in PED_OPTIONS if getattr(args, k) is not None}
    if ped_options and not args.ped:
        raise UsageError(f"PED options ({', '.join('--' + k.replace('_', '-') for k in ped_options)}) need --ped")
    options = {**parse_options(args.option), **ped_options}
    if args.device is not None:
        options["device"] = check_device(args.device)
    if args.seed is not None:
        if not _accepts(REGISTRY[args.metric], "seed"):
            raise UsageError(f"metric {args.metric!r} is deterministic and takes no --seed")
        options["seed"] = args.seed
    X, y, G = load_inputs(args.file, args.labels, args.general)
    if args.ped and G is None:
        raise UsageError("--ped needs a general feature set: array 'G' in the .npz or --general G.npy")
    trace = None
    if args.ped:
        score, trace = potran.score(X, y, args.metric, ped=True, general=G, return_trace=True, **options)
    else:
        score = potran.score(X, y, args.metric, **options)
    score = float(score)
    if args.json:
        record = {"file": args.file, "metric": args.metric, "ped": args.ped, "score": score,
                  "n_samples": int(np.shape(X)[0]), "options": options}
        if trace is not None:
            record["trace"] = trace.to_dict()
        print(json.dumps(record, default=_jsonable))
    else:
        print(f"file: {args.file} ({np.shape(X)[0]} samples x {np.shape(X)[1]} features)")
        print(f"metric: {args.metric}{' + PED' if args.ped else ''}")
        if trace is not None:
            print("\n".join(_trace_lines(trace)))
        print(repr(score))
    return 0


def _jsonable(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _read_table(path: str, what: str) -> pd.DataFrame:
    if not Path(path).is_file():
        raise ValueError(f"no such file: {path}")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read {what} from {path}: {' '.join(str(err).split())}") from None


def run_rank(args) -> int:
    """``potran rank``: correlation of scores with fine-tuning accuracy, per target (spec §1)."""
    scores = _read_table(args.scores, "scores")
    gt = _read_table(args.gt, "ground truth")
    stat = RANK_STATS[args.stat]
    values = evaluation.correlate_by_target(scores, gt, stat=stat)
    target_col = next((c for c in ("target", "dataset") if c in scores.columns), None)
    counts = (scores.groupby(target_col, sort=False).size() if target_col
              else pd.Series({None: len(scores)}))
    mean = float(values.mean())
    if args.json:
        record = {"statistic": args.stat, "value": mean}
        if target_col:
            record["per_target"] = {str(t): float(v) for t, v in values.items()}
            record["n_models"] = {str(t): int(counts[t]) for t in values.index}
        else:
            record["n_models"] = int(counts.iloc[0])
        print(json.dumps(record))
    elif target_col is None:
        print(f"{args.stat} over {counts.iloc[0]} models")
        print(f"{mean:.3f}")
    else:
        width = max(len("target"), *(len(str(t)) for t in values.index))
        print(f"{'target':<{width}}  models  {args.stat}")
        for target, value in values.items():
            print(f"{str(target):<{width}}  {counts[target]:>6}  {value:.3f}")
        print(f"{'mean':<{width}}  {'':>6}  {mean:.3f}")
    return 0


def add_score_parser(subparsers) -> None:
    p = subparsers.add_parser("score", help="score features with one transferability metric",
                              description="Score features with one metric (optionally after PED).")
    p.add_argument("file", help=".npz with arrays X, y (and G), or a .npy features file")
    p.add_argument("--metric", required=True, help="metric name, e.g. logme, sfda, gbc, nleep")
    p.add_argument("--labels", help="labels .npy (with .npy features)")
    p.add_argument("--general", help="general feature set .npy for PED (with .npy features)")
    p.add_argument("--ped", action="store_true", help="score the features after PED motion")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--seed", type=int, help="seed of stochastic metrics (nleep, parc, random)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="metric option, repeatable, e.g. --option gaussian=diagonal --option pca_dim=none")
    p.add_argument("--device", help="torch device for the metrics and PED that support one, e.g. cuda")
    ped = p.add_argument_group("PED options (defaults: as the official code ran)")
    ped.add_argument("--nsigma", type=float, help="radius coefficient lambda")
    ped.add_argument("--time-step", type=float, help="time step t")
    ped.add_argument("--constant", type=float, help="elastic constant k")
    ped.add_argument("--exit-ratio", type=float, help="exit ratio rho")
    ped.add_argument("--max-steps", type=int, help="maximum number of accepted steps")
    p.set_defaults(func=run_score)


def add_rank_parser(subparsers) -> None:
    p = subparsers.add_parser("rank", help="weighted Kendall tau of scores against fine-tuning accuracy",
                              description="Correlate scores (columns model, score) with ground "
                              "truth (model, accuracy); with a target/dataset column, per target "
                              "and the mean.")
    p.add_argument("scores", help="CSV with columns model, score [, target|dataset]")
    p.add_argument("gt", help="CSV with columns model, accuracy [, target|dataset]")
    p.add_argument("--stat", choices=sorted(RANK_STATS), default="weighted_tau",
                   help="statistic (default: weighted_tau, the paper's)")
    p.add_argument("--json", action="store_true", help="print one JSON object (full precision)")
    p.set_defaults(func=run_rank)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="potran", description="Transferability scores with and without PED, and their rank evaluation.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_score_parser(subparsers)
    add_rank_parser(subparsers)
    add_bench_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``potran`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as err:
        message = " ".join(str(err).split())
        print(f"potran {args.command}: error: {message}", file=sys.stderr)
        return 2 if isinstance(err, UsageError) else 1


if __name__ == "__main__":
    sys.exit(main())
