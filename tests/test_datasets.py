"""Target splits, the general set and the pretraining source (potran.bench.datasets)."""

import hashlib

import numpy as np
import pytest

from potran.bench import datasets


@pytest.fixture(scope="module")
def targets():
    return {name: datasets.load_target(name) for name in datasets.AVAILABLE}


@pytest.fixture(scope="module")
def general():
    return datasets.load_general()


def _keys(images):
    return {img.tobytes() for img in images}


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


@pytest.mark.parametrize("name", datasets.AVAILABLE)
def test_split_sizes_dtypes_and_labels(targets, name):
    t = targets[name]
    n_classes, n_train, n_test, side = datasets.SIZES[name]
    assert t.name == name and len(t.classes) == n_classes
    assert t.x_train.shape == (n_train, side, side, 3) and t.x_test.shape == (n_test, side, side, 3)
    assert t.x_train.dtype == t.x_test.dtype == np.uint8
    assert t.y_train.dtype == t.y_test.dtype == np.int64
    # contiguous labels 0..C-1, every class equally represented in both splits
    assert np.array_equal(np.bincount(t.y_train), np.full(n_classes, n_train // n_classes))
    assert np.array_equal(np.bincount(t.y_test), np.full(n_classes, n_test // n_classes))
    assert t.x_train.std() > 10  # real images, not blank


@pytest.mark.parametrize("name", datasets.AVAILABLE)
def test_train_and_test_share_no_image(targets, name):
    t = targets[name]
    train, test = _keys(t.x_train), _keys(t.x_test)
    assert len(train) == len(t.x_train) and len(test) == len(t.x_test)  # no duplicates either
    assert not train & test


# sha256 of x_train, y_train, x_test, y_test bytes: the ground truth was fine-tuned on exactly these
# images; a change of a pinned package (fonts, Pillow's renderer, data files) shows up here.
FINGERPRINTS = {
    "mnist5k": "04100529f448812c",
    "patches": "27027e3f5aac798f",
    "letters": "e10b2a806e450705",
    "fonts": "bc4051480e1575a3",
}


@pytest.mark.parametrize("name", datasets.AVAILABLE)
def test_split_is_deterministic(targets, name):
    again = datasets.load_target(name)
    t = targets[name]
    for a, b in [(t.x_train, again.x_train), (t.y_train, again.y_train),
                 (t.x_test, again.x_test), (t.y_test, again.y_test)]:
        assert np.array_equal(a, b)
    h = hashlib.sha256()
    for a in (t.x_train, t.y_train, t.x_test, t.y_test):
        h.update(np.ascontiguousarray(a).tobytes())
    assert h.hexdigest()[:16] == FINGERPRINTS[name]


def test_unknown_target_names_the_known_ones():
    with pytest.raises(ValueError, match="'cifar'.*mnist5k"):
        datasets.load_target("cifar")


def test_general_set_shape_and_variety(general):
    assert general.shape == (datasets.GENERAL_SIZE, 32, 32, 3) and general.dtype == np.uint8
    assert len(_keys(general)) > 0.99 * len(general)
    assert np.array_equal(general, datasets.load_general())


def test_general_set_shares_no_photo_or_image_with_targets(targets, general):
    photos = datasets.SOURCE_PHOTOS + getattr(datasets, "GENERAL_PHOTOS", ())
    sources = {spec.split(":", 1)[1] for spec in photos}
    assert not sources & set(datasets.PATCH_PHOTOS)
    general_keys = _keys(general)
    for t in targets.values():
        assert not general_keys & (_keys(t.x_train) | _keys(t.x_test)), t.name


def test_pretrain_source_is_labelled_and_disjoint_from_general(general):
    images, labels = datasets.load_pretrain_source(return_labels=True)
    assert images.shape == (datasets.PRETRAIN_SIZE, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert set(np.unique(labels)) == set(range(len(datasets.SOURCE_PHOTOS)))
    assert np.array_equal(images, datasets.load_pretrain_source())
    assert not _keys(images) & _keys(general)
