"""The ``potran`` command line, one entry point for the core and the benchmark.

``potran score`` (one transferability score), ``rank`` (tau_w of scores against fine-tuning
accuracy), ``bench`` (the scoring grid), ``groundtruth`` (the fine-tuning grid), ``pretrain``
(our conv4 weights), ``select`` (rank one's own models), ``extract`` (their features) and
``demo`` (a ten-second tour). Each subcommand is added by an
``add_<name>_parser(subparsers)`` function that sets ``func=run_<name>``; :func:`main` calls
``args.func(args)``, which returns the exit status. A ``ValueError`` or ``OSError`` raised by a
subcommand (bad input, missing file) is printed as one line on stderr, without traceback, with
exit status 1, or 2 for options that do not fit together (:class:`UsageError`), as argparse
does. Heavy modules (torch, pandas, the benchmark) are imported inside the ``run_*`` functions,
so ``potran --help`` answers at once.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from potran.bench.folders import BENCH_OUT, FEATURE_CACHE, GROUNDTRUTH_OUT
from potran.bench.reduction import SCORE_DIM
from potran.extract import IMAGENET_MEAN, IMAGENET_STD
from potran.params import Boolean, defaults_of, options_of
from potran.ped import OPTIONS as PED_OPTIONS
from potran.ped import simulate
from potran.perturbations import NONE, PED, read_value
from potran.report_cli import add_report_parser

RANK_STATS = ("weighted_tau", "kendall_tau", "pearson", "spearman")
BENCH_GROUNDTRUTH = str(GROUNDTRUTH_OUT / "accuracy.csv")


class UsageError(ValueError):
    """Options that do not fit together; exit status 2."""


def _read_array(path: Path, what: str) -> np.ndarray:
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    if path.suffix == ".npz" and not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a valid .npz file (an .npz is a zip archive of .npy arrays)")
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


def _trace_lines(trace) -> list[str]:
    """Human-readable PED trace; ``trace.energies`` holds the energy before step 1, then after each."""
    lines = [f"ped steps: {trace.steps}", f"  start: energy = {trace.energies[0]:.10g}"]
    for step, p in enumerate(trace.displacements, start=1):
        lines.append(f"  step {step}: displacement P = {p:.10g}, energy = {trace.energies[step]:.10g}")
    if trace.rejected_displacement is not None:
        lines.append(f"  rejected step: displacement P = {trace.rejected_displacement:.10g}")
    return lines


def run_score(args) -> int:
    """``potran score``: print one metric's score, optionally after PED."""
    import potran
    from potran.metrics import REGISTRY, SPECS

    if args.metric not in REGISTRY:
        raise UsageError(f"unknown metric {args.metric!r}; choose from {', '.join(sorted(REGISTRY))}")
    ped_options = {k: getattr(args, k) for k in PED_OPTIONS if getattr(args, k, None) is not None}
    if ped_options and not args.ped:
        raise UsageError(f"PED options ({', '.join('--' + k.replace('_', '-') for k in ped_options)}) "
                         "need --ped")
    options = {**parse_options(args.option), **ped_options}
    if args.device is not None:
        options["device"] = check_device(args.device)
    if args.seed is not None:
        if not SPECS[args.metric].stochastic:
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
    # ncti gives one model's components (a named tuple); its score needs a pool of models
    score = {k: float(v) for k, v in score._asdict().items()} if hasattr(score, "_asdict") else float(score)
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


def _read_table(path: str, what: str):
    import pandas as pd

    if not Path(path).is_file():
        raise ValueError(f"no such file: {path}")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read {what} from {path}: {' '.join(str(err).split())}") from None


def select_scores(scores, metric: str | None, perturbation: str | None):
    """Rows of one metric (and perturbation) of a tidy score table such as ``scores.csv``.

    A table without ``metric``/``perturbation`` columns is returned as it is; with them,
    ``metric`` is required when the table holds more than one, and ``perturbation`` (default
    ``"none"``) picks the rows of that perturbation label.
    """
    if "metric" in scores.columns:
        metrics = list(dict.fromkeys(scores["metric"]))
        if metric is None and len(metrics) > 1:
            raise UsageError(f"the scores hold several metrics ({', '.join(metrics)}): "
                             "pick one with --metric")
        metric = metric or metrics[0]
        if metric not in metrics:
            raise ValueError(f"the scores have no metric {metric!r}; they have {', '.join(metrics)}")
        scores = scores[scores["metric"] == metric]
    elif metric is not None:
        raise UsageError("--metric needs a 'metric' column in the scores")
    if "perturbation" in scores.columns:
        perturbation = perturbation or NONE
        found = list(dict.fromkeys(scores["perturbation"]))
        if perturbation not in found:
            raise ValueError(f"the scores have no perturbation {perturbation!r}; they have "
                             f"{', '.join(found)}")
        scores = scores[scores["perturbation"] == perturbation]
    elif perturbation is not None:
        raise UsageError("--perturbation needs a 'perturbation' column in the scores")
    return scores.drop(columns=[c for c in ("metric", "perturbation") if c in scores.columns])


