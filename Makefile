# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint clean faults

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## Start PostgreSQL, Valkey, web, beat and a worker per region (Ctrl-C stops them all).
run: $(VENV)/.installed
	$(PY) -m uptime.embedded run

## Run the whole test suite against throwaway embedded PostgreSQL and Valkey.
test: $(VENV)/.installed
	$(PY) -m uptime.embedded test $(ARGS)

## Lint and type-check (missing migrations are caught by the test suite).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy

## Fault suite: real processes, injected failures, docs/reliability.md (40-45 min; QUICK=1: a few).
faults: $(VENV)/.installed
	$(PY) -m bench.faults $(if $(QUICK),--quick) $(ARGS)

clean:
	rm -rf $(VENV) .local
