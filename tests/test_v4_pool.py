"""The v4 pretraining pool (potran.bench.v4.pool): what it is made of, that no v3 target's image
is in it, and that it is deterministic."""
import numpy as np
import pytest

from potran.bench import datasets, targets_v3
from potran.bench.v4 import pool as pl


def test_sources_avoid_every_v3_source():
    v3_photos = {f"skimage:{p}" for p in datasets.PATCH_PHOTOS}
    assert not v3_photos & set(pl.PHOTOS.values())
    for source in pl.PHOTOS.values():
        assert "mate" not in source.lower()
        assert not any(p in source for p in targets_v3.MATE_PHOTOS)
    v3_chars = set("".join(targets_v3.ALPHABETS.values()) + targets_v3.HANZI + targets_v3.KANA
                   + targets_v3.HANGUL + "".join(datasets.CHARACTERS))
    for faces, (lo, hi) in pl.SCRIPTS.values():
        assert not {chr(c) for c in range(lo, hi + 1)} & v3_chars
        assert not set(faces) & set(targets_v3.LATIN_FACES + targets_v3.NOTO_STYLES)
    v3_emoji = {ord(c) for c in targets_v3.EMOJI_FACES}
    for lo, hi in targets_v3.EMOJI_GROUPS.values():
        v3_emoji |= set(range(lo, hi + 1))
    for lo, hi in pl.EMOJI_BLOCKS.values():
        assert not set(range(lo, hi + 1)) & v3_emoji


def test_photo_crops_are_deterministic_textured_and_32px():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    photo[:, :100] = 128  # a flat half: crops lying in it are drawn again
    before = photo.copy()
    a = pl._photo_crops(photo, 40, np.random.default_rng(5))
    b = pl._photo_crops(photo, 40, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(photo, before)
    assert a.shape == (40, 32, 32, 3) and a.dtype == np.uint8
    assert all(im.std() >= pl.MIN_STD for im in a)


def _fake_parts(progress=False):
    rng = np.random.default_rng(3)
    for code, n in enumerate((50, 30, 20)):
        x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        if code == 1:
            x[1] = x[0]  # a duplicate pair: both go
        yield f"c{code}", "photo", x


def test_held_out_part_is_stratified_and_duplicates_dropped(monkeypatch):
    monkeypatch.setattr(pl, "_parts", _fake_parts)
    monkeypatch.setattr(pl, "_files", lambda: [])
    pool = pl.build_pool()
    assert pool.classes == ("c0", "c1", "c2") and len(pool.labels) == 98
    for c, n in enumerate((50, 28, 20)):
        assert (pool.labels == c).sum() == n
        assert pool.held_out[pool.labels == c].sum() == round(pl.HELD_OUT * n)
    rows = pool.images.reshape(len(pool.images), -1)
    assert len(np.unique(rows, axis=0)) == len(rows)
    x_train, _ = pool.train
    x_general, _ = pool.general
    assert len(x_train) + len(x_general) == 98
    again = pl.build_pool()
    np.testing.assert_array_equal(again.held_out, pool.held_out)
    assert pool.counts() == {"photo": 98}


def test_missing_debian_file_names_its_package(monkeypatch, tmp_path):
    monkeypatch.setenv("POTRAN_SHARE", str(tmp_path))
    with pytest.raises(targets_v3.MissingSourceError, match="lomiri-wallpapers-16.04"):
        pl._files()


def test_faces_are_deterministic_grey_crops():
    a = pl._faces(np.random.default_rng(1))
    b = pl._faces(np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (200 * pl.FACE_CROPS, 32, 32, 3)
    np.testing.assert_array_equal(a[..., 0], a[..., 2])


# --- the real pool (needs the Debian packages of `make v4-data`; builds in about 2 minutes) ----

@pytest.fixture(scope="module")
def pool():
    return pl.load_pool()


@pytest.mark.slow
def test_real_pool_composition(pool):
    assert pool.images.shape[1:] == (32, 32, 3) and pool.images.dtype == np.uint8
    counts = pool.counts()
    assert set(counts) == {"photo", "fashion", "glyph", "emoji", "faces"}
    assert counts["fashion"] == pl.N_FASHION
    assert counts["photo"] > 0.99 * len(pl.PHOTOS) * pl.CROPS_PER_PHOTO
    assert len(pool.classes) == len(pl.PHOTOS) + 1 + len(pl.SCRIPTS) + len(pl.EMOJI_BLOCKS) + 1
    assert abs(pool.held_out.mean() - pl.HELD_OUT) < 0.005
    rows = pool.images.reshape(len(pool.images), -1)
    assert len(np.unique(rows, axis=0)) == len(rows)


@pytest.mark.slow
def test_real_pool_is_deterministic(pool):
    fresh = pl.build_pool()
    np.testing.assert_array_equal(fresh.images, pool.images)
    np.testing.assert_array_equal(fresh.labels, pool.labels)
    np.testing.assert_array_equal(fresh.held_out, pool.held_out)


def _bytes(images):
    images = np.ascontiguousarray(images)
    return {im.tobytes() for im in images}


@pytest.mark.slow
def test_no_pool_image_is_in_any_v3_split(pool):
    """Byte for byte against every split of all 24 v3 targets: 32-px targets against the pool's
    images, 28-px ones (MNIST, Fashion-MNIST) against the pool's central 28 px, each in all four
    rotations."""
    whole = _bytes(pool.images)
    centre = _bytes(pool.images[:, 2:30, 2:30])
    for name in targets_v3.NAMES:
        t = targets_v3.load_target(name)
        for x in (t.x_train, t.x_test):
            mine = centre if x.shape[1] == 28 else whole
            for k in range(4):
                assert not _bytes(np.rot90(x, k, axes=(1, 2))) & mine, name
