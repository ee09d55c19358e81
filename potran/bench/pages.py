"""The benchmark a book page runs on: the offline one (default), or the paper's from local files.

Every page that scores models takes the same parameters: ``models`` and ``targets`` (None for
all), and ``paper_checkpoints``, ``paper_data``, ``paper_imagenet_val`` -- all three set to run
on the paper's 12 ResNet-50s and 11 datasets (:mod:`potran.bench.paper_setting`), none for the
offline benchmark. :func:`page_benchmark` turns them into a :class:`PageBenchmark`, which
carries the benchmark definition (models, targets, fine-tuning protocol, scored width and its
sources, :mod:`potran.bench.sources`), so that a page calls :meth:`PageBenchmark.run`,
:meth:`PageBenchmark.cell_features` or :meth:`PageBenchmark.load_target` the same way on both.

:meth:`PageBenchmark.groundtruth` reads the accuracies a page ranks against: a given
``accuracy.csv`` (with its folder's per-seed cells when there are any), else the offline
benchmark's own (``data/groundtruth``) or, on the paper's setting, the paper's published
fine-tuning accuracies (``tw.py``'s table, one run per cell: no seeds).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from .folders import FEATURE_CACHE, PAGES_OUT
from .runner import Benchmark

__all__ = ["PAPER_PARAMETERS", "GroundTruth", "PageBenchmark", "page_benchmark", "results_folder"]

#: The page parameters that select the paper's setting (all three, or none).
PAPER_PARAMETERS = ("paper_checkpoints", "paper_data", "paper_imagenet_val")


@dataclass(frozen=True)
class GroundTruth:
    """Accuracies to rank against: ``accuracy`` (model, target, test_acc), ``seeds`` (one row per
    fine-tuning run, :func:`potran.bench.report.seed_table`; None when the source has no runs)
    and ``source``, one sentence saying where they come from."""

    accuracy: pd.DataFrame
    seeds: pd.DataFrame | None
    source: str

    def ranked(self, cells: pd.DataFrame) -> GroundTruth:
        """The ground truth of the (model, target) ``cells`` that were scored, on the targets
        where at least two of them have an accuracy (one model cannot be ranked)."""
        accuracy = self.accuracy.merge(cells[["model", "target"]].drop_duplicates(), on=["model", "target"])
        counts = accuracy.groupby("target").model.nunique()
        accuracy = accuracy[accuracy.target.isin(counts[counts >= 2].index)]
        seeds = (None if self.seeds is None
                 else self.seeds.merge(accuracy[["model", "target"]], on=["model", "target"]))
        return GroundTruth(accuracy, seeds, self.source)

    @property
    def targets(self) -> list[str]:
        """The targets with an accuracy, in order of appearance."""
        return list(dict.fromkeys(self.accuracy.target))


@dataclass(frozen=True)
class PageBenchmark:
    """What a page scores: a :class:`~potran.bench.runner.Benchmark` (with its sources) and
    whether it is the paper's setting."""

    base: Benchmark
    paper: bool = False

    @property
    def models(self) -> tuple[str, ...]:
        return self.base.models

    @property
    def targets(self) -> tuple[str, ...]:
        return self.base.targets

    @property
    def name(self) -> str:
        return "the paper's setting" if self.paper else "the offline benchmark"

    def results(self, out_dir, name: str) -> Path:
        """A page's result folder, created if missing: ``out_dir`` when given, else ``<name>`` in
        :data:`~potran.bench.folders.PAGES_OUT` (``paper/<name>`` on the paper's setting, so that
        the two never mix)."""
        return results_folder(out_dir, *(("paper",) if self.paper else ()), name)

    def benchmark(self, **changes) -> Benchmark:
        """The definition with some fields changed (e.g. ``metrics``, ``perturbations``)."""
        return replace(self.base, **changes)

    def get_model(self, name: str):
        """The model called ``name``, from the benchmark's sources."""
        return self.base.sources.get_model(name)

    def load_target(self, name: str):
        """The target called ``name``, from the benchmark's sources."""
        return self.base.sources.load_target(name)

    def cell_features(self, model: str, target, *, cache_dir=FEATURE_CACHE, device="cpu") -> dict:
        """:func:`potran.bench.runner.cell_features` of one cell of this benchmark."""
        from .runner import cell_features

        return cell_features(self.base, model, target, cache_dir=cache_dir, device=device)

    def run(self, out_dir, *, groundtruth=None, cache_dir=FEATURE_CACHE, device="cpu",
            progress: bool = False, **changes):
        """:func:`potran.bench.runner.run` of :meth:`benchmark` (``changes``) into ``out_dir``."""
        from .runner import run

        return run(self.benchmark(**changes), out_dir, groundtruth=groundtruth, cache_dir=cache_dir,
                   device=device, progress=progress)

    def groundtruth(self, path=None) -> GroundTruth:
        """The accuracies of this benchmark's cells: from ``path`` (an ``accuracy.csv``) or the
        default of the setting (module docstring). Rows of other models and targets are dropped."""
        from . import report

        if path is None and self.paper:
            from .paper_analysis import paper_accuracy
            from .paper_setting import TARGETS

            accuracy = paper_accuracy("twpy", datasets=TARGETS)  # all 11, SUN397 included
            source = ("the paper's published fine-tuning accuracies (tw.py of the official code, "
                      "one run per cell)")
            seeds = None
        else:
            if path is None:
                from ..resources import data_path

                path = data_path("groundtruth", "accuracy.csv")
            path = Path(path)
            if not path.is_file():
                raise FileNotFoundError(f"ground truth {path} does not exist: make it with "
                                        "`potran groundtruth` (or PaperSetting.finetune_grid)")
            accuracy = pd.read_csv(path)
            seeds = report.seed_table(path.parent)
            seeds = seeds if len(seeds) else None
            source = f"`{_shown(path)}`" + (" with its per-seed cells" if seeds is not None else "")
        keep = accuracy.model.isin(self.models) & accuracy.target.isin(self.targets)
        accuracy = accuracy[keep].reset_index(drop=True)
        if seeds is not None:
            seeds = seeds.merge(accuracy[["model", "target"]], on=["model", "target"])
        return GroundTruth(accuracy, seeds, source)


