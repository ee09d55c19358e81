"""Fine-tuning protocol (potran.bench.finetune): one run per seed, records, snapshots, subsets."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from potran.bench.finetune import FinetuneConfig, finetune, probe_indices, training_indices
from potran.bench.reduction import reduce_features

from fake_zoo import MODELS, TARGETS, FakeZooModel

# 24 training images in batches of 8: 3 iterations per epoch, 6 in all
CFG = FinetuneConfig(epochs=2, seeds=(0, 1), n_train=24, n_test=12, probe_size=8, batch_size=8)
TIMING = ("wall_s", "seconds")


def without_timing(record):
    """The record without wall-clock times (the only fields that may differ between runs)."""
    rec = {k: v for k, v in record.items() if k not in TIMING}
    rec["runs"] = [{k: v for k, v in run.items() if k not in TIMING} for run in record["runs"]]
    return rec


@pytest.fixture(scope="module")
def result():
    return finetune(MODELS["fake-a"], TARGETS["t1"], CFG)


def test_protocol_defaults():
    d = FinetuneConfig()
    assert (d.optimizer, d.lr, d.wd, d.epochs, d.seeds) == ("adamw", 1e-3, 1e-2, 10, (0, 1, 2))
    assert (d.n_train, d.n_test) == (None, None)
    assert d.lr_for("hed_vgg16") == 1e-4 and d.lr_for("conv4_random") == 1e-3
    for gone in ("lrs", "wds", "val_fraction", "seed"):
        assert not hasattr(d, gone)


def test_config_round_trips_through_json():
    cfg = dataclasses.replace(CFG, lr_overrides=(("b", 0.5), ("a", 2e-4)))
    d = json.loads(json.dumps(cfg.to_dict()))
    assert d["lr_overrides"] == {"a": 2e-4, "b": 0.5} and d["seeds"] == [0, 1]
    back = FinetuneConfig.from_dict(d)
    assert back.lr_for("a") == 2e-4 and back.lr_for("b") == 0.5 and back.lr_for("c") == CFG.lr
    assert back.to_dict() == cfg.to_dict()
    assert FinetuneConfig.from_dict(CFG.to_dict()) == CFG


def test_record_summarises_the_seeds(result):
    rec = result.record
    runs = rec["runs"]
    assert [r["seed"] for r in runs] == [0, 1] and rec["n_seeds"] == 2
    accs = np.array([r["test_acc"] for r in runs])
    assert rec["test_acc"] == pytest.approx(accs.mean(), abs=1e-15)
    assert rec["test_acc_sd"] == pytest.approx(accs.std(ddof=1), abs=1e-15)
    for r in runs:  # a share of the 12 test images
        assert 0 <= r["test_acc"] <= 1 and r["test_acc"] * 12 == pytest.approx(round(r["test_acc"] * 12))
        assert len(r["train_loss"]) == CFG.epochs and all(np.isfinite(r["train_loss"]))
        assert r["seconds"] > 0
    assert runs[0]["train_loss"] != runs[1]["train_loss"]  # the seed changes head and batch order
    for r, change in zip(runs, rec["loss_last_epoch_rel_change"]):
        before, last = r["train_loss"][-2:]
        assert change == pytest.approx(abs(last - before) / abs(before), rel=1e-12)
    assert (rec["n_train"], rec["n_test"], rec["n_classes"]) == (24, 12, 3)
    assert rec["iterations"] == 6 and rec["image_size"] == MODELS["fake-a"].image_size
    assert (rec["lr"], rec["wd"], rec["epochs"]) == (CFG.lr, CFG.wd, 2)
    assert (rec["model"], rec["target"], rec["device"]) == ("fake-a", "t1", "cpu")
    assert rec["config"] == CFG.to_dict() and rec["threads"] == torch.get_num_threads()
    json.dumps(rec, allow_nan=False)  # a valid JSON record, as the cell store writes it


def test_same_configuration_gives_the_same_record(result):
    again = finetune(MODELS["fake-a"], TARGETS["t1"], CFG)
    assert without_timing(again.record) == without_timing(result.record)
    assert again.snapshots.keys() == result.snapshots.keys()
    for key in result.snapshots:
        np.testing.assert_array_equal(again.snapshots[key], result.snapshots[key])


def test_each_seed_is_an_independent_run(result):
    """A seed's run does not depend on the seeds before it: (1,) reproduces the second of (0, 1)."""
    alone = finetune(MODELS["fake-a"], TARGETS["t1"], dataclasses.replace(CFG, seeds=(1,)))
    strip = lambda run: {k: v for k, v in run.items() if k != "seconds"}  # noqa: E731
    assert [strip(r) for r in alone.record["runs"]] == [strip(result.record["runs"][1])]
    assert alone.record["test_acc"] == result.record["runs"][1]["test_acc"]
    assert alone.record["test_acc_sd"] == 0.0 and alone.record["n_seeds"] == 1
    assert alone.record["loss_last_epoch_rel_change"] == result.record["loss_last_epoch_rel_change"][1:]


def test_learning_rate_override_applies_to_its_model_only():
    cfg = dataclasses.replace(CFG, epochs=1, seeds=(0,))
    hed = dataclasses.replace(MODELS["fake-a"], name="hed_vgg16")
    overridden = finetune(hed, TARGETS["t1"], cfg).record
    assert overridden["lr"] == 1e-4
    slow = finetune(MODELS["fake-a"], TARGETS["t1"], dataclasses.replace(cfg, lr=1e-4)).record
    default = finetune(MODELS["fake-a"], TARGETS["t1"], cfg).record
    assert overridden["runs"][0]["train_loss"] == slow["runs"][0]["train_loss"]
    assert overridden["runs"][0]["train_loss"] != default["runs"][0]["train_loss"]
    assert overridden["loss_last_epoch_rel_change"] == [None]  # one epoch: no change to report


