# Yiqiao: `make run` starts the whole system on loopback with demo data; `make test` runs every test.
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed
NPM_STAMP := miniprogram/node_modules/.installed
export TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export FLASK_APP := bff.wsgi:app
export JOBS_IN_PROCESS ?= 1

.PHONY: run test test-python test-miniprogram lint bench setup clean

setup: $(VENV_STAMP) $(NPM_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(NPM_STAMP): miniprogram/package.json miniprogram/package-lock.json
	cd miniprogram && npm ci --no-audit --no-fund && npm run build:npm
	touch $@

run: setup
	$(PY) deploy/devrun.py

test: setup test-python test-miniprogram

test-python: $(VENV_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests

test-miniprogram: $(NPM_STAMP)
	cd miniprogram && npm run lint && npm run check && npm test && npm run test:e2e

lint: setup
	$(PY) -m ruff check .
	.venv/bin/lint-imports  # the dependency rule of docs/ARCHITECTURE.md ([tool.importlinter] in pyproject.toml)
	cd miniprogram && npm run lint

bench: $(VENV_STAMP)  ## needs wrk (bench installs it with apt-get when missing)
	$(PY) -m bench

clean:
	rm -rf var .pytest_cache
