"""Pretraining of our conv4 models (potran.bench.zoo.pretrain): checkpoints, early stop, weights."""
import json

import numpy as np
import pytest
import torch

from potran.bench import zoo
from potran.bench.zoo import pretrain
from potran.bench.zoo.weights import sha256_of

N_PHOTOS = 4
BATCH = 32  # the runs below use batches of 32 instead of the zoo's 256: the same steps, 8x cheaper


@pytest.fixture(scope="module", autouse=True)
def small_batches():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pretrain, "BATCH", BATCH)
        yield


@pytest.fixture(scope="module")
def source(small_batches):
    """64 random crops = 2 batches of 32 per epoch; labels are 'photographs' 0..3."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2 * BATCH, 32, 32, 3), dtype=np.uint8)
    return images, np.arange(2 * BATCH, dtype=np.int64) % N_PHOTOS


def states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def full_run(source):
    return pretrain.pretrain("supervised", *source, epochs=2, checkpoints=(0.25, 0.5),
                             progress=False)


def test_checkpoints_are_copies_taken_along_the_run(full_run):
    trunk, losses, saved = full_run
    assert not trunk.training
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert sorted(saved) == [0.25, 0.5]  # after steps 1 and 2 of 4
    assert not states_equal(saved[0.25], saved[0.5])
    assert not states_equal(saved[0.5], trunk.state_dict())


def test_early_stop_is_the_same_trajectory(source, full_run):
    """stop_early ends at the last checkpoint with the schedule of the whole run, so its weights
    are bit for bit the full run's checkpoint (what ``--checkpoints-only`` relies on)."""
    _, full_losses, full_saved = full_run
    trunk, losses, saved = pretrain.pretrain("supervised", *source, epochs=2,
                                             checkpoints=(0.25, 0.5), stop_early=True,
                                             progress=False)
    assert sorted(saved) == [0.25, 0.5]
    for fraction in saved:
        assert states_equal(saved[fraction], full_saved[fraction])
    assert states_equal(trunk.state_dict(), full_saved[0.5])
    assert losses == full_losses[:1]  # the one complete epoch; the stopped one is not reported


def test_random_objective_is_the_committed_initialisation(source):
    trunk, losses, saved = pretrain.pretrain("random", *source, epochs=0, progress=False)
    assert (losses, saved) == ([], {})
    committed = zoo.get("conv4_random").build()
    assert states_equal(trunk.state_dict(), committed.state_dict())


@pytest.mark.parametrize("objective", ["simclr", "rotation", "denoising"])
def test_every_objective_trains_from_the_same_initialisation(source, objective):
    images, labels = source
    trunk, losses, _ = pretrain.pretrain(objective, images[:BATCH], labels[:BATCH], epochs=1,
                                         progress=False)
    assert len(losses) == 1 and np.isfinite(losses[0])
    init = zoo.get("conv4_random").build().state_dict()
    changed = [k for k, v in trunk.state_dict().items() if not torch.equal(v, init[k])]
    assert changed  # one optimiser step moved the trunk away from the shared initialisation
    with torch.no_grad():
        out = trunk(torch.zeros(2, 3, 32, 32))
    assert out.shape == (2, 128)


def test_unknown_objective(source):
    with pytest.raises(ValueError, match="Unknown objective 'jigsaw'; known: random, supervised"):
        pretrain.pretrain("jigsaw", *source, epochs=1, progress=False)


def test_checkpoint_names():
    assert pretrain.checkpoint_name("supervised", 1 / 3) == "conv4_supervised_p33"
    assert pretrain.checkpoint_name("rotation", 2 / 3) == "conv4_rotation_p67"
    assert pretrain.checkpoint_name("supervised", 0.1) == "conv4_supervised_p10"


@pytest.fixture
def small_source(monkeypatch, source):
    monkeypatch.setattr(pretrain, "load_pretrain_source", lambda return_labels=False: source)
    monkeypatch.setitem(pretrain.EPOCHS, "supervised", 2)
    monkeypatch.setitem(pretrain.CHECKPOINTS, "supervised", (0.25, 0.5))


def test_write_weights_reproduces_the_committed_random_init(tmp_path, small_source):
    manifest = pretrain.write_weights(tmp_path, ("random",), progress=False)
    path = tmp_path / "conv4_random.pt"
    assert sha256_of(path) == zoo.get("conv4_random").weights.sha256  # byte for byte
    assert manifest["files"]["conv4_random.pt"]["sha256"] == sha256_of(path)
    assert manifest["files"]["conv4_random.pt"]["losses"] == []
    assert json.loads((tmp_path / "MANIFEST.json").read_text()) == json.loads(json.dumps(manifest))


def test_checkpoints_only_writes_checkpoints_and_keeps_other_entries(tmp_path, small_source,
                                                                     full_run, capsys):
    (tmp_path / "MANIFEST.json").write_text(json.dumps(
        {"files": {"conv4_supervised.pt": {"sha256": "kept"}}}))
    manifest = pretrain.write_weights(tmp_path, ("supervised",), checkpoints_only=True,
                                      progress=False)
    written = sorted(p.name for p in tmp_path.glob("*.pt"))
    assert written == ["conv4_supervised_p25.pt", "conv4_supervised_p50.pt"]  # no final weights
    files = manifest["files"]
    assert files["conv4_supervised.pt"] == {"sha256": "kept"}  # entry of the untouched file
    for name in written:
        assert files[name]["sha256"] == sha256_of(tmp_path / name) and "losses" not in files[name]
    assert manifest["settings"]["checkpoints"]["supervised"] == (0.25, 0.5)
    assert json.loads((tmp_path / "MANIFEST.json").read_text())["files"] == files
    # the files hold the run's checkpoints
    _, _, saved = full_run
    state = torch.load(tmp_path / "conv4_supervised_p50.pt", weights_only=True)
    assert states_equal(state, saved[0.5])
    assert "conv4_supervised_p25.pt: " in capsys.readouterr().out
