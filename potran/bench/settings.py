"""The setting registry: one definition per benchmark setting, one way to open it.

A *setting* is what a page, a ``benchmarks/`` script or the command line scores and ranks: the
models, the targets, where their images and features come from, the preprocessing, the ground
truth's fine-tuning protocol and the committed data that go with it::

    from potran.bench import settings

    s = settings.get()                                   # "v4", the default: 12 models x 24 targets
    s = settings.get("v3", models=["conv4_random", "conv4_simclr"], targets="fonts")
    s = settings.get("paper", checkpoints=CKPT, data=DATA, imagenet_val=VAL,
                     options={"num_workers": 8})         # the paper's 12 ResNet-50s, local files

    s.bench              # the potran.bench.runner.Benchmark (s.models, s.targets); s.title in words
    s.groundtruth()      # GroundTruth: accuracy (model, target, test_acc), seeds, source
    s.scores(out_dir)    # (scores, tau) of the runner, only what the committed cells lack computed
    s.data               # the committed folders by name ("scores", "sweeps", "successors")
    s.results(out_dir, "main_table")   # a page's result folder (created)

``targets="main"`` (`MAIN`) opens the setting's main table: on ``"v3"`` and ``"v4"`` the targets of
their frozen inclusion rule (ground-truth reliability of at least 0.9, on v4 of the ranking of its
12 self-supervised models; ``potran.evidence.main_table_targets``), elsewhere every target. A new
setting is one more entry of `_BUILDERS`: a function ``(models, targets, seed, **files) -> Setting``.
The settings (`NAMES`, `DEFAULT` first):

- ``"v4"`` (the default): benchmark v4 (``data/bench_v4/README.md``): the v4 zoo
  (:mod:`potran.bench.v4.zoo`; by default its 12 self-supervised models, the ranked ones; the two
  controls by name) on v3's 24 targets, PED's general set the pretraining pool's held-out part,
  the features preprocessed as v3's; ground truth ``data/bench_v4/`` (its own protocol,
  ``data/bench_v4/protocol.json``, run by ``benchmarks/v4_grid.py``, not by ``potran
  groundtruth``); committed ``scores`` (``benchmarks/v4_scores.py``), ``sweeps`` and
  ``successors`` (``benchmarks/v3_sweeps.py --setting v4``).
- ``"v3"``: benchmark v3, the second setting, across architectures (``data/bench_v3/README.md``,
  frozen protocols): every zoo model on the 24 targets of :mod:`~potran.bench.targets_v3`, every
  feature metric with and without PED, every model's features centred and rotated onto their
  leading 128 principal components (``reduce_all``), fine-tuned with `V3_FINETUNE`; ground truth
  ``data/bench_v3/`` (``accuracy.csv``, ``cells/`` with the two seeds;
  ``benchmarks/v3_groundtruth.py``); committed ``scores`` (``benchmarks/v3_scores.py``), ``sweeps``
  and ``successors`` (``benchmarks/v3_sweeps.py``).
- ``"bench4"``: the landed benchmark, every zoo model on the 4 targets of
  :mod:`~potran.bench.datasets`, the landed protocol (reduction above 128 dimensions only); ground
  truth ``data/groundtruth/`` (``potran groundtruth``); no committed scores; what ``potran bench``
  and ``potran groundtruth`` open without ``--setting``. An archive: no page of the book reads it.
- ``"paper"``: the paper's 12 self-supervised ResNet-50s on its 11 datasets, from local
  checkpoints, datasets and ImageNet validation images (:mod:`potran.bench.paper_setting`;
  ``options`` go to :func:`potran.bench.paper_setting.benchmark`), ranked against the paper's
  published fine-tuning accuracies unless a ground truth is given.
"""
from __future__ import annotations

import ast
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..resources import data_path, project_path
from . import datasets, targets_v3, zoo
from .finetune import FinetuneConfig
from .folders import FEATURE_CACHE, PAGES_OUT
from .runner import Benchmark, cell_features, run
from .sources import OFFLINE
from .store import CellStore, write_bytes

__all__ = ["NAMES", "DEFAULT", "MAIN", "PAPER_FILES", "V3_FINETUNE", "V3_SOURCES", "GroundTruth", "Setting",
           "chosen_names", "get", "name_list", "parameter_dict", "seed_table"]

