"""The v4 pretraining pool: one broad set of 32-pixel RGB images, none of them in a v3 target.

The nearest thing to ImageNet this machine holds, made of four kinds of images (the counts are
the constants below; ``data/bench_v4/README.md`` says why):

- **photo crops** (`PHOTOS`): square crops of 22 natural photographs, at object scale (side
  `OBJECT_SCALE` of the photograph's short side) and scene scale (`SCENE_SCALE`), resized to
  32 px; a crop with almost no texture is drawn again. 15 photographs come from Debian's
  ``lomiri-wallpapers-16.04`` and ``lomiri-wallpapers-20.04`` (CC BY / CC BY-SA / CC0), 7 from
  the pip packages already installed (scikit-image, scikit-learn, matplotlib). None is a
  photograph of a v3 target (not MATE's nature set, not the scikit-image photographs of
  ``patches``/``photo_*``);
- **garments**: Fashion-MNIST images that none of v3's three Fashion targets uses (in either
  split, in any rotation), padded from 28 to 32 px;
- **glyphs** (`SCRIPTS`): letters of 14 scripts v3 does not use, rendered from Noto faces with
  v3's glyph randomisation (size, shift, rotation, grey levels);
- **emoji** (`EMOJI_BLOCKS`): Noto colour emoji from code-point ranges outside v3's four groups
  and its 40 faces, rendered as v3 renders emoji;
- **faces**: the 200 faces of scikit-image's LFW subset, each in 4 crops.

Every image has a coarse label: its photograph for a crop, else its kind (``fashion``,
``faces``), script or emoji block (`Pool.classes`). Byte-identical duplicates are dropped. A
seeded, stratified `HELD_OUT` share is held out (`Pool.held_out`): never pretrained on, it is
PED's general set for this zoo and the test set of the linear probe. Deterministic; built once
and cached under ``.cache/v4_pool`` (the key holds this module's source and the sizes of the files
read). Debian files are read under ``$POTRAN_SHARE`` (default ``/usr/share``; ``make v4-data``
installs them); a missing one raises :class:`~potran.bench.targets_v3.MissingSourceError`
naming its package.
"""
from __future__ import annotations

import hashlib
import inspect
import os
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from .. import datasets, targets_v3
from ..targets_v3 import MissingSourceError

__all__ = ["PHOTOS", "DEBIAN_PACKAGES", "SCRIPTS", "EMOJI_BLOCKS", "HELD_OUT", "Pool",
           "build_pool", "load_pool", "v3_fashion_bytes"]

SIDE = 32
#: Debian packages the pool reads (``make v4-data`` installs them)
DEBIAN_PACKAGES = ("lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04")
_BACKGROUNDS = "backgrounds"
#: the photographs: name -> source ("deb:<package>:<file>" or datasets._photo's "source:name")
PHOTOS = {
    "bridge": "deb:lomiri-wallpapers-16.04:Bridge_by_Sander_Klootwijk.jpg",
    "dragonfly": "deb:lomiri-wallpapers-16.04:Dragonfly_by_Bolly.jpg",
    "fig": "deb:lomiri-wallpapers-16.04:Picture_0B_by_freespace.jpg",
    "brushes": "deb:lomiri-wallpapers-16.04:Picture_1A_by_freespace.jpg",
    "wine": "deb:lomiri-wallpapers-16.04:Wine_by_Jakkub_Mede.jpg",
    "aitzgorri": "deb:lomiri-wallpapers-16.04:aitzgorri_by_Aitzol_Berasategi.jpg",
    "lamp_bird": "deb:lomiri-wallpapers-16.04:free_by_Peter_Nerlich.jpg",
    "dogs": "deb:lomiri-wallpapers-16.04:friends_by_Aitzol_Berasategi.jpg",
    "clock": "deb:lomiri-wallpapers-16.04:greentock_by_Peter_Nerlich.jpg",
    "stream": "deb:lomiri-wallpapers-16.04:life_by_Aitzol_Berasategi.jpg",
    "picos": "deb:lomiri-wallpapers-16.04:picosdeeuropa_by_Aitzol_Berasategi.jpg",
    "dandelions": "deb:lomiri-wallpapers-16.04:seeding_by_Clements_Engelhardt.jpg",
    "sunset": "deb:lomiri-wallpapers-16.04:sunset_by_Aitzol_Berasategi.jpg",
    "nuthatch": "deb:lomiri-wallpapers-20.04:Kleiber_by_Lukas_Baubkus.jpg",
    "night_sea": "deb:lomiri-wallpapers-20.04:Infinite-Sea_by_Aury88.jpg",
    "cat": "skimage:chelsea",
    "coins": "skimage:coins",
    "grass": "skimage:grass",
    "retina": "skimage:retina",
    "palace": "sklearn:china.jpg",
    "flower": "sklearn:flower.jpg",
    "hopper": "matplotlib:grace_hopper.jpg",
}
SHORT_SIDE = 512  # photographs are downscaled to this short side before cropping (smaller stay)
OBJECT_SCALE = (0.08, 0.25)  # crop side as a share of the short side: object scale ...
SCENE_SCALE = (0.35, 1.0)  # ... and scene scale; half of each photograph's crops at each
CROPS_PER_PHOTO = 1400
MIN_STD = 4.0  # a crop whose pixel standard deviation is below this (grey levels) is drawn again
N_FASHION = 6000
#: scripts v3 does not use: name -> (Noto faces, first and last code point of its letters)
def _rb(*families):
    return tuple(f"{f}-{w}" for f in families for w in ("Regular", "Bold"))


