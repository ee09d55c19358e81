"""Features of one's own model (potran.extract, ``potran extract``), offline: random-weight
torchvision models and a tiny TorchScript module on folders of generated PNGs."""
import json

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

import potran
from potran.cli import main
from potran.extract import Preprocessing, torchscript_model, torchvision_backbone, write_features

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:FutureWarning")  # TorchScript is asked for

CLASSES = ("cat", "dog", "owl")
SMALL = Preprocessing(image_size=32)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """images/<class>/<i>.png (3 classes x 4, 30 x 36 px) and general/ (5 images in any layout)."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for c, name in enumerate(CLASSES):
        (root / "images" / name).mkdir(parents=True)
        for i in range(4):
            pixels = np.clip(rng.normal(60 + 70 * c, 30, (30, 36, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / "images" / name / f"{i}.png")
    (root / "general" / "sub").mkdir(parents=True)
    for i in range(5):
        where = root / "general" / ("sub" if i % 2 else "") / f"g{i}.png"
        Image.fromarray(rng.integers(0, 255, (40, 33, 3), dtype=np.uint8)).save(where)
    (root / "general" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    """A random-weight ResNet-18 with a 7-class head, its state-dict file and its file without fc."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=7).eval()
    folder = tmp_path_factory.mktemp("weights")
    torch.save(model.state_dict(), folder / "resnet18.pth")
    torch.save({k: v for k, v in model.state_dict().items() if not k.startswith("fc.")},
               folder / "resnet18_nofc.pth")
    return model, folder


def reference_batch(folders, names):
    """The preprocessing by hand: shorter side to 37 (32 x 8 / 7), centre 32 crop, ImageNet norm."""
    from torchvision.transforms import functional as TF

    out = []
    for path in names:
        image = TF.resize(Image.open(folders / path).convert("RGB"), 37)
        tensor = TF.to_tensor(TF.center_crop(image, 32))
        out.append(TF.normalize(tensor, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]))
    return torch.stack(out)


def penultimate(model, x):
    """ResNet's forward pass without fc, layer by layer."""
    with torch.no_grad():
        x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        x = model.layer4(model.layer3(model.layer2(model.layer1(x))))
        return torch.flatten(model.avgpool(x), 1).numpy()


def test_resnet_penultimate_features_labels_and_general_set(folders, resnet, tmp_path):
    model, weights = resnet
    backbone = torchvision_backbone("resnet18", weights / "resnet18.pth")
    arrays = write_features(tmp_path / "r18.npz", backbone, folders / "images", general=folders / "general",
                            preprocessing=SMALL, batch_size=5, progress=False)
    with np.load(tmp_path / "r18.npz") as saved:
        assert sorted(saved.files) == ["G", "X", "classes", "files", "y"]
        for key in saved.files:
            np.testing.assert_array_equal(saved[key], arrays[key])
    assert arrays["classes"].tolist() == list(CLASSES)
    assert arrays["y"].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert arrays["files"].tolist() == [f"{c}/{i}.png" for c in CLASSES for i in range(4)]
    assert arrays["X"].dtype == np.float32 and arrays["X"].shape == (12, 512)
    expected = penultimate(model, reference_batch(folders / "images", arrays["files"]))
    np.testing.assert_allclose(arrays["X"], expected, rtol=1e-5, atol=1e-6)
    general = sorted(str(p.relative_to(folders / "general")) for p in (folders / "general").rglob("*.png"))
    assert arrays["G"].shape == (5, 512)
    np.testing.assert_allclose(arrays["G"], penultimate(model, reference_batch(folders / "general", general)),
                               rtol=1e-5, atol=1e-6)


def test_state_dict_without_head_or_wrapped_gives_the_same_features(folders, resnet, tmp_path):
    model, weights = resnet
    wrapped = {"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}
    torch.save(wrapped, tmp_path / "wrapped.pth")
    runs = [write_features(tmp_path / f"{i}.npz", torchvision_backbone("resnet18", path), folders / "images",
                           preprocessing=SMALL, progress=False)["X"]
            for i, path in enumerate([weights / "resnet18.pth", weights / "resnet18_nofc.pth",
                                      tmp_path / "wrapped.pth"])]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])


def test_mobilenet_loses_its_last_classifier_layer(tmp_path):
    torch.save(torchvision.models.mobilenet_v3_small().state_dict(), tmp_path / "w.pth")
    backbone = torchvision_backbone("mobilenet_v3_small", tmp_path / "w.pth")
    assert isinstance(backbone.classifier[-1], nn.Identity)
    assert isinstance(backbone.classifier[0], nn.Linear)  # the penultimate layer stays
    with torch.no_grad():
        assert backbone(torch.zeros(2, 3, 32, 32)).shape == (2, 1024)


def _family(name, module):
    net = nn.Module()
    net.body = nn.Conv2d(3, 4, 1)
    setattr(net, name, module)
    return net


