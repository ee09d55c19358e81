"""The fine-tuning page's views: the grid's finished cells, one cell's features along fine-tuning
beside PED's, the ranking by snapshot, the costs, and the page's figures and sentences.

The page (``notebooks/finetuning.py``, supplementary §C of the paper) reads the ground truth's
snapshots through :mod:`potran.bench.snapshots`; this module turns them into what the page shows:

- :func:`load_grid` selects the finished cells (:class:`Grid`, with :meth:`Grid.summary`);
- :func:`example_view` embeds one cell's snapshots and its PED-moved pretrained features
  (:class:`ExampleView`), drawn by :func:`tsne_figure`;
- :func:`rank_snapshots` scores every snapshot, with PED at 0 %, and ranks the models
  (:class:`Ranking`), shown by :func:`tau_table` and :func:`tau_figure`;
- :func:`accuracy_spread` tells how far apart the ranked accuracies are;
- :func:`grid_costs` times the scoring beside the recorded fine-tuning (:class:`Costs`), shown by
  :func:`cost_table` and :func:`cost_figure`;
- :func:`summary` says what the run shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..ped import TIME_STEP
from ..perturbations import NONE, PED
from .folders import FEATURE_CACHE
from .runner import Benchmark
from .snapshots import Snapshot

__all__ = ["Grid", "load_grid", "ExampleView", "example_view", "tsne_figure", "Ranking",
           "rank_snapshots", "tau_table", "tau_figure", "accuracy_spread", "Costs", "grid_costs",
           "cost_table", "cost_figure", "summary"]


@dataclass(frozen=True)
class Grid:
    """The finished cells of a ground-truth grid: ``root`` (cells/, snapshots/, accuracy.csv),
    ``accuracy`` (its accuracy.csv), ``snapshots`` ((model, target) -> Snapshot, sorted by
    target, then model), ``bench``, the benchmark of their models and targets, and
    ``selection``, the (models, targets) asked for (None: every name)."""

    root: Path
    accuracy: pd.DataFrame
    snapshots: dict
    bench: Benchmark
    selection: tuple = (None, None)

    @property
    def cells(self) -> list[tuple[str, str]]:
        """The (model, target) cells, in the order of ``snapshots``."""
        return list(self.snapshots)

    def summary(self) -> str:
        """One sentence: the finished cells per target, or that the selection has none."""
        if not self.cells:
            models, targets = self.selection
            return (f"No finished ground-truth cell with snapshots for models={models}, "
                    f"targets={targets} in the ground truth given: the sections below are skipped.")
        per_target = pd.Series([t for _, t in self.cells]).value_counts().sort_index()
        return (f"{len(self.cells)} finished cells with snapshots: "
                + ", ".join(f"{t} ({n} models)" for t, n in per_target.items()))


def load_grid(groundtruth_dir=None, models=None, targets=None) -> Grid:
    """The cells of ``groundtruth_dir`` (None: ``data/groundtruth``) with a snapshot and an
    accuracy, restricted to ``models`` and ``targets`` (lists or list parameters as papermill
    passes them, :func:`potran.bench.sweeps.name_list`; None or empty: every name)."""
    from ..resources import data_path
    from .snapshots import available_cells, load_snapshot
    from .sweeps import name_list

    root = data_path("groundtruth") if groundtruth_dir in (None, "") else Path(groundtruth_dir)
    accuracy = pd.read_csv(root / "accuracy.csv")
    selection = (name_list(models, ()) or None, name_list(targets, ()) or None)
    cells = available_cells(root, *selection, accuracy=accuracy)
    bench = Benchmark(models=tuple(sorted({m for m, _ in cells})),
                      targets=tuple(sorted({t for _, t in cells})))
    return Grid(root, accuracy, {cell: load_snapshot(root, *cell) for cell in cells}, bench,
                selection)


@dataclass(frozen=True)
class ExampleView:
    """One cell's probe features at every snapshot and after PED with each of ``time_steps``
    (``panels``: (title, features)), their t-SNE maps at ``perplexity`` (``embedded``), the
    silhouette coefficient of each panel's features (``silhouettes``) and ``notes``, the
    sentences the page prints about the cell."""

    model: str
    target: str
    snapshot: Snapshot
    classes: tuple
    time_steps: tuple
    perplexity: float
    panels: list
    embedded: list
    silhouettes: list
    notes: list


def example_view(grid: Grid, wanted, *, shown_time_step: float = 1.0, perplexity: float = 30,
                 cache_dir=FEATURE_CACHE, device: str = "cpu", seed: int = 0) -> ExampleView | None:
    """The t-SNE view of the cell ``wanted`` ((model, target), or "model,target"; the grid's
    first cell when it has no such cell; None when it has none): the snapshots, the pretrained
    features rebuilt from the feature cache (:func:`potran.bench.snapshots.probe_features`) and
    moved by PED with the paper's time step (``potran.ped.TIME_STEP``) and with
    ``shown_time_step``."""
    from sklearn.manifold import TSNE
    from sklearn.metrics import silhouette_score

    import potran

    from .finetune import training_indices
    from .runner import cell_features
    from .snapshots import probe_features
    from .sweeps import name_list

    if not grid.cells:
        return None
    wanted = tuple(name_list(wanted, ()))
    if len(wanted) != 2:
        raise ValueError(f"the example is a model and a target, not {list(wanted)}")
    cell = wanted if wanted in grid.cells else grid.cells[0]
    notes = [] if cell == wanted else [f"{wanted[0]} / {wanted[1]} has no finished cell in this "
                                       f"selection; using {cell[0]} / {cell[1]}."]
    snap, task = grid.snapshots[cell], grid.bench.sources.load_target(cell[1])
    arrays = cell_features(grid.bench, cell[0], task, cache_dir=cache_dir, device=device)
    Xp, Gp = probe_features(arrays, snap, training_indices(len(task.y_train), grid.bench.finetune))
    stored = snap.features[0]
    notes.append(f"{cell[0]} on {cell[1]}: {len(snap.labels)} probe images, {Xp.shape[1]} "
                 f"dimensions, snapshots at iterations {snap.steps.tolist()}; rebuilt 0 % snapshot "
                 f"vs stored: largest difference {np.abs(Xp - stored).max():.1e} (feature scale "
                 f"{np.abs(stored).max():.1f})")
    panels = [(f"{f:.0%} of fine-tuning\n(iteration {s})", snap.features[k])
              for k, (s, f) in enumerate(zip(snap.steps, snap.fractions))]
    time_steps = (TIME_STEP, shown_time_step)
    for t in time_steps:
        run = potran.simulate(Xp, snap.labels, Gp, time_step=t, device=device)
        steps = f"{run.trace.steps} step{'' if run.trace.steps == 1 else 's'}"
        panels.append((f"pretrained + PED, t = {t}\n({steps})", run.features))
    embedded = [TSNE(perplexity=perplexity, init="pca", random_state=seed).fit_transform(F)
                for _, F in panels]
    silhouettes = [float(silhouette_score(F, snap.labels)) for _, F in panels]
    return ExampleView(*cell, snap, tuple(task.classes), time_steps, perplexity, panels, embedded,
                       silhouettes, notes)


def tsne_figure(view: ExampleView):
    """The figure of :func:`example_view` (:func:`potran.bench.plots.embedding_panels`) with its
    caption and alt text: ``(fig, caption, alt)``."""
    from .plots import embedding_panels

    snap = view.snapshot
    fig = embedding_panels(view.panels, view.embedded, snap.labels, view.classes)
    caption = (
        f"t-SNE (perplexity {view.perplexity}) of the penultimate features of {len(snap.labels)} "
        f"training images of {view.target} under {view.model}, colour = class: at 0, 25, 50 and "
        "100 % of the first seed's fine-tuning run (iterations "
        f"{', '.join(map(str, snap.steps))}), and the pretrained features moved by PED with the "
        f"paper's values (λ = 0.6, t = {view.time_steps[0]}, k = 1) and with "
        f"t = {view.time_steps[1]}. Each panel is "
        "embedded separately, so only the grouping compares; the silhouette coefficient is "
        "computed on the features themselves; t-SNE axes have no unit.")
    alt = (f"A grid of {len(view.panels)} scatter plots of the {len(snap.labels)} probe images "
           f"coloured by their {len(view.classes)} classes: four snapshots of fine-tuning and two "
           "PED versions of the pretrained features, each titled with its silhouette coefficient.")
    return fig, caption, alt


@dataclass(frozen=True)
class Ranking:
    """Scores of every snapshot (``scores``: perturbation "none", and "ped" on the rebuilt 0 %
    snapshot), their weighted tau per target (``tau``), the metrics' timings (``times``,
    :func:`potran.bench.snapshots.score_pretrained`) and ``notes``, the sentences the page prints
    (the rebuild check; that no target could be ranked)."""

    scores: pd.DataFrame
    tau: pd.DataFrame
    times: pd.DataFrame
    notes: list


def rank_snapshots(grid: Grid, metrics, *, min_models: int = 3, cache_dir=FEATURE_CACHE,
                   device: str = "cpu") -> Ranking | None:
    """Score every snapshot of ``grid`` with ``metrics``, the pretrained features also with PED,
    and rank the models by them (:func:`potran.bench.snapshots.snapshot_tau`, by perturbation
    and share of fine-tuning, targets with at least ``min_models`` models); None without cells."""
    from .snapshots import score_pretrained, snapshot_scores, snapshot_tau

    if not grid.cells:
        return None
    plain = snapshot_scores(grid.snapshots.values(), metrics, device=device)
    plain = plain.assign(perturbation=NONE)
    ped, times = score_pretrained(grid.bench, grid.snapshots, metrics, cache_dir=cache_dir,
                                  device=device)
    notes = [f"rebuilt 0 % snapshots vs stored, all {len(grid.snapshots)} cells: largest "
             f"difference {ped.rebuild_error.max():.1e} of the feature scale (float16 storage: up "
             "to 5e-4)"]
    scores = pd.concat([plain, ped.drop(columns="rebuild_error")], ignore_index=True)
    tau = snapshot_tau(scores, grid.accuracy, by=("perturbation", "fraction"),
                       min_models=min_models)
    if tau.empty:
        notes.append(f"No target has {min_models} or more models with finished cells yet: no "
                     "ranking to show.")
    return Ranking(scores, tau, times, notes)


def tau_table(tau: pd.DataFrame) -> pd.DataFrame:
    """:func:`rank_snapshots`' tau wide: one row per metric and target, one column per share of
    fine-tuning ("0 %", "0 % + PED", "25 %", ...), in that order."""
    wide = tau.assign(column=[f"{f:.0%}" + (" + PED" if p == PED else "")
                              for f, p in zip(tau.fraction, tau.perturbation)])
    wide = wide.pivot_table(index=["metric", "target"], columns="column", values="weighted_tau",
                            sort=False)
    return wide[sorted(wide.columns, key=lambda c: (float(c.split("%")[0]), "PED" in c))]


def tau_figure(tau: pd.DataFrame, metrics, *, min_models: int):
    """One panel per metric: tau per target along fine-tuning (lines), with PED at 0 % (stars);
    ``(fig, caption, alt)``."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from .book import figsize

    plain, moved = tau[tau.perturbation == NONE], tau[tau.perturbation == PED]
    targets = list(dict.fromkeys(plain.target))
    colours = dict(zip(targets, sns.color_palette("tab10", len(targets))))
    fig, axes = plt.subplots(1, len(metrics), figsize=figsize(3.9), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, metric in zip(axes[0], metrics):
        for target in targets:
            rows = plain[(plain.metric == metric) & (plain.target == target)]
            rows = rows.sort_values("fraction")
            if rows.empty:
                continue
            ax.plot(100 * rows.fraction, rows.weighted_tau, "o-", color=colours[target],
                    label=f"{target} ({rows.n_models.iloc[0]} models)")
            at0 = moved[(moved.metric == metric) & (moved.target == target)]
            ax.scatter(100 * at0.fraction, at0.weighted_tau, marker="*", s=120,
                       color=colours[target], edgecolor="k", zorder=3)
        ax.scatter([], [], marker="*", s=120, color="0.7", edgecolor="k", label="pretrained + PED")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel("share of the run (%)")
        ax.set_title(metric)
        ax.set_xticks([0, 50, 100])
    axes[0, 0].set_ylabel("τ_w vs fine-tuning accuracy")
    axes[0, 0].set_ylim(-1.05, 1.05)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False)
    caption = (
        "How well the features at each point of fine-tuning rank the models: weighted "
        "Kendall τ_w between a metric's scores of the snapshot features (400 probe images per "
        "cell) and the models' fine-tuning accuracy, per target (lines; targets with at least "
        f"{min_models} finished models), at 0 % (the pretrained model), 25, 50 and 100 % of the "
        "first seed's run; stars: the pretrained features moved by PED (paper's values) before "
        "scoring. τ_w = 1 is the ground-truth order, 0 no agreement.")
    alt = (f"{len(metrics)} line plots, one per metric: τ_w per target at 0, 25, 50 and 100 % of "
           "fine-tuning, with a star at 0 % for the pretrained features moved by PED.")
    return fig, caption, alt


