# Bondline: the two set-up commands are `make run` and `make test`.
# Both build .venv first; it is re-installed only when a requirements file changes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-stamp
HOST ?= 127.0.0.1
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: help venv run test lint format bench clean reset-demo

help:
	@echo "make run         set up (secrets, schema, demo clinic when empty) and serve on http://$(HOST):$(PORT)"
	@echo "make test        ruff check, ruff format --check, then the whole pytest suite"
	@echo "                 (PostgreSQL too when TEST_DATABASE_URL is set; .ci/run sets it)"
	@echo "make lint        ruff check and ruff format --check"
	@echo "make format      ruff format and ruff check --fix"
	@echo "make bench       run every bench/*.py"
	@echo "make clean       remove .venv and caches (never data/)"
	@echo "make reset-demo  delete the local SQLite database data/bondline.sqlite3* (asks first)"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@if [ ! -x $(BIN)/python ]; then \
		if [ -z "$(PYTHON)" ]; then echo "Python 3.11 (python3.11 or python3) is needed" >&2; exit 1; fi; \
		echo "Creating $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

run: venv
	$(BIN)/python -m dashboard setup
	$(BIN)/streamlit run streamlit_app.py --server.address $(HOST) --server.port $(PORT) \
		--server.headless true

test: venv lint
	@rc=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; \
	exit $$rc

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	@shopt -s nullglob; files=(bench/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "No benchmarks yet (bench/*.py)."; exit 0; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(BIN)/python "$$f"; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-results
	find . -path ./data -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

reset-demo:
	@shopt -s nullglob; files=(data/bondline.sqlite3*); \
	if [ $${#files[@]} -eq 0 ]; then echo "No local database to delete."; exit 0; fi; \
	if [ "$${CONFIRM:-}" != yes ]; then \
		read -r -p "Delete $${files[*]} (every record in it)? [y/N] " answer || answer=; \
		case "$$answer" in y|Y|yes) ;; *) echo "Kept."; exit 0;; esac; \
	fi; \
	rm -f -- "$${files[@]}"; echo "Deleted. The next 'make run' loads the demo clinic again."
