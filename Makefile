# Two commands do all the set-up on a fresh machine:
#   make report   run the main job (an offline HTML report) on the embedded demo workspace
#   make test     lint, type-check and run every test in a fresh virtual environment
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
OUT ?= reports
PYTEST_ARGS ?=

.PHONY: all venv test lint typecheck pytest report lab bench pull summary endpoints browser clean

all: test

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[notebooks,dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Debian's chromium for the report tests (the browser is never downloaded by the tests).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: venv
	$(VENV)/bin/ruff check instantly_nb tests scripts bench

typecheck: venv
	$(VENV)/bin/mypy instantly_nb

pytest: venv browser
	$(VENV)/bin/pytest -n 2 -q $(PYTEST_ARGS)

test: lint typecheck pytest

report: venv
	$(VENV)/bin/instantly-nb report --demo --out $(OUT)

lab: venv
	$(VENV)/bin/python -m instantly_nb.lab notebooks

pull: venv
	$(VENV)/bin/instantly-nb pull --out data

summary: venv
	$(VENV)/bin/instantly-nb summary

bench: venv
	$(PY) bench/run.py

endpoints: venv
	$(PY) scripts/gen_endpoints.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache reports data
