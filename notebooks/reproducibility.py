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
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from IPython.display import display

from potran.bench import book
from potran.bench import provenance as prov
from potran.resources import data_path, project_path

root = project_path()
cache_dir = Path(cache_dir) if cache_dir else project_path("_build", ".jupyter_cache")
generated_dir = Path(generated_dir) if generated_dir else project_path("book", "generated")

# %% [markdown]
# ## Source
#
# The commit of the repository this book was built from (`git rev-parse HEAD`), and whether the
# checkout had changes that were not committed (then the pages show those changes, not the commit).

# %% tags=["hide-input"]
book.table(prov.source(root))

# %% [markdown]
# ## Package versions

# %% tags=["hide-input"]
book.table(prov.versions())

# %% [markdown]
# Every installed distribution (the exact pins of the set-up are in `constraints.txt`):

# %% tags=["hide-input", "hide-output"]
print("\n".join(prov.installed()))

# %% [markdown]
# ## Hardware

# %% tags=["hide-input"]
book.table(prov.hardware(), formats={"value": "text"})

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
print("\nset-up, first run only (make -n -B .venv/.book-installed):")
print(prov.make_dry_run(root, "-B", ".venv/.book-installed"))
print("\nmake book (make -n book, as things stand now):")
print(prov.make_dry_run(root, "book"))

# %% [markdown]
# ## Execution time of each page
#
# One row per page of the table of contents that has code. `seconds` is the execution time that
# jupyter-cache recorded when the page was executed (`execution_seconds`); `executed by this
# build` tells whether this build executed the page or took it from the cache because its code
# had not changed since an earlier build (then `seconds` is the time of that earlier execution).

# %% tags=["hide-input"]
before = os.environ.get("POTRAN_CACHE_BEFORE")  # the record ids that existed when the build started
before = None if before is None else {int(k) for k in before.split(",") if k}
timings = prov.execution_times(cache_dir, prov.toc_pages(root / "book" / "_toc.yml"), before=before)
if timings is None:
    timings = pd.DataFrame(columns=["seconds", "executed by this build", "record"])
    print(
        f"no jupyter-cache database at {prov.shown(cache_dir, root)}: this notebook ran outside a book build"
    )
else:
    print(
        f"jupyter-cache database: {prov.shown(cache_dir, root)}; build started (UTC): "
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
log = os.environ.get("POTRAN_DATA_LOG") or project_path("_build", "data-reads.jsonl")
reads = prov.data_reads(log, data_path())
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
runs = prov.papermill_runs(generated_dir, root)
if runs is None:
    print("no papermill outputs in book/generated/ (make papermill writes them)")
else:
    display(book.table(runs, formats={"seconds": 1}))

# %% tags=["hide-input"]
print(
    f"this page executed at {datetime.now(timezone.utc).isoformat(timespec='seconds')} (UTC) "
    f"with Python {sys.version.split()[0]}"
)