#: benchmark v3's fine-tuning protocol: the landed one with 8 epochs, 2 seeds and no probe snapshots
V3_FINETUNE = FinetuneConfig(epochs=8, seeds=(0, 1), snapshot_fractions=())
#: benchmark v3's sources: the offline ones with the v3 targets
V3_SOURCES = replace(OFFLINE, load_target=targets_v3.load_target)
#: ``targets=MAIN``: the targets of the setting's main table
MAIN = "main"
#: the files the paper's setting is read from (keyword arguments of :func:`get`)
PAPER_FILES = ("checkpoints", "data", "imagenet_val")


def name_list(value, default) -> list:
    """A parameter that lists names: a sequence, a Python list in a string (what ``papermill -p
    models '["a", "b"]'`` passes), a comma-separated string, or None/empty for ``default``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return list(default)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "(")):
            value = ast.literal_eval(text)
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    value = list(value)
    return value if value else list(default)


def parameter_dict(value, name: str, default=None) -> dict:
    """A parameter that is a dict: a mapping, or a Python dict in a string (what ``papermill -p grid
    '{"N": [1000]}'`` passes); None or empty text gives ``default`` (``{}``); ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return dict(default or {})
    if isinstance(value, str):
        value = ast.literal_eval(value.strip())
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a dict, got {value!r}")
    return dict(value)


def seed_table(groundtruth_dir) -> pd.DataFrame:
    """One row per fine-tuning run of the ground truth: model, target, seed, test_acc, n_test."""
    rows = [{"model": r["model"], "target": r["target"], "seed": run["seed"],
             "test_acc": run["test_acc"], "n_test": r["n_test"]}
            for r in CellStore(groundtruth_dir).records() for run in r["runs"]]
    return pd.DataFrame(rows, columns=["model", "target", "seed", "test_acc", "n_test"])


def chosen_names(value, known, what: str, setting: str | None = None) -> tuple[str, ...]:
    """The names of ``value`` (:func:`name_list`; default: all of ``known``), each one of ``known``
    (else ValueError naming the unknown ones, ``setting`` and the known ones)."""
    names = tuple(name_list(value, known))
    unknown = [n for n in names if n not in known]
    if unknown:
        where = f" in setting {setting!r}" if setting else ""
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown))}{where}; known: {', '.join(known)}")
    return names


@dataclass(frozen=True)
class GroundTruth:
    """Accuracies to rank against, the one ground-truth type of the benchmarks.

    ``accuracy``: model, target, test_acc (a cell's mean over its runs); ``seeds``: one row per
    fine-tuning run (:func:`seed_table`), None without runs (the paper's published table);
    ``source``: a path, or the published table; ``protocol``: ``"fine-tuning"`` or ``"linear
    probe"``; ``correct``: ``{(model, target): bool (runs, n_test)}``, per-image test correctness
    (for the crossed bootstrap and split-half reliability), None when not kept.
    """

    accuracy: pd.DataFrame
    seeds: pd.DataFrame | None
    source: str
    protocol: str = "fine-tuning"
    correct: dict | None = None

    def subset(self, models, targets) -> GroundTruth:
        """The same ground truth restricted to ``models`` and ``targets``."""
        def keep(frame):
            return frame[frame.model.isin(models) & frame.target.isin(targets)].reset_index(drop=True)

        correct = None if self.correct is None else {
            k: v for k, v in self.correct.items() if k[0] in models and k[1] in targets}
        return replace(self, accuracy=keep(self.accuracy),
                       seeds=None if self.seeds is None else keep(self.seeds), correct=correct)

    def ranked(self, cells: pd.DataFrame) -> GroundTruth:
        """The ground truth of the (model, target) ``cells`` that were scored, on the targets
        where at least two of them have an accuracy (one model cannot be ranked)."""
        accuracy = self.accuracy.merge(cells[["model", "target"]].drop_duplicates(), on=["model", "target"])
        counts = accuracy.groupby("target").model.nunique()
        accuracy = accuracy[accuracy.target.isin(counts[counts >= 2].index)]
        seeds = (None if self.seeds is None
                 else self.seeds.merge(accuracy[["model", "target"]], on=["model", "target"]))
        return replace(self, accuracy=accuracy, seeds=seeds)

    @property
    def targets(self) -> list[str]:
        """The targets with an accuracy, in order of appearance."""
        return list(dict.fromkeys(self.accuracy.target))

    def complete(self, models) -> list[str]:
        """The v3 targets (in order) on which every one of ``models`` has per-image correctness."""
        return [t for t in targets_v3.NAMES if all((m, t) in (self.correct or {}) for m in models)]

    def correct_array(self, target: str, models) -> np.ndarray:
        """Per-image correctness of ``target``'s cells as a float (M, runs, N) array."""
        return np.stack([self.correct[(m, target)] for m in models]).astype(float)


