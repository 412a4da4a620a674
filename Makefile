# The two commands of the README: `make run` and `make test`. Both work from a fresh clone with Python 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Run the whole system (embedded default: in-memory broker, worker threads, SQLite).
run: $(STAMP)
	$(BIN)/bookjobs db upgrade
	$(BIN)/bookjobs up --demo

EPUBJS := tests/epubjs/node_modules/.package-lock.json

# epub.js under jsdom, the reference the location tests compare against (npm registry, lock file pinned).
$(EPUBJS): tests/epubjs/package.json tests/epubjs/package-lock.json
	npm ci --prefix tests/epubjs --no-audit --no-fund --loglevel=error

## Run every test: unit, integration (real RabbitMQ + PostgreSQL), end-to-end, slow.
test: $(STAMP) $(EPUBJS)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Unit tests only: nothing needs to be running.
test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

## bookjobs beside bare dramatiq, Celery and raw pika on the local RabbitMQ and PostgreSQL.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m benchmarks.compare

clean:
	rm -rf $(VENV) *.egg-info bookjobs.db bookjobs.db-shm bookjobs.db-wal
