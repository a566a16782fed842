# carbonflow: `make run` starts the whole pipeline on embedded defaults; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install
	$(VENV)/bin/carbonflow demo

# pytest exits 5 when it collects no test; that is not a failure of the build itself
test: install
	$(PY) -m pytest -q -ra $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

# benchmarks write bench/results/*.json (commit them with the code they measure)
bench: install
	$(PY) bench/edge_bench.py
	$(PY) bench/pipeline_bench.py

lint: install
	$(PY) -m pip install -q ruff mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy --strict carbon_domain

clean:
	rm -rf .carbonflow build *.egg-info