@dataclass(frozen=True)
class Setting:
    """One opened setting (build it with :func:`get`).

    ``data``: committed result folders by name (``"scores"``: ``cells/``, ``scores.csv``;
    ``"sweeps"``: cells with more perturbations; ``"successors"``). ``groundtruth_dir``: folder of
    the default ground truth (``accuracy.csv``, ``cells/``), None for the paper's published
    accuracies. ``title``: the name in words, for a page's output (``"benchmark v3"``).
    """

    name: str
    bench: Benchmark
    data: dict = field(default_factory=dict)
    groundtruth_dir: Path | None = None
    title: str = ""

    @property
    def models(self) -> tuple[str, ...]:
        return self.bench.models

    @property
    def targets(self) -> tuple[str, ...]:
        return self.bench.targets

    @property
    def paper(self) -> bool:
        """Whether this is the paper's setting (its models and datasets, its published ground truth)."""
        return self.name == "paper"

    def benchmark(self, **changes) -> Benchmark:
        """The definition with some fields changed (e.g. ``metrics``, ``perturbations``)."""
        return replace(self.bench, **changes)

    def get_model(self, name: str):
        return self.bench.sources.get_model(name)

    def load_target(self, name: str):
        return self.bench.sources.load_target(name)

    def cell_features(self, model: str, target, *, cache_dir=FEATURE_CACHE, device="cpu") -> dict:
        """:func:`potran.bench.runner.cell_features` of one cell of this setting."""
        return cell_features(self.bench, model, target, cache_dir=cache_dir, device=device)

    def results(self, out_dir, page: str) -> Path:
        """A page's result folder, created if missing: ``out_dir`` when given, else
        ``_build/<page>`` (bench4) or ``_build/<setting>/<page>`` (settings never mix)."""
        parts = (page,) if self.name == "bench4" else (self.name, page)
        folder = Path(out_dir) if out_dir not in (None, "") else PAGES_OUT.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def scores(self, out_dir, *, data: str = "scores", groundtruth=None, cache_dir=FEATURE_CACHE,
               device="cpu", progress: bool = False, **changes):
        """Score :meth:`benchmark` (``changes``) into ``out_dir``; returns ``(scores, tau)`` of
        :func:`potran.bench.runner.run`. The cells of the committed folder ``data`` (a key of
        `data`) missing from ``out_dir`` are copied there first, so only what they lack is computed."""
        bench = self.benchmark(**changes)
        out = Path(out_dir)
        if data in self.data:
            mine, committed = CellStore(out), CellStore(self.data[data])
            for m, t in itertools.product(bench.models, bench.targets):
                source, copy = committed.path(m, t), mine.path(m, t)
                if source.is_file() and not copy.is_file():
                    write_bytes(copy, source.read_bytes())
        return run(bench, out, groundtruth=groundtruth, cache_dir=cache_dir, device=device,
                   progress=progress)

    def groundtruth(self, path=None) -> GroundTruth:
        """The accuracies of this setting's cells (other rows dropped): from ``path`` (an
        ``accuracy.csv``, its seeds in the folder's ``cells/``) or the setting's default."""
        if path is None and self.groundtruth_dir is None:
            from ..paper import groundtruth as published

            accuracy, seeds = published("twpy"), None  # all 11 datasets, SUN397 included
            source = ("the paper's published fine-tuning accuracies (tw.py of the official code, "
                      "one run per cell)")
        else:
            path = Path(path) if path is not None else self.groundtruth_dir / "accuracy.csv"
            if not path.is_file():
                raise FileNotFoundError(f"ground truth {path} does not exist: make it with "
                                        "`potran groundtruth` (or PaperSetting.finetune_grid)")
            accuracy = pd.read_csv(path)
            seeds = seed_table(path.parent)
            seeds = seeds if len(seeds) else None
            try:  # shown relative to the checkout when inside it
                shown = path.resolve().relative_to(project_path().resolve())
            except ValueError:
                shown = path
            source = f"`{shown}`" + (" with its per-seed cells" if seeds is not None else "")
        keep = accuracy.model.isin(self.models) & accuracy.target.isin(self.targets)
        accuracy = accuracy[keep].reset_index(drop=True)
        if seeds is not None:
            seeds = seeds.merge(accuracy[["model", "target"]], on=["model", "target"])
        return GroundTruth(accuracy, seeds, source)


