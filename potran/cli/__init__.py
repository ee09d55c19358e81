"""The ``potran`` command line, one entry point for the core and the benchmark (``potran --help``).

Its subcommands, error handling and shared options: book/api/core.md, "The command line".
"""
from __future__ import annotations

import argparse
import sys
import warnings

from potran.cli import bench, extract, report, scoring
from potran.cli.options import EXTRAS, UsageError, old_spelling

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="potran", description="Transferability scores with and without PED, their rank "
        "evaluation, and the offline benchmark.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (scoring.add_score_parser, scoring.add_rank_parser, bench.add_bench_parser,
                bench.add_groundtruth_parser, bench.add_pretrain_parser, scoring.add_select_parser,
                extract.add_extract_parser, report.add_report_parser, bench.add_demo_parser):
        add(subparsers)
    return parser


def _report_warnings(command: str, caught) -> None:
    """Each distinct warning of a run but deprecations as one line on stderr (book/api/core.md)."""
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
