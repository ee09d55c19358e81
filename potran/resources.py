"""Where the project's data files are: inside an installed package, or in the source checkout.

A wheel carries ``data/paper``, ``data/zoo`` and the benchmark's tables as ``potran/data/``
(see ``pyproject.toml``); a source checkout (or an editable install) reads the repository's
``data/`` folder.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["data_path", "project_path"]


def data_path(*parts: str) -> Path:
    """Path of ``data/<parts...>``, from the installed package if it has the file, else the checkout."""
    installed = Path(str(resources.files("potran"))) / "data"
    base = installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "data"
    return base.joinpath(*parts)


def project_path(*parts: str) -> Path:
    """``<root>/<parts...>`` for results and caches: the source checkout's root when potran runs
    from one (so notebooks executed from any folder share ``.cache/`` and ``_build/``), else the
    current directory."""
    checkout = Path(__file__).resolve().parent.parent
    root = checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()
    return root.joinpath(*parts)
