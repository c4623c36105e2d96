# One command each, on a fresh machine with Python 3.11+:
#   make run    set up .venv and run the main job (entry modes of the default case, 100 runs each)
#   make test   set up .venv (and Chromium for the browser tests, where possible) and run every test
#   make lint   ruff check, ruff format --check and mypy
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run test test-fast app lint bench validate clean-venv browser

# --compile-bytecode: every package's .pyc written once at install, so a fresh process (a CLI call, a
# spawned Dask worker, a test's subprocess) imports in about 1.8 s instead of 4.5 where Python may not
# write them itself (PYTHONDONTWRITEBYTECODE, read-only site-packages)
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install -q --compile-bytecode -c constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/abm run

# Debian's Chromium for the browser tests (never a downloaded browser build); needs root and apt.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: /usr/bin/chromium missing and cannot be installed here: browser tests will be skipped"; fi

# tests spread over the cores (pytest-xdist); modules sharing a server or a long fixture stay
# together (tests/conftest.py)
test: setup browser
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=False $(BIN)/pytest -n auto --dist loadfile

test-fast: setup
	$(BIN)/pytest -m "not browser and not slow"

app: setup
	$(BIN)/abm app

bench: setup
	$(BIN)/abm bench

validate: setup
	$(BIN)/abm validate

# ruff (lint and formatting) and mypy on the package; .ci/run runs it before the tests
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy abm

clean-venv:
	rm -rf $(VENV)
