# PeerPulse: `make run` (demo app on SQLite) and `make test` (the whole suite). `make help` lists all.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi
# Run the PostgreSQL half of the suite whenever a local PostgreSQL answers (CI sets this itself).
TEST_DATABASE_URL ?= $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo postgresql+psycopg://postgres@127.0.0.1:5432/test)
export TEST_DATABASE_URL

.DEFAULT_GOAL := help
.PHONY: help install lock audit run demo web scheduler test test-fast lint test-tools bench clean translations

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

# Everything comes from requirements.lock, pinned with hashes (`make lock` refreshes it), then
# PeerPulse itself without its dependencies, built by the locked setuptools.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

UV_COMPILE = $(BIN)/uv pip compile pyproject.toml requirements-build.in --extra test \
  --generate-hashes --universal --python-version 3.11 --quiet

lock: $(VENV)/.installed ## Refresh requirements.lock after changing pyproject.toml (UPGRADE=1: newest releases too)
	$(UV_COMPILE) $(if $(UPGRADE),--upgrade) -o requirements.lock
	@echo "requirements.lock updated: commit it with pyproject.toml"

audit: install ## pip-audit the locked packages against PyPI's advisories (needs PyPI's JSON API)
	$(BIN)/pip-audit --disable-pip --require-hashes -r requirements.lock -s pypi --progress-spinner off --strict

# gettext catalogues: the .po files are kept in git, their compiled .mo files are build output.
PO_FILES := $(wildcard survey/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
POT_FILE := survey/translations/messages.pot

survey/translations/%/LC_MESSAGES/messages.mo: survey/translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile -l $* -i $< -o $@

install: $(VENV)/.installed $(MO_FILES) ## Create .venv and install PeerPulse with its test tools

translations: $(VENV)/.installed ## Extract UI strings, update each language's .po (then translate them), compile
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --add-comments=TRANSLATORS: \
	  --project=PeerPulse --copyright-holder="PeerPulse" -o $(POT_FILE) .
	$(BIN)/pybabel update -i $(POT_FILE) -d survey/translations --ignore-obsolete --width 100
	$(MAKE) $(MO_FILES)
	@echo "Now translate any new or fuzzy entries in $(PO_FILES) (tests/i18n fails until every string is done)"

demo: install ## Migrate the SQLite database and load the demo data (idempotent)
	PEERPULSE_DEMO=1 $(BIN)/flask db upgrade
	PEERPULSE_DEMO=1 $(BIN)/flask demo

run: demo ## Set up, load the demo and serve the app and the scheduler on 127.0.0.1:5000
	@echo "PeerPulse: open http://$(HOST):$(PORT)/ (the front page; staff sign in from it). Starting the web app and the scheduler (Ctrl-C stops both)"
	PEERPULSE_DEMO=1 BASE_URL=http://$(HOST):$(PORT) scripts/run-demo.sh $(HOST) $(PORT)

test-tools: ## Make sure Debian's chromium and redis-server are installed (the tests need them)
	@scripts/ensure-test-tools.sh

# Branch coverage of survey, instruments and analysis (see [tool.coverage] in pyproject.toml) must not
# fall below this: 94.13% measured on 26 Nov 2026 (SQLite, no browser tests: a lower bound), less
# one point of headroom for code added in parallel. Raise it as coverage grows.
COVERAGE_MIN ?= 93

test: install test-tools ## Run the whole test suite (SQLite, and PostgreSQL when one answers), with coverage
	@echo "Databases: SQLite$${TEST_DATABASE_URL:+ and $$TEST_DATABASE_URL}"
	$(BIN)/pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_MIN)

test-fast: install ## The suite without the browser tests
	$(BIN)/pytest -m "not browser"

lint: install ## ruff, mypy, bandit and the schema check
	scripts/check-lock.sh $(BIN)
	$(BIN)/ruff check survey instruments analysis tests bench migrations wsgi.py
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r survey instruments analysis
	$(BIN)/python -m instruments check
	rm -f /tmp/peerpulse-lint.db && DATABASE_URL=sqlite:////tmp/peerpulse-lint.db PEERPULSE_DEMO=1 $(BIN)/flask db upgrade >/dev/null && DATABASE_URL=sqlite:////tmp/peerpulse-lint.db PEERPULSE_DEMO=1 $(BIN)/flask db check

bench: install ## Benchmarks (print their numbers); the load benchmark's quick run needs PostgreSQL
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/fit.py
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  $(BIN)/pip install --quiet -e '.[test,bench]' && \
	  $(BIN)/python bench/pages.py --database-url "$$TEST_DATABASE_URL" && \
	  $(BIN)/python bench/load.py --quick --database-url "$$TEST_DATABASE_URL"; \
	else echo "bench/pages.py and bench/load.py skipped: no PostgreSQL on 127.0.0.1:5432 (set TEST_DATABASE_URL)"; fi

clean: ## Remove the virtualenv, caches and the local database
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis
