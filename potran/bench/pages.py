"""What is left of the pages' benchmark builder, for the callers not yet moved to
:mod:`potran.bench.settings` (``potran bench``'s paper branch, the fine-tuning page).

:func:`page_benchmark` opens ``settings.get("paper", ...)`` when the three ``paper_*`` folders
are given and ``settings.get("bench4", ...)`` otherwise; :func:`results_folder` is a page's
result folder. New code calls :func:`potran.bench.settings.get`.
"""
from __future__ import annotations

from pathlib import Path

from . import settings
from .folders import PAGES_OUT

__all__ = ["PAPER_PARAMETERS", "page_benchmark", "results_folder"]

#: The parameters that select the paper's setting (all three, or none).
PAPER_PARAMETERS = ("paper_checkpoints", "paper_data", "paper_imagenet_val")


def results_folder(out_dir, *name: str) -> Path:
    """A page's result folder, created if missing: ``out_dir`` when given, else ``name`` (one or
    more parts) in :data:`~potran.bench.folders.PAGES_OUT`."""
    folder = Path(out_dir) if out_dir not in (None, "") else PAGES_OUT.joinpath(*name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def page_benchmark(models=None, targets=None, *, paper_checkpoints=None, paper_data=None,
                   paper_imagenet_val=None, paper_options=None, seed: int = 0) -> settings.Setting:
    """``settings.get("paper", ...)`` when any ``paper_*`` folder is given (all three are then
    needed), else ``settings.get("bench4", ...)``."""
    files = dict(checkpoints=paper_checkpoints, data=paper_data, imagenet_val=paper_imagenet_val)
    paper = any(v not in (None, "") for v in files.values())
    missing = [p for p, v in zip(PAPER_PARAMETERS, files.values()) if v in (None, "")]
    if paper and missing:
        raise ValueError(f"the paper's setting needs all of {', '.join(PAPER_PARAMETERS)}; "
                         f"missing: {', '.join(missing)}")
    if not paper and settings.parameter_dict(paper_options, "paper_options"):
        raise ValueError("paper_options were given without the paper's setting "
                         f"({', '.join(PAPER_PARAMETERS)})")
    return settings.get("paper" if paper else "bench4", models, targets, seed=seed,
                        **(dict(files, options=paper_options) if paper else {}))