def _without_failed(gt, failed):
    """``gt`` without the (model, target) cells whose score failed (empty in ``scores.csv``):
    such a model is left out of that target's ranking, as in ``tau.csv``."""
    if failed.empty or "model" not in gt.columns:
        return gt
    if "target" not in failed.columns or "target" not in gt.columns:
        return gt[~gt["model"].isin(failed["model"])]
    cells = set(zip(failed["model"], failed["target"]))
    return gt[np.array([(m, t) not in cells for m, t in zip(gt["model"], gt["target"])], dtype=bool)]


def run_rank(args) -> int:
    """``potran rank``: correlation of scores with fine-tuning accuracy, per target."""
    import pandas as pd

    from potran import evaluation

    scores = select_scores(_read_table(args.scores, "scores"), args.metric, args.perturbation)
    gt = _read_table(args.gt, "ground truth")
    if "score" in scores:
        finite = np.isfinite(scores["score"].astype(float))
        gt = _without_failed(gt, scores[~finite])
        scores = scores[finite]
    stat = getattr(evaluation, args.stat)
    values = evaluation.correlate_by_target(scores, gt, stat=stat, accuracy=args.accuracy)
    target_col = "target" if "target" in scores.columns else None
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
    p.add_argument("--metric", required=True,
                   help="metric name (potran.REGISTRY), e.g. logme, sfda, gbc, nleep")
    p.add_argument("--labels", help="labels .npy (with .npy features)")
    p.add_argument("--general", help="general feature set .npy for PED (with .npy features)")
    p.add_argument("--ped", action="store_true", help="score the features after PED motion")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--seed", type=int, help="seed of stochastic metrics (nleep, parc, random)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="metric option, repeatable, e.g. --option gaussian=diagonal --option pca_dim=none")
    p.add_argument("--device", help="torch device for the metrics and PED that support one, e.g. cuda")
    add_option_flags(p.add_argument_group("PED options (defaults: as the official code ran)"),
                     simulate, PED_OPTIONS)
    p.set_defaults(func=run_score)


def add_option_flags(group, function, names) -> None:
    """One flag per declared option of ``function`` named in ``names`` (:mod:`potran.params`):
    ``--max-steps N`` typed by its constraint, ``--standardize/--no-standardize`` for a flag."""
    defaults = defaults_of(function)
    for option in options_of(function):
        if option.name not in names:
            continue
        flag = "--" + option.name.replace("_", "-")
        constraint = next(c for c in option.constraints if c is not None)
        help_text = f"{option.help} (default: {defaults[option.name]})"
        if isinstance(constraint, Boolean):
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            group.add_argument(flag, type=constraint.kind, help=help_text)


def add_rank_parser(subparsers) -> None:
    p = subparsers.add_parser("rank", help="weighted Kendall tau of scores against fine-tuning accuracy",
                              description="Correlate scores (columns model, score) with ground "
                              "truth (model, test_acc); with a target column, "
                              "per target and the mean. Reads potran bench's scores.csv (pick "
                              "--metric and --perturbation) and potran groundtruth's accuracy.csv as "
                              "they are.")
    p.add_argument("scores", help="CSV with columns model, score [, target] [, metric, perturbation]")
    p.add_argument("gt", help="CSV with columns model, test_acc [, target]")
    p.add_argument("--metric", help="the metric's rows, when the scores have a metric column")
    p.add_argument("--perturbation", help="the rows of this perturbation, e.g. ped (default: none)")
    p.add_argument("--accuracy", default="test_acc", help="accuracy column of gt (default: %(default)s)")
    p.add_argument("--stat", choices=RANK_STATS, default="weighted_tau",
                   help="statistic (default: weighted_tau, the paper's)")
    p.add_argument("--json", action="store_true", help="print one JSON object (full precision)")
    p.set_defaults(func=run_rank)


