"""The PED paper's published numbers as tidy DataFrames, from ``data/paper/`` (its README gives
the sources and the known discrepancies)."""
from __future__ import annotations

import pandas as pd

from potran.resources import data_path

DATA_DIR = data_path("paper")

GROUNDTRUTH_FILES = {"twpy": "groundtruth_twpy.csv", "supplementary": "groundtruth_supplementary.csv"}

# README method label -> (potran metric name, perturbation: "ped" for "+Ours")
METHODS = {
    "NLEEP": ("nleep", "none"),
    "PARC": ("parc", "none"),
    "LogME": ("logme", "none"),
    "LogME+Ours": ("logme", "ped"),
    "SFDA": ("sfda", "none"),
    "SFDA+Ours": ("sfda", "ped"),
    "GBC": ("gbc", "none"),
    "GBC+Ours": ("gbc", "ped"),
}


def groundtruth(variant: str = "twpy") -> pd.DataFrame:
    """Published fine-tuning accuracies (%): columns ``model``, ``target``, ``test_acc``, ``source``.

    ``variant``: "twpy", the official ``tw.py``'s ground truth (11 datasets), or "supplementary",
    the supplementary's Table 2 (10 datasets, five cells differ).
    """
    if variant not in GROUNDTRUTH_FILES:
        raise ValueError(f"unknown ground-truth variant {variant!r}; choose from {sorted(GROUNDTRUTH_FILES)}")
    return pd.read_csv(DATA_DIR / GROUNDTRUTH_FILES[variant])


def main_table() -> pd.DataFrame:
    """Weighted Kendall tau of the official README table: columns ``method`` (the README label),
    ``target``, ``weighted_tau``, ``source``, ``metric`` (the ``potran`` name) and
    ``perturbation`` (``"ped"`` for a "+Ours" row, else ``"none"``)."""
    return _with_metric(pd.read_csv(DATA_DIR / "main_table.csv"))


def k_grid() -> pd.DataFrame:
    """Weighted Kendall tau of the supplementary's Table 1, one row per (method, dataset), columns
    as :func:`main_table`; its "+Ours" rows are the best of a grid search of the PED
    hyper-parameter (``data/paper/README.md``)."""
    return _with_metric(pd.read_csv(DATA_DIR / "k_grid.csv"))


def _with_metric(table: pd.DataFrame) -> pd.DataFrame:
    """Add the ``potran`` metric name and the perturbation of each README method label."""
    table["metric"] = table["method"].map(lambda m: METHODS[m][0])
    table["perturbation"] = table["method"].map(lambda m: METHODS[m][1])
    return table
