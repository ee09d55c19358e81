"""PED beside its successors, SA and NCTI, on one benchmark.

SA (:mod:`potran.sa`) perturbs the features before a metric scores them, as PED does, so both are
values of the perturbation axis (:mod:`potran.perturbations`); NCTI (:func:`potran.metrics.ncti`)
is a metric of its own whose final score is relative to the pool of models scored on a target
(:func:`potran.metrics.ncti_pool_scores`). :func:`score_cells` scores every (model, target) cell
of a benchmark the way the runner does (the same scored features,
:func:`potran.bench.runner.cell_features`, and the same scoring of each perturbation,
:func:`potran.bench.runner.score_cell`): each base metric on the raw features, after PED and
after SA, and NCTI's components; :func:`ncti_scores` turns the components into pool scores per
target. The score table goes to :mod:`potran.bench.report` as it is (its ``perturbation``
column compares any two of them, :func:`potran.bench.report.compare`).
"""
from __future__ import annotations

import pandas as pd

from ..metrics import PED_METRICS
from ..perturbations import NONE, PED, SA, label
from .folders import FEATURE_CACHE

__all__ = ["score_cell", "score_cells", "ncti_scores", "gate_table", "method_names",
           "intervals", "interval_table", "forest_rows", "forest_figure", "tests"]

_COLUMNS = ["model", "target", "metric", "perturbation", "score", "seconds", "error"]


def score_cell(page, model: str, target: str, metrics=PED_METRICS, *, ped: str = PED, sa: str = SA,
               cache_dir=FEATURE_CACHE, device="cpu") -> dict:
    """One cell of :func:`score_cells`: ``{"model", "target", "ped", "sa", "rows", "cell"}``
    (``rows``: the score rows without model and target; ``cell``: the cell's columns of
    ``cells``, NaN written as None), the record that ``data/bench_v3/successors/cells/`` holds."""
    from ..metrics import ncti
    from .runner import attempt, move_all, score_moved

    arrays = page.cell_features(model, target, cache_dir=cache_dir, device=device)
    X, y, G = arrays["X_scored"], arrays["y"], arrays["G_scored"]
    moved = move_all(X, y, G, (NONE, ped, sa))
    motion, perturbed = moved[ped][0], moved[sa][0]
    components, error, _ = attempt(ncti, X, y)
    cell = {"n": len(y), "dim": int(X.shape[1]),
            "sa_gate_mean": None if perturbed is None else float(perturbed.trace.gate_mean),
            "sa_gate_open": None if perturbed is None else bool(perturbed.trace.gate_open),
            "ped_steps": None if motion is None else int(motion.trace.steps),
            **{f"ncti_{k}": (None if components is None else float(getattr(components, k)))
               for k in ("seli", "ncc", "vc")}, "ncti_error": error}
    rows = [{k: r[k] for k in _COLUMNS[2:]} for r in score_moved(moved, y, metrics)]
    return {"model": model, "target": target, "ped": ped, "sa": sa, "rows": rows, "cell": cell}


