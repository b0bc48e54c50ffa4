# One entry point for people and CI. Every target sets up what it needs on a fresh machine.
#   make demo   replay events/ through receiver -> queue -> sender against the embedded fake TikTok
#   make test   the whole suite (what .ci/run runs)
#   make bench  the benchmarks (not part of the test suite)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test unit bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/tiktok-relay replay events/shopify/*.json

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .aws-sam .build