@pytest.mark.parametrize("name,module,removed", [
    ("fc", nn.Linear(4, 9), "fc"),                                            # ResNet, RegNet, ...
    ("classifier", nn.Sequential(nn.Dropout(), nn.Linear(4, 9)), "classifier.1"),  # VGG, MobileNet, ...
    ("classifier", nn.Linear(4, 9), "classifier"),                            # DenseNet
    ("head", nn.Linear(4, 9), "head"),                                        # Swin
    ("heads", nn.Sequential(nn.Linear(4, 9)), "heads"),                       # ViT
])
def test_the_classifier_removed_per_family(name, module, removed):
    from potran.extract import _remove_classifier

    net = _family(name, module)
    assert _remove_classifier(net, "x") == removed
    assert not any(isinstance(m, nn.Linear) for m in net.modules())


def test_torchscript_output_is_taken_as_it_is(folders, tmp_path):
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1)).eval()  # (N, 6, 1, 1)
    torch.jit.save(torch.jit.script(net), tmp_path / "tiny.pt")
    arrays = write_features(tmp_path / "tiny.npz", torchscript_model(tmp_path / "tiny.pt"),
                            folders / "images", preprocessing=SMALL, batch_size=64, progress=False)
    with torch.no_grad():
        expected = net(reference_batch(folders / "images", arrays["files"])).flatten(1).numpy()
    assert arrays["X"].shape == (12, 6)
    np.testing.assert_allclose(arrays["X"], expected, rtol=1e-5, atol=1e-6)


class Pair(nn.Module):
    def forward(self, x):
        return x.mean((2, 3)), x.amax((2, 3))


@pytest.mark.parametrize("make,message", [
    (lambda p: torchvision_backbone("resnet18", p / "absent.pth"),
     "no such weights file: .*absent.pth \\(potran never downloads weights\\)"),
    (lambda p: torchvision_backbone("resnet-18", p / "absent.pth"),
     "unknown torchvision classification architecture 'resnet-18' \\(did you mean resnet18"),
    (lambda p: torchvision_backbone("squeezenet1_0", _save(p, torchvision.models.squeezenet1_0())),
     "'squeezenet1_0' has no final linear classifier .* TorchScript file instead"),
    (lambda p: torchvision_backbone("resnet18", _save(p, torchvision.models.resnet34())),
     "is not a state dict of resnet18: unexpected 96 key\\(s\\): layer1.2.conv1.weight, .* \\.\\.\\.$"),
    (lambda p: torchvision_backbone("resnet18", _save(p, nn.Linear(2, 2))),
     "resnet18: missing 120 key\\(s\\): conv1.weight, bn1.weight, bn1.bias ...; "
     "unexpected 2 key\\(s\\): weight, bias$"),
    (lambda p: torchvision_backbone("resnet18", _save(p, _with(torchvision.models.resnet18(), "conv1", 3))),
     "does not fit resnet18: .*size mismatch for conv1.weight"),
    (lambda p: torchvision_backbone("resnet18", _write(p / "junk.pth", b"not a checkpoint")),
     "cannot read a state dict from .*junk.pth"),
    (lambda p: torchscript_model(_write(p / "junk.pt", b"not torchscript")),
     "cannot load .*junk.pt as TorchScript"),
    (lambda p: torchscript_model(p / "absent.pt"), "no such TorchScript file"),
])
def test_model_errors(make, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        make(tmp_path)


def _save(folder, module):
    torch.save(module.state_dict(), folder / "w.pth")
    return folder / "w.pth"


def _with(model, name, kernel):
    """``model`` with its convolution ``name`` replaced by one of another kernel size."""
    old = getattr(model, name)
    setattr(model, name, nn.Conv2d(old.in_channels, old.out_channels, kernel, bias=False))
    return model


def _write(path, data):
    path.write_bytes(data)
    return path


def test_folder_and_output_errors(folders, tmp_path):
    tiny = torch.jit.script(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))
    run = lambda images, **kw: write_features(kw.pop("out", tmp_path / "o.npz"), tiny, images,  # noqa: E731
                                              preprocessing=SMALL, progress=False, **kw)
    with pytest.raises(ValueError, match="no such image folder"):
        run(tmp_path / "absent")
    with pytest.raises(ValueError, match="is not an image folder with one subfolder of images per class"):
        run(folders / "images" / "cat")  # images, but no class subfolders
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images in .*empty"):
        run(folders / "images", general=tmp_path / "empty")
    with pytest.raises(ValueError, match="must end in .npz"):
        run(folders / "images", out=tmp_path / "features.npy")
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        run(folders / "images", batch_size=0)
    with pytest.raises(ValueError, match="the model returned tuple; it must return one tensor"):
        write_features(tmp_path / "o.npz", torch.jit.script(Pair()), folders / "images",
                       preprocessing=SMALL, progress=False)
    with pytest.raises(ValueError, match="need 1 <= image_size <= resize"):
        Preprocessing(image_size=64, resize=32)
    with pytest.raises(ValueError, match="mean and std need 3 values"):
        Preprocessing(std=(0.2, 0.2, 0.0))
    assert not (tmp_path / "o.npz").exists()


