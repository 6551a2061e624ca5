# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app campus
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint setup install translations translations-update check bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/pybabel -q compile -d campus/translations

# After changing user-facing strings: re-extract, merge into fi/sv, then translate the new entries.
translations-update: install
	$(FLASK) translate update

setup: install translations
	$(FLASK) db upgrade
	$(FLASK) content sync
	$(FLASK) auth demo

run: setup
	@echo "Serving at http://$(HOST):$(PORT)/  (Ctrl+C stops)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/ruff check campus tests bench
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check campus tests bench
	$(BIN)/ruff format --check campus tests bench

check: install
	$(FLASK) content check

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance *.egg-info
