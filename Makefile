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
# The compiled contracts the package ships (committed; `make artifacts` after editing contracts/).
ARTIFACTS_DIR := src/proofwork/chain/compiled
# js-ipfs: a real IPFS node serving the kubo RPC API, for the KuboStore tests (the npm kubo and go-ipfs
# packages fetch their binary from outside the registry at install time; kubo-python has no RPC API).
JSIPFS_VERSION := 0.66.1
JSIPFS := .tools/ipfs/node_modules/ipfs/src/cli.js
# Debian installs each PostgreSQL major version under $(PG_LIB)/<version>/bin (tests/conftest.py looks there)
PG_LIB := /usr/lib/postgresql
# The web app's front-end assets from the npm registry, pinned: Pico CSS is shipped (a committed copy
# under $(WEB_STATIC), checked against the package here); axe-core is for the browser tests only.
PICO_VERSION := 2.1.1
AXE_VERSION := 4.14.1
WEB_TOOLS := .tools/web/node_modules
WEB_STATIC := src/proofwork/web/static/vendor
AXE := $(WEB_TOOLS)/axe-core/axe.min.js
# Contracts compiled for tests and benchmarks only (test tokens, peers) are cached inside the checkout.
export PROOFWORK_CACHE_DIR ?= $(CURDIR)/.cache/artifacts

.PHONY: debian-packages web-assets browser sandbox-tools postgres-server ipfs-node setup-test setup-core demo test quick lint typecheck unit contracts integration e2e bench install install-dev anvil clean artifacts wheel contract-cache

demo: $(VENV)/.installed sandbox-tools web-assets
	$(VENV)/bin/proofwork demo
	$(VENV)/bin/proofwork demo --ml
	$(VENV)/bin/proofwork demo --identity
	$(VENV)/bin/proofwork demo --dispute
	$(VENV)/bin/proofwork demo --assets
	$(VENV)/bin/proofwork demo --labeling

# Every test, Hypothesis' `ci` profile (tests/conftest.py); the 20 slowest are listed at the end. Two
# workers: three measured 515 s against 544 s, but one run in three timed out a signal test under the load.
# The set-up (pip, npm, apt) and the lint and type checks run side by side first: on a clean clone they
# overlap.
# js-ipfs (about 3 minutes of npm on a clean clone) installs in the background while the tests run: the
# tests that need it run last and their fixture waits for $(JSIPFS_DONE), which holds npm's exit status.
JSIPFS_DONE := .tools/ipfs-install.status
test:
	@mkdir -p .tools && rm -f $(JSIPFS_DONE)
	@( $(MAKE) --no-print-directory ipfs-node >.tools/ipfs-install.log 2>&1; echo $$? >$(JSIPFS_DONE).tmp; \
		mv $(JSIPFS_DONE).tmp $(JSIPFS_DONE) ) &
	@$(MAKE) --no-print-directory -j4 setup-core lint typecheck contract-cache
	PROOFWORK_JSIPFS_STATUS=$(JSIPFS_DONE) $(PY) -m pytest -q -n 2 --dist loadgroup --hypothesis-profile=ci --durations=20

setup-test: setup-core $(JSIPFS)

setup-core: $(VENV)/.installed-dev $(ANVIL) $(IPFS_IMPORTER) $(SD_JWT_VC) sandbox-tools postgres-server web-assets browser

# The quick loop: no slow, anvil or daemon tests, Hypothesis' `dev` profile; no lint or type check.
quick: contract-cache $(ANVIL) $(IPFS_IMPORTER) $(SD_JWT_VC) $(JSIPFS) sandbox-tools postgres-server web-assets browser
	$(PY) -m pytest -q -n 2 --dist loadgroup --hypothesis-profile=dev -m "not slow and not anvil and not daemon" --durations=10

# titanoboa's compile of every contract the tests load, into .cache/titanoboa: beside the set-up, so
# no xdist worker compiles on a cold cache (tests/titanoboa_cache.py).
contract-cache: $(VENV)/.installed-dev
	$(PY) -m tests.titanoboa_cache

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
	$(PY) bench/assets_gas.py
	$(PY) bench/labeling_gas.py
	$(PY) bench/label_quality.py
	$(PY) bench/cli.py
	$(PY) bench/court_token_gas.py
	$(PY) bench/court_gas.py
	$(PY) bench/court_adapter_gas.py
	$(PY) bench/court_appeal_gas.py
	$(PY) bench/indexer.py
	$(PY) bench/api.py
	$(PY) bench/compute_to_data.py

