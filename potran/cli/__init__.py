"""The ``potran`` command line, one entry point for the core and the benchmark.

``potran score`` (one transferability score), ``rank`` (tau_w of scores against fine-tuning
accuracy), ``select`` (rank one's own models) — :mod:`potran.cli.scoring`; ``extract`` (their
features) — :mod:`potran.cli.extract`; ``bench`` (the scoring grid), ``groundtruth`` (the
fine-tuning grid), ``pretrain`` (our conv4 weights) and ``demo`` (a ten-second tour) —
:mod:`potran.cli.bench`; ``report`` (tests and intervals) — :mod:`potran.cli.report`. Each
subcommand is added by an ``add_<name>_parser(subparsers)`` function that sets
``func=run_<name>``; :func:`main` calls ``args.func(args)``, which returns the exit status. A
``ValueError`` or ``OSError`` raised by a subcommand (bad input, missing file) is printed as one
line on stderr, without traceback, with exit status 1, or 2 for options that do not fit together
(:class:`~potran.cli.options.UsageError`), as argparse does. Heavy modules (torch, pandas, the
benchmark) are imported inside the ``run_*`` functions, so ``potran --help`` answers at once.

One vocabulary serves every subcommand that scores or ranks (``score``, ``select``, ``rank``,
``bench``, ``report``), defined once in :mod:`potran.cli.options`: ``--metric`` (repeatable or
comma-separated), ``--perturbation`` (``none``, ``ped``, ``sa``; repeatable), the perturbations'
options as typed flags generated from their declarations in :mod:`potran.params`
(``--ped-nsigma 0.8``, ``--sa-alpha group2``, ``--no-ped-standardize``), ``--option KEY=VALUE``
for a metric's options, and ``--seed``. An old spelling
(:data:`~potran.cli.options.RENAMED`) gives one line naming the new one, exit status 2. A missing
optional package names the extra that installs it (:data:`~potran.cli.options.EXTRAS`).
"""
from __future__ import annotations

import argparse
import sys
import warnings

from potran.cli import bench, extract, report, scoring
from potran.cli.options import EXTRAS, UsageError, old_spelling

__all__ = ["main", "build_parser", "UsageError"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="potran", description="Transferability scores with and without PED, their rank "
        "evaluation, and the offline benchmark.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scoring.add_score_parser(subparsers)
    scoring.add_rank_parser(subparsers)
    bench.add_bench_parser(subparsers)
    bench.add_groundtruth_parser(subparsers)
    bench.add_pretrain_parser(subparsers)
    scoring.add_select_parser(subparsers)
    extract.add_extract_parser(subparsers)
    report.add_report_parser(subparsers)
    bench.add_demo_parser(subparsers)
    return parser


def _report_warnings(command: str, caught) -> None:
    """Each distinct warning of a run as one line on stderr, without the file and line of the
    library that raised it; warnings meant for developers (deprecations) are left out."""
    lines = dict.fromkeys(" ".join(str(w.message).split()) for w in caught
                          if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning,
                                                         FutureWarning)))
    for line in lines:
        print(f"potran {command}: warning: {line}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``potran`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    renamed = old_spelling(argv)
    if renamed:
        print(f"potran {renamed[0]}: error: {renamed[1]}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        with warnings.catch_warnings(record=True) as caught:
            try:
                return args.func(args)
            finally:
                _report_warnings(args.command, caught)
    except ModuleNotFoundError as err:
        package = (err.name or "").split(".")[0]
        if package not in EXTRAS:
            raise
        print(f"potran {args.command}: error: needs the optional package {package!r}: "
              f"pip install 'potran[{EXTRAS[package]}]'", file=sys.stderr)
        return 1
    except (ValueError, OSError) as err:
        message = " ".join(str(err).split())
        print(f"potran {args.command}: error: {message}", file=sys.stderr)
        return 2 if isinstance(err, UsageError) else 1