def _names(text: str | None, known, what: str) -> tuple[str, ...]:
    """Comma-separated names (default: all of ``known``); UsageError on an unknown one."""
    if not text:
        return tuple(known)
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return names


def _add_run_options(p, threads: int) -> None:
    """Options every long-running subcommand shares."""
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--threads", type=int, default=threads, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786): run the cells "
                   "on that cluster instead of here")


def _command_line(args) -> str:
    return "potran " + " ".join(shlex.quote(a) for a in args.argv)


def run_bench(args) -> int:
    """``potran bench``: score every metric (+/- PED) on the models x targets grid."""
    from potran.bench import configure_torch, datasets, distributed, report, runner, sources, zoo
    from potran.bench.finetune import FinetuneConfig
    from potran.bench.pages import PAPER_PARAMETERS, page_benchmark
    from potran.metrics import FEATURE_METRICS

    # a grid cell has features only: leep/nce need source probabilities, and ncti's score is
    # relative to the pool of models (potran.metrics.ncti_pool_scores)
    scoring = dict(metrics=(_names(args.metrics, FEATURE_METRICS, "metric") if args.metrics
                            else runner.DEFAULT_METRICS),
                   perturbations=_perturbations(args.ped, args.ped_option, args.perturbation))
    if args.score_dim is not None:  # else the setting's own (the paper's: the full 2048)
        scoring["score_dim"] = args.score_dim
    paper = {k: getattr(args, k) for k in PAPER_PARAMETERS}  # the --paper-* options
    groundtruth, readme = args.groundtruth or None, bool(args.groundtruth)
    if any(paper.values()):
        if args.n_train is not None:
            raise UsageError("--n-train is for the offline benchmark; the paper's setting scores its splits")
        page = page_benchmark(args.models, args.targets, **paper, seed=args.seed,
                              paper_options=parse_options(args.paper_option, "--paper-option"))
        bench = page.benchmark(**scoring)
        if args.groundtruth == BENCH_GROUNDTRUTH:  # not given: the paper's published accuracies
            groundtruth, readme = page.groundtruth().accuracy, False
    elif args.paper_option:
        raise UsageError("--paper-option needs the paper's setting (--paper-checkpoints, --paper-data, "
                         "--paper-imagenet-val)")
    else:
        bench = runner.Benchmark(
            models=_names(args.models, zoo.names(), "model"),
            targets=_names(args.targets, datasets.AVAILABLE, "target") if args.targets else datasets.TARGETS,
            finetune=FinetuneConfig(n_train=args.n_train), seed=args.seed, sources=sources.OFFLINE,
            **scoring)
    check_device(args.device)
    configure_torch(args.threads)
    client = distributed.connect(args.scheduler)
    t0 = time.perf_counter()
    scores, tau = runner.run(bench, args.out, groundtruth=groundtruth, cache_dir=args.cache_dir,
                             device=args.device, progress=not args.no_progress, client=client)
    failed = scores[scores.error.fillna("") != ""]
    print(f"{len(scores)} scores ({len(failed)} failed) of {len(bench.models)} models x "
          f"{len(bench.targets)} targets in {time.perf_counter() - t0:.0f} s")
    if tau is not None:
        print(tau.pivot_table(index=["metric", "perturbation"], columns="target", values="weighted_tau",
                              sort=False, dropna=False).round(3).to_string())
        if readme:
            report.write_bench_readme(args.out, _command_line(args), scores, args.groundtruth,
                                      score_dim=bench.score_dim)
        else:
            print("ranked against the paper's published fine-tuning accuracies (tw.py of the official code)")
    return 0


def _ped_options(pairs) -> dict:
    options = parse_options(pairs, "--ped-option")
    unknown = sorted(set(options) - set(PED_OPTIONS))
    if unknown:
        raise UsageError(f"unknown PED option(s) {unknown}; known: {', '.join(PED_OPTIONS)}")
    return options