def results_folder(out_dir, *name: str) -> Path:
    """A page's result folder, created if missing: ``out_dir`` when given, else ``name`` (one or
    more parts) in :data:`~potran.bench.folders.PAGES_OUT`."""
    folder = Path(out_dir) if out_dir not in (None, "") else PAGES_OUT.joinpath(*name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shown(path: Path) -> str:
    """``path`` relative to the checkout when it lies inside it (pages print where data comes from)."""
    from ..resources import project_path

    try:
        return str(path.resolve().relative_to(Path(project_path()).resolve()))
    except ValueError:
        return str(path)


def page_benchmark(models=None, targets=None, *, paper_checkpoints=None, paper_data=None,
                   paper_imagenet_val=None, paper_options=None, seed: int = 0) -> PageBenchmark:
    """The benchmark of a page's parameters.

    Parameters
    ----------
    models, targets
        Names (a list, or the text papermill passes: JSON list or comma-separated), None for
        every model and target of the chosen setting.
    paper_checkpoints, paper_data, paper_imagenet_val : path, optional
        All three: the paper's setting (:func:`potran.bench.paper_setting.benchmark`; missing
        files are listed in one error); none: the offline benchmark.
    paper_options : dict, optional
        More keyword options of :func:`potran.bench.paper_setting.benchmark` (e.g.
        ``image_size``, ``general_limit``, ``batch_size``, ``num_workers``, ``verify``).
    seed : int
        The benchmark's seed.
    """
    from .sweeps import name_list, parameter_dict

    given = {k: v for k, v in zip(PAPER_PARAMETERS, (paper_checkpoints, paper_data, paper_imagenet_val))
             if v not in (None, "")}
    if given and len(given) < len(PAPER_PARAMETERS):
        missing = [k for k in PAPER_PARAMETERS if k not in given]
        raise ValueError(f"the paper's setting needs all of {', '.join(PAPER_PARAMETERS)}; "
                         f"missing: {', '.join(missing)}")
    if given:
        from . import paper_setting as ps

        options = parameter_dict(paper_options, "paper_options")
        clash = sorted(set(options) & {"models", "targets", "seed"})
        if clash:
            raise ValueError(f"paper_options cannot set {', '.join(clash)}: they are page parameters")
        setting = ps.benchmark(paper_checkpoints, paper_data, paper_imagenet_val,
                               models=name_list(models, ps.MODELS), targets=name_list(targets, ps.TARGETS),
                               seed=seed, **options)
        return PageBenchmark(setting.bench, paper=True)
    if parameter_dict(paper_options, "paper_options"):
        raise ValueError("paper_options were given without the paper's setting "
                         f"({', '.join(PAPER_PARAMETERS)})")
    from . import datasets, zoo

    base = Benchmark(models=tuple(name_list(models, zoo.names())),
                     targets=tuple(name_list(targets, datasets.TARGETS)), seed=seed)
    return PageBenchmark(base)
