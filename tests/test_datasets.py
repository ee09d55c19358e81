"""Target splits, the general set and the pretraining source (potran.bench.datasets).

Building the images takes CPU seconds (mnist5k 4 s, the general set 4 s, the pretraining source
8 s), so the fast loop checks the splits on the cheapest target, `FAST`; the other targets, the
general set and the pretraining source are checked by the full suite (marked ``slow``).
"""

import hashlib
from functools import cache

import numpy as np
import pytest

from potran.bench import datasets

FAST = "patches"  # 0.6 s to build
BY_COST = [name if name == FAST else pytest.param(name, marks=pytest.mark.slow)
           for name in datasets.AVAILABLE]


@cache
def target(name):
    """Each target built once for the module (`datasets.load_target` keeps only the last two)."""
    return datasets.load_target(name)


@pytest.fixture(scope="module")
def general():
    return datasets.load_general()


@pytest.fixture(scope="module")
def pretrain_source():
    return datasets.load_pretrain_source(return_labels=True)


def _keys(images):
    return {img.tobytes() for img in images}


def _fingerprint(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def test_the_four_targets_are_documented_and_large_enough():
    assert datasets.AVAILABLE == ("mnist5k", "patches", "letters", "fonts")
    assert set(datasets.TARGETS) <= set(datasets.AVAILABLE) == set(datasets.SIZES)
    for name, (n_classes, n_train, n_test, side) in datasets.SIZES.items():
        # >= 1000 images each (one test image moves the accuracy by <= 0.1 %), at least twice
        # the 128 dimensions every model is scored on, and equal class counts
        assert n_train >= 1000 and n_test >= 1000, name
        assert n_train % n_classes == 0 and n_test % n_classes == 0, name
        assert side in (28, 32)
    for name in datasets.AVAILABLE:
        assert f"{name} " in datasets.__doc__  # the module's table lists every target


@pytest.mark.parametrize("dropped", ["digits", "lfw"])
def test_dropped_targets_are_refused(dropped):
    with pytest.raises(ValueError, match=f"Unknown target '{dropped}'; known targets: mnist5k, "
                                         "patches, letters, fonts"):
        datasets.load_target(dropped)


@pytest.mark.parametrize("name", BY_COST)
def test_split_sizes_dtypes_and_labels(name):
    t = target(name)
    n_classes, n_train, n_test, side = datasets.SIZES[name]
    assert t.name == name and len(t.classes) == n_classes
    assert t.x_train.shape == (n_train, side, side, 3) and t.x_test.shape == (n_test, side, side, 3)
    assert t.x_train.dtype == t.x_test.dtype == np.uint8
    assert t.y_train.dtype == t.y_test.dtype == np.int64
    # contiguous labels 0..C-1, every class equally represented in both splits
    assert np.array_equal(np.bincount(t.y_train), np.full(n_classes, n_train // n_classes))
    assert np.array_equal(np.bincount(t.y_test), np.full(n_classes, n_test // n_classes))
    assert t.x_train.std() > 10  # real images, not blank


@pytest.mark.parametrize("name", BY_COST)
def test_train_and_test_share_no_image(name):
    t = target(name)
    train, test = _keys(t.x_train), _keys(t.x_test)
    assert len(train) == len(t.x_train) and len(test) == len(t.x_test)  # no duplicates either
    assert not train & test


# sha256 of x_train, y_train, x_test, y_test bytes: the ground truth was fine-tuned on exactly these
# images; a change of a pinned package (fonts, Pillow's renderer, data files) shows up here. Every
# build gives these bytes, so the split is deterministic (across processes and machines too).
FINGERPRINTS = {
    "mnist5k": "04100529f448812c",
    "patches": "27027e3f5aac798f",
    "letters": "e10b2a806e450705",
    "fonts": "bc4051480e1575a3",
}


@pytest.mark.parametrize("name", BY_COST)
def test_split_is_deterministic(name):
    t = target(name)
    assert _fingerprint(t.x_train, t.y_train, t.x_test, t.y_test) == FINGERPRINTS[name]


def test_unknown_target_names_the_known_ones():
    with pytest.raises(ValueError, match="'cifar'.*mnist5k"):
        datasets.load_target("cifar")


@pytest.mark.slow
def test_general_set_shape_and_variety(general):
    assert general.shape == (datasets.GENERAL_SIZE, 32, 32, 3) and general.dtype == np.uint8
    assert len(_keys(general)) > 0.99 * len(general)
    assert np.array_equal(general, datasets.load_general())


@pytest.mark.slow
def test_general_set_shares_no_photo_or_image_with_targets(general):
    photos = datasets.SOURCE_PHOTOS + getattr(datasets, "GENERAL_PHOTOS", ())
    sources = {spec.split(":", 1)[1] for spec in photos}
    assert not sources & set(datasets.PATCH_PHOTOS)
    general_keys = _keys(general)
    for t in map(target, datasets.AVAILABLE):
        assert not general_keys & (_keys(t.x_train) | _keys(t.x_test)), t.name


#: sha256 of the pretraining source's images and labels: our conv4 weights were trained on them
PRETRAIN_FINGERPRINT = "b8451a04d2fee454"


@pytest.mark.slow
def test_pretrain_source_is_labelled_and_disjoint_from_general(pretrain_source, general,
                                                               monkeypatch):
    images, labels = pretrain_source
    assert images.shape == (datasets.PRETRAIN_SIZE, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert set(np.unique(labels)) == set(range(len(datasets.SOURCE_PHOTOS)))
    assert _fingerprint(images, labels) == PRETRAIN_FINGERPRINT  # every build: deterministic
    assert not _keys(images) & _keys(general)
    # without return_labels, the same crops alone (checked without building them a second time)
    monkeypatch.setattr(datasets, "_photo_crops", lambda part, n, seed: pretrain_source)
    assert datasets.load_pretrain_source() is images