SCRIPTS = {
    "thai": (_rb("NotoSansThai", "NotoSerifThai"), (0x0E01, 0x0E2E)),
    "bengali": (_rb("NotoSansBengali", "NotoSerifBengali"), (0x0995, 0x09B9)),
    "tamil": (_rb("NotoSansTamil", "NotoSerifTamil"), (0x0B85, 0x0BB9)),
    "telugu": (_rb("NotoSansTelugu", "NotoSerifTelugu"), (0x0C15, 0x0C39)),
    "kannada": (_rb("NotoSansKannada", "NotoSerifKannada"), (0x0C95, 0x0CB9)),
    "gujarati": (_rb("NotoSansGujarati", "NotoSerifGujarati"), (0x0A95, 0x0AB9)),
    "sinhala": (_rb("NotoSansSinhala", "NotoSerifSinhala"), (0x0D9A, 0x0DC6)),
    "khmer": (_rb("NotoSansKhmer", "NotoSerifKhmer"), (0x1780, 0x17A2)),
    "myanmar": (_rb("NotoSansMyanmar", "NotoSerifMyanmar"), (0x1000, 0x1020)),
    "ethiopic": (_rb("NotoSansEthiopic", "NotoSerifEthiopic"), (0x1200, 0x1248)),
    "cherokee": (_rb("NotoSansCherokee"), (0x13A0, 0x13F4)),
    "tifinagh": (("NotoSansTifinagh-Regular",), (0x2D30, 0x2D67)),
    "runic": (("NotoSansRunic-Regular",), (0x16A0, 0x16EA)),
    "canadian": (_rb("NotoSansCanadianAboriginal"), (0x1401, 0x1470)),
}
GLYPHS_PER_SCRIPT = 600
#: emoji ranges outside v3's groups (targets_v3.EMOJI_GROUPS) and faces (EMOJI_FACES)
EMOJI_BLOCKS = {"weather_plants": (0x1F300, 0x1F344), "activities_places": (0x1F380, 0x1F3F0),
                "objects": (0x1F440, 0x1F4FC), "symbols": (0x1F500, 0x1F53D)}
EMOJI_PER_BLOCK = 1000
FACE_CROPS = 4
HELD_OUT = 0.1


