"""potran.bench.paper_setting on tiny stand-ins written here in the real on-disk formats.

Two ResNet-50 checkpoints of random weights (ssl-transfer's format: a resnet50 state dict
without ``fc``), CIFAR-10 as python pickle batches, DTD and VOC2007 in their folder layouts and a
small ImageNet-val folder; models run at 32 px so that everything fits a loaded CPU. One target
(CIFAR-10) goes end to end through ``potran.bench.runner.run`` and the fine-tuning sweep.
"""
from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from fake_paper import DTD_CLASSES, VOC, VOC_SPLITS, write_paper_files  # noqa: E402

import potran  # noqa: E402
from potran.bench import paper_setting as ps  # noqa: E402
from potran.bench.runner import cell_features, run  # noqa: E402
from potran.bench.store import CellStore  # noqa: E402
from potran.bench.zoo import ChecksumError  # noqa: E402
from potran.ped import GeneralStats  # noqa: E402

MODELS = ("byol", "swav")
SIZE = 32  # the paper's 224 px is too slow for a test


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Checkpoints, targets and the general set, written once for the module."""
    paths = write_paper_files(tmp_path_factory.mktemp("paper"), MODELS)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield paths
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def setting(files):
    return ps.benchmark(files["ckpt"], files["data"], files["imagenet"], models=MODELS, targets=("cifar10",),
                        metrics=("logme",), image_size=SIZE, verify=False, batch_size=4)


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to reach the network fails (and fails the test where none is expected)."""
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


# --------------------------------------------------------------------------- missing files, download

def test_missing_files_are_listed_in_one_error(tmp_path, offline):
    expected = len(ps.MODELS) + sum(len(v) for v in ps.REQUIRED.values()) + 1
    with pytest.raises(ValueError) as err:
        ps.check_paper_setting(tmp_path / "ckpt", tmp_path / "data", tmp_path / "imagenet")
    message = str(err.value)
    assert f"missing {expected} file(s) or folder(s)" in message
    for model in ps.MODELS:
        assert str(tmp_path / "ckpt" / f"{model}.pth") in message
    for target, required in ps.REQUIRED.items():
        for rel, _ in required:
            assert f"{target}: {tmp_path / 'data' / rel}" in message
    assert f"imagenet-val: {tmp_path / 'imagenet'}" in message
    # benchmark() and paper_splits() check before reading anything
    with pytest.raises(ValueError, match=f"missing {expected} file"):
        ps.benchmark(tmp_path / "ckpt", tmp_path / "data", tmp_path / "imagenet")
    with pytest.raises(ValueError, match="(?s)missing 7 file.*cifar-10-batches-py/data_batch_1"):
        ps.paper_splits("cifar10", tmp_path / "data")
    (tmp_path / "imagenet").mkdir()
    assert ps.missing_files(None, None, tmp_path / "imagenet") == [
        f"imagenet-val: no image file (.jpeg, .jpg, .png) under {tmp_path / 'imagenet'}"]
    with pytest.raises(ValueError, match="Unknown name"):
        ps.check_paper_setting(None, tmp_path, targets=("imagenet",))


def test_download_is_explicit_and_fails_clearly_offline(tmp_path, offline):
    with pytest.raises(RuntimeError, match=r"Downloading dtd into .* failed .*offline"):
        ps.paper_splits("dtd", tmp_path, download=True)
    with pytest.raises(RuntimeError, match=r"Downloading cifar10 .* failed"):
        ps.benchmark(tmp_path / "ckpt", tmp_path, tmp_path, targets=("cifar10",), download=True)


# --------------------------------------------------------------------------- targets and models

