# One entry point for people and CI. Every target sets up what it needs on a fresh machine.
# The tools need Python 3.11 or newer (PYTHON, default python3; checked first); `sam build`
# (make test, make infra) also needs a python3.13.
#   make demo   replay events/ through receiver -> queue -> sender against the embedded fake TikTok
#               (never TikTok itself, whatever the environment holds: replay posts only with --live)
#   make test   the whole suite (what .ci/run runs): the gates (ruff, mypy), sam validate --lint,
#               cfn-lint and sam build (offline, no AWS credentials), the sdist and the wheel
#               (make dist), then pytest, which also checks the built layer, installs the
#               wheel into a fresh virtualenv and runs the storefront code in headless Chromium
#               (Shopify's) and PHP (WooCommerce's plugin)
#   make lint   only the gates: ruff (style, imports, complexity) and mypy
#   make unit   only the unit tests (seconds)
#   make infra  only the template checks and sam build
#   make dist   only the sdist and the wheel (into .build/dist)
#   make bench  the benchmarks (not part of the test suite; bench-build, bench-mapping, bench-relay,
#               bench-cold one by one, below)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# The SAM CLI lives in a virtualenv of its own: its pins would fight the project's dev tools.
# cfn-lint is pinned there too, so `sam validate --lint` and `cfn-lint` are one and the same linter.
# Changing a pin recreates .venv-sam (the stamp's name carries the versions).
SAM_CLI_VERSION  := 1.170.0
CFN_LINT_VERSION := 1.58.0
SAM_VENV  := .venv-sam
SAM_BIN   := $(SAM_VENV)/bin
SAM_STAMP := $(SAM_VENV)/.installed-sam-$(SAM_CLI_VERSION)-cfn-lint-$(CFN_LINT_VERSION)
# No telemetry; a region only so that nothing asks for one. No credentials are needed.
SAM_ENV   := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1}

# `sam build` (BuildMethod: python3.13) needs an executable called python3.13 on PATH. Prints the
# first one that really runs Python 3.13 with pip: PATH first (a pyenv shim whose version is not
# active fails this test and is skipped), then pyenv's versions/3.13.*, newest first.
# tests/infrastructure/test_template.py finds the same interpreter for its built-layer import check.
FIND_PYTHON313 = for dir in $$(echo "$$PATH" | tr ':' ' ') \
	$$(ls -d "$$(pyenv root 2>/dev/null || echo "$${PYENV_ROOT:-$$HOME/.pyenv}")"/versions/3.13*/bin 2>/dev/null | sort -rV); do \
	  "$$dir/python3.13" -c 'import sys, pip; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1 \
	    && { echo "$$dir/python3.13"; exit 0; }; \
	done; exit 1

.PHONY: demo test unit lint bench clean infra sam-validate lint-template sam-build dist check-python test-tools \
	test-browser test-php

# First of all: an older Python would have pip search for minutes for versions that do not exist.
check-python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: tiktok-relay's tools need Python 3.11 or newer, and $(PYTHON) is" \
	    "$$(command -v $(PYTHON) >/dev/null && $(PYTHON) --version 2>&1 || echo 'not found')." >&2; \
	  echo "       Use a newer one: make $(or $(MAKECMDGOALS),demo) PYTHON=python3.12 (or python3.11, python3.13)." >&2; \
	  echo "       make test also needs a python3.13 for sam build (pyenv install 3.13)." >&2; exit 1; }

$(VENV)/.installed: pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

