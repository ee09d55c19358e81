"""Result files of the benchmark: atomic writes and the resumable store of (model, target) cells.

Each writer writes a temporary file in the destination folder and moves it over the
destination with :func:`os.replace`, which is atomic on POSIX file systems, so a reader (or a
resumed run) never sees a half-written file. :class:`CellStore` is the one layout both grids
(scoring and ground truth) use: ``<root>/cells/<model>__<target>.json``; a cell whose file
exists is finished and never computed again.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["write_bytes", "write_text", "write_json", "write_npz", "write_csv", "CellStore"]


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, creating parent folders; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def write_text(path, text: str) -> Path:
    """Atomic UTF-8 text write."""
    return write_bytes(path, text.encode())


def write_json(path, obj) -> Path:
    """Atomic JSON write (indented, NaN rejected so the file stays valid JSON)."""
    return write_text(path, json.dumps(obj, indent=1, allow_nan=False) + "\n")


def write_npz(path, **arrays) -> Path:
    """Atomic compressed ``.npz`` write."""
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return write_bytes(path, buf.getvalue())


def write_csv(path, frame) -> Path:
    """Atomic CSV write of a pandas DataFrame (no index, floats at full precision)."""
    return write_text(path, frame.to_csv(index=False))


class CellStore:
    """Folder of per-(model, target) JSON records, written atomically.

    Several processes (or Dask workers) may share one store: a cell is skipped as soon as its
    file exists, and a file only appears once its record is complete.
    """

    def __init__(self, root):
        self.root = Path(root)

    def path(self, model: str, target: str) -> Path:
        """Path of the record of one cell."""
        return self.root / "cells" / f"{model}__{target}.json"

    def load(self, model: str, target: str) -> dict | None:
        """The record of a cell, or None when it has none yet."""
        path = self.path(model, target)
        return json.loads(path.read_text()) if path.exists() else None

    def save(self, model: str, target: str, record: dict) -> Path:
        """Write (or replace) the record of a cell."""
        return write_json(self.path(model, target), record)

    def records(self) -> list[dict]:
        """Every record in the store, sorted by file name."""
        return [json.loads(p.read_text()) for p in sorted((self.root / "cells").glob("*.json"))]
