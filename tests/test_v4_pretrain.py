"""The v4 pretraining driver (potran.bench.v4.pretrain) on a tiny encoder and pool."""
import json

import numpy as np
import pytest
import torch

from potran.bench.v4 import pretrain as pt
from potran.bench.v4.pool import Pool

TINY = {"widths": (4, 8), "blocks": (1, 1)}


def _images(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8), rng.integers(0, 3, n)


FAST = ("simclr", "moco", "deepcluster")
SLOW = ("insdis", "byol", "barlow_twins", "vicreg", "swav", "pcl", "rotation", "jigsaw",
        "inpainting", "supervised")


@pytest.mark.parametrize("name", [*FAST, *(pytest.param(n, marks=pytest.mark.slow) for n in SLOW)])
def test_stopped_and_resumed_run_ends_with_the_same_weights(tmp_path, name):
    x, y = _images()
    kw = dict(epochs=3, arch=TINY, batch=16, progress=False)
    whole, losses, _ = pt.pretrain(name, x, y, **kw)
    ckpt = tmp_path / f"{name}.ckpt"
    _, first, _ = pt.pretrain(name, x, y, checkpoint=ckpt, stop_after=1, **kw)
    assert len(first) == 1 and ckpt.exists()
    resumed, again, _ = pt.pretrain(name, x, y, checkpoint=ckpt, **kw)
    assert again == pytest.approx(losses, rel=0, abs=0)
    for (k, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    # the input is not modified, and the weights moved from the shared initialisation
    torch.testing.assert_close(torch.from_numpy(x), torch.from_numpy(_images()[0]))
    init = pt.init_encoder(arch=TINY).state_dict()
    assert not torch.equal(init["stem.0.weight"], whole.state_dict()["stem.0.weight"])


def test_every_model_starts_from_one_initialisation():
    a, b = pt.init_encoder(arch=TINY), pt.init_encoder(arch=TINY)
    for (k, u), (_, v) in zip(a.state_dict().items(), b.state_dict().items()):
        torch.testing.assert_close(u, v, rtol=0, atol=0, msg=k)
    x, y = _images()
    random, losses, _ = pt.pretrain("random", x, y, arch=TINY, progress=False)
    assert losses == [] and torch.equal(random.state_dict()["stem.0.weight"],
                                        a.state_dict()["stem.0.weight"])


def test_warmup_then_cosine_schedule():
    total = 100
    lr = [pt._lr_at(s, total) for s in range(total)]
    warm = round(pt.WARMUP * total)
    assert lr[0] == pytest.approx(1 / warm) and lr[warm - 1] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lr[warm:], lr[warm + 1:]))  # decays after the warm-up
    assert lr[-1] < 0.01


def test_bad_input_and_foreign_checkpoint_say_what_is_wrong(tmp_path):
    x, y = _images()
    with pytest.raises(ValueError, match="Unknown objective 'nope'"):
        pt.pretrain("nope", x, y, arch=TINY, progress=False)
    with pytest.raises(ValueError, match=r"\(N, S, S, 3\) uint8"):
        pt.pretrain("simclr", x.astype(np.float32), y, arch=TINY, progress=False)
    ckpt = tmp_path / "a.ckpt"
    pt.pretrain("simclr", x, y, epochs=2, arch=TINY, batch=16, checkpoint=ckpt, stop_after=1,
                progress=False)
    with pytest.raises(ValueError, match="is of another run"):
        pt.pretrain("simclr", x, y, epochs=5, arch=TINY, batch=16, checkpoint=ckpt,
                    progress=False)


def test_write_model_writes_weights_log_and_manifest(tmp_path, monkeypatch):
    monkeypatch.setattr(pt, "ARCH", TINY)
    monkeypatch.setattr(pt, "BATCH", 16)
    monkeypatch.setattr(pt, "PROBE_TRAIN", 30)
    monkeypatch.setattr(pt, "init_encoder", lambda seed=0, arch=None: _tiny(seed))
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (120, 16, 16, 3), dtype=np.uint8)
    labels = np.arange(120) % 3
    held = np.zeros(120, bool)
    held[::4] = True
    pool = Pool(images, labels, ("a", "b", "c"), ("photo",) * 3, held)
    entry = pt.write_model("rotation", tmp_path, epochs=2, checkpoint_dir=tmp_path / "ck",
                           pool=pool, progress=False)
    weights = tmp_path / "weights" / "rotation.pt"
    assert entry["sha256"] == pt._sha256(weights)
    state = torch.load(weights, weights_only=True)
    assert "mean" in state and "stem.0.weight" in state
    log = (tmp_path / "logs" / "rotation.csv").read_text().splitlines()
    assert log[0] == "epoch,loss,seconds" and len(log) == 3
    manifest = json.loads((tmp_path / "MANIFEST.json").read_text())
    assert set(manifest["models"]) == {"random", "rotation"}
    assert manifest["settings"]["pool"]["train"] == 90
    assert 0 <= entry["probe"]["test_acc"] <= 1 and entry["probe"]["n_test"] == 30
    assert not (tmp_path / "ck" / "rotation.ckpt").exists()  # removed once written
    table = pt.probe_table(manifest).splitlines()
    assert len(table) == 4 and table[2].startswith("| random | control | 0 |")
    acc, base = entry["probe"]["test_acc"], manifest["models"]["random"]["probe"]["test_acc"]
    assert f"| {acc:.3f} | {acc - base:+.3f} |" in table[3]


def test_runner_knows_every_objective():
    import sys
    from pathlib import Path

    from potran.bench.v4.objectives import OBJECTIVES

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import v4_pretrain

    assert set(v4_pretrain.COST_ORDER) == {"random", *OBJECTIVES}
    assert v4_pretrain.COST_ORDER[0] == "random"


def _tiny(seed=0):
    torch.manual_seed(seed)
    from potran.bench.v4.resnet import ResNet

    return ResNet(TINY["widths"], TINY["blocks"])


# --- the committed zoo (data/bench_v4) ----------------------------------------------------------

def _committed():
    from potran.resources import data_path

    root = data_path("bench_v4")
    return root, json.loads((root / "MANIFEST.json").read_text())


def test_committed_weights_match_their_manifest_and_load():
    from potran.bench.v4.resnet import resnet

    root, manifest = _committed()
    assert "random" in manifest["models"]
    for name, entry in manifest["models"].items():
        path = root / entry["file"]
        assert pt._sha256(path) == entry["sha256"], name
        net = resnet()
        net.load_state_dict(torch.load(path, weights_only=True), strict=True)
        assert net.feat_dim == manifest["settings"]["feat_dim"]
        if entry["epochs"]:
            log = (root / "logs" / f"{name}.csv").read_text().splitlines()
            assert len(log) == entry["epochs"] + 1, name
            assert float(log[-1].split(",")[1]) == pytest.approx(entry["final_loss"], rel=1e-4)


def test_committed_random_control_is_the_shared_initialisation():
    root, manifest = _committed()
    state = torch.load(root / manifest["models"]["random"]["file"], weights_only=True)
    for k, v in pt.init_encoder().state_dict().items():
        torch.testing.assert_close(state[k], v, rtol=0, atol=0, msg=k)
