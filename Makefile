# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test lint format check bench bench-growth bench-pack loadtest clean-data

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# Test-only tools from npm (package.json): axe-core, injected by the browser tests, and the Nu HTML Checker (vnu.jar,
# run with the machine's Java 17). --ignore-scripts: vnu-jar's postinstall would download a Java of its own.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

## run: web + Celery worker + beat on SQLite with the demo organisation (Ctrl-C stops all)
run: $(VENV)/.runtime
	DEBUG=1 $(PY) manage.py runstack

## test: install test tools and run the whole suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
test: $(VENV)/.dev node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: build a large data set and measure the hot paths (results: docs/benchmarks.md)
bench: $(VENV)/.dev
	$(PY) -m benchmarks.run

## loadtest: gunicorn + wrk on the benchmark's data in PostgreSQL (isms_load on DATABASE_URL's server; installs wrk
## if it can, else says how); each page as a multiple of a floor view (results: docs/benchmarks.md)
loadtest: $(VENV)/.runtime
	$(PY) -m benchmarks.loadtest $(LOADTEST_ARGS)

## bench-growth: the notice scan, the month view and the evidence library at 10k, 100k and 1M occurrences and evidence
## items, each size in a PostgreSQL database of its own (isms_growth_*, reused), and how each grows (docs/benchmarks.md)
bench-growth: $(VENV)/.runtime
	$(PY) -m benchmarks.growth $(GROWTH_ARGS)

## bench-pack: an evidence pack of 10,000 files (2 GB) built by a real Celery worker, its memory sampled every 0.2 s
## (needs PostgreSQL and Redis: DATABASE_URL, REDIS_URL; uses isms_pack_bench; results: docs/benchmarks.md)
bench-pack: $(VENV)/.runtime
	$(PY) -m benchmarks.pack_bench $(PACK_BENCH_ARGS)

clean-data:
	rm -rf var/
