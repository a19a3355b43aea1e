# proofwork: `make demo` and `make test` work on a fresh machine (Python >= 3.11, Node.js + npm).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
ANVIL_VERSION := 1.7.1
ANVIL  := .tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
# Compiled contract artifacts are cached inside the checkout, keyed by source hash.
export PROOFWORK_CACHE_DIR ?= $(CURDIR)/.cache/artifacts

.PHONY: demo test lint typecheck unit contracts integration e2e bench install install-dev anvil clean

demo: $(VENV)/.installed
	$(VENV)/bin/proofwork demo

test: $(VENV)/.installed-dev $(ANVIL) lint typecheck
	$(PY) -m pytest -q -n 2 --dist loadgroup

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy src

bench: $(VENV)/.installed-dev $(ANVIL)
	$(PY) bench/gas.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

# anvil from the npm registry (the binary ships inside the platform package; no postinstall download).
$(ANVIL):
	mkdir -p .tools
	cd .tools && npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
		@foundry-rs/anvil@$(ANVIL_VERSION) @foundry-rs/anvil-linux-amd64@$(ANVIL_VERSION)
	test -x $(ANVIL)

anvil: $(ANVIL)

clean:
	rm -rf $(VENV) .tools .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