def _perturbations(ped: str, pairs, labels=()) -> tuple[str, ...]:
    """The perturbation labels of ``potran bench`` (:mod:`potran.perturbations`): the
    ``--perturbation`` labels as given, else ``--ped both|off|on`` with its ``--ped-option``s."""
    from potran.perturbations import label, parse

    if labels:
        if pairs or ped != "both":
            raise UsageError("--perturbation gives the whole axis: do not combine it with --ped or "
                             "--ped-option")
        if len(set(labels)) < len(labels):
            raise UsageError(f"--perturbation: a label is given twice in {list(labels)}")
        for name in labels:
            try:
                parse(name)
            except ValueError as err:
                raise UsageError(f"--perturbation: {err}") from None
        return tuple(labels)
    try:
        setting = label(PED, **_ped_options(pairs))
    except ValueError as err:
        raise UsageError(f"--ped-option: {err}") from None
    return {"both": (NONE, setting), "off": (NONE,), "on": (setting,)}[ped]


def add_bench_parser(subparsers) -> None:
    p = subparsers.add_parser("bench", help="score every metric (+/- PED) on models x targets and "
                              "rank against the fine-tuning ground truth",
                              description="Score every metric (+/- PED) on the offline benchmark "
                              "(resumable; features cached) and write scores.csv, tau.csv and a "
                              "README with intervals and the random-null band.")
    p.add_argument("--models", help="comma-separated zoo names (default: all)")
    p.add_argument("--targets", help="comma-separated target names (default: all)")
    p.add_argument("--metrics", help="comma-separated (default: every feature metric)")
    p.add_argument("--ped", choices=("both", "off", "on"), default="both",
                   help="score without PED, with PED, or both")
    p.add_argument("--ped-option", action="append", default=[], metavar="KEY=VALUE",
                   help="PED option, repeatable, e.g. --ped-option nsigma=0.8")
    p.add_argument("--perturbation", action="append", default=[], metavar="LABEL",
                   help="a value of the perturbation axis, repeatable, instead of --ped: none, ped, "
                   "ped:nsigma=2, sa, sa:alpha=group2, ...")
    p.add_argument("--groundtruth", default=BENCH_GROUNDTRUTH,
                   help="fine-tuning accuracy table ('' to skip tau; on the paper's setting the "
                   "default is its published accuracies)")
    p.add_argument("--out", default=str(BENCH_OUT), help="result folder (default: %(default)s)")
    p.add_argument("--cache-dir", default=str(FEATURE_CACHE), help="feature cache (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the stochastic metrics")
    p.add_argument("--n-train", type=int, help="training images scored, as in the ground truth "
                   "(default: all)")
    p.add_argument("--score-dim", type=int,
                   help="features wider than this are reduced by PCA (default: the offline "
                   f"benchmark's protocol, {SCORE_DIM}; the paper's setting, the full width)")
    paper = p.add_argument_group("the paper's setting, from local files (all three; default: the offline "
                                 "benchmark)")
    paper.add_argument("--paper-checkpoints", metavar="DIR",
                       help="the 12 ResNet-50 checkpoints as ssl-transfer distributes them (<name>.pth)")
    paper.add_argument("--paper-data", metavar="DIR", help="the 11 targets in torchvision's on-disk layouts")
    paper.add_argument("--paper-imagenet-val", metavar="DIR",
                       help="ImageNet validation images: PED's general set")
    paper.add_argument("--paper-option", action="append", default=[], metavar="KEY=VALUE",
                       help="option of potran.bench.paper_setting.benchmark, e.g. image_size=224")
    _add_run_options(p, threads=2)
    p.set_defaults(func=run_bench)


def run_groundtruth(args) -> int:
    """``potran groundtruth``: fine-tune every missing (model, target) cell."""
    from potran.bench import configure_torch, datasets, distributed, groundtruth, zoo
    from potran.bench.finetune import FinetuneConfig

    models = _names(args.models, zoo.names(), "model")
    targets = _names(args.targets, datasets.AVAILABLE, "target") if args.targets else datasets.TARGETS
    d = FinetuneConfig()
    config = FinetuneConfig(lr=args.lr if args.lr is not None else d.lr,
                            wd=args.wd if args.wd is not None else d.wd,
                            epochs=args.epochs or d.epochs, batch_size=args.batch_size or d.batch_size,
                            seeds=tuple(args.seeds) if args.seeds else d.seeds,
                            n_train=args.n_train, n_test=args.n_test)
    check_device(args.device)
    configure_torch(args.threads)
    client = distributed.connect(args.scheduler)
    t0 = time.perf_counter()
    after = lambda table: groundtruth.write_readme(args.out, _command_line(args), config,  # noqa: E731
                                                  models, targets)
    table = groundtruth.run_grid(models, targets, args.out, config, device=args.device,
                                 progress=not args.no_progress, after_cell=after, client=client)
    after(table)
    print(f"{len(table)} cells in {args.out} ({time.perf_counter() - t0:.0f} s this run)")
    return 0


