"""Batched feature extraction and its on-disk cache (potran.bench.features)."""

import numpy as np
import pytest
import torch

from potran.bench import features, store, zoo

MODEL = zoo.get("conv4_supervised")


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(10, 28, 28, 3), dtype=np.uint8)


def test_features_are_the_networks_output_in_batches(images):
    feats = features.extract_features(MODEL, images, batch_size=4, progress=False)
    assert feats.shape == (10, MODEL.feature_dim) and feats.dtype == np.float32
    with torch.no_grad():
        direct = MODEL.build()(MODEL.preprocess(images)).numpy()
    np.testing.assert_allclose(feats, direct, rtol=1e-4, atol=1e-5)


def test_second_call_reads_the_cache_without_running_the_network(images, tmp_path, monkeypatch):
    first = features.extract_features(MODEL, images, cache_dir=tmp_path, key="t/train",
                                      progress=False)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npy" and "t_train" in files[0].name

    def no_network(*args, **kwargs):
        raise AssertionError("the network ran although the features were cached")

    monkeypatch.setattr(zoo.ZooModel, "build", no_network)
    second = features.extract_features(MODEL, images, cache_dir=tmp_path, key="t/train",
                                       progress=False)
    np.testing.assert_array_equal(first, second)


def test_cache_key_changes_with_model_key_images_and_preprocessing(images, tmp_path):
    import dataclasses

    path = features.cache_path(MODEL, images, tmp_path, "t/train")
    others = [
        features.cache_path(zoo.get("conv4_simclr"), images, tmp_path, "t/train"),
        features.cache_path(MODEL, images, tmp_path, "t/test"),
        features.cache_path(MODEL, images[::-1], tmp_path, "t/train"),
        features.cache_path(dataclasses.replace(MODEL, image_size=64), images, tmp_path, "t/train"),
    ]
    assert len({path, *others}) == 5


def test_write_is_atomic(images, tmp_path, monkeypatch):
    def interrupted(src, dst):
        assert np.load(src).shape == (10, MODEL.feature_dim)  # complete, under a temporary name
        raise KeyboardInterrupt

    monkeypatch.setattr(store.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        features.extract_features(MODEL, images, cache_dir=tmp_path, key="k", progress=False)
    assert list(tmp_path.iterdir()) == []  # neither a half-written .npy nor the temporary file
    monkeypatch.undo()
    features.extract_features(MODEL, images, cache_dir=tmp_path, key="k", progress=False)
    assert [p.suffix for p in tmp_path.iterdir()] == [".npy"]


def test_rejects_a_non_positive_batch_size(images):
    with pytest.raises(ValueError, match="batch_size"):
        features.extract_features(MODEL, images, batch_size=0, progress=False)


def test_checkpoints_of_one_architecture_have_their_own_cache_and_features(images, tmp_path):
    early = zoo.get("conv4_supervised_p10")
    assert features.cache_path(early, images, tmp_path, "k") != features.cache_path(
        MODEL, images, tmp_path, "k")
    a = features.extract_features(MODEL, images, cache_dir=tmp_path, key="k", progress=False)
    b = features.extract_features(early, images, cache_dir=tmp_path, key="k", progress=False)
    assert len(list(tmp_path.iterdir())) == 2 and not np.allclose(a, b)


def test_no_images_give_an_empty_float32_array():
    feats = features.extract_features(MODEL, np.zeros((0, 32, 32, 3), np.uint8), progress=False)
    assert feats.shape == (0, MODEL.feature_dim) and feats.dtype == np.float32
