"""Batched penultimate-feature extraction with an on-disk cache."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .store import write_bytes
from .zoo import ZooModel

__all__ = ["extract_features", "cache_path"]


def cache_path(model: ZooModel, images: np.ndarray, cache_dir: str | os.PathLike,
               key: str | None = None) -> Path:
    """Where the features of ``images`` under ``model`` are cached: the file name holds a sha256 of
    the model name, its weights' sha256, ``key``, the preprocessing and the images' bytes."""
    images = np.ascontiguousarray(images)
    described = {"model": model.name, "weights": model.weights.sha256, "key": key,
                 "preprocess": model.preprocess_params(), "shape": images.shape,
                 "images": hashlib.sha256(images.tobytes()).hexdigest()}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:20]
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", key or "images")
    return Path(cache_dir) / f"{model.name}--{label}--{digest}.npy"


def extract_features(model: ZooModel, images: np.ndarray, *, batch_size: int = 256,
                     device: str | torch.device = "cpu", cache_dir: str | os.PathLike | None = None,
                     key: str | None = None, progress: bool = True) -> np.ndarray:
    """Penultimate features of ``images`` (uint8, N x H x W x 3) under ``model`` (eval mode, no
    gradients), float32 (N, model.feature_dim). With ``cache_dir`` they are read from / written
    atomically to a ``.npy`` there (:func:`cache_path`), ``key`` labelling it (``"mnist5k/train"``)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}.")
    path = None if cache_dir is None else cache_path(model, images, cache_dir, key)
    if path is not None and path.exists():
        return np.load(path)
    net = model.build().to(device)
    batches = []
    with torch.inference_mode():
        for start in tqdm(range(0, len(images), batch_size), desc=f"{model.name} {key or ''}",
                          disable=not progress):
            x = model.preprocess(images[start:start + batch_size]).to(device)
            batches.append(net(x).float().cpu().numpy())
    feats = (np.concatenate(batches) if batches else
             np.empty((0, model.feature_dim))).astype(np.float32, copy=False)
    if path is not None:
        buffer = io.BytesIO()
        np.save(buffer, feats)
        write_bytes(path, buffer.getvalue())
    return feats