def accuracy_spread(grid: Grid) -> pd.DataFrame:
    """Per target of ``grid``: its models, their lowest and highest mean accuracy and the median
    seed standard deviation of the means."""
    acc = grid.accuracy.set_index(["model", "target"]).loc[grid.cells, ["test_acc", "test_acc_sd"]]
    return acc.reset_index().groupby("target").agg(
        models=("model", "size"), **{"lowest accuracy": ("test_acc", "min"),
                                     "highest accuracy": ("test_acc", "max"),
                                     "median seed s.d.": ("test_acc_sd", "median")})


@dataclass(frozen=True)
class Costs:
    """Seconds per cell (``cells``: :func:`potran.bench.snapshots.cell_costs` with n_images,
    n_general, extraction_s and one column per metric, "<metric> + PED" with PED) and each
    model's forward pass over its general set (``general_s``)."""

    cells: pd.DataFrame
    general_s: pd.Series

    def totals(self, metric: str) -> pd.Series:
        """:func:`potran.bench.snapshots.cost_totals` with ``metric``."""
        from .snapshots import cost_totals

        return cost_totals(self.cells, self.general_s, metric)


def grid_costs(grid: Grid, ranking: Ranking | None, *, throughput_images: int = 256,
               device: str = "cpu") -> Costs | None:
    """The recorded fine-tuning time of every cell of ``grid`` beside scoring it: the forward
    pass timed now on ``throughput_images`` images of each model's first target and scaled to
    the cell's images (and to its general set), and the metrics' times of ``ranking``
    (:func:`rank_snapshots`; None, as without cells, gives None)."""
    from .snapshots import cell_costs, extraction_seconds

    if ranking is None:
        return None
    times, src, per_image = ranking.times, grid.bench.sources, {}
    for model in grid.bench.models:
        first_target = next(t for m, t in grid.cells if m == model)
        images = np.asarray(src.load_target(first_target).x_train)[:throughput_images]
        per_image[model] = extraction_seconds(src.get_model(model), images, device=device)
    sizes = times.drop_duplicates(["model", "target"])[["model", "target", "n_images", "n_general"]]
    costs = cell_costs(grid.root, grid.cells).merge(sizes, on=["model", "target"])
    costs["extraction_s"] = [per_image[m] * n for m, n in zip(costs.model, costs.n_images)]
    wide = times.assign(what=[m + (" + PED" if p == PED else "")
                              for m, p in zip(times.metric, times.perturbation)])
    wide = wide.pivot_table(index=["model", "target"], columns="what", values="seconds")
    costs = costs.merge(wide.reset_index(), on=["model", "target"])
    general_s = pd.Series({m: per_image[m] * costs[costs.model == m].n_general.iloc[0]
                           for m in grid.bench.models})
    return Costs(costs, general_s)


