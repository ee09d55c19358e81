"""Benchmark v3 targets (potran.bench.targets_v3): the frozen list, sizes, classes, determinism,
disjoint splits and the error that names a missing Debian package."""
import re
from pathlib import Path

import numpy as np
import pytest

from potran.bench import targets_v3 as v3
from potran.bench.datasets import Target

README = Path(__file__).parents[1] / "data" / "bench_v3" / "README.md"
#: one target per family, the cheapest to build, for the tests that build targets afresh
ONE_PER_FAMILY = ("mnist_rot", "fashion_tops", "photo_rot", "fonts", "hebrew", "hangul",
                  "emoji_group", "wallpaper_rot")


def _rows(images: np.ndarray) -> set:
    return {im.tobytes() for im in images}


def test_the_list_is_the_frozen_one_of_the_readme():
    """Every row of the README's target table is a spec, with the same numbers, and back."""
    rows = re.findall(r"^\| (\w+) \| (\w+) \| [^|]+ \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$",
                      README.read_text(), flags=re.M)
    table = {r[0]: (r[1], *map(int, r[2:])) for r in rows}
    assert table == {s.name: (s.family, len(s.classes), s.n_train, s.n_test, s.side)
                     for s in v3.SPECS}


def test_enough_targets_from_enough_independent_sources():
    families = set(v3.FAMILIES.values())
    assert len(v3.NAMES) >= 24 and len(set(v3.NAMES)) == len(v3.NAMES) and len(families) >= 6
    for landed in ("mnist5k", "patches", "letters", "fonts"):  # the 4-target benchmark's
        assert landed in v3.NAMES
    for s in v3.SPECS:
        c = len(s.classes)
        assert len(set(s.classes)) == c >= 4
        assert s.n_train % c == 0 and s.n_test % c == 0  # equal counts per class
        assert 500 <= s.n_train < 500 + c and s.n_test >= 4500


@pytest.mark.slow  # builds real targets (4-40 s each)
@pytest.mark.parametrize("name", ONE_PER_FAMILY)
def test_targets_have_their_sizes_classes_and_disjoint_splits(name, tmp_path):
    spec = v3._SPEC[name]
    t = v3.load_target(name, cache_dir=tmp_path)
    assert isinstance(t, Target) and t.name == name and t.classes == spec.classes
    for x, y, n in ((t.x_train, t.y_train, spec.n_train), (t.x_test, t.y_test, spec.n_test)):
        assert x.shape == (n, spec.side, spec.side, 3) and x.dtype == np.uint8
        assert y.dtype == np.int64
        assert np.bincount(y).tolist() == [n // len(spec.classes)] * len(spec.classes)
        assert x.std() > 10  # not blank
    assert not _rows(t.x_train) & _rows(t.x_test)  # no image in both splits, byte for byte
    assert len(_rows(t.x_test)) == spec.n_test
    # the disk cache returns the same bytes as a fresh build: the build is deterministic
    fresh = v3.build_target(name)
    v3._load_cached.cache_clear()
    cached = v3.load_target(name, cache_dir=tmp_path)
    for key in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(fresh, key), getattr(t, key))
        assert np.array_equal(getattr(cached, key), getattr(t, key))
    assert len(list(tmp_path.glob(f"{name}-*.npz"))) == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(v3.NAMES) - set(ONE_PER_FAMILY)))
def test_every_other_target_too(name):
    spec = v3._SPEC[name]
    t = v3.load_target(name)
    assert t.x_train.shape == (spec.n_train, spec.side, spec.side, 3)
    assert t.x_test.shape == (spec.n_test, spec.side, spec.side, 3)
    for y, n in ((t.y_train, spec.n_train), (t.y_test, spec.n_test)):
        assert np.bincount(y).tolist() == [n // len(spec.classes)] * len(spec.classes)
    assert not _rows(t.x_train) & _rows(t.x_test)


def test_emoji_group_tests_on_emoji_never_seen_in_training():
    train, test = v3.emoji_group_split()
    for (lo, hi), seen, unseen in zip(v3.EMOJI_GROUPS.values(), train, test):
        block = {chr(c) for c in range(lo, hi + 1)}
        assert not set(seen) & set(unseen) and set(seen) | set(unseen) == block
        assert len(seen) == round(0.3 * len(block))
    assert v3.emoji_group_split() == (train, test)


@pytest.mark.parametrize("name, package", [("fashion", "dataset-fashion-mnist"),
                                           ("greek", "fonts-noto-core"),
                                           ("kana", "fonts-noto-cjk"),
                                           ("emoji_id", "fonts-noto-color-emoji"),
                                           ("wallpaper_id", "mate-backgrounds")])
def test_a_missing_file_names_its_debian_package(name, package, tmp_path, monkeypatch):
    monkeypatch.setenv("POTRAN_SHARE", str(tmp_path))
    with pytest.raises(v3.MissingSourceError, match=f"apt-get install -y {package}"):
        v3.load_target(name, cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="POTRAN_SHARE|data/bench_v3/README.md"):
        v3.build_target(name)


def test_pip_sourced_targets_need_no_debian_file(tmp_path, monkeypatch):
    monkeypatch.setenv("POTRAN_SHARE", str(tmp_path))
    assert v3._files(v3._SPEC["mnist5k"]) == [] and v3._files(v3._SPEC["letters"]) == []


def test_unknown_target_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown v3 target 'cifar'.*mnist5k"):
        v3.load_target("cifar")