# Compile every contract under contracts/ (mocks/ aside) into the JSON artifacts the package ships:
# ABI, bytecode, source hash, compiler version. The test suite fails while they differ from a fresh compile.
artifacts: $(VENV)/.installed-dev
	$(PY) -m proofwork.chain.compiler build contracts $(ARTIFACTS_DIR)

# The installable wheel (dist/); it needs no compiler to build: the artifacts are committed.
wheel: $(VENV)/bin/python
	$(PY) -m pip wheel -q --no-deps -w dist .

# Sign-In with Ethereum for the API: its metadata pins web3<8 (pip would refuse the pair), the code works
# with web3 8 (see pyproject.toml), so it is installed alone
SIWE := signinwithethereum==5.0.2
# Label aggregation (issue 14): crowd-kit's metadata pulls transformers, which its classification
# aggregators never import (see pyproject.toml), so it too is installed alone
CROWDKIT := crowd-kit==1.4.2

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install -q --no-compile -e .
	$(PY) -m pip install -q --no-deps $(SIWE) $(CROWDKIT)
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install -q --no-compile -e ".[dev]"
	$(PY) -m pip install -q --no-deps $(SIWE) $(CROWDKIT)
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

# Its own npm prefix: the command above removes from .tools/node_modules whatever it is not given.
$(JSIPFS):
	mkdir -p .tools/ipfs
	npm install --prefix .tools/ipfs --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
		ipfs@$(JSIPFS_VERSION)
	test -f $@

ipfs-node: $(JSIPFS)

# Its own npm prefix too. The shipped copy of Pico must be byte for byte the pinned package's file.
$(AXE):
	mkdir -p .tools/web
	npm install --prefix .tools/web --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
		@picocss/pico@$(PICO_VERSION) axe-core@$(AXE_VERSION)
	test -f $@

web-assets: $(AXE)
	@test -f $(WEB_STATIC)/pico.min.css || cp $(WEB_TOOLS)/@picocss/pico/css/pico.min.css $(WEB_STATIC)/pico.min.css
	@cmp -s $(WEB_TOOLS)/@picocss/pico/css/pico.min.css $(WEB_STATIC)/pico.min.css || { \
		echo "$(WEB_STATIC)/pico.min.css differs from @picocss/pico@$(PICO_VERSION): copy it again and commit" >&2; exit 1; }
	@echo "web assets: pico $(PICO_VERSION) (shipped), axe-core $(AXE_VERSION) (tests)"

# Debian's packages, in one apt-get run (parallel apt-gets race for dpkg's lock under `make -j`):
# chromium for the web app's browser tests (Playwright drives /usr/bin/chromium; it never downloads a
# browser of its own); bubblewrap, which isolates untrusted submissions (without it the sandbox falls
# back to `unshare -n` + rlimits and says so); the PostgreSQL server binaries for the tests that start a
# server of their own on 127.0.0.1 in a temporary directory (the package's own cluster is not used).
# Only what is missing is installed; `apt-get update` only when the first try fails.
debian-packages:
	@missing=; \
		command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
		command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
		ls $(PG_LIB)/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
		if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		echo "apt-get install$$missing"; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -q >/dev/null 2>&1 && \
		  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; fi

browser: debian-packages
	@command -v chromium >/dev/null 2>&1 && echo "browser: $$(chromium --version 2>/dev/null)"

sandbox-tools: debian-packages
	@command -v bwrap >/dev/null 2>&1 && echo "sandbox: $$(bwrap --version)"

postgres-server: debian-packages
	@server=$$(ls -d $(PG_LIB)/*/bin/postgres 2>/dev/null | sort -V | tail -n 1); \
		test -n "$$server" || { echo "no PostgreSQL server under $(PG_LIB) after apt-get install postgresql" >&2; exit 1; }; \
		echo "postgres: $$($$server --version)"

clean:
	rm -rf $(VENV) .tools .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