@dataclass(frozen=True)
class Pool:
    """The pool: ``images`` (N, 32, 32, 3) uint8, ``labels`` (N,) int64 codes of ``classes``,
    ``kinds`` (the kind of each class: photo, fashion, glyph, emoji, faces) and ``held_out``
    (N,) bool. Shared arrays: read, never modify."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    kinds: tuple[str, ...]
    held_out: np.ndarray

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        """The images pretrained on and their labels."""
        keep = ~self.held_out
        return self.images[keep], self.labels[keep]

    @property
    def general(self) -> tuple[np.ndarray, np.ndarray]:
        """The held-out images (PED's general set, the probe's test set) and their labels."""
        return self.images[self.held_out], self.labels[self.held_out]

    def counts(self) -> dict[str, int]:
        """Images per kind."""
        kinds = np.asarray(self.kinds)[self.labels]
        return {k: int((kinds == k).sum()) for k in dict.fromkeys(self.kinds)}


def _share(path: str, package: str) -> str:
    full = os.path.join(os.environ.get("POTRAN_SHARE", "/usr/share"), path)
    if not os.path.exists(full):
        raise MissingSourceError(
            f"{full} is missing: the v4 pool needs the Debian package {package} "
            f"(`apt-get install -y {package}`, or `make v4-data`).")
    return full


def _files() -> list[str]:
    """Every Debian file the pool reads (checked to exist)."""
    out = []
    for source in PHOTOS.values():
        if source.startswith("deb:"):
            _, package, name = source.split(":", 2)
            out.append(_share(f"{_BACKGROUNDS}/{name}", package))
    out += targets_v3._files(targets_v3._SPEC["fashion"])
    out += [targets_v3._font("NotoColorEmoji")]
    out += [targets_v3._font(face) for faces, _ in SCRIPTS.values() for face in faces]
    return out


def _load_photo(source: str) -> np.ndarray:
    if source.startswith("deb:"):
        _, package, name = source.split(":", 2)
        with Image.open(_share(f"{_BACKGROUNDS}/{name}", package)) as im:
            im.draft("RGB", (SHORT_SIDE * 2, SHORT_SIDE * 2))  # fast JPEG decode at >= 2x target
            im = im.convert("RGB")
            scale = SHORT_SIDE / min(im.size)
            if scale < 1:
                im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
            return np.asarray(im)
    img = datasets._photo(source)
    scale = SHORT_SIDE / min(img.shape[:2])
    if scale < 1:
        im = Image.fromarray(img).resize((round(img.shape[1] * scale), round(img.shape[0] * scale)),
                                         Image.LANCZOS)
        img = np.asarray(im)
    return img


def _photo_crops(photo: np.ndarray, n: int, rng) -> np.ndarray:
    """``n`` square crops, half at object and half at scene scale, resized to 32 px."""
    h, w = photo.shape[:2]
    short = min(h, w)
    out = np.empty((n, SIDE, SIDE, 3), np.uint8)
    pil = Image.fromarray(photo)
    i = 0
    while i < n:
        lo, hi = OBJECT_SCALE if i < n // 2 else SCENE_SCALE
        side = max(8, int(round(short * rng.uniform(lo, hi))))
        y, x = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
        crop = pil.resize((SIDE, SIDE), Image.LANCZOS, box=(x, y, x + side, y + side))
        a = np.asarray(crop)
        if a.std() >= MIN_STD:
            out[i] = a
            i += 1
    return out


def _v3_fashion_targets():
    return [targets_v3.load_target(n) for n in ("fashion", "fashion_tops", "fashion_rot")]


def v3_fashion_bytes() -> set[bytes]:
    """The bytes of every 28-px image in v3's Fashion targets' splits, in all four rotations."""
    seen = set()
    for t in _v3_fashion_targets():
        for x in (t.x_train, t.x_test):
            for k in range(4):
                rot = np.ascontiguousarray(np.rot90(x, k, axes=(1, 2)))
                seen.update(im.tobytes() for im in rot)
    return seen


def _fashion(rng) -> np.ndarray:
    x, _ = targets_v3._fashion()
    used = v3_fashion_bytes()
    unused = np.array([i for i in range(len(x)) if x[i].tobytes() not in used])
    picked = x[np.sort(rng.choice(unused, N_FASHION, replace=False))]
    return np.pad(picked, ((0, 0), (2, 2), (2, 2), (0, 0)))  # black border, as the images' own


def _has_glyphs(face: str, codes) -> list[str]:
    from fontTools.ttLib import TTFont

    cmap = TTFont(targets_v3._font(face), fontNumber=0, lazy=True).getBestCmap()
    return [chr(c) for c in codes if c in cmap]


def _glyphs(script: str, rng) -> np.ndarray:
    faces, (lo, hi) = SCRIPTS[script]
    chars = sorted(set.intersection(*(set(_has_glyphs(f, range(lo, hi + 1))) for f in faces)))
    picked = [chars[i % len(chars)] for i in rng.permutation(GLYPHS_PER_SCRIPT)]
    return targets_v3._render_glyphs(picked, [faces] * len(picked), rng)


def _emoji(block: str, rng) -> np.ndarray:
    lo, hi = EMOJI_BLOCKS[block]
    chars = _has_glyphs("NotoColorEmoji", range(lo, hi + 1))
    picked = [chars[i % len(chars)] for i in rng.permutation(EMOJI_PER_BLOCK)]
    return targets_v3._render_emoji(picked, rng)


def _faces(rng) -> np.ndarray:
    import skimage.data

    faces = np.round(skimage.data.lfw_subset() * 255).astype(np.uint8)  # (200, 25, 25)
    out = []
    for face in faces:
        im = Image.fromarray(face).resize((40, 40), Image.LANCZOS)
        for _ in range(FACE_CROPS):
            side = int(rng.integers(30, 41))
            y, x = int(rng.integers(41 - side)), int(rng.integers(41 - side))
            crop = im.resize((SIDE, SIDE), Image.LANCZOS, box=(x, y, x + side, y + side))
            if rng.random() < 0.5:
                crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
            out.append(datasets._to_rgb(np.asarray(crop)))
    return np.stack(out)


def _parts(progress: bool = False):
    """(class name, kind, images) for every class, in a fixed order."""
    def rng(key):
        return np.random.default_rng(zlib.crc32(f"v4-pool/{key}".encode()))

    for name, source in PHOTOS.items():
        if progress:
            print(f"pool: photo {name}", flush=True)
        yield name, "photo", _photo_crops(_load_photo(source), CROPS_PER_PHOTO, rng(name))
    yield "fashion", "fashion", _fashion(rng("fashion"))
    for script in SCRIPTS:
        if progress:
            print(f"pool: glyphs {script}", flush=True)
        yield f"script:{script}", "glyph", _glyphs(script, rng(script))
    for block in EMOJI_BLOCKS:
        yield f"emoji:{block}", "emoji", _emoji(block, rng(block))
    yield "faces", "faces", _faces(rng("faces"))


def build_pool(progress: bool = False) -> Pool:
    """Make the pool from its sources (no cache); deterministic."""
    _files()
    classes, kinds, images, labels = [], [], [], []
    for code, (name, kind, x) in enumerate(_parts(progress)):
        classes.append(name), kinds.append(kind), images.append(x)
        labels.append(np.full(len(x), code, np.int64))
    images, labels = np.concatenate(images), np.concatenate(labels)
    # drop every image whose bytes occur more than once
    images, labels = targets_v3._drop_duplicates(images, labels)
    rng = np.random.default_rng(zlib.crc32(b"v4-pool/held-out"))
    held = np.zeros(len(labels), bool)
    for c in range(len(classes)):
        idx = np.flatnonzero(labels == c)
        held[rng.choice(idx, int(round(HELD_OUT * len(idx))), replace=False)] = True
    return Pool(np.ascontiguousarray(images), labels, tuple(classes), tuple(kinds), held)


def load_pool(cache_dir: str | os.PathLike | None = ".cache/v4_pool", progress: bool = False) -> Pool:
    """The pool, from the disk cache under ``cache_dir`` when it holds it (None: no disk
    cache); kept in memory too. Raises MissingSourceError when a Debian file is absent."""
    return _load_cached(None if cache_dir is None else str(cache_dir), progress)


@lru_cache(maxsize=1)
def _load_cached(cache_dir: str | None, progress: bool) -> Pool:
    if cache_dir is None:
        return build_pool(progress)
    files = _files()
    key = hashlib.sha256("\n".join(
        [inspect.getsource(inspect.getmodule(build_pool)), inspect.getsource(targets_v3),
         inspect.getsource(datasets)] + [f"{f} {os.path.getsize(f)}" for f in files]
    ).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"pool-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return Pool(z["images"], z["labels"], tuple(z["classes"].tolist()),
                        tuple(z["kinds"].tolist()), z["held_out"])
    pool = build_pool(progress)
    from ..store import write_npz

    write_npz(path, images=pool.images, labels=pool.labels, classes=np.array(pool.classes),
              kinds=np.array(pool.kinds), held_out=pool.held_out)
    return pool
