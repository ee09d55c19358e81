"""Linear-probe ground truth (potran.bench.linear_probe): validation-chosen C, refit, per image."""
import numpy as np
import pytest

from potran.bench.finetune import unpack_correctness
from potran.bench.linear_probe import C_GRID, linear_probe


def blobs(n, d=12, classes=3, spread=1.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(0, 3, (classes, d))
    y = np.arange(n) % classes
    return centres[y] + rng.normal(0, spread, (n, d)) * 10 + 50, y  # scale, offset: standardised


def test_probe_scores_the_test_images_one_by_one():
    (Xtr, ytr), (Xte, yte) = blobs(150, spread=0.2), blobs(90, spread=0.2, seed=1)
    row = linear_probe(Xtr, ytr, Xte, yte)
    assert row["C"] in C_GRID and (row["n_train"], row["n_test"]) == (150, 90)
    correct = unpack_correctness(row["test_correct"], 90)
    assert correct.mean() == row["test_acc"] > 0.9 and 0 <= row["val_acc"] <= 1
    assert linear_probe(Xtr, ytr, Xte, yte) == row  # deterministic


def test_ties_go_to_the_strongest_regularisation():
    """Perfectly separable classes: every C reaches validation accuracy 1, the smallest wins."""
    (Xtr, ytr), (Xte, yte) = blobs(150, spread=0.01), blobs(30, spread=0.01, seed=1)
    row = linear_probe(Xtr, ytr, Xte, yte)
    assert row["val_acc"] == 1.0 and row["C"] == C_GRID[0] and row["test_acc"] == 1.0


def test_noise_features_probe_near_chance():
    rng = np.random.default_rng(3)
    row = linear_probe(rng.normal(size=(200, 8)), np.arange(200) % 4,
                       rng.normal(size=(400, 8)), np.arange(400) % 4)
    assert row["test_acc"] == pytest.approx(0.25, abs=0.08)
