# bpmlink: `make up` runs everything, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: up test lint install frontend frontend-test e2e bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[embedded,dev]'
	touch $(STAMP)

install: $(STAMP)

frontend/node_modules/.stamp: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend: frontend/node_modules/.stamp
	cd frontend && npm run build

up: install
	@if [ -f frontend/package.json ]; then $(MAKE) --no-print-directory frontend; fi
	$(PY) -m bpmlink.devstack

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy bpmlink services

frontend-test: install frontend/node_modules/.stamp
	cd frontend && npm run lint && npm run check:api && npm test

e2e: install frontend
	cd frontend && npm run e2e

test: lint
	$(VENV)/bin/pytest -q
	@if [ -f frontend/package.json ]; then $(MAKE) --no-print-directory frontend-test e2e; fi

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist
