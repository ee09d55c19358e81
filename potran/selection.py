"""Rank one's own models on a labelled target, without fine-tuning any of them.

Under the width and tie rules of :mod:`potran.reduction`, with resampled intervals of the scores
and ranks; the protocol and its reasons: book/api/selection.md.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from potran import perturbations as perturbation_axis
from potran.metrics import FEATURE_METRICS, SPECS
from potran.perturbations import NONE, PED, SA
from potran.reduction import TIE_RTOL, reduce_features, scored_width, tie_ranks
from potran.validation import check_features, check_labels

__all__ = ["METRICS", "PERTURBATIONS", "COLUMNS", "N_BOOT", "KEEP", "RAW_METRICS", "default_metrics",
           "rank_models", "agreement", "model_files"]

#: Metrics that rank features: one score per model, and the pool scores of component metrics (NCTI).
METRICS = FEATURE_METRICS + tuple(n for n, s in SPECS.items() if s.gives == "components")
#: Values of the ``perturbation`` column: the features as given, after PED, after SA.
PERTURBATIONS = perturbation_axis.KINDS
#: Columns of the table of :func:`rank_models`.
COLUMNS = ["model", "metric", "perturbation", "score", "rank", "tied_with", "low", "high", "p_best",
           "top_set", "error", "width", "scored_width"]
#: Replicates by default (benchmarks/bench_selection.py measures their cost).
N_BOOT = 30
#: Share of each class's images a replicate keeps (delete-d jackknife, d = the rest).
KEEP = 0.9
#: Metrics that describe the raw features (their width, their norm): scored before any reduction.
RAW_METRICS = ("dim", "norm")
#: Errors of a metric on one model that become a row with the reason instead of stopping the ranking.
_FAILURES = (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError)


def default_metrics() -> tuple[str, ...]:
    """The metrics :func:`rank_models` scores by default: those benchmark v3 supports
    (:func:`potran.evidence.default_metrics`)."""
    from potran.evidence import default_metrics as from_evidence

    return from_evidence(METRICS)


def _metric_names(metrics) -> tuple[str, ...]:
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not names:
        raise ValueError(f"no metric given; valid metrics: {', '.join(METRICS)}")
    for name in names:
        if name not in METRICS:
            hint = (" (it scores source-classifier probabilities, not features)"
                    if name in ("leep", "nce") else "")
            raise ValueError(f"unknown metric {name!r}{hint}; valid metrics: {', '.join(METRICS)}")
    return tuple(dict.fromkeys(names))


def _perturbations(ped, sa) -> tuple[str, ...]:
    for name, value in ((PED, ped), (SA, sa)):
        if value not in (False, True, "both"):
            raise ValueError(f"{name} must be False, True or 'both', got {value!r}")
    raw = (not ped and not sa) or "both" in (ped, sa)
    return tuple(p for p, on in zip(PERTURBATIONS, (raw, bool(ped), bool(sa))) if on)


def _common_labels(y, names: list[str]) -> np.ndarray:
    """One label vector for every model: ``y`` itself, or a mapping of identical vectors."""
    if not isinstance(y, Mapping):
        return y
    missing = [n for n in names if n not in y]
    if missing:
        raise ValueError(f"y has no labels for model {missing[0]!r}")
    first = names[0]
    reference = check_labels(y[first], name=f"y of model {first!r}")
    theirs = reference.classes[reference.codes].tolist()
    for name in names[1:]:
        labels = check_labels(y[name], name=f"y of model {name!r}")
        ours = labels.classes[labels.codes].tolist()
        if ours != theirs:
            if len(ours) != len(theirs):
                where = f": {len(ours)} labels against {len(theirs)}"
            else:
                i = next(k for k, (a, b) in enumerate(zip(ours, theirs)) if a != b)
                where = f" at image {i + 1}: {ours[i]!r} against {theirs[i]!r}"
            raise ValueError(f"y of model {name!r} differs from y of model {first!r}{where} (every model "
                             "must be scored on the same labelled images, in the same order)")
    return y[first]


def _general_sets(general, names: list[str], perturbations) -> dict:
    if PED not in perturbations:
        if general is not None:
            raise ValueError("general feature sets were given but ped is False; only PED uses them")
        return {}
    if not isinstance(general, Mapping):
        raise ValueError("PED needs general={model name: general feature set} (each model's features "
                         "on a generic image set)")
    lacking = [n for n in names if general.get(n) is None]
    if lacking:
        raise ValueError(f"PED needs a general feature set for every model; model {lacking[0]!r} has none")
    extra = sorted(set(general) - set(names))
    if extra:
        raise ValueError(f"general has feature sets for unknown model(s) {extra}")
    return general


def rank_models(features, y, *, metrics=None, ped=False, sa=False, general=None, options=None,
                ped_options=None, sa_options=None, device=None, reduction="auto", n_boot: int = N_BOOT,
                seed: int | None = 0, level: float = 0.95, progress: bool = False) -> pd.DataFrame:
    """Score and rank models on one labelled target, with how sure each ranking is.

    Parameters
    ----------
    features : mapping of str to array (N, D_model)
        Each model's features of the same N labelled images (widths may differ).
    y : array (N,), or mapping of model name to array
        Labels (codes or class names, ``potran.validation.check_labels``); a mapping must give
        every model the same labels.
    metrics : str or sequence of str, optional
        Names in :data:`METRICS` (``"ncti"``: each model's pool score); default :func:`default_metrics`.
    ped, sa : bool or "both", default False
        Score after PED (:func:`potran.ped.simulate`) / SA (:func:`potran.sa.perturb`); ``"both"``:
        the raw features too (scored alone when neither).
    general : mapping of str to array (M, D_model), optional
        Each model's general feature set, required for every model with ``ped``.
    options : mapping of metric name to dict, optional
        Keyword options of a metric, e.g. ``{"gbc": {"gaussian": "diagonal"}}``.
    ped_options, sa_options : dict, optional
        Options of PED and SA (:data:`potran.ped.OPTIONS`, :data:`potran.sa.OPTIONS`), applied as
        the label :func:`potran.perturbations.label` writes of them (e.g. ``"ped:nsigma=1.2"``).
    device : str, optional
        Torch device of PED and the metrics that accept one.
    reduction : "auto", int or None, default "auto"
        Width rule (:func:`potran.reduction.scored_width`; projection fitted on these N images, the
        general set through the same map). ``dim`` and ``norm`` always see the raw features.
    n_boot : int, default :data:`N_BOOT`
        Replicates, each keeping :data:`KEEP` of every class's images (delete-d jackknife); 0:
        none, and the interval, P(best) and top-set columns are empty.
    seed : int or None, default 0
        Seed of the replicates' draws.
    level : float, default 0.95
        Coverage of the intervals, and of the paired interval of a model's difference to the first
        model, which holds 0 when the model is in the top set.
    progress : bool, default False
        A progress bar over the replicates.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`: model, metric, perturbation, score, rank (1 the highest, ties
        within :data:`potran.reduction.TIE_RTOL` share the smallest; empty when the metric
        failed), tied_with (the other models of that rank, comma-separated), low, high (the
        score's interval), p_best (share of replicates it ranks first in, a tie at the top
        shared), top_set (cannot be told apart from the first), error (why the metric could not
        score it, else empty), width and scored_width (before and after the reduction). Sorted
        by metric, perturbation and rank; ``table.attrs``: ``agreement`` (:func:`agreement`),
        ``n_boot``, ``level``, ``seed``, ``n_images``, ``models``.
    """
    from potran.backend import to_numpy
    from potran.stats import bootstrap

    if not isinstance(features, Mapping) or not features:
        raise ValueError("features must be a non-empty mapping {model name: feature matrix}")
    names = list(features)
    metric_names = _metric_names(default_metrics() if metrics is None else metrics)
    perturbations = _perturbations(ped, sa)
    labels = _common_labels(y, names)
    checked = check_labels(labels)
    n_labels = len(checked.codes)
    raw = {}
    for name in names:
        shape = np.shape(features[name])
        rows = shape[0] if shape else 0
        if rows != n_labels:
            raise ValueError(f"features of model {name!r} have {rows} rows but y has {n_labels} labels")
        raw[name] = check_features(features[name], name=f"features of model {name!r}", keep_float32=True)
    general = _general_sets(general, names, perturbations)
    options = dict(options or {})
    unknown = sorted(set(options) - set(metric_names))
    if unknown:
        raise ValueError(f"options for metric(s) {unknown} that are not scored")
    _check_metric_options(options)
    if not (isinstance(n_boot, (int, np.integer)) and not isinstance(n_boot, bool) and n_boot >= 0):
        raise ValueError(f"n_boot must be an integer >= 0, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    settings = _settings(ped_options, sa_options)
    widths, reduced, reduced_general = {}, {}, {}
    for name in names:
        d = int(np.shape(raw[name])[1])
        widths[name] = (d, scored_width(n_labels, d, reduction))
        X, G = raw[name], general.get(name)
        if widths[name][1] < d and G is not None:
            X, G = reduce_features(to_numpy(X), to_numpy(G), widths[name][1])
        elif widths[name][1] < d:
            X = reduce_features(to_numpy(X), dim=widths[name][1])
        reduced[name], reduced_general[name] = X, G
    groups = [(m, p) for m in metric_names for p in perturbations]

    def score_all(index, cache):
        out = {}
        y_drawn = _take(labels, index)
        for metric, perturbation in groups:
            kwargs = {**options.get(metric, {}), **({} if device is None else {"device": device})}
            X, G = (raw, general) if metric in RAW_METRICS else (reduced, reduced_general)
            out[metric, perturbation] = _score_group(
                names, X, G, y_drawn, index, metric, perturbation, settings[perturbation], kwargs, device,
                cache, raw_key=metric in RAW_METRICS)
        return out

    observed = score_all(None, {})
    replicates = {g: np.full((n_boot, len(names)), np.nan) for g in groups}
    if n_boot:
        from tqdm.auto import tqdm

        rng = np.random.default_rng(seed)
        by_class = [np.flatnonzero(checked.codes == c) for c in range(checked.n_classes)]
        for b in tqdm(range(n_boot), desc="replicates", unit="replicate", disable=not progress):
            index = np.sort(np.concatenate([rng.choice(i, size=_kept(i.size), replace=False)
                                            for i in by_class]))
            for g, values in score_all(index, {}).items():
                replicates[g][b] = [values[n][0] for n in names]
    rows = []
    for group, (metric, perturbation) in enumerate(groups):
        values = np.array([observed[metric, perturbation][n][0] for n in names])
        errors = [observed[metric, perturbation][n][1] for n in names]
        ranks = tie_ranks(values, TIE_RTOL)
        reps = _pseudo_replicates(replicates[metric, perturbation], values, n_labels,
                                  sum(_kept(i.size) for i in by_class) if n_boot else n_labels)
        scored = np.isfinite(values)  # a model the metric cannot score is left out of the comparison
        complete = reps[np.isfinite(reps[:, scored]).all(axis=1)] if n_boot else reps[:0]
        complete = np.where(scored, complete, np.nan)
        p_best = np.zeros(len(names))
        for row in complete:
            first = tie_ranks(row, TIE_RTOL) == 1
            p_best += first / first.sum()
        top = np.flatnonzero(ranks == 1)
        for i, name in enumerate(names):
            low = high = float("nan")
            in_top = pd.NA
            if n_boot and np.isfinite(values[i]):
                finite = reps[:, i][np.isfinite(reps[:, i])]
                if finite.size:
                    result = bootstrap(values[i], finite, comparison=f"{metric} of {name}",
                                       resampled="images", level=level,
                                       population="these models on other images like these")
                    low, high = result.low, result.high
                if i in top:
                    in_top = True
                elif top.size and len(complete):
                    j = top[0]
                    diff = complete[:, j] - complete[:, i]
                    result = bootstrap(values[j] - values[i], diff, comparison=f"{names[j]} - {name}",
                                       resampled="images", population="other images like these", level=level)
                    in_top = bool(result.low <= 0 <= result.high)
            tied = [names[k] for k in range(len(names)) if k != i and ranks[k] and ranks[k] == ranks[i]]
            rows.append({"group": group, "model": name, "metric": metric, "perturbation": perturbation,
                         "score": float(values[i]), "rank": int(ranks[i]) if ranks[i] else pd.NA,
                         "tied_with": ",".join(tied), "low": low, "high": high,
                         "p_best": (float(p_best[i] / len(complete)) if len(complete) and ranks[i]
                                    else float("nan")),
                         "top_set": in_top, "error": errors[i],
                         "width": widths[name][0], "scored_width": widths[name][1]})
    table = pd.DataFrame(rows)
    table["rank"] = table["rank"].astype("Int64")
    table["top_set"] = table["top_set"].astype("boolean")
    order = table["rank"].fillna(len(names) + 1).astype(int)
    table = table.assign(_order=order).sort_values(["group", "_order"], kind="stable", ignore_index=True)
    table = table[COLUMNS]
    table.attrs.update(agreement=agreement(table), n_boot=int(n_boot), level=float(level), seed=seed,
                       n_images=n_labels, models=names)
    return table


def _kept(n: int) -> int:
    """Images of a class of ``n`` that a replicate keeps: :data:`KEEP` of them, at least 2 (every
    metric's minimum) and at most ``n - 1`` (so that replicates differ)."""
    return int(min(max(2, round(KEEP * n)), max(n - 1, 2)))


def _pseudo_replicates(replicates: np.ndarray, observed: np.ndarray, n: int, m: int) -> np.ndarray:
    """Delete-d jackknife pseudo-replicates: each model's score plus its replicates' deviations
    from their mean, scaled by sqrt(m / d) (d = n - m images left out), so that their spread is
    that of a score on all n images (Shao and Wu, 1989)."""
    d = n - m
    if d <= 0 or replicates.size == 0:
        return replicates
    out = np.full(replicates.shape, np.nan)
    for i in range(replicates.shape[1]):
        column = replicates[:, i]
        finite = np.isfinite(column)
        if finite.any() and np.isfinite(observed[i]):
            out[:, i] = observed[i] + np.sqrt(m / d) * (column - column[finite].mean())
    return out


def _check_metric_options(options) -> None:
    """Each metric's options checked against its declaration before any scoring."""
    from potran.metrics import REGISTRY
    from potran.params import check_options, options_of

    for metric, given in options.items():
        declared = options_of(REGISTRY[metric])
        if not isinstance(given, Mapping):
            raise ValueError(f"options of metric {metric!r} must be a mapping of option name to value")
        unknown = sorted(set(given) - {o.name for o in declared})
        if unknown:
            raise ValueError(f"metric {metric!r}: unknown option(s) {unknown}; known: "
                             f"{', '.join(o.name for o in declared) or 'none'}")
        try:
            check_options(declared, dict(given))
        except ValueError as err:
            raise ValueError(f"metric {metric!r}: {err}") from None


def _take(values, index):
    if index is None:
        return values
    return np.asarray(values)[index] if not hasattr(values, "index_select") else values[index]


def _score_group(names, features, general, labels, index, metric, perturbation, setting, kwargs, device,
                 cache, raw_key):
    """``{model: (score, error)}`` of one (metric, perturbation) on the images ``index`` (None: all);
    a failure or a non-finite score gives NaN and the reason, a pool metric (NCTI) is pooled."""
    from potran.metrics import ncti_pool_scores
    from potran.scoring import score

    values, errors = {}, {}
    for name in names:
        key = (name, perturbation, raw_key)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if key not in cache:
                    X = _take(features[name], index)
                    cache[key] = perturbation_axis.move(setting, X, labels, general.get(name),
                                                        device=device).features
                value = score(cache[key], labels, metric, **kwargs)
            except _FAILURES as err:
                values[name], errors[name] = None, " ".join(str(err).split()) or type(err).__name__
                continue
        values[name] = value
        if metric != "ncti":
            value = float(value)
            if not np.isfinite(value):
                first = f" ({' '.join(str(caught[0].message).split())})" if caught else ""
                values[name], errors[name] = None, f"the score is {value}{first}"
    if metric == "ncti":
        scored = {n: v for n, v in values.items() if v is not None}
        values.update(ncti_pool_scores(scored) if len(scored) > 1 else {n: None for n in scored})
    return {n: (float("nan") if values[n] is None else float(values[n]), errors.get(n, "")) for n in names}


def agreement(table: pd.DataFrame) -> pd.DataFrame:
    """How far the metrics' rankings of the models every metric scored agree, per perturbation:
    Kendall's W with its tie correction (1: alike, 0: rankings cancel out) and the mean Kendall tau-b
    over pairs of metrics. Columns: perturbation, metrics, models, kendall_w, mean_tau (NaN with
    fewer than 2 metrics or 2 models, or a constant ranking)."""
    from scipy import stats as sps

    from potran.evaluation import merge_ties

    rows = []
    for perturbation, part in table.groupby("perturbation", sort=False):
        wide = part.pivot(index="model", columns="metric", values="score").dropna()
        m, n = wide.shape[1], wide.shape[0]
        w = tau = float("nan")
        if m >= 2 and n >= 2:
            ranks = np.column_stack([sps.rankdata(-merge_ties(wide[c].to_numpy(), TIE_RTOL))
                                     for c in wide.columns])
            s = ((ranks.sum(axis=1) - m * (n + 1) / 2) ** 2).sum()
            ties = sum(((counts ** 3) - counts).sum() for counts in
                       (np.unique(ranks[:, j], return_counts=True)[1] for j in range(m)))
            denominator = m ** 2 * (n ** 3 - n) - m * ties
            w = float(12 * s / denominator) if denominator > 0 else float("nan")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                taus = [sps.kendalltau(ranks[:, a], ranks[:, b]).statistic
                        for a in range(m) for b in range(a + 1, m)]
            tau = float(np.nanmean(taus)) if np.isfinite(taus).any() else float("nan")
        rows.append({"perturbation": perturbation, "metrics": m, "models": n, "kendall_w": w,
                     "mean_tau": tau})
    return pd.DataFrame(rows, columns=["perturbation", "metrics", "models", "kendall_w", "mean_tau"])


def _settings(ped_options, sa_options) -> dict[str, str]:
    """The label (:mod:`potran.perturbations`) of each kind of perturbation with its options, e.g.
    ``{"none": "none", "ped": "ped:nsigma=1.2", "sa": "sa"}``; ValueError names the bad option."""
    settings = {NONE: NONE}
    for kind, given in ((PED, ped_options), (SA, sa_options)):
        try:
            settings[kind] = perturbation_axis.label(kind, **dict(given or {}))
        except ValueError as err:
            raise ValueError(f"{kind}_options: {err}") from None
    return settings


def model_files(paths) -> dict[str, Path]:
    """Model name (the file stem) to ``.npz`` file, for files and folders of ``.npz`` files."""
    files: dict[str, Path] = {}
    for entry in map(Path, paths):
        if entry.is_dir():
            found = sorted(entry.glob("*.npz"))
            if not found:
                raise ValueError(f"no .npz files in {entry}")
        elif entry.is_file():
            if entry.suffix != ".npz":
                raise ValueError(f"expected .npz files (arrays X, y and optionally G), got {entry}")
            found = [entry]
        else:
            raise ValueError(f"no such file or folder: {entry}")
        for path in found:
            if path.stem in files and files[path.stem] != path:
                raise ValueError(f"two files for model {path.stem!r}: {files[path.stem]} and {path}")
            files[path.stem] = path
    if not files:
        raise ValueError("no model files given")
    return files