# The two negative_ samples are refused on purpose (tests/integration/test_demo.py keeps this note true).
demo: $(VENV)/.installed
	$(BIN)/tiktok-relay replay events/shopify/*.json
	@echo "Refused on purpose: negative_bad_signature.json (401, a forged signature) and" \
	  "negative_malformed_body.json (400, a body that is not JSON) show what bad deliveries get;" \
	  "the two WARNING log lines on stderr are theirs. Nothing left this machine: replay sends to" \
	  "TikTok only with --live."

# The SAM steps and the packages come first so that pytest's built-layer and wheel checks see
# this very build.
test: $(VENV)/.installed lint infra dist test-tools test-browser test-php
	$(BIN)/python -m pytest -q

# curl (sign --curl) runs in the tests; installed if missing.
test-tools:
	@command -v curl >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; \
	  else echo "error: make test needs curl; install it (e.g. apt-get install curl)" >&2; exit 1; fi; }

# The browser tests (tests/browser) drive Debian's chromium through Playwright, which never downloads
# a browser here. Installed if missing (as root with apt-get, about 30 s); where that cannot be done
# the browser tests skip, and their skip reason quotes the last line of .build/chromium-install.log.
test-browser:
	@command -v chromium >/dev/null || { mkdir -p .build; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	        chromium; } >.build/chromium-install.log 2>&1 \
	      || echo "apt-get install chromium failed (exit $$?)" | tee -a .build/chromium-install.log; \
	  else echo "not root, or no apt-get: chromium was not installed" | tee .build/chromium-install.log; fi; }

# The WooCommerce plugin's tests (tests/integration/test_woocommerce_plugin.py) run it with Debian's
# php-cli. Installed if missing (as root with apt-get); where that cannot be done they skip, saying so.
test-php:
	@command -v php >/dev/null || { mkdir -p .build; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's php-cli for the WooCommerce plugin's tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	        php-cli; } >.build/php-install.log 2>&1 \
	      || echo "apt-get install php-cli failed (exit $$?)" | tee -a .build/php-install.log; \
	  else echo "not root, or no apt-get: php-cli was not installed" | tee .build/php-install.log; fi; }

# The sdist, and the wheel built from it (which proves the sdist complete).
dist: $(VENV)/.installed
	rm -rf .build/dist
	@mkdir -p .build
	$(BIN)/python -m build --outdir .build/dist . >.build/dist.log 2>&1 || { cat .build/dist.log; exit 1; }
	@ls .build/dist

unit: $(VENV)/.installed
	$(BIN)/python -m pytest -q tests/unit

# The handlers are checked one at a time: each is called app.py, which mypy would take for
# one module several times.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mypy functions/receiver/app.py
	$(BIN)/mypy functions/sender/app.py
	$(BIN)/mypy functions/eventbridge/app.py
	$(BIN)/mypy functions/reconcile/app.py

$(SAM_STAMP):
	rm -rf $(SAM_VENV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_BIN)/pip install -q --disable-pip-version-check 'aws-sam-cli==$(SAM_CLI_VERSION)' 'cfn-lint==$(CFN_LINT_VERSION)'
	touch $@

# Each step fails on any finding, warnings included.
infra: sam-validate lint-template sam-build

sam-validate: $(SAM_STAMP)
	$(SAM_ENV) $(SAM_BIN)/sam validate --lint --template template.yaml

lint-template: $(SAM_STAMP)
	$(SAM_BIN)/cfn-lint template.yaml

# Local build, no container. Fails if the build fails or says anything about a warning.
sam-build: $(SAM_STAMP)
	@py313=$$($(FIND_PYTHON313)) || { \
	  echo "error: sam build needs Python 3.13 (the functions and RelayLayer use BuildMethod python3.13)," >&2; \
	  echo "       and no working python3.13 is on PATH or in pyenv. Install one (pyenv install 3.13)" >&2; \
	  echo "       or put its directory first on PATH." >&2; exit 1; }; \
	echo "sam build with $$py313"; \
	mkdir -p .aws-sam; \
	PATH="$$(dirname "$$py313"):$$PATH" $(SAM_ENV) $(SAM_BIN)/sam build --template template.yaml >.aws-sam/sam-build.log 2>&1; \
	status=$$?; cat .aws-sam/sam-build.log; \
	if [ $$status -ne 0 ]; then exit $$status; fi; \
	if grep -qi 'warn' .aws-sam/sam-build.log; then echo "error: sam build printed warnings (above)" >&2; exit 1; fi

clean:
	rm -rf $(VENV) $(SAM_VENV) .venv-bench-pytt .aws-sam .build

# The benchmarks (README "Performance"); not tests, nothing here fails on a slow machine. Run them
# one at a time (no -j): side by side they would time each other.
#   bench-build    `tiktok-relay build` of 10,000 events against pytt-events-api 0.1.10 and a
#                  no-validation floor; the first run creates .venv-bench-pytt (pytt pins pydantic 1)
#   bench-mapping  mapping one 10-item order against its 200 us budget
#   bench-relay    the relay's budgets: receiver warm latency, cold start, peak memory, sender
#                  throughput, layer size; starts a moto server and the fake TikTok on 127.0.0.1
#   bench-cold     only bench-relay's cold starts: each function against the bare Powertools
#                  handler with a boto3 SQS client, the layer with and without its bytecode
.PHONY: bench-build bench-mapping bench-relay bench-cold
bench: bench-build bench-mapping bench-relay
bench-build: $(VENV)/.installed
	$(BIN)/python tests/bench/bench_build.py
bench-mapping: $(VENV)/.installed
	$(BIN)/python tests/bench/bench_mapping.py
bench-relay: $(VENV)/.installed
	$(BIN)/python tests/bench/bench_relay.py
bench-cold: $(VENV)/.installed
	$(BIN)/python tests/bench/bench_relay.py --only cold
