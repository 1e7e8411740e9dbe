# The two commands a fresh machine needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes side by side; each has its own database (tests/conftest.py).
PYTEST_ARGS ?= --numprocesses=auto --maxprocesses=4

.PHONY: run test install services lint typecheck pytest pytest-sqlite bench clean

run: install  ## Relay on http://127.0.0.1:8000 with the embedded defaults (SQLite, in-process deliveries)
	$(BIN)/relay migrate
	$(BIN)/relay serve --host 127.0.0.1 --port 8000

test: install services lint typecheck pytest pytest-sqlite  ## ruff, mypy, then the suite on PostgreSQL and on SQLite

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

services:  ## start PostgreSQL and Redis when they are down
	./scripts/ensure-services.sh

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check app tests bench

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest $(PYTEST_ARGS)

pytest-sqlite:
	RELAY_TEST_DATABASE=sqlite $(BIN)/pytest $(PYTEST_ARGS)

bench: install services  ## the benchmarks under bench/, each against a baseline in the same run
	$(BIN)/python bench/api.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/slack.py
	$(BIN)/python bench/reconcile.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache relay.db relay.db-*