def score_cells(page, metrics=PED_METRICS, *, sa_options=None, ped_options=None,
                cache_dir=FEATURE_CACHE, device="cpu", progress: bool = False):
    """Score every cell of ``page`` with each metric alone, after PED and after SA, and NCTI.

    A cell of the setting's committed ``"successors"`` folder (``page.data``) with the same PED
    and SA and every metric asked for is read from it; the others are scored
    (:func:`score_cell`).

    Parameters
    ----------
    page : potran.bench.settings.Setting
        The benchmark (its models, targets, scored width and sources).
    metrics : sequence of str
        Base metrics (names in ``potran.metrics.REGISTRY``).
    sa_options, ped_options : dict, optional
        Options of :func:`potran.sa.perturb` and :func:`potran.ped.simulate`; they go into the
        perturbation labels (:func:`potran.perturbations.label`, e.g. ``"sa:alpha=group2"``).
    cache_dir, device
        As for :meth:`~potran.bench.settings.Setting.cell_features`.

    Returns
    -------
    scores : DataFrame
        model, target, metric, perturbation (``"none"``, the PED label, the SA label), score,
        seconds, error; the seconds of a perturbed score include the perturbation.
    cells : DataFrame
        model, target, n, dim, sa_gate_mean (the mean of the two largest covariance eigenvalues),
        sa_gate_open, ped_steps, ncti_seli, ncti_ncc, ncti_vc (NaN where NCTI failed).
    """
    from tqdm.auto import tqdm

    from .store import CellStore

    ped, sa = label(PED, **(ped_options or {})), label(SA, **(sa_options or {}))
    folders = getattr(page, "data", {})
    committed = CellStore(folders["successors"]) if "successors" in folders else None
    rows, cells = [], []
    pairs = [(m, t) for t in page.targets for m in page.models]
    for model, target in tqdm(pairs, desc="successors", unit="cell", disable=not progress):
        record = committed.load(model, target) if committed is not None else None
        if (record is None or (record["ped"], record["sa"]) != (ped, sa)
                or not set(metrics) <= {r["metric"] for r in record["rows"]}):
            record = score_cell(page, model, target, metrics, ped=ped, sa=sa, cache_dir=cache_dir,
                                device=device)
        rows += [dict(r, model=model, target=target) for r in record["rows"] if r["metric"] in metrics]
        cells.append({"model": model, "target": target, **record["cell"]})
    scores = pd.DataFrame(rows, columns=_COLUMNS)
    scores["score"] = scores["score"].astype(float)
    cells = pd.DataFrame(cells)
    for k in ("ncti_seli", "ncti_ncc", "ncti_vc"):
        if k in cells:
            cells[k] = cells[k].astype(float)
    return scores, cells


def ncti_scores(cells: pd.DataFrame) -> pd.DataFrame:
    """NCTI's final scores: each target's models normalised as one pool (cells NCTI failed on are
    left out of their pool). Columns model, target, metric ("ncti"), perturbation ("none"), score."""
    from ..metrics import ncti_pool_scores

    parts = []
    keys = ["ncti_seli", "ncti_ncc", "ncti_vc"]
    for target, grp in cells.dropna(subset=keys).groupby("target", sort=False):
        pool = ncti_pool_scores(list(grp[keys].itertuples(index=False, name=None)))
        parts.append(pd.DataFrame({"model": grp.model.to_numpy(), "target": target, "metric": "ncti",
                                   "perturbation": NONE, "score": pool}))
    if not parts:
        return pd.DataFrame(columns=["model", "target", "metric", "perturbation", "score"])
    return pd.concat(parts, ignore_index=True)


def gate_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Per target of :func:`score_cells`' ``cells``: its models, the share whose features SA's gate
    let through, the range of the gate statistic m, and PED's mean number of steps."""
    per_target = cells.groupby("target", sort=False).agg(
        models=("model", "size"), sa_gate_open=("sa_gate_open", "mean"),
        gate_mean_min=("sa_gate_mean", "min"), gate_mean_max=("sa_gate_mean", "max"),
        ped_steps=("ped_steps", "mean"))
    return per_target.rename(columns={
        "models": "models", "sa_gate_open": "SA's gate open", "gate_mean_min": "gate statistic m, min",
        "gate_mean_max": "gate statistic m, max", "ped_steps": "PED steps (mean)"})


def method_names(sa: str) -> dict:
    """``{"none": "none", "ped": "PED", sa: "SA"}``: how the tables name each perturbation."""
    return {NONE: "none", PED: "PED", sa: "SA"}


def intervals(scores, ncti, truth, sa: str, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Mean tau_w with crossed-bootstrap intervals of each metric alone, after PED and after SA,
    the paired changes "PED − none" and "SA − none" (:func:`potran.bench.report.compare`), and
    NCTI alone; ``truth`` is a :class:`potran.bench.settings.GroundTruth` (of rankable targets).
    Columns metric, method, mean_tau, low, high, p_delta (changes only), ...; empty (with these
    six) when ``truth`` has no target."""
    import warnings

    from . import report

    if not truth.targets:  # nothing to rank
        return pd.DataFrame(columns=["metric", "method", "mean_tau", "low", "high", "p_delta"])
    names = method_names(sa)
    rows = []
    with warnings.catch_warnings():  # a metric without any finite tau_w has an all-NaN interval
        warnings.simplefilter("ignore", RuntimeWarning)
        iv = report.tau_intervals(scores, truth.accuracy, truth.seeds, n_boot=n_boot, seed=seed)
        rows.append(iv.assign(method=iv.perturbation.map(names)))
        for p in (PED, sa):
            change = report.compare(scores, truth.accuracy, truth.seeds, perturbation=p, n_boot=n_boot,
                                    seed=seed)
            rows.append(
                change.rename(columns={"delta": "mean_tau", "p_value": "p_delta"}).assign(
                    method=f"{names[p]} − none"
                )
            )
        nc = report.tau_intervals(ncti, truth.accuracy, truth.seeds, n_boot=n_boot, seed=seed)
        rows.append(nc.assign(method="none"))
    return pd.concat(rows, ignore_index=True).drop_duplicates(["metric", "method"])


def interval_table(intervals: pd.DataFrame, metrics) -> pd.DataFrame:
    """:func:`intervals` as one row per metric (then NCTI) and one column per method ("alone",
    "PED", "SA", "PED − alone", "SA − alone"), each cell "estimate [low, high]", "–" if missing."""
    from .book import interval

    order = ["none", "PED", "SA", "PED − none", "SA − none"]
    table = (
        intervals.assign(cell=list(map(interval, intervals.mean_tau, intervals.low, intervals.high)))
        .pivot(index="metric", columns="method", values="cell")
        .reindex(columns=[c for c in order if c in set(intervals.method)])
    )
    table = table.reindex([m for m in [*metrics, "ncti"] if m in table.index]).fillna("–")
    return table.rename(columns=lambda c: c.replace("none", "alone"))


def forest_rows(intervals: pd.DataFrame, metrics) -> pd.DataFrame:
    """The rows of the interval figure: each metric alone, after PED and after SA, and NCTI,
    labelled "sfda", "sfda + PED", ... (the changes are in the table)."""
    main = intervals[~intervals.method.str.contains("−")]
    labels = [
        (m, k)
        for m in [*metrics, "ncti"]
        for k in ("none", "PED", "SA")
        if ((main.metric == m) & (main.method == k)).any()
    ]
    return pd.DataFrame(
        [
            {
                **main[(main.metric == m) & (main.method == k)].iloc[0].to_dict(),
                "label": m if k == "none" else f"{m} + {k}",
            }
            for m, k in labels
        ]
    )


def forest_figure(intervals: pd.DataFrame, metrics, null: dict):
    """The interval figure of the page: :func:`forest_rows` (:func:`potran.bench.plots.forest_figure`)
    coloured by perturbation, over the band of a random ranking (``null``,
    :func:`potran.bench.report.random_null`). Returns ``(fig, rows)``."""
    import seaborn as sns

    from .plots import forest_figure as draw

    rows = forest_rows(intervals, metrics)
    fig, axes = draw(rows, label="label", group="method",
                     colours=dict(zip(("none", "PED", "SA"), sns.color_palette(n_colors=3))),
                     names={"none": "metric alone", "PED": "after PED", "SA": "after SA"},
                     band=(null["low"], null["high"]), band_label="random scorer (95 % band)")
    axes[0].set_ylabel("metric")
    return fig, rows


def tests(scores, ncti, truth, *, n_boot: int = 1000, n_draws: int = 2000, seed: int = 0) -> pd.DataFrame:
    """:func:`potran.bench.report.benchmark_tests` of the metrics (with PED and SA) and of NCTI
    against chance, Holm within each family (:func:`potran.bench.report.add_holm`)."""
    import warnings

    from . import report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        parts = [report.benchmark_tests(scores, truth.accuracy, truth.seeds, baseline=None, n_boot=n_boot,
                                        n_draws=n_draws, seed=seed)]
        nc = report.benchmark_tests(ncti, truth.accuracy, truth.seeds, baseline=None, n_boot=n_boot,
                                    n_draws=n_draws, seed=seed)
        parts.append(nc[nc.family == "chance"])
    return report.add_holm(pd.concat(parts, ignore_index=True))
