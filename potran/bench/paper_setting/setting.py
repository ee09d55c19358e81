"""The paper's setting as a benchmark definition (:class:`~potran.bench.paper_setting.PaperSetting`,
:func:`~potran.bench.paper_setting.benchmark`)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ...metrics import FEATURE_METRICS
from ..datasets import Target
from ..finetune import FinetuneConfig
from ..runner import DEFAULT_PERTURBATIONS, Benchmark
from ..sources import Sources
from ..store import CellStore
from .files import check_paper_setting
from .general import GeneralSet, extract_features, general_moments, general_set
from .layout import FEATURE_DIM, IMAGE_SIZE, MODELS, TARGETS
from .models import PaperModel, paper_models
from .splits import PaperSplits, _download, paper_splits
from .sweep import FINETUNE, STEPS, SWEEP_GRID, _finetune_cell, _setting_config, setting_name


@dataclass
class PaperSetting:
    """The paper's setting (built by :func:`benchmark`): ``bench.sources`` is :attr:`sources`, so
    ``run(setting.bench, out_dir)`` scores it; :meth:`finetune_grid` makes its ground truth."""

    bench: Benchmark
    models: dict
    data_root: Path
    general: GeneralSet
    verify: bool = True
    scored_split: str = "all"
    batch_size: int = 64
    num_workers: int = 0
    _splits: dict = field(default_factory=dict, repr=False)
    _surrogates: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.bench = replace(self.bench, sources=self.sources)

    @property
    def sources(self) -> Sources:
        """:meth:`get_model`, :meth:`load_target`, :meth:`load_general` and :meth:`extract`."""
        return Sources(get_model=self.get_model, load_target=self.load_target,
                       load_general=self.load_general, extract=self.extract)

    def get_model(self, name: str) -> PaperModel:
        """The :class:`PaperModel` called ``name``."""
        try:
            return self.models[name]
        except KeyError:
            raise ValueError(f"Unknown model {name!r}; this setting has {', '.join(self.models)}.") from None

    def splits(self, name: str) -> PaperSplits:
        """The (cached) splits of target ``name``."""
        if name not in self._splits:
            self._splits[name] = paper_splits(name, self.data_root, verify=self.verify)
        return self._splits[name]

    def load_target(self, name: str) -> Target:
        """The scoring view of target ``name``: ``x_train`` is the scored split."""
        return self.splits(name).target(self.scored_split, "test")

    def load_general(self) -> GeneralSet:
        """The general set (the runner passes it to :meth:`extract`)."""
        return self.general

    def extract(self, model, images, *, device="cpu", cache_dir=None, key=None, progress=False):
        """Features of a target's images, or the general set's :meth:`GeneralMoments.surrogate`."""
        if isinstance(images, GeneralSet):
            if model.name not in self._surrogates:
                moments = general_moments(model, images, batch_size=self.batch_size,
                                          num_workers=self.num_workers, device=device,
                                          cache_dir=cache_dir, progress=progress)
                self._surrogates[model.name] = moments.surrogate()
            return self._surrogates[model.name]
        return extract_features(model, images, batch_size=self.batch_size, num_workers=self.num_workers,
                                device=device, cache_dir=cache_dir, key=key, progress=progress)

    def sweep_cell(self, model: str, target: str, out_dir, *, grid=SWEEP_GRID,
                   config: FinetuneConfig = FINETUNE, steps: int | None = STEPS, device="cpu") -> dict:
        """Ground truth of one (model, target): the grid on train/val, then the best setting on
        trainval/test; every fine-tuning is a resumable cell. Returns the final record."""
        out_dir = Path(out_dir)
        zoo_model, splits = self.get_model(model), self.splits(target)
        validate = splits.target("train", "val")
        tried = []
        for lr, wd in grid:
            cfg = _setting_config(config, lr, wd, len(validate.y_train), steps)
            record = _finetune_cell(out_dir / "sweep", model, f"{target}__{setting_name(lr, wd)}", zoo_model,
                                    validate, cfg, device, {"fit_split": "train", "evaluated_on": "val"})
            tried.append({"lr": lr, "wd": wd, "val_acc": record["test_acc"]})
        best = max(tried, key=lambda t: t["val_acc"])  # the first of equals, as the official script
        final = splits.target("trainval", "test")
        cfg = _setting_config(config, best["lr"], best["wd"], len(final.y_train), steps)
        return _finetune_cell(out_dir, model, target, zoo_model, final, cfg, device,
                              {"fit_split": "trainval", "evaluated_on": "test",
                               "selection": {"by": "val_acc", "best": best, "tried": tried}})

    def finetune_grid(self, out_dir, *, models=None, targets=None, grid=SWEEP_GRID,
                      config: FinetuneConfig = FINETUNE, steps: int | None = STEPS, device="cpu",
                      progress: bool = True, client=None) -> pd.DataFrame:
        """Run (or resume) the ground truth of every (model, target); returns ``accuracy.csv``'s
        table (:func:`potran.bench.groundtruth.collect`). ``client``: a Dask client, as in
        :func:`potran.bench.groundtruth.run_grid`."""
        from ..distributed import map_cells
        from ..groundtruth import collect

        cells = [(m, t) for t in (targets or self.bench.targets) for m in (models or self.bench.models)]
        map_cells(self.sweep_cell, cells, client=client, progress=progress, desc="paper ground truth",
                  kwargs=dict(out_dir=str(out_dir), grid=grid, config=config, steps=steps, device=device))
        return collect(out_dir)

    def sweep_table(self, out_dir) -> pd.DataFrame:
        """Validation accuracy of every finished grid setting (model, target, lr, wd, val_acc)."""
        rows = [{"model": r["model"], "target": r["target"], "lr": r["lr"], "wd": r["wd"],
                 "val_acc": r["test_acc"]} for r in CellStore(Path(out_dir) / "sweep").records()]
        return pd.DataFrame(rows, columns=["model", "target", "lr", "wd", "val_acc"])


def benchmark(checkpoint_dir, data_root, imagenet_val, *, models=MODELS, targets=TARGETS,
              metrics=FEATURE_METRICS, perturbations=DEFAULT_PERTURBATIONS,
              image_size: int = IMAGE_SIZE, verify: bool = True, download: bool = False,
              scored_split: str = "all", batch_size: int = 64, num_workers: int = 0,
              general_limit: int | None = None, seed: int = 0) -> PaperSetting:
    """The paper's setting, checked for missing files first (one error listing them all).

    ``checkpoint_dir``, ``data_root``, ``imagenet_val``: see the module's docstring. ``models``,
    ``targets``, ``metrics``, ``perturbations``, ``seed``: as in
    :class:`potran.bench.runner.Benchmark`, scored at full width (``score_dim`` 2048, as the
    paper). ``image_size``: 224 (smaller only for tests). ``verify``: keep torchvision's md5 checks
    of CIFAR and Flowers. ``download``: torchvision downloads the targets it can (never the
    checkpoints or ImageNet; a clear message offline). ``scored_split`` ("all" or "trainval"):
    images scored. ``batch_size``, ``num_workers``: extraction batches and DataLoader workers.
    ``general_limit``: a seeded subset of that many general-set images (default all).
    """
    if scored_split not in ("all", "trainval"):
        raise ValueError(f"scored_split must be 'all' or 'trainval', got {scored_split!r}")
    models, targets = tuple(models), tuple(targets)
    check_paper_setting(None, None, None, models=models, targets=targets)  # names first
    if download:
        for target in targets:
            _download(target, str(Path(data_root).resolve()))
    check_paper_setting(checkpoint_dir, data_root, imagenet_val, models=models, targets=targets)
    zoo = paper_models(checkpoint_dir, names=models, image_size=image_size)
    bench = Benchmark(models=models, targets=targets, metrics=tuple(metrics),
                      perturbations=tuple(perturbations), finetune=FINETUNE, score_dim=FEATURE_DIM,
                      seed=seed)
    general = general_set(imagenet_val, limit=general_limit)
    return PaperSetting(bench, zoo, Path(data_root).resolve(), general, verify=verify,
                        scored_split=scored_split, batch_size=batch_size, num_workers=num_workers)