def test_snapshots_follow_the_first_seed(result):
    snap, rec = result.snapshots, result.record
    k, p, d = snap["features"].shape
    assert (p, d) == (CFG.probe_size, MODELS["fake-a"].feature_dim)  # 8 <= 128: not reduced
    assert snap["features"].dtype == np.float16
    # fractions 0, 1/4, 1/2, 1 of the 6 iterations
    assert snap["steps"].tolist() == rec["snapshot_steps"] == [0, 2, 3, 6] and k == 4
    train = training_indices(len(TARGETS["t1"].y_train), CFG)
    assert np.array_equal(snap["indices"], train[probe_indices(len(train), CFG)])
    assert np.array_equal(snap["labels"], TARGETS["t1"].y_train[snap["indices"]])
    # step 0 is the pretrained backbone before any update (float16 rounding)
    net = MODELS["fake-a"].build().eval()
    x = MODELS["fake-a"].preprocess(TARGETS["t1"].x_train[snap["indices"]])
    with torch.no_grad():
        np.testing.assert_allclose(snap["features"][0], net(x).numpy(), atol=2e-3, rtol=2e-3)
    assert not np.allclose(snap["features"][-1], snap["features"][0], atol=1e-2)


def test_wide_snapshots_are_reduced_to_128_principal_components():
    wide = FakeZooModel("fake-wide", feature_dim=160, width=3)
    cfg = dataclasses.replace(CFG, epochs=1, seeds=(0,), n_train=None, probe_size=40)
    target = TARGETS["t2"]  # 60 training images
    snap = finetune(wide, target, cfg).snapshots
    assert snap["features"].shape == (4, 40, 128)
    x = wide.preprocess(target.x_train[snap["indices"]])
    with torch.no_grad():
        expected = reduce_features(wide.build().eval()(x).numpy())
    np.testing.assert_allclose(snap["features"][0], expected, atol=5e-3, rtol=5e-3)


def test_training_and_probe_subsets_are_seeded():
    idx = training_indices(60, CFG)
    assert len(idx) == 24 and len(set(idx)) == 24 and np.all(np.diff(idx) > 0) and idx.max() < 60
    assert np.array_equal(idx, training_indices(60, dataclasses.replace(CFG, epochs=9, seeds=(5,))))
    assert np.array_equal(training_indices(60, FinetuneConfig(n_train=None)), np.arange(60))
    assert np.array_equal(training_indices(20, CFG), np.arange(20))  # fewer than n_train: all
    probe = probe_indices(24, CFG)
    assert len(probe) == 8 and len(set(probe)) == 8 and probe.max() < 24
    assert np.array_equal(probe_indices(5, CFG), np.arange(5))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="batch_size 32 exceeds the 24 training images"):
        finetune(MODELS["fake-a"], TARGETS["t1"], dataclasses.replace(CFG, batch_size=32))
    with pytest.raises(ValueError, match="optimizer must be 'adamw' or 'sgd', got 'adam'"):
        finetune(MODELS["fake-a"], TARGETS["t1"], dataclasses.replace(CFG, optimizer="adam"))


def test_sgd_is_another_trajectory():
    cfg = dataclasses.replace(CFG, epochs=1, seeds=(0,), optimizer="sgd", lr=0.01)
    sgd = finetune(MODELS["fake-a"], TARGETS["t1"], cfg).record
    adamw = finetune(MODELS["fake-a"], TARGETS["t1"], dataclasses.replace(cfg, optimizer="adamw")).record
    assert np.isfinite(sgd["runs"][0]["train_loss"]).all()
    assert sgd["runs"][0]["train_loss"] != adamw["runs"][0]["train_loss"]


def test_images_are_preprocessed_one_batch_at_a_time(result):
    """A split is never preprocessed whole (at 224 px that is 0.6 MB per image), and batching
    changes nothing: the record equals the one of the module's run."""
    model = MODELS["fake-a"]
    sizes = []

    class Counting(FakeZooModel):
        def preprocess(self, images):
            sizes.append(len(images))
            return model.preprocess(images)

    counting = Counting(**{f.name: getattr(model, f.name) for f in dataclasses.fields(model)})
    res = finetune(counting, TARGETS["t1"], CFG)
    # training batches, the probe and the test split (each below the 256 of an evaluation batch)
    assert CFG.n_train not in sizes and set(sizes) <= {1, CFG.batch_size, CFG.probe_size, CFG.n_test}
    assert without_timing(res.record) == without_timing(result.record)


def test_per_image_test_correctness_is_kept_per_seed(result):
    from potran.bench.finetune import test_correctness

    correct = test_correctness(result.record)
    assert correct.shape == (2, 12) and correct.dtype == bool
    assert correct.mean(axis=1).tolist() == [r["test_acc"] for r in result.record["runs"]]


def test_cells_made_before_per_image_correctness_still_read():
    from pathlib import Path

    from potran.bench.finetune import test_correctness

    cell = Path(__file__).parents[1] / "data/groundtruth/cells/mobilenet_v2__fonts.json"
    old = json.loads(cell.read_text())
    assert "test_correct" not in old["runs"][0] and FinetuneConfig.from_dict(old["config"])
    with pytest.raises(ValueError, match="no per-image test correctness"):
        test_correctness(old)


def test_no_snapshot_fractions_means_no_snapshots():
    res = finetune(MODELS["fake-a"], TARGETS["t1"], dataclasses.replace(CFG, snapshot_fractions=()))
    assert res.snapshots == {} and res.record["snapshot_steps"] == []
