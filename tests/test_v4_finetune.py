"""One run of benchmark v4's fine-tuning protocol (potran.bench.v4.finetune)."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from potran.bench.finetune import unpack_correctness
from potran.bench.v4 import finetune as ft
from potran.bench.v4.resnet import resnet

TINY = ((4, 8), (1, 1))


def _target(n=256, n_test=60, side=32, seed=0):
    """Three classes told apart by their mean colour: a target a tiny network learns."""
    rng = np.random.default_rng(seed)

    def split(m):
        y = np.arange(m) % 3
        x = rng.integers(0, 80, (m, side, side, 3))
        x[np.arange(m), :, :, y] += 150
        return x.astype(np.uint8), y

    x, y = split(n)
    xt, yt = split(n_test)
    return SimpleNamespace(name="toy", x_train=x, y_train=y, x_test=xt, y_test=yt,
                           classes=("a", "b", "c"))


def _encoder():
    torch.manual_seed(0)
    return resnet(*TINY)


def test_to_tensor_pads_28_pixel_images_with_a_black_border_and_scales_to_unit():
    x = np.full((2, 28, 28, 3), 255, np.uint8)
    t = ft.to_tensor(x)
    assert t.shape == (2, 3, 32, 32) and t.dtype == torch.float32
    assert float(t[:, :, 2:30, 2:30].min()) == 1.0 and float(t[:, :, :2].max()) == 0.0
    assert float(t[:, :, :, 30:].max()) == 0.0
    with pytest.raises(ValueError, match="uint8 of shape"):
        ft.to_tensor(x.astype(float))
    with pytest.raises(ValueError, match="square with an even side"):
        ft.to_tensor(np.zeros((1, 27, 27, 3), np.uint8))


def test_validation_split_is_stratified_disjoint_and_seeded():
    y = np.repeat(np.arange(5), [10, 20, 30, 2, 40])
    fit, val = ft.validation_split(y, share=0.2, seed=3)
    assert len(np.intersect1d(fit, val)) == 0 and len(fit) + len(val) == len(y)
    counts = np.bincount(y[val], minlength=5)
    assert counts.tolist() == [2, 4, 6, 1, 8]        # 20 % of each class, at least one
    again = ft.validation_split(y, share=0.2, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((fit, val), again))
    assert not np.array_equal(val, ft.validation_split(y, share=0.2, seed=4)[1])


def test_a_run_learns_a_learnable_target_is_deterministic_and_leaves_its_inputs_alone():
    target, enc = _target(), _encoder()
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    x_before = target.x_train.copy()
    fit, val = ft.validation_split(target.y_train)
    kw = dict(lr=3e-2, wd=1e-2, epochs=6, seed=0, fit=fit, val=val, snapshot_fractions=(0, 0.5, 1),
              snapshot_images=np.arange(10))
    rec, snaps = ft.finetune_run(enc, target, **kw)
    assert len(rec["train_loss"]) == len(rec["val_acc"]) == 6 and rec["n_fit"] == len(fit)
    assert rec["train_loss"][-1] < 0.5 * rec["train_loss"][0]
    assert rec["test_acc"] > 0.9 and not ft.not_trained(rec["train_loss"][-1], rec["train_acc"][-1], 3)
    correct = unpack_correctness(rec["test_correct"], rec["n_test"])
    assert correct.mean() == pytest.approx(rec["test_acc"], abs=1e-6)
    steps = rec["steps"]
    assert sorted(snaps) == [0, steps // 2, steps] and snaps[0].shape == (10, 8)
    again, _ = ft.finetune_run(enc, target, **kw)
    assert again["train_loss"] == rec["train_loss"] and again["test_correct"] == rec["test_correct"]
    other, _ = ft.finetune_run(enc, target, **{**kw, "seed": 1})
    assert other["train_loss"] != rec["train_loss"]
    for k, v in enc.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0, msg=k)
    assert np.array_equal(target.x_train, x_before)


def test_a_run_refuses_too_few_images_and_bad_settings():
    target, enc = _target(n=40), _encoder()
    with pytest.raises(ValueError, match="toy: 40 training images, fewer than a batch"):
        ft.finetune_run(enc, target, lr=1e-3, wd=0, epochs=1, seed=0)
    with pytest.raises(ValueError, match="epochs >= 1"):
        ft.finetune_run(enc, _target(), lr=1e-3, wd=0, epochs=0, seed=0)


def test_levelled_off_compares_the_last_window_with_the_one_before():
    assert ft.levelled_off([2, 1.5, 1.2, 1.0, 0.50, 0.500, 0.499, 0.501, 0.500, 0.499])
    assert not ft.levelled_off([2, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    # near zero the absolute tolerance decides: 0.004 -> 0.002 is a halving but levelled off
    assert ft.levelled_off([1, 0.5, 0.1, 0.005, 0.004, 0.004, 0.003, 0.002, 0.002])
    assert not ft.levelled_off([1, 0.5, 0.4])                # too short to tell
    assert not ft.levelled_off([1, 0.5, 0.4, 0.4, float("nan"), 0.4])


def test_not_trained_flags_a_loss_near_chance_or_an_accuracy_below_twice_chance():
    assert ft.not_trained(0.95 * math.log(40), 0.5, 40)      # HED on emoji_id in v3: loss 3.44
    assert ft.not_trained(0.1, 0.04, 40)
    assert not ft.not_trained(0.5 * math.log(40), 0.5, 40)
