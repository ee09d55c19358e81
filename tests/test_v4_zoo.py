"""Benchmark v4's models through the setting registry (potran.bench.v4.zoo, setting "v4")."""
import json

import numpy as np
import pytest
import torch

from potran.bench import settings, targets_v3
from potran.bench.v4 import CONTROLS
from potran.bench.v4 import zoo as v4_zoo
from potran.bench.v4.finetune import load_encoder, to_tensor


def test_the_models_are_the_manifest_s_pretrained_ones_controls_last():
    manifest = json.loads(v4_zoo.MANIFEST.read_text())["models"]
    names = v4_zoo.names()
    assert set(names) == {n for n, e in manifest.items() if "sha256" in e}
    assert names[-len(CONTROLS):] == [c for c in CONTROLS if c in names]
    assert not set(v4_zoo.ranked()) & set(CONTROLS) and len(v4_zoo.ranked()) >= 7


def test_a_model_loads_its_verified_weights_and_preprocesses_as_fine_tuning_does():
    name = v4_zoo.ranked()[0]
    model = v4_zoo.get(name)
    assert model.weights.verified_path().name == f"{name}.pt" and model.feature_dim == 64
    net = model.build()
    for k, v in load_encoder(name).state_dict().items():
        torch.testing.assert_close(net.state_dict()[k], v, rtol=0, atol=0)
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 3), dtype=np.uint8)
    torch.testing.assert_close(model.preprocess(images), to_tensor(images), rtol=0, atol=0)
    with pytest.raises(ValueError, match="unknown v4 model 'resnet50'; known: "):
        v4_zoo.get("resnet50")


def test_the_registry_opens_v4_on_v3_s_targets_with_its_own_sources():
    s = settings.get("v4", targets="fonts,hanzi")
    assert "v4" in settings.NAMES and s.title == "benchmark v4"
    assert s.models == tuple(v4_zoo.ranked()) and s.targets == ("fonts", "hanzi")   # the controls by name only
    assert settings.get("v4", models="simclr,random").models == ("simclr", "random")
    assert s.bench.sources is v4_zoo.V4_SOURCES and s.bench.reduce_all
    assert settings.get("v4").targets == targets_v3.NAMES
    with pytest.raises(ValueError, match="unknown model 'conv4_simclr' in setting 'v4'"):
        settings.get("v4", models="conv4_simclr")
