"""Rank one's own models on a labelled target, without fine-tuning any of them.

:func:`rank_models` scores every model's features with every requested metric, without and/or
after a perturbation (PED, SA), and ranks the models per (metric, perturbation): rank 1 is the
model the metric expects to transfer best. Every registered metric is higher-is-better (GBC's
scores are negative and closest to 0 for the best model); NCTI's score is relative to the pool
(:func:`potran.metrics.ncti_pool_scores`), so it is computed over the models given together.
``potran select`` is the same on the command line, one ``.npz`` per model (:func:`model_files`).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from potran import perturbations as perturbation_axis
from potran.metrics import FEATURE_METRICS, PED_METRICS, SPECS
from potran.perturbations import NONE, PED, SA
from potran.validation import check_labels

__all__ = ["METRICS", "DEFAULT_METRICS", "PERTURBATIONS", "COLUMNS", "rank_models", "model_files",
           "ranking_text"]

#: Metrics that rank features: one score per model, and the pool scores of component metrics (NCTI).
METRICS = FEATURE_METRICS + tuple(n for n, s in SPECS.items() if s.gives == "components")
#: The metrics the paper reports with and without PED.
DEFAULT_METRICS = PED_METRICS
#: Values of the ``perturbation`` column: the features as given, after PED, after SA.
PERTURBATIONS = perturbation_axis.KINDS
#: Columns of the table of :func:`rank_models`.
COLUMNS = ["model", "metric", "perturbation", "score", "rank"]


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
    for name in names[1:]:
        labels = check_labels(y[name], name=f"y of model {name!r}")
        same = (len(labels.codes) == len(reference.codes)
                and np.array_equal(labels.classes, reference.classes)
                and np.array_equal(labels.codes, reference.codes))
        if not same:
            raise ValueError(f"y of model {name!r} differs from y of model {first!r}: every model must be "
                             "scored on the same labelled images, in the same order")
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


def rank_models(features, y, *, metrics=DEFAULT_METRICS, ped=False, sa=False, general=None,
                options=None, ped_options=None, sa_options=None, device=None) -> pd.DataFrame:
    """Score and rank models on one labelled target.

    Parameters
    ----------
    features : mapping of str to array (N, D_model)
        Each model's features of the same N labelled images (widths may differ).
    y : array (N,), or mapping of model name to array
        Labels: integer codes or class names (``potran.validation.check_labels``). A mapping
        must give every model the same labels.
    metrics : str or sequence of str, default :data:`DEFAULT_METRICS`
        Names in :data:`METRICS`; ``"ncti"`` gives the pool score of each model.
    ped, sa : bool or "both", default False
        Score after PED (:func:`potran.ped.simulate`) / SA (:func:`potran.sa.perturb`); ``"both"``
        scores the raw features too. Neither: the raw features only.
    general : mapping of str to array (M, D_model), optional
        Each model's general feature set, required for every model with ``ped``.
    options : mapping of metric name to dict, optional
        Keyword options of a metric, e.g. ``{"gbc": {"gaussian": "diagonal"}}``.
    ped_options, sa_options : dict, optional
        Options of PED and SA (:data:`potran.ped.OPTIONS`, :data:`potran.sa.OPTIONS`), applied as
        the label :func:`potran.perturbations.label` writes of them (e.g. ``"ped:nsigma=1.2"``).
    device : str, optional
        Torch device of PED and the metrics that accept one.

    Returns
    -------
    DataFrame
        Columns model, metric, perturbation, score, rank; sorted by metric, perturbation and rank.
        Rank 1 is the highest score; ties share the smallest rank.
    """
    from potran.metrics import ncti_pool_scores
    from potran.scoring import score

    if not isinstance(features, Mapping) or not features:
        raise ValueError("features must be a non-empty mapping {model name: feature matrix}")
    names = list(features)
    metric_names = _metric_names(metrics)
    perturbations = _perturbations(ped, sa)
    labels = _common_labels(y, names)
    n_labels = len(check_labels(labels).codes)
    for name in names:
        shape = np.shape(features[name])
        rows = shape[0] if shape else 0
        if rows != n_labels:
            raise ValueError(f"features of model {name!r} have {rows} rows but y has {n_labels} labels")
    general = _general_sets(general, names, perturbations)
    options = dict(options or {})
    unknown = sorted(set(options) - set(metric_names))
    if unknown:
        raise ValueError(f"options for metric(s) {unknown} that are not scored")
    settings = _settings(ped_options, sa_options)
    moved = {}  # (model, perturbation) -> features: each perturbation runs once per model
    rows = []
    for group, (metric, perturbation) in enumerate((m, p) for m in metric_names for p in perturbations):
        kwargs = {**options.get(metric, {}), **({} if device is None else {"device": device})}
        values = {}
        for name in names:
            after = "" if perturbation == NONE else f" after {perturbation_axis.title(perturbation)}"
            try:
                if (name, perturbation) not in moved:
                    moved[name, perturbation] = perturbation_axis.move(
                        settings[perturbation], features[name], labels, general.get(name),
                        device=device).features
                values[name] = score(moved[name, perturbation], labels, metric, **kwargs)
            except ValueError as err:
                raise ValueError(f"model {name!r}, metric {metric!r}{after}: {err}") from None
        if metric == "ncti":
            values = ncti_pool_scores(values)
        rows += [{"group": group, "model": n, "metric": metric, "perturbation": perturbation,
                  "score": float(v)} for n, v in values.items()]
    table = pd.DataFrame(rows)
    table["rank"] = table.groupby("group")["score"].rank(ascending=False, method="min").astype(int)
    return table.sort_values(["group", "rank"], kind="stable", ignore_index=True)[COLUMNS]


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


def ranking_text(table: pd.DataFrame) -> str:
    """The ranking of every (metric, perturbation), then one table: a row per model (in the order of
    the first ranking), a column per (metric, perturbation), each cell ``score (rank)``."""
    width = max(len("model"), *(len(m) for m in table["model"]))
    blocks = []
    for (metric, perturbation), part in table.groupby(["metric", "perturbation"], sort=False):
        title = metric + ("" if perturbation == NONE else f" after {perturbation_axis.title(perturbation)}")
        lines = [f"{title}:"] + [f"  {r.rank:>3}. {r.model:<{width}}  {r.score:>12.6g}"
                                 for r in part.itertuples()]
        blocks.append("\n".join(lines))
    label = pd.Series([perturbation_axis.metric_label(m, p)
                       for m, p in zip(table["metric"], table["perturbation"])], index=table.index)
    cell = table["score"].map("{:.6g}".format) + " (" + table["rank"].astype(str) + ")"
    wide = pd.DataFrame({"model": table["model"], "column": label, "cell": cell}).pivot(
        index="model", columns="column", values="cell")
    first = table[(table["metric"] == table["metric"].iloc[0])
                  & (table["perturbation"] == table["perturbation"].iloc[0])]
    wide = wide.reindex(index=first["model"].tolist(), columns=list(dict.fromkeys(label)))
    blocks.append(wide.rename_axis(index="model", columns=None).reset_index().to_string(index=False))
    return "\n\n".join(blocks)
