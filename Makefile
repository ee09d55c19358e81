# Every target sets itself up: a fresh machine needs only python3.11, pip and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench-core clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

## main job (for now): score the parity cases with and without PED
demo: $(STAMP)
	$(PY) -m potran.demo

## the test suite
test: $(STAMP)
	$(PY) -m pytest -q

## speed benchmark of the core (prints ratios against a baseline measured in the same run)
bench-core: $(STAMP)
	$(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) _build book/generated .cache
