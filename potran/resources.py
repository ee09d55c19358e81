"""Where the project's data files are: ``potran/data/`` in an installed wheel (``pyproject.toml``),
else the source checkout's ``data/``.

When ``POTRAN_DATA_LOG`` names a file, every :func:`data_path` call appends one JSON line to it
(``page`` and ``build`` from ``POTRAN_PAGE``/``POTRAN_BUILD_STARTED``, and the path): the book's
reproducibility page lists the data each page read.
"""
from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

__all__ = ["data_path", "project_path"]


def data_path(*parts: str) -> Path:
    """Path of ``data/<parts...>``, from the installed package if it has the file, else the checkout."""
    installed = Path(str(resources.files("potran"))) / "data"
    base = installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "data"
    path = base.joinpath(*parts)
    log = os.environ.get("POTRAN_DATA_LOG")
    if log:
        record = {"page": os.environ.get("POTRAN_PAGE", ""),
                  "build": os.environ.get("POTRAN_BUILD_STARTED", ""), "path": str(path)}
        with open(log, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")
    return path


def project_path(*parts: str) -> Path:
    """``<root>/<parts...>`` for results and caches: the source checkout's root when potran runs
    from one (so notebooks executed from any folder share ``.cache/`` and ``_build/``), else the
    current directory."""
    checkout = Path(__file__).resolve().parent.parent
    root = checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()
    return root.joinpath(*parts)