def add_groundtruth_parser(subparsers) -> None:
    p = subparsers.add_parser("groundtruth", help="fine-tune every zoo model on every target "
                              "(the benchmark's ground truth; resumable)",
                              description="Fine-tune every zoo model on every target, once per "
                              "seed, one resumable cell each; writes cells/, snapshots/, "
                              "accuracy.csv and README.md.")
    p.add_argument("--out", default=str(GROUNDTRUTH_OUT), help="result folder (default: %(default)s)")
    p.add_argument("--models", help="comma-separated zoo names (default: all)")
    p.add_argument("--targets", help="comma-separated target names (default: all)")
    p.add_argument("--seeds", type=int, nargs="+", help="seeds (default: 0 1 2)")
    p.add_argument("--epochs", type=int, help="epochs (default: the protocol's)")
    p.add_argument("--lr", type=float, help="learning rate (default: the protocol's)")
    p.add_argument("--wd", type=float, help="weight decay (default: the protocol's)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--n-train", type=int, help="training images (default: all)")
    p.add_argument("--n-test", type=int, help="test images (default: all)")
    _add_run_options(p, threads=1)
    p.set_defaults(func=run_groundtruth)


def run_pretrain(args) -> int:
    """``potran pretrain``: pretrain our conv4 models and write their weights."""
    from potran.bench import configure_torch
    from potran.bench.zoo import pretrain

    objectives = _names(args.objectives, pretrain.OBJECTIVES, "objective")  # validated first
    configure_torch(args.threads)
    pretrain.write_weights(args.out, objectives, checkpoints_only=args.checkpoints_only,
                           progress=not args.no_progress)
    return 0


def add_pretrain_parser(subparsers) -> None:
    p = subparsers.add_parser("pretrain", help="pretrain the zoo's conv4 models on photo crops",
                              description="Pretrain our conv4 CNNs (supervised, SimCLR, rotation, "
                              "denoising, random-init control) and their checkpoints.")
    p.add_argument("--out", default="data/zoo", help="weights folder")
    p.add_argument("--objectives", help="comma-separated (default: all)")
    p.add_argument("--checkpoints-only", action="store_true",
                   help="stop each run at its last checkpoint; keep the final weights")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_pretrain)


def run_select(args) -> int:
    """``potran select``: rank one's own models (one .npz each) with several metrics (potran.selection)."""
    from potran import selection

    files = selection.model_files(args.files)
    arrays = {name: load_inputs(str(path)) for name, path in files.items()}
    ped = "both" if args.ped_both else args.ped
    lacking = [str(files[name]) for name, (_, _, G) in arrays.items() if G is None]
    if ped and lacking:
        raise UsageError(f"PED needs a general feature set: {lacking[0]} has no array 'G'")
    table = selection.rank_models(
        {name: X for name, (X, _, _) in arrays.items()}, {name: y for name, (_, y, _) in arrays.items()},
        metrics=[m.strip() for text in args.metric for m in text.split(",") if m.strip()]
        or selection.DEFAULT_METRICS, ped=ped, ped_options=_ped_options(args.ped_option),
        general={name: G for name, (_, _, G) in arrays.items()} if ped else None,
        device=None if args.device is None else check_device(args.device))
    if args.json:
        print(json.dumps(table.to_dict(orient="records"), default=_jsonable))
    elif args.csv:
        print(table.to_csv(index=False), end="")
    else:
        _, y, _ = next(iter(arrays.values()))
        print(f"{len(files)} models, {len(y)} labelled samples, {len(np.unique(y))} classes\n")
        print(selection.ranking_text(table))
    return 0


def add_select_parser(subparsers) -> None:
    p = subparsers.add_parser("select", help="rank your own models on a labelled target with several "
                              "metrics (one .npz of features per model)",
                              description="Rank models by transferability scores: one .npz per model "
                              "(arrays X, y and, for PED, G; the model's name is the file's stem, "
                              "e.g. written by potran extract). Rank 1 is the highest score.")
    p.add_argument("files", nargs="+", help=".npz files, or folders of .npz files")
    p.add_argument("--metric", action="append", default=[], metavar="NAMES",
                   help="metric(s), repeatable or comma-separated (default: logme,sfda,gbc); "
                   "ncti gives the pool score")
    ped = p.add_mutually_exclusive_group()
    ped.add_argument("--ped", action="store_true", help="score after PED (every file needs G)")
    ped.add_argument("--ped-both", action="store_true", help="score without and after PED")
    p.add_argument("--ped-option", action="append", default=[], metavar="KEY=VALUE",
                   help="PED option, repeatable, e.g. --ped-option nsigma=0.8")
    p.add_argument("--device", help="torch device for PED and the metrics that support one")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the table as JSON records")
    out.add_argument("--csv", action="store_true", help="print the table as CSV")
    p.set_defaults(func=run_select)


