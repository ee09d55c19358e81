"""Linear-probe ground truth (benchmark v3's secondary protocol, data/bench_v3/README.md):
L2 logistic regression on standardised frozen features, its strength chosen on a stratified
validation split, refitted on the whole training set and scored image by image."""
from __future__ import annotations

import numpy as np

from .finetune import pack_correctness

__all__ = ["C_GRID", "VAL_SHARE", "linear_probe"]

C_GRID = (1e-3, 1e-2, 1e-1, 1.0, 10.0)  # inverse L2 strengths on standardised features
VAL_SHARE = 0.2


def _fit(X, y, C: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000)).fit(X, y)


def linear_probe(X_train, y_train, X_test, y_test, c_grid=C_GRID, seed: int = 0) -> dict:
    """Fit the probe on frozen features ``(X_train, y_train)`` and score it on ``(X_test, y_test)``.

    ``c_grid``: candidate inverse regularisation strengths, ascending (ties go to the smaller);
    ``seed``: of the stratified validation split (`VAL_SHARE` of the training images). Returns
    ``test_acc``, the chosen ``C``, its ``val_acc``, ``n_train``, ``n_test`` and ``test_correct``
    (per-image correctness, :func:`~potran.bench.finetune.pack_correctness`).
    """
    from sklearn.model_selection import train_test_split

    X_train, X_test = np.asarray(X_train, dtype=np.float64), np.asarray(X_test, dtype=np.float64)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    fit, val = train_test_split(np.arange(len(y_train)), test_size=VAL_SHARE, random_state=seed,
                                stratify=y_train)
    val_acc = [float((_fit(X_train[fit], y_train[fit], C).predict(X_train[val]) == y_train[val])
                     .mean()) for C in c_grid]
    best = int(np.argmax(val_acc))  # the first maximum: the smallest C
    correct = _fit(X_train, y_train, c_grid[best]).predict(X_test) == y_test
    return {"test_acc": float(correct.mean()), "C": float(c_grid[best]),
            "val_acc": val_acc[best], "n_train": int(len(y_train)), "n_test": int(len(y_test)),
            "test_correct": pack_correctness(correct)}