def _copy(folders, tmp_path):
    import shutil

    root = tmp_path / "images"
    shutil.copytree(folders / "images", root)
    return root


def test_an_unreadable_image_is_named_or_skipped_with_a_count(folders, tmp_path, capsys):
    root = _copy(folders, tmp_path)
    png = (root / "dog" / "1.png").read_bytes()
    (root / "dog" / "1.png").write_bytes(png[: len(png) // 2])          # truncated
    (root / "owl" / "9.png").write_text("not a picture")                 # not an image at all
    tiny = tmp_path / "tiny.pt"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())), tiny)
    argv = ["extract", str(root), "--torchscript", str(tiny), "--image-size", "32", "--no-progress",
            "--out", str(tmp_path / "f.npz")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot read image {root / 'dog' / '1.png'}" in err
    assert "--skip-unreadable" in err and not (tmp_path / "f.npz").exists()
    assert main(argv + ["--skip-unreadable"]) == 0
    out, err = capsys.readouterr()
    assert err == (f"potran extract: skipped 2 unreadable image(s): {root / 'dog' / '1.png'}, "
                   f"{root / 'owl' / '9.png'}\n")
    with np.load(tmp_path / "f.npz") as z:
        assert z["X"].shape[0] == 11 and "dog/1.png" not in z["files"].tolist()
        assert np.bincount(z["y"]).tolist() == [4, 3, 4]


def test_labels_no_metric_can_score_are_warned_about(folders, tmp_path, capsys):
    root = _copy(folders, tmp_path)
    for i in range(1, 4):
        (root / "owl" / f"{i}.png").unlink()
    tiny = tmp_path / "tiny.pt"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())), tiny)
    argv = ["extract", None, "--torchscript", str(tiny), "--image-size", "32", "--no-progress",
            "--out", str(tmp_path / "f.npz")]
    assert main([str(root) if a is None else a for a in argv]) == 0
    err = capsys.readouterr().err
    assert err == (f"potran extract: warning: class 'owl' of {root} has 1 image(s): the metrics need at "
                   "least 2 of every class\n")
    one = tmp_path / "one"
    (one / "cat").mkdir(parents=True)
    for path in (root / "cat").iterdir():
        (one / "cat" / path.name).write_bytes(path.read_bytes())
    assert main([str(one) if a is None else a for a in argv]) == 0
    err = capsys.readouterr().err
    assert err == (f"potran extract: warning: {one} has images of one class only ('cat'): the metrics "
                   "need at least 2 classes\n")


def test_extract_then_score_and_select_on_the_command_line(folders, resnet, tmp_path, capsys):
    _, weights = resnet
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1))),
                   tmp_path / "tiny.pt")
    out = tmp_path / "features"
    for source in (["--arch", "resnet18", "--weights", weights / "resnet18.pth"],
                   ["--torchscript", tmp_path / "tiny.pt"]):
        name = "resnet18" if source[0] == "--arch" else "tiny"
        argv = ["extract", folders / "images", *source, "--general", folders / "general",
                "--image-size", "32", "--batch-size", "5", "--no-progress", "--out", out / f"{name}.npz"]
        code = main([str(a) for a in argv])
        assert code == 0
        stdout = capsys.readouterr().out
        width = 512 if name == "resnet18" else 8
        assert stdout.startswith(f"{out / name}.npz: X 12 x {width}, 3 classes, G 5 x {width} (")
    with np.load(out / "resnet18.npz") as z:
        X, y, G = z["X"], z["y"], z["G"]
    assert main(["score", str(out / "resnet18.npz"), "--metric", "gbc", "--json"]) == 0
    assert abs(float(json.loads(capsys.readouterr().out)["score"])
               - potran.score(X, y, "gbc")) < 1e-12
    assert main(["select", str(out), "--metric", "gbc,logme", "--perturbation", "ped", "--csv",
                 "--reduce", "off", "--n-boot", "0"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("model,metric,perturbation,score,rank,") and len(table) == 1 + 2 * 2
    assert f"resnet18,gbc,ped,{potran.score(X, y, 'gbc', ped=True, general=G)!r}" in "\n".join(table)


@pytest.mark.parametrize("argv,message", [
    (["--arch", "resnet18"], "--arch needs --weights STATE_DICT"),
    (["--torchscript", "m.pt", "--weights", "w.pth"], "--weights is for --arch"),
    (["--torchscript", "m.pt", "--mean", "0.5,x,0.5"], "--mean wants comma-separated numbers"),
])
def test_extract_usage_errors(argv, message, folders, capsys):
    assert main(["extract", str(folders / "images"), "--out", "x.npz", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_readme_example_runs_and_prints_what_the_readme_shows(tmp_path):
    """README, "Ranking your own models": the bash block, run as it is (fresh processes, ~1 min)."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("**Ranking your own models**"):]
    script = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    seconds = re.compile(r"\(\d+\.\d s on cpu\)")
    assert seconds.sub("", result.stdout) == seconds.sub("", shown)
