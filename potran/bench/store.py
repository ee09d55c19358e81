"""Result files of the benchmark: atomic writes and the resumable store of (model, target) cells.

Writers write a temporary file beside the destination and :func:`os.replace` it (atomic on POSIX).
:class:`CellStore` is the layout of both grids: ``<root>/cells/<model>__<target>.json``, a cell whose
file exists being finished; a file that is not valid JSON is renamed ``<name>.json.damaged`` with a
:class:`DamagedCellWarning` and counts as missing, so the grid computes it again.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

__all__ = ["write_bytes", "write_text", "write_json", "write_npz", "write_csv", "DamagedCellWarning",
           "CellStore"]


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
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return write_bytes(path, buf.getvalue())


def write_csv(path, frame) -> Path:
    """Atomic CSV write of a pandas DataFrame (no index, floats at full precision)."""
    return write_text(path, frame.to_csv(index=False))


class DamagedCellWarning(UserWarning):
    """A cell file could not be read; it was set aside and its cell counts as missing."""


class CellStore:
    """Folder of per-(model, target) JSON records, written atomically; several processes (or Dask
    workers) may share one."""

    def __init__(self, root):
        self.root = Path(root)

    def path(self, model: str, target: str) -> Path:
        """Path of the record of one cell."""
        return self.root / "cells" / f"{model}__{target}.json"

    def _read(self, path: Path) -> dict | None:
        """The record in ``path``; None when it is missing or damaged (then set aside, with a warning)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            record = json.loads(data.decode())
            if not isinstance(record, dict):
                raise ValueError(f"expected a JSON object, got {type(record).__name__}")
            return record
        except ValueError as err:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            aside, n = path.with_name(path.name + ".damaged"), 0
            while aside.exists():
                n += 1
                aside = path.with_name(f"{path.name}.damaged.{n}")
            try:
                os.replace(path, aside)
            except FileNotFoundError:  # another process set it aside first
                return None
            warnings.warn(f"damaged cell file {path} ({err}): set aside as {aside.name}; "
                          "the cell will be computed again", DamagedCellWarning, stacklevel=3)
            return None

    def load(self, model: str, target: str) -> dict | None:
        """The record of a cell, or None when it has none yet (or its file was damaged)."""
        return self._read(self.path(model, target))

    def save(self, model: str, target: str, record: dict) -> Path:
        """Write (or replace) the record of a cell."""
        return write_json(self.path(model, target), record)

    def records(self) -> list[dict]:
        """Every readable record in the store, sorted by file name (damaged files set aside)."""
        found = (self._read(p) for p in sorted((self.root / "cells").glob("*.json")))
        return [record for record in found if record is not None]
