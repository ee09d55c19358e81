"""``potran score``, ``potran rank`` and ``potran select``: score features, correlate scores with
fine-tuning accuracy, rank one's own models (:mod:`potran.selection`)."""
from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from potran.cli.options import (
    UsageError,
    add_metric_flag,
    add_metric_options_flag,
    add_perturbation_flags,
    add_seed_flag,
    check_device,
    metric_list,
    metric_options,
    number,
    perturbation_kinds,
    perturbation_options,
    read_table,
    records,
    reduce_width,
    stochastic_seed,
)
from potran.perturbations import NONE, PED, SA

RANK_STATS = ("weighted_tau", "kendall_tau", "pearson", "spearman")


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
    """``X``, ``y`` and the optional ``G`` of ``potran score``: from one ``.npz`` (keys X, y, G), or
    from ``.npy`` features with ``labels`` (and ``general``) naming further ``.npy`` files."""
    path = Path(file)
    if path.suffix == ".npz":
        if labels is not None or general is not None:
            raise UsageError("--labels/--general are for .npy features; an .npz holds X, y and G")
        arrays = load_model_file(path, ("X", "y", "G", "classes"))
        return arrays["X"], arrays["y"], arrays["G"]
    if path.suffix == ".npy":
        if labels is None:
            raise UsageError("a .npy features file needs --labels y.npy")
        X = _read_array(path, "features")
        y = _read_array(Path(labels), "labels")
        G = None if general is None else _read_array(Path(general), "the general set")
        return X, y, G
    raise UsageError(f"expected a .npz or .npy file, got {file!r}")


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
        if not any(SPECS[m].stochastic for m in metrics):
            what = (f"metric {metrics[0]!r} is" if len(metrics) == 1
                    else f"metrics {', '.join(map(repr, metrics))} are")
            raise UsageError(f"{what} deterministic and take{'s' if len(metrics) == 1 else ''} no --seed")
        options = stochastic_seed(options, metrics, args.seed)
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
            after = "" if kind == NONE else f" after {kind.upper()}"
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
            if kind == PED:  # trace.energies: the energy before step 1, then after each
                trace = record["trace"]
                print(f"ped steps: {trace.steps}\n  start: energy = {trace.energies[0]:.10g}")
                for step, p in enumerate(trace.displacements, start=1):
                    print(f"  step {step}: displacement P = {p:.10g}, energy = {trace.energies[step]:.10g}")
                if trace.rejected_displacement is not None:
                    print(f"  rejected step: displacement P = {trace.rejected_displacement:.10g}")
            print(repr(record["score"]))
    for message in failed:
        print(f"potran score: error: {message}", file=sys.stderr)
    return 1 if failed else 0


