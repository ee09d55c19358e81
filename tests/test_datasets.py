"""Target splits, the general set and the pretraining source (potran.datasets)."""

import hashlib

import numpy as np
import pytest

from potran import datasets


@pytest.fixture(scope="module")
def targets():
    return {name: datasets.load_target(name) for name in datasets.TARGETS}


@pytest.fixture(scope="module")
def general():
    return datasets.load_general()


def _keys(images):
    return {img.tobytes() for img in images}


def test_at_least_five_targets_all_documented():
    assert len(datasets.TARGETS) >= 5
    assert set(datasets.SIZES) == set(datasets.TARGETS)


@pytest.mark.parametrize("name", datasets.TARGETS)
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


@pytest.mark.parametrize("name", datasets.TARGETS)
def test_train_and_test_share_no_image(targets, name):
    t = targets[name]
    train, test = _keys(t.x_train), _keys(t.x_test)
    assert len(train) == len(t.x_train) and len(test) == len(t.x_test)  # no duplicates either
    assert not train & test


# sha256 of x_train, y_train, x_test, y_test bytes: the ground truth was fine-tuned on exactly these
# images; a change of a pinned package (fonts, Pillow's renderer, data files) shows up here.
FINGERPRINTS = {
    "mnist5k": "12022812fa34bb7d",
    "digits": "2a48cee8078fb6ab",
    "patches": "2064ad34a241b980",
    "letters": "f2d9011a77962403",
    "fonts": "1154f01a1731cf31",
    "lfw": "e7e766c8fe815420",
}


@pytest.mark.parametrize("name", datasets.TARGETS)
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
    sources = {spec.split(":", 1)[1] for spec in datasets.SOURCE_PHOTOS}
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
