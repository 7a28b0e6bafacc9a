# The two commands of the README:
#   make run    create .venv, install pishkhan with its server extras, migrate, start on 127.0.0.1:8000
#   make test   the whole test suite (SQLite; PostgreSQL too when PISHKHAN_TEST_DATABASE_URL is set)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pishkhan needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pishkhan serve

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/python bench/run.py health --server uvicorn,granian

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