def test_targets_read_from_their_layouts(files, offline):
    cifar = ps.paper_splits("cifar10", files["data"], verify=False)
    assert cifar.sizes() == {"train": 12, "val": 3, "test": 6, "trainval": 15, "all": 21}
    keys = [ref.key for ref in cifar.images["all"]]
    assert len(set(keys)) == 21  # every image once: the test split is not the training set again
    assert sum("cifar10/test@" in k for k in keys) == 6 and sum("cifar10/train@" in k for k in keys) == 15
    assert {r.key for r in cifar.images["train"]} | {r.key for r in cifar.images["val"]} == \
        {r.key for r in cifar.images["trainval"]}
    assert cifar.classes[:3] == ("airplane", "automobile", "bird")
    np.testing.assert_array_equal(np.bincount(cifar.labels["all"]), [7, 7, 7])
    ref = cifar.images["test"][4]
    pixels = files["cifar"]["test_batch"]["data"][ref.index].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(ref.load()), pixels)
    assert cifar.labels["test"][4] == 1
    with pytest.raises(RuntimeError, match="corrupted"):  # torchvision's md5 checks by default
        ps.paper_splits("cifar10", files["data"])

    dtd = ps.paper_splits("dtd", files["data"])
    assert dtd.classes == DTD_CLASSES and dtd.sizes()["all"] == 12 and dtd.sizes()["trainval"] == 8
    np.testing.assert_array_equal(dtd.labels["test"], [0, 0, 1, 1])
    target = dtd.target("train", "val")
    assert target.x_train.dtype == object and len(target.x_test) == 4

    voc = ps.paper_splits("voc2007", files["data"])
    assert voc.classes == ps.VOC_CLASSES
    for split, ids in VOC_SPLITS.items():
        assert voc.labels[split].tolist() == [VOC[i][1] for i in ids]
    assert voc.images["test"][0].load().size == (36, 30)

    sun = ps.paper_splits("sun397", files["data"])  # partition 01, not every image on disk
    assert sun.classes == ("abbey", "bedroom") and sun.sizes()["all"] == 8
    assert sun.labels["test"].tolist() == [0, 0, 1, 1] and len(sun.images["val"]) == 0

    caltech = ps.paper_splits("caltech101", files["data"])  # BACKGROUND_Google is dropped
    assert caltech.classes == ("Faces", "accordion")
    assert caltech.sizes() == {"train": 5, "val": 1, "test": 6, "trainval": 6, "all": 12}
    np.testing.assert_array_equal(np.bincount(caltech.labels["trainval"]), [3, 3])
    gray = [r for r in caltech.images["all"] if r.index in (0, 6)]
    assert all(r.load().mode == "RGB" for r in gray)


def test_models_preprocess_and_weights(files, tmp_path):
    model = ps.paper_models(files["ckpt"], names=("byol",), image_size=SIZE)["byol"]
    assert model.feature_dim == 2048 and model.weights.sha256 == hashlib.sha256(
        (files["ckpt"] / "byol.pth").read_bytes()).hexdigest()
    dtd = ps.paper_splits("dtd", files["data"])
    x = model.preprocess(dtd.images["train"][:2])  # 24 x 40 images: shorter side to 32, centre crop
    assert x.shape == (2, 3, SIZE, SIZE) and x.dtype == torch.float32
    pixels = np.stack([np.asarray(r.load()) for r in dtd.images["train"][:2]])
    torch.testing.assert_close(model.preprocess(pixels), x)
    with torch.inference_mode():
        assert model.build()(x).shape == (2, 2048)
    # user files: the sha256 is recorded, a later change is caught, a wrong format explained
    (tmp_path / "byol.pth").write_bytes(b"not a checkpoint")
    bad = ps.paper_models(tmp_path, names=("byol",))["byol"]
    with pytest.raises(ValueError, match="cannot be read as a torch checkpoint"):
        bad.build()
    with open(tmp_path / "byol.pth", "ab") as f:
        f.write(b"!")
    with pytest.raises(ChecksumError, match="changed since it was hashed"):
        bad.build()
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, tmp_path / "byol.pth")
    with pytest.raises(ValueError, match="resnet50 without fc"):
        ps.paper_models(tmp_path, names=("byol",))["byol"].build()
    with pytest.raises(ValueError, match=r"(?s)Missing checkpoint.*swav\.pth"):
        ps.paper_models(tmp_path, names=("byol", "swav"))


# --------------------------------------------------------------------------- general set, PED