def _v3(models, targets, seed) -> Setting:
    if targets == MAIN:
        from ..evidence import main_table_targets

        targets = [t for t in targets_v3.NAMES if t in main_table_targets()]
    bench = Benchmark(models=chosen_names(models, zoo.names(), "model", "v3"),
                      targets=chosen_names(targets, targets_v3.NAMES, "target", "v3"),
                      finetune=V3_FINETUNE, reduce_all=True, seed=seed, sources=V3_SOURCES)
    data = {name: data_path("bench_v3", name) for name in ("scores", "sweeps", "successors")}
    return Setting("v3", bench, data, data_path("bench_v3"), "benchmark v3")


def _bench4(models, targets, seed) -> Setting:
    bench = Benchmark(models=chosen_names(models, zoo.names(), "model", "bench4"),
                      targets=chosen_names(targets, datasets.TARGETS, "target", "bench4"), seed=seed,
                      sources=OFFLINE)
    return Setting("bench4", bench, {}, data_path("groundtruth"), "the 4-target benchmark")


def _v4(models, targets, seed) -> Setting:
    from .v4 import zoo as v4_zoo

    if targets == MAIN:   # the registered inclusion rule on the 12 ranked models (no score enters it)
        from ..evidence import main_table_targets

        main = main_table_targets(data_path("bench_v4"), tuple(v4_zoo.ranked()))
        if not main:
            raise ValueError("v4: no target passes the inclusion rule (reliability >= 0.9) yet; "
                             "name targets instead of 'main'")
        targets = [t for t in targets_v3.NAMES if t in main]

    models = v4_zoo.ranked() if models is None else models   # the controls only by name
    bench = Benchmark(models=chosen_names(models, v4_zoo.names(), "model", "v4"),
                      targets=chosen_names(targets, targets_v3.NAMES, "target", "v4"),
                      finetune=V3_FINETUNE, reduce_all=True, seed=seed, sources=v4_zoo.V4_SOURCES)
    data = {name: data_path("bench_v4", name) for name in ("scores", "sweeps", "successors")}
    return Setting("v4", bench, data, data_path("bench_v4"), "benchmark v4")


def _paper(models, targets, seed, *, checkpoints=None, data=None, imagenet_val=None,
           options=None) -> Setting:
    from . import paper_setting as ps

    given = dict(zip(PAPER_FILES, (checkpoints, data, imagenet_val)))
    missing = [k for k, v in given.items() if v in (None, "")]
    if missing:
        raise ValueError(f"setting 'paper' reads local files: give {', '.join(PAPER_FILES)} "
                         f"(missing: {', '.join(missing)})")
    options = parameter_dict(options, "options")
    clash = sorted(set(options) & {"models", "targets", "seed"})
    if clash:
        raise ValueError(f"options cannot set {', '.join(clash)}: give them to settings.get")
    setting = ps.benchmark(checkpoints, data, imagenet_val,
                           models=chosen_names(models, ps.MODELS, "model", "paper"),
                           targets=chosen_names(targets, ps.TARGETS, "target", "paper"), seed=seed, **options)
    return Setting("paper", setting.bench, {}, None, "the paper's setting")


#: name -> builder ``(models, targets, seed, **files) -> Setting``; the first is the default
_BUILDERS = {"v4": _v4, "v3": _v3, "bench4": _bench4, "paper": _paper}
NAMES = tuple(_BUILDERS)
DEFAULT = NAMES[0]


def get(name: str | None = DEFAULT, models=None, targets=None, *, seed: int = 0, **files) -> Setting:
    """Open setting ``name`` (`NAMES`; None or empty: `DEFAULT`); ValueError for unknown names.

    ``models``/``targets``: names (:func:`name_list`), None for all of the setting's,
    ``targets=MAIN`` for those of its main table. ``seed``: the stochastic metrics' base seed.
    ``files`` (``"paper"`` only, None or empty counting as not given): ``checkpoints``, ``data``,
    ``imagenet_val`` (all three) and ``options`` (for :func:`potran.bench.paper_setting.benchmark`).
    """
    name = name or DEFAULT
    if name not in _BUILDERS:
        raise ValueError(f"unknown setting {name!r}; known: {', '.join(NAMES)}")
    if targets == MAIN and name not in ("v3", "v4"):
        targets = None  # no inclusion rule: every target is in the main table
    given = {k: v for k, v in files.items() if v not in (None, "") and not (k == "options" and not v)}
    unknown = sorted(set(given) - {*PAPER_FILES, "options"})
    if unknown:
        raise TypeError(f"settings.get() got unexpected argument(s) {', '.join(unknown)}")
    if name != "paper" and given:
        raise ValueError(f"{', '.join(given)} belong to setting 'paper', not {name!r} "
                         "(pass setting 'paper' to use the paper's files)")
    return _BUILDERS[name](models, targets, seed, **given)
