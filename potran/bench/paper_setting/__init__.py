"""The paper's setting as a benchmark definition: 12 self-supervised ResNet-50s on 11 targets.

Local files only (nothing is downloaded unless ``download=True``); exports its submodules' public
names. What to provide, the splits and the protocol: book/api/paper_setting.md.
"""
from __future__ import annotations

from .files import check_paper_setting, missing_files
from .general import GeneralMoments, GeneralSet, extract_features, general_moments, general_set, general_stats
from .layout import (
    CALTECH_TRAIN_PER_CLASS,
    FEATURE_DIM,
    IMAGE_SIZE,
    MODELS,
    REQUIRED,
    TARGETS,
    VAL_FRACTION,
    VAL_SEED,
    VOC_CLASSES,
)
from .models import LocalWeightsFile, PaperModel, paper_models
from .setting import PaperSetting, benchmark
from .splits import ImageRef, PaperSplits, paper_splits
from .sweep import FINETUNE, STEPS, SWEEP_GRID, setting_name

__all__ = [
    "MODELS", "TARGETS", "REQUIRED", "IMAGE_SIZE", "FEATURE_DIM", "VAL_FRACTION", "VAL_SEED",
    "CALTECH_TRAIN_PER_CLASS", "VOC_CLASSES", "SWEEP_GRID", "STEPS", "FINETUNE",
    "LocalWeightsFile", "PaperModel", "paper_models",
    "ImageRef", "PaperSplits", "paper_splits", "missing_files", "check_paper_setting",
    "GeneralSet", "general_set", "GeneralMoments", "general_moments", "general_stats",
    "extract_features", "setting_name", "PaperSetting", "benchmark",
]