def test_moments_merge_batches_exactly():
    rng = np.random.default_rng(3)
    batches = [rng.normal(5, 2, (n, 6)) for n in (3, 1, 4, 2)]
    full = np.concatenate(batches)
    m = ps.GeneralMoments.from_batches(iter(batches))
    assert m.n == 10
    np.testing.assert_allclose(m.mean, full.mean(0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.std, full.std(0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.cov, np.cov(full.T, bias=True), rtol=0, atol=1e-12)
    s = m.surrogate()
    assert s.shape == (12, 6)
    P = rng.normal(size=(6, 2))
    np.testing.assert_allclose(s.mean(0), full.mean(0), atol=1e-10)
    np.testing.assert_allclose((s @ P).std(0), (full @ P).std(0), atol=1e-10)


def test_ped_takes_general_statistics(small):
    X, y, G = small
    stats = GeneralStats.from_features(G)
    for metric in ("logme", "sfda"):
        with_stats = potran.score(X, y, metric, ped=True, general=stats)
        assert with_stats == potran.score(X, y, metric, ped=True, general=G)
    moved = potran.simulate(X, y, GeneralStats(G.mean(0), G.std(0))).features
    np.testing.assert_allclose(moved, potran.simulate(X, y, G).features, rtol=1e-12)
    with pytest.raises(ValueError, match="statistics have 12 features but X has 3"):
        potran.simulate(X[:, :3], y, stats)
    with pytest.raises(ValueError, match="std must be >= 0"):
        GeneralStats(np.zeros(3), -np.ones(3))
    with pytest.raises(ValueError, match="differ in length"):
        GeneralStats(np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="NaN or Inf"):
        GeneralStats(np.array([0.0, np.nan]), np.ones(2))
    with pytest.raises(ValueError, match="ped=False"):
        potran.score(X, y, "logme", general=stats)


def test_ped_parity_cases_with_general_statistics(case):
    """The official PED outputs (tests/parity) come out of both forms of the general set."""
    data, ref = case
    matrix = potran.simulate(data["X"], data["y"], data["G"])
    stats = potran.simulate(data["X"], data["y"], GeneralStats.from_features(data["G"]))
    assert np.abs(matrix.features - data["X_moved_ped"]).max() < 1e-12
    np.testing.assert_array_equal(stats.features, matrix.features)
    assert stats.trace.to_dict() == matrix.trace.to_dict()
    general = GeneralStats.from_features(data["G"])
    value = potran.score(data["X"], data["y"], "logme", ped=True, general=general)
    assert value == pytest.approx(ref["ped_logme"], rel=1e-10)


def test_general_statistics_in_one_streaming_pass(files, offline):
    model = ps.paper_models(files["ckpt"], names=("byol",), image_size=SIZE)["byol"]
    general = ps.general_set(files["imagenet"])
    assert len(general) == 7 and all(f.endswith(".JPEG") for f in general.files)
    moments = ps.general_moments(model, general, batch_size=3, cache_dir=files["cache"])
    feats = ps.extract_features(model, general.refs(), batch_size=3)  # the same batches, held whole
    assert moments.n == 7 and feats.shape == (7, 2048)
    full = feats.astype(np.float64)
    np.testing.assert_allclose(moments.mean, full.mean(0), rtol=0, atol=1e-10)
    np.testing.assert_allclose(moments.std, full.std(0), rtol=0, atol=1e-10)
    again = ps.general_moments(model, general, batch_size=3, cache_dir=files["cache"])  # from the cache
    np.testing.assert_array_equal(again.cov, moments.cov)
    stats = ps.general_stats(model, general, cache_dir=files["cache"])
    rng = np.random.default_rng(0)
    X = full.mean(0) + rng.normal(size=(12, 2048)) * (full.std(0) + 0.1)
    y = np.arange(12) % 3
    np.testing.assert_allclose(potran.score(X, y, "logme", ped=True, general=stats),
                               potran.score(X, y, "logme", ped=True, general=full), rtol=1e-9)


# --------------------------------------------------------------------------- end to end

def test_the_definition_reads_the_settings_own_sources(setting, offline):
    """``setting.bench`` carries the setting's sources, so the runner and the pages reach the
    paper's checkpoints, splits and ImageNet folder without further arguments."""
    src = setting.bench.sources
    assert src == setting.sources and replace(setting.bench, metrics=("sfda",)).sources == src
    assert src.get_model("byol") is setting.get_model("byol")
    assert src.load_target("cifar10").y_train.tolist() == setting.load_target("cifar10").y_train.tolist()
    assert src.load_general() is setting.general
    with pytest.raises(ValueError, match="Unknown model 'resnet50'; this setting has byol"):
        src.get_model("resnet50")


@pytest.mark.slow  # ResNet-50s on CPU: minutes
def test_scoring_run_on_the_paper_setting(setting, files, tmp_path, offline):
    assert setting.bench.score_dim == 2048 and setting.bench.models == MODELS
    truth = pd.DataFrame({"model": MODELS, "target": "cifar10", "test_acc": [0.9, 0.8]})
    assert setting.bench.sources == setting.sources   # the definition reads the setting's files
    scores, tau = run(setting.bench, tmp_path / "out", groundtruth=truth, cache_dir=files["cache"],
                      progress=False)
    assert len(scores) == 4 and (scores.error.fillna("") == "").all(), scores
    assert np.isfinite(scores.score).all() and set(scores.model) == set(MODELS)
    assert (tmp_path / "out" / "cells" / "byol__cifar10.json").is_file()
    assert tau is not None and (tau.n_models == 2).all()
    # the runner's general matrix stands for the streamed statistics: same PED score
    arrays = cell_features(setting.bench, "byol", "cifar10", cache_dir=files["cache"])
    assert arrays["X"].shape == (21, 2048)
    assert arrays["y"].tolist() == setting.load_target("cifar10").y_train.tolist()
    moments = ps.general_moments(setting.get_model("byol"), setting.general, cache_dir=files["cache"])
    np.testing.assert_allclose(arrays["G"].std(0), moments.std, rtol=1e-8, atol=1e-10)
    direct = potran.score(arrays["X"], arrays["y"], "logme", ped=True, general=moments.stats())
    ran = scores[(scores.model == "byol") & (scores.perturbation == "ped")].score.item()
    assert ran == pytest.approx(direct, rel=1e-8)


@pytest.mark.slow  # ResNet-50s on CPU: minutes
def test_finetuning_sweep_is_resumable(setting, files, tmp_path, monkeypatch, offline):
    assert len(ps.SWEEP_GRID) == 20 and ps.SWEEP_GRID[0] == (0.1, 0.0)
    assert ps.setting_name(*ps.SWEEP_GRID[1]) == "lr0.1_wd1e-05"
    assert ps.sweep._setting_config(ps.FINETUNE, 0.1, 0.0, 50000, 5000).epochs == 13  # 390 batches/epoch
    grid = ((0.1, 0.0), (1e-3, 1e-6 / 1e-3))
    config = replace(ps.FINETUNE, batch_size=4, probe_size=4, snapshot_fractions=(0.0, 1.0))
    table = setting.finetune_grid(tmp_path, models=("byol",), targets=("cifar10",), grid=grid,
                                  config=config, steps=None, progress=False)
    for lr, wd in grid:
        assert (tmp_path / "sweep" / "cells" / f"byol__cifar10__{ps.setting_name(lr, wd)}.json").is_file()
    record = CellStore(tmp_path).load("byol", "cifar10")
    tried = record["selection"]["tried"]
    best = max(tried, key=lambda t: t["val_acc"])
    assert record["selection"]["best"] == best and (record["lr"], record["wd"]) == (best["lr"], best["wd"])
    assert (record["n_train"], record["n_test"], record["evaluated_on"]) == (15, 6, "test")
    assert len(table) == 1 and table.test_acc.item() == record["test_acc"]
    assert (tmp_path / "accuracy.csv").is_file() and len(setting.sweep_table(tmp_path)) == 2
    assert all(t["val_acc"] in (0.0, 1 / 3, 2 / 3, 1.0) for t in tried)  # 3 validation images

    def refuse(*args, **kwargs):
        raise AssertionError("a finished cell was fine-tuned again")

    monkeypatch.setattr(ps.sweep, "finetune", refuse)
    again = setting.finetune_grid(tmp_path, models=("byol",), targets=("cifar10",), grid=grid,
                                  config=config, steps=None, progress=False)
    pd.testing.assert_frame_equal(again, table)
    with pytest.raises(ValueError, match="another configuration"):
        setting.finetune_grid(tmp_path, models=("byol",), targets=("cifar10",), grid=grid,
                              config=replace(config, momentum=0.5), steps=None, progress=False)