def _jsonable(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def select_scores(scores, metric: str | None, perturbation: str | None):
    """Rows of one metric (required when there are several) and perturbation (default ``"none"``)
    of a tidy score table such as ``scores.csv``; a table without those columns as it is."""
    for column, value in (("metric", metric), ("perturbation", perturbation)):
        if column not in scores.columns:
            if value is not None:
                raise UsageError(f"--{column} needs a '{column}' column in the scores")
            continue
        found = list(dict.fromkeys(scores[column]))
        if column == "metric" and value is None and len(found) > 1:
            raise UsageError(f"the scores hold several metrics ({', '.join(found)}): pick one with --metric")
        value = value or (found[0] if column == "metric" else NONE)
        if value not in found:
            raise ValueError(f"the scores have no {column} {value!r}; they have {', '.join(found)}")
        scores = scores[scores[column] == value]
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

    scores = select_scores(read_table(args.scores, "scores"), args.metric, args.perturbation)
    gt = read_table(args.gt, "ground truth")
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


def load_model_file(path: Path, keys=("X", "y", "G", "classes", "files")) -> dict:
    """The arrays ``keys`` of one model's ``.npz`` (``potran extract``'s): X, y, and G, classes,
    files when it holds them (None otherwise); ``y`` as class names when ``classes`` names its codes."""
    archive = _read_array(path, "arrays")
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not an .npz archive")
    with archive:
        missing = [key for key in ("X", "y") if key not in archive.files]
        if missing:
            raise ValueError(f"{path} has no array {missing[0]!r} (it has {archive.files})")
        try:
            arrays = {k: archive[k] if k in archive.files else None for k in keys}
        except ValueError as err:
            raise ValueError(f"cannot read arrays from {path}: {err}") from None
    y, classes = arrays["y"], arrays["classes"]
    if classes is not None and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        bad = y[(y < 0) | (y >= len(classes))]  # codes as names, so that every message names a folder
        if bad.size:
            raise ValueError(f"{path}: label code {int(bad[0])} has no class name ({len(classes)} classes)")
        arrays["y"] = np.asarray(classes)[y]
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
    options = stochastic_seed(metric_options(args, metrics), metrics, args.seed)
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
        reduction=reduce_width(args.reduce, "select"), n_boot=args.n_boot, seed=args.seed,
        level=args.level, progress=not args.no_progress and not (args.json or args.csv))
    evidence = _evidence(table)
    y = next(iter(arrays.values()))["y"]
    classes = np.unique(y)
    if args.json:
        record = {"models": list(arrays), "images": int(len(y)), "classes": [str(c) for c in classes],
                  "reduction": {r.model: {"width": int(r.width), "scored_width": int(r.scored_width)}
                                for r in table.drop_duplicates("model").itertuples()},
                  "resampling": {"replicates": table.attrs["n_boot"], "level": table.attrs["level"],
                                 "seed": table.attrs["seed"], "kept": "90% of each class's images, without "
                                 "replacement, the same draw for every model (delete-d jackknife)"},
                  "rows": records(table), "agreement": records(table.attrs["agreement"]),
                  "evidence": None if evidence is None else records(evidence),
                  "evidence_page": None if evidence is None else evidence.attrs["page"]}
        print(json.dumps(record, default=_jsonable))
    elif args.csv:
        print(table.to_csv(index=False), end="")
    else:
        shown = ", ".join(map(str, classes[:8])) + (", ..." if len(classes) > 8 else "")
        print(f"{len(files)} models, {len(y)} labelled images, {len(classes)} classes ({shown})\n")
        print(format_ranking(table, evidence))
    failed = table[table["error"] != ""]
    for r in failed.itertuples():
        after = "" if r.perturbation == NONE else f" after {r.perturbation.upper()}"
        print(f"potran select: error: model {r.model!r}, metric {r.metric!r}{after}: {r.error}",
              file=sys.stderr)
    return 1 if len(failed) == len(table) else 0


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
            line = f"  {rank:>4}  {r.model:<{width}}  {number(r.score, '12.6g'):>12}"
            if n_boot and not r.error:
                interval = f"[{number(r.low, '.4g')}, {number(r.high, '.4g')}]"
                star = "  *" if not pd.isna(r.top_set) and r.top_set else ""
                line += f"  {interval:<25}  {number(r.p_best, '.2f'):>7}{star}"
            if r.error:
                line += f"  failed: {r.error}"
            lines.append(line.rstrip())
        ties = part[(part.tied_with != "")].groupby("rank")["model"].apply(list)
        for rank, models in ties.items():
            lines.append(f"  tie at rank {rank} (scores equal to within a relative 1e-9): "
                         f"{' = '.join(models)}")
        blocks.append("\n".join(lines))
    label = [metric_label(m, p) for m, p in zip(table["metric"], table["perturbation"])]
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
        for r in agreement[agreement.metrics >= 2].itertuples():
            after = "" if r.perturbation == NONE else f" after {title(r.perturbation)}"
            blocks.append(f"agreement of the {r.metrics} metrics' rankings{after} ({r.models} models): "
                          f"Kendall's W {number(r.kendall_w, '.2f')} (1: identical rankings), mean pairwise "
                          f"Kendall tau {number(r.mean_tau, '.2f')}")
    if evidence is not None:
        blocks.append(_evidence_lines(evidence))
    return "\n\n".join(blocks)


def _evidence_lines(evidence) -> str:
    """Benchmark v3's evidence on the scored metrics, in lines (:func:`_evidence`)."""
    from potran.evidence import BASELINES

    targets = evidence.attrs.get("targets", ())
    lines = [f"evidence: benchmark v3, {len(targets)} targets of the fine-tuning main table, 16 models "
             f"(book page {evidence.attrs['page']}); mean tau_w against fine-tuning accuracy:"]
    base = evidence.attrs.get("best_baseline")
    rows = evidence.to_dict("records")
    if base is not None and base["metric"] not in {r["metric"] for r in rows}:
        rows.append(base)
    for r in rows:
        versus = ", ".join(f"{b} {number(r[f'minus_{b}'], '+.3f')} (p {number(r[f'p_{b}'], '.3f')})"
                           for b in BASELINES if b != r["metric"])
        lines.append(f"  {r['metric'] + (' after PED' if r['perturbation'] == PED else ''):<22} "
                     f"{number(r['mean_tau'], '+.3f')}; vs chance p {number(r['p_chance'], '.3f')}; "
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