def run_extract(args) -> int:
    """``potran extract``: features of one's own torch model on an image folder (potran.extract)."""
    from potran import extract

    if args.arch and not args.weights:
        raise UsageError("--arch needs --weights STATE_DICT (potran never downloads weights)")
    if args.torchscript and args.weights:
        raise UsageError("--weights is for --arch; a TorchScript file holds its own weights")
    preprocessing = extract.Preprocessing(args.image_size, args.resize, _floats(args.mean, "--mean"),
                                          _floats(args.std, "--std"))
    device = check_device(args.device)
    model = (extract.torchscript_model(args.torchscript) if args.torchscript
             else extract.torchvision_backbone(args.arch, args.weights))
    t0 = time.perf_counter()
    arrays = extract.write_features(args.out, model, args.images, general=args.general,
                                    preprocessing=preprocessing, batch_size=args.batch_size,
                                    num_workers=args.workers, device=device, progress=not args.no_progress)
    general = f", G {arrays['G'].shape[0]} x {arrays['G'].shape[1]}" if "G" in arrays else ""
    print(f"{args.out}: X {arrays['X'].shape[0]} x {arrays['X'].shape[1]}, {len(arrays['classes'])} "
          f"classes{general} ({time.perf_counter() - t0:.1f} s on {device})")
    return 0


def _floats(text: str, flag: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"{flag} wants comma-separated numbers, got {text!r}") from None


def add_extract_parser(subparsers) -> None:
    p = subparsers.add_parser("extract", help="features of your own torch model on an image folder, "
                              "as the .npz that score and select read",
                              description="Penultimate features of a torchvision architecture with a "
                              "local state dict (its final classifier replaced by Identity), or the "
                              "output of a TorchScript module, on an image folder in ImageFolder layout "
                              "(one subfolder per class). Nothing is downloaded.")
    p.add_argument("images", help="image folder, one subfolder of images per class")
    model = p.add_mutually_exclusive_group(required=True)
    model.add_argument("--arch", help="torchvision architecture, e.g. resnet50 (with --weights)")
    model.add_argument("--torchscript", help="TorchScript file (torch.jit.save): its output is the features")
    p.add_argument("--weights", help="state-dict file of --arch")
    p.add_argument("--out", required=True, help="output .npz (X, y, classes, files and, with --general, G)")
    p.add_argument("--general", help="folder of generic images (any layout): PED's general set G")
    p.add_argument("--image-size", type=int, default=224, help="centre crop size (default: 224)")
    p.add_argument("--resize", type=int, help="shorter side before the crop (default: image size x 8/7)")
    p.add_argument("--mean", default=",".join(map(str, IMAGENET_MEAN)), help="R,G,B (default: ImageNet's)")
    p.add_argument("--std", default=",".join(map(str, IMAGENET_STD)), help="R,G,B (default: ImageNet's)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_extract)


def run_demo(args) -> int:
    """``potran demo``: rank synthetic models with every metric, with and without PED."""
    from potran import demo

    demo.main()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="potran", description="Transferability scores with and without PED, their rank "
        "evaluation, and the offline benchmark.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_score_parser(subparsers)
    add_rank_parser(subparsers)
    add_bench_parser(subparsers)
    add_groundtruth_parser(subparsers)
    add_pretrain_parser(subparsers)
    add_select_parser(subparsers)
    add_extract_parser(subparsers)
    add_report_parser(subparsers)
    subparsers.add_parser("demo", help="a ten-second tour: rank synthetic models with every "
                          "metric +/- PED").set_defaults(func=run_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``potran`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except (ValueError, OSError) as err:
        message = " ".join(str(err).split())
        print(f"potran {args.command}: error: {message}", file=sys.stderr)
        return 2 if isinstance(err, UsageError) else 1


if __name__ == "__main__":
    sys.exit(main())
