# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv with a Python >= 3.11 found on PATH and install the project into
# it; installing again is skipped until pyproject.toml changes (a stamp keyed on its hash).

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
            && { command -v $$p; break; }; done)
STAMP  := $(VENV)/.installed-$(shell (sha256sum pyproject.toml 2>/dev/null || shasum -a 256 pyproject.toml) | cut -c1-16)
PYTEST_ARGS ?=

.PHONY: help install run test bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: no python3 >= 3.11 on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) ## create .venv and install the project with its dev tools

run: $(STAMP) ## serve the API on the embedded database (Ctrl-C stops both)
	$(BIN)/program serve

test: $(STAMP) ## run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP) ## run every benchmark in bench/ (each prints one JSON line)
	@shopt -s nullglob; files=(bench/[!_]*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks in bench/" >&2; exit 1; fi; \
	for f in "$${files[@]}"; do echo "== $$f" >&2; $(BIN)/python "$$f"; done

clean: ## remove .venv, caches and build output (keeps the data in .program/)
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -prune -not -path './.program/*' -exec rm -rf {} +