def cost_table(costs: Costs, metrics) -> pd.DataFrame:
    """Seconds per cell (rows: model, target) of fine-tuning, extraction and each metric without
    and with PED."""
    shown = ["wall_s", "extraction_s", *[c for m in metrics for c in (m, f"{m} + PED")]]
    return costs.cells.set_index(["model", "target"])[shown].rename(
        columns={"wall_s": "fine-tuning", "extraction_s": "extraction"})


def cost_figure(costs: Costs, metric: str):
    """The grid's costs scored with ``metric`` (:func:`potran.bench.plots.cell_costs`):
    ``(fig, caption, alt)``."""
    from .plots import cell_costs

    cells = costs.cells
    fig = cell_costs(cells, costs.general_s, metric, costs.totals(metric))
    caption = (
        f"Wall-clock cost of the {len(cells)} finished cells. Top, per cell and on a log "
        f"scale: fine-tuning as recorded by the grid ({int(cells.n_runs.iloc[0])} seeds × "
        f"{int(cells.iterations.iloc[0])} iterations, evaluations and snapshots); the forward pass "
        "over the cell's training images at the per-image speed measured now; the cell's share of "
        f"its model's forward pass over the general set (needed by PED only); {metric} without and "
        "with PED on the cell's scored features (fastest of a few runs). Bottom: the sums over the "
        "grid, scoring = extraction + metric (+ general set with PED).")
    alt = (f"Top: a strip plot on a log axis of the seconds per cell for fine-tuning, the two "
           f"forward passes and {metric} without and with PED. Bottom: three horizontal bars on a "
           "log axis, the total seconds of fine-tuning and of scoring without and with PED.")
    return fig, caption, alt


def summary(view: ExampleView | None, ranking: Ranking | None, costs: Costs | None,
            metrics) -> str:
    """What the run shows, as a Markdown list: the example's class separation along fine-tuning
    and after PED, each metric's mean tau along fine-tuning, and the costs (``metrics[0]``)."""
    lines = []
    if view is not None:
        sil = view.silhouettes
        along = ", ".join(f"{f:.0%} of fine-tuning {s:.2f}"
                          for f, s in zip(view.snapshot.fractions, sil))
        lines.append(f"- Separation of the classes of {view.target} under {view.model} (silhouette "
                     f"on the features): {along}; pretrained + PED {sil[-2]:.2f} "
                     f"(t = {view.time_steps[0]}) and {sil[-1]:.2f} (t = {view.time_steps[1]}).")
    tau = ranking.tau if ranking is not None else pd.DataFrame()
    if len(tau):
        mean = tau.groupby(["metric", "perturbation", "fraction"]).weighted_tau.mean()
        for metric in metrics:
            if metric not in mean.index.get_level_values(0):
                continue
            text = ", ".join(f"{f:.0%} {v:.2f}" for f, v in mean.loc[(metric, NONE)].items())
            lines.append(f"- Mean τ_w of {metric} over the ranked targets along fine-tuning: "
                         f"{text}; pretrained + PED {mean.get((metric, PED, 0.0), np.nan):.2f}.")
    if costs is not None:
        metric, cells, totals = metrics[0], costs.cells, costs.totals(metrics[0])
        fine, plain = totals["fine-tuning (recorded)"], totals["scoring without PED"]
        ped = totals["scoring with PED"]
        lines.append(f"- Fine-tuning the {len(cells)} cells took {fine / 60:.1f} min as recorded; "
                     f"scoring them with {metric} {plain:.1f} s without PED and {ped:.1f} s with "
                     f"PED, {fine / plain:.0f}× and {fine / ped:.0f}× less (one learning rate "
                     "per model; a grid search multiplies the fine-tuning side).")
        lines.append(f"- Of the scoring time, the forward passes take "
                     f"{cells.extraction_s.sum():.1f} s (training images) and "
                     f"{costs.general_s.sum():.1f} s (general sets, {len(costs.general_s)} "
                     f"models); the metric itself {cells[metric].sum():.2f} s, and "
                     f"{cells[metric + ' + PED'].sum():.2f} s with PED.")
    if not lines:
        return "Nothing to summarise: no finished cell in this selection."
    return "\n".join(lines)
