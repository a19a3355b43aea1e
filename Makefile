# proofwork: `make demo` and `make test` work on a fresh machine (Python >= 3.11, Node.js + npm).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
ANVIL_VERSION := 1.7.1
ANVIL  := .tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
# helia's UnixFS importer: the independent reference our CIDs are checked against in the tests.
IPFS_IMPORTER := .tools/node_modules/ipfs-unixfs-importer/package.json
# the TypeScript SD-JWT VC implementation our credentials are cross-checked against (0.20.0 needs an
# unpublished @owf prerelease, so 0.19.0).
SD_JWT_VC := .tools/node_modules/@sd-jwt/sd-jwt-vc/package.json
# Compiled contract artifacts are cached inside the checkout, keyed by source hash.
export PROOFWORK_CACHE_DIR ?= $(CURDIR)/.cache/artifacts

.PHONY: sandbox-tools demo test quick lint typecheck unit contracts integration e2e bench install install-dev anvil clean

demo: $(VENV)/.installed sandbox-tools
	$(VENV)/bin/proofwork demo
	$(VENV)/bin/proofwork demo --ml
	$(VENV)/bin/proofwork demo --identity

# Every test, Hypothesis' `ci` profile (tests/conftest.py); the 20 slowest are listed at the end.
test: $(VENV)/.installed-dev $(ANVIL) $(IPFS_IMPORTER) $(SD_JWT_VC) sandbox-tools lint typecheck
	$(PY) -m pytest -q -n 2 --dist loadgroup --hypothesis-profile=ci --durations=20

# The quick loop: no slow, anvil or daemon tests, Hypothesis' `dev` profile; no lint or type check.
quick: $(VENV)/.installed-dev $(ANVIL) $(IPFS_IMPORTER) $(SD_JWT_VC) sandbox-tools
	$(PY) -m pytest -q -n 2 --dist loadgroup --hypothesis-profile=dev -m "not slow and not anvil and not daemon" --durations=10

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy src

bench: $(VENV)/.installed-dev $(ANVIL) sandbox-tools
	$(PY) bench/gas.py
	$(PY) bench/settle_gas.py
	$(PY) bench/sandbox.py
	$(PY) bench/cid.py
	$(PY) bench/verify.py
	$(PY) bench/reputation.py
	$(PY) bench/identity_gas.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

# anvil from the npm registry (the binary ships inside the platform package; no postinstall download),
# and the reference UnixFS importer. One npm command: `npm install --no-save` removes what it is not given.
$(ANVIL) $(IPFS_IMPORTER) $(SD_JWT_VC) &:
	mkdir -p .tools
	cd .tools && npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
		@foundry-rs/anvil@$(ANVIL_VERSION) @foundry-rs/anvil-linux-amd64@$(ANVIL_VERSION) \
		ipfs-unixfs-importer@17.1.1 blockstore-core@7.0.1 @sd-jwt/sd-jwt-vc@0.19.0 @sd-jwt/crypto-nodejs@0.19.0
	test -x $(ANVIL) && test -f $(IPFS_IMPORTER) && test -f $(SD_JWT_VC)

anvil: $(ANVIL)

# bubblewrap isolates untrusted submissions (Debian package); without it the sandbox falls back
# to `unshare -n` + rlimits and says so.
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get install -y -q bubblewrap >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q bubblewrap >/dev/null; }; }
	@command -v bwrap >/dev/null 2>&1 && echo "sandbox: $$(bwrap --version)"

clean:
	rm -rf $(VENV) .tools .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
