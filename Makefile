# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint check install clean

$(BIN)/stadtkalender: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/stadtkalender

## run: create the virtualenv, load the bundled snapshots into SQLite and serve on http://127.0.0.1:8080
run: install
	$(BIN)/stadtkalender demo

## test: the whole test suite (SQLite and PostgreSQL, the ics corpus and the iCal validator where ../shared exists)
test: install
	scripts/test

lint: install
	scripts/lint

check: lint test

clean:
	rm -rf $(VENV) stadtkalender.db stadtkalender.db-* var/
