"""Fine-tuning protocol: determinism, validation-chosen configuration, records, snapshots."""
import numpy as np
import pytest
import torch

from fake_zoo import MODELS, TARGETS
from potran.finetune import (FinetuneConfig, finetune, probe_indices, split_train_val,
                             training_indices)

CFG = FinetuneConfig(lrs=(0.003, 0.05), wds=(0.0, 1e-3), epochs=2, batch_size=8, n_train=40,
                     n_test=20, probe_size=6)


@pytest.fixture(scope="module")
def result():
    return finetune(MODELS["fake-a"], TARGETS["t1"], CFG)


def test_deterministic_given_seed(result):
    again = finetune(MODELS["fake-a"], TARGETS["t1"], CFG)
    strip = lambda rec: {k: v for k, v in rec.items() if k not in ("wall_s", "runs")}
    assert strip(again.record) == strip(result.record)
    assert [r["train_loss"] for r in again.record["runs"]] == \
        [r["train_loss"] for r in result.record["runs"]]
    np.testing.assert_array_equal(again.snapshots["features"], result.snapshots["features"])


def test_other_seed_changes_the_run(result):
    other = finetune(MODELS["fake-a"], TARGETS["t1"],
                     FinetuneConfig(**{**CFG.__dict__, "seed": 1}))
    assert other.record["runs"][0]["train_loss"] != result.record["runs"][0]["train_loss"]


def test_chosen_configuration_has_best_validation_accuracy(result):
    rec = result.record
    runs = rec["runs"]
    assert [(r["lr"], r["wd"]) for r in runs] == [(lr, wd) for lr in CFG.lrs for wd in CFG.wds]
    best = max(runs, key=lambda r: r["val_acc"])  # max keeps the first of ties, as finetune
    assert (rec["lr"], rec["wd"], rec["val_acc"]) == (best["lr"], best["wd"], best["val_acc"])
    assert 0.0 <= rec["test_acc"] <= 1.0 and rec["test_acc"] * rec["n_test"] % 1 < 1e-9
    assert (rec["n_fit"], rec["n_val"], rec["n_test"]) == (32, 8, 20)
    assert rec["iterations"] == CFG.epochs * (32 // CFG.batch_size)
    assert rec["config"] == CFG.to_dict() and FinetuneConfig.from_dict(rec["config"]) == CFG
    assert all(len(r["train_loss"]) == CFG.epochs for r in runs)


def test_snapshots_follow_the_chosen_run(result):
    snap, rec = result.snapshots, result.record
    k, p, d = snap["features"].shape
    assert (p, d) == (CFG.probe_size, MODELS["fake-a"].feature_dim)
    assert snap["steps"].tolist() == rec["snapshot_steps"] == [0, 2, 4, 8]
    # step 0 is the pretrained backbone before any update
    net = MODELS["fake-a"].build().eval()
    x = MODELS["fake-a"].preprocess(TARGETS["t1"].x_train[snap["indices"]])
    with torch.no_grad():
        np.testing.assert_allclose(snap["features"][0], net(x).numpy(), atol=2e-3)
    assert not np.allclose(snap["features"][-1], snap["features"][0], atol=1e-3)
    np.testing.assert_array_equal(snap["labels"], TARGETS["t1"].y_train[snap["indices"]])


def test_splits_are_disjoint_seeded_and_stratified():
    y = TARGETS["t2"].y_train
    idx = training_indices(len(y), CFG)
    assert len(idx) == 40 and len(set(idx)) == 40
    assert np.array_equal(idx, training_indices(len(y), CFG))
    fit, val = split_train_val(y[idx], CFG)
    assert not set(fit) & set(val) and len(fit) + len(val) == 40
    assert len(np.unique(y[idx][val])) == 4  # every class is in the validation split
    probe = probe_indices(y[idx][fit], CFG)
    assert len(probe) == CFG.probe_size and probe.max() < len(fit)
    assert np.array_equal(training_indices(len(y), FinetuneConfig(n_train=None)), np.arange(len(y)))
