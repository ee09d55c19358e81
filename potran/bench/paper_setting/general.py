"""PED's general set (ImageNet validation images): feature moments in one streaming pass; extraction."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..store import write_bytes, write_npz
from .files import _image_files, missing_files
from .models import PaperModel
from .splits import _refs, _Source


@dataclass(frozen=True)
class GeneralSet:
    """The ImageNet validation images of a local ``folder``, read lazily: ``files`` sorted
    relative paths, ``fingerprint`` the sha256 of names and sizes (in the statistics' cache key)."""

    folder: Path
    files: tuple[str, ...] = field(repr=False)
    fingerprint: str

    def __len__(self) -> int:
        return len(self.files)

    def refs(self) -> np.ndarray:
        """Object array of :class:`ImageRef`, one per file."""
        source = _Source(f"imagenet-val@{self.folder}", folder=self.folder, files=self.files)
        return _refs(source, range(len(self.files)))


def general_set(folder, *, limit: int | None = None, seed: int = 0) -> GeneralSet:
    """The general set: every image file under ``folder`` (or a seeded subset of ``limit``)."""
    folder = Path(folder).resolve()
    lines = missing_files(None, None, folder)
    if lines:
        raise ValueError("Missing general set: " + lines[0])
    files = sorted(p.relative_to(folder).as_posix() for p in _image_files(folder))
    if limit is not None and limit < len(files):
        keep = np.sort(np.random.default_rng(seed).choice(len(files), limit, replace=False))
        files = [files[i] for i in keep]
    digest = hashlib.sha256("\n".join(f"{f}\t{(folder / f).stat().st_size}" for f in files).encode())
    return GeneralSet(folder, tuple(files), digest.hexdigest())


@dataclass(frozen=True, eq=False)
class GeneralMoments:
    """Count, mean and population covariance (float64) of a model's general-set features."""

    n: int
    mean: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)

    @property
    def std(self) -> np.ndarray:
        """Per-dimension population standard deviation."""
        return np.sqrt(np.clip(np.diag(self.cov), 0, None))

    def stats(self):
        """The :class:`potran.ped.GeneralStats` PED standardises by."""
        from ...ped import GeneralStats

        return GeneralStats(self.mean, self.std)

    def surrogate(self, rtol: float = 1e-12) -> np.ndarray:
        """A (2r x D) matrix with exactly this mean and population covariance: rows ``mean +/-
        sqrt(r * l_k) v_k`` over the r eigenpairs of ``cov`` above ``rtol`` times the largest."""
        vals, vecs = np.linalg.eigh(self.cov)
        top = vals.max(initial=0.0)
        keep = vals > rtol * top if top > 0 else np.zeros(len(vals), dtype=bool)
        if not keep.any():
            return np.vstack([self.mean, self.mean])
        half = (vecs[:, keep] * np.sqrt(keep.sum() * vals[keep])).T
        return np.vstack([self.mean + half, self.mean - half])

    @classmethod
    def from_batches(cls, batches) -> GeneralMoments:
        """Merge feature batches (each B x D) one by one in float64; holds only the totals."""
        n, mean, m2 = 0, None, None
        for batch in batches:
            b = np.asarray(batch, dtype=np.float64)
            if len(b) == 0:
                continue
            nb, mb = len(b), b.mean(0)
            centred = b - mb
            m2b = centred.T @ centred
            if mean is None:
                n, mean, m2 = nb, mb, m2b
                continue
            total = n + nb
            delta = mb - mean
            mean = mean + delta * (nb / total)
            m2 += m2b + np.outer(delta, delta) * (n * nb / total)
            n = total
        if mean is None:
            raise ValueError("the general set is empty")
        return cls(n, mean, m2 / n)


class _Preprocessed:
    """Map-style dataset for a DataLoader: image ``i`` of ``refs`` through ``transform``."""

    def __init__(self, refs, transform):
        self.refs, self.transform = refs, transform

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i):
        return self.transform(self.refs[i].load())


def _feature_batches(model: PaperModel, refs, *, batch_size: int = 64, num_workers: int = 0,
                     device="cpu", progress: bool = False, desc: str = ""):
    """Yield float32 (B, D) features of ``refs``, batch by batch (eval mode, no gradients)."""
    import torch
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}.")
    net = model.build().to(device)
    loader = DataLoader(_Preprocessed(refs, model.transform()), batch_size=batch_size, shuffle=False,
                        num_workers=num_workers)
    with torch.inference_mode():
        for x in tqdm(loader, desc=f"{model.name} {desc}", disable=not progress):
            yield net(x.to(device)).float().cpu().numpy()


def _cache_file(model: PaperModel, identity: str, cache_dir, label: str, suffix: str) -> Path:
    described = {"model": model.name, "weights": model.weights.sha256, "identity": identity,
                 "preprocess": model.preprocess_params()}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:20]
    return Path(cache_dir) / f"{model.name}--{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}--{digest}{suffix}"


def general_moments(model: PaperModel, general: GeneralSet, *, batch_size: int = 64,
                    num_workers: int = 0, device="cpu", cache_dir=None,
                    progress: bool = False) -> GeneralMoments:
    """Moments of ``model``'s features on the general set, in one streaming pass (cached)."""
    path = None
    if cache_dir is not None:
        path = _cache_file(model, general.fingerprint, cache_dir, "general", ".npz")
    if path is not None and path.exists():
        with np.load(path) as z:
            return GeneralMoments(int(z["n"]), z["mean"], z["cov"])
    moments = GeneralMoments.from_batches(_feature_batches(
        model, general.refs(), batch_size=batch_size, num_workers=num_workers, device=device,
        progress=progress, desc="imagenet-val"))
    if path is not None:
        write_npz(path, n=moments.n, mean=moments.mean, cov=moments.cov)
    return moments


def general_stats(model: PaperModel, general: GeneralSet, **options):
    """:class:`potran.ped.GeneralStats` (mean, std) of ``model`` on the general set; ``options``
    as for :func:`general_moments`."""
    return general_moments(model, general, **options).stats()


def extract_features(model, images, *, batch_size: int = 64, num_workers: int = 0, device="cpu",
                     cache_dir=None, key: str | None = None, progress: bool = False) -> np.ndarray:
    """Features (float32, N x D) of an object array of :class:`ImageRef`, streamed in batches.

    uint8 image arrays go to :func:`potran.bench.features.extract_features`. The cache key holds
    the images' identities (:attr:`ImageRef.key`), the weights' sha256 and the preprocessing.
    """
    images = np.asarray(images)
    if images.dtype != object:
        from ..features import extract_features as extract_pixels

        return extract_pixels(model, images, batch_size=batch_size, device=device,
                              cache_dir=cache_dir, key=key, progress=progress)
    path = None
    if cache_dir is not None:
        identity = hashlib.sha256("\n".join(ref.key for ref in images).encode()).hexdigest()
        path = _cache_file(model, identity, cache_dir, key or "images", ".npy")
        if path.exists():
            return np.load(path)
    batches = list(_feature_batches(model, images, batch_size=batch_size, num_workers=num_workers,
                                    device=device, progress=progress, desc=key or ""))
    feats = np.concatenate(batches) if batches else np.empty((0, model.feature_dim), np.float32)
    if path is not None:
        import io

        buffer = io.BytesIO()
        np.save(buffer, feats)
        write_bytes(path, buffer.getvalue())
    return feats
