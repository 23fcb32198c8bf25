# Two commands do all set-up on a fresh machine (Debian/Ubuntu, Python 3.11+):
#   make run    installs everything, builds the demo archive when the data folder is empty, starts the portal
#   make test   installs everything and runs the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Test-only JavaScript (axe-core for tests/test_accessibility.py), pinned in package-lock.json,
# installed into node_modules/ (git-ignored); nothing from it ships with the portal.
NODE_STAMP := node_modules/.installed-stamp
HOME_DIR ?= $(or $(ARCHIVE_HOME),data)

.PHONY: run test setup system-deps lint format bench clean-venv

run: setup
	$(BIN)/archive --home $(HOME_DIR) demo
	$(BIN)/archive --home $(HOME_DIR) serve

test: setup
	$(BIN)/python -m pytest -q -ra -n auto --dist loadfile

setup: system-deps $(STAMP) $(NODE_STAMP)

system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	$(BIN)/archive model install
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(NODE_STAMP)

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

format:
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python bench/transcribe.py
	$(BIN)/python bench/search.py --hours 10
	$(BIN)/python bench/search.py --hours 10 --engine tantivy
	$(BIN)/python bench/crowd.py --visitors 40 --concurrency 20
	$(BIN)/python bench/slow_link.py --runs 3
