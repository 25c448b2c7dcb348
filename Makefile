# leifeng — two commands: `make run` (demo on SQLite) and `make test` (ruff + suite on SQLite and PostgreSQL).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# Two pytest workers (pytest-xdist): the suite's own databases are per worker on both SQLite and PostgreSQL.
PYTEST_WORKERS ?= 2

.PHONY: run test venv dev-deps migrate demo lint system-packages test-sqlite test-postgres messages bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "leifeng needs Python >= 3.12 (see .python-version)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

venv: $(VENV)/.runtime
dev-deps: $(VENV)/.dev

migrate: venv
	$(BIN)/python manage.py migrate --noinput

## make run: set up, migrate, load the demo once (kept on later runs), print accounts, serve.
## Background tasks (reminders, escalations) run inline on the laptop; production runs `manage.py db_worker`.
run: migrate
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py demo_accounts
	TASKS_BACKEND="$${TASKS_BACKEND:-immediate}" ALLOWED_HOSTS="$${ALLOWED_HOSTS:-127.0.0.1,localhost,$(HOST)}" \
	  SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Debian packages the tests need (PostgreSQL, Chromium, fonts, gettext, Pango): installed when missing and root.
system-packages:
	@bash scripts/system_packages.sh

test-sqlite: dev-deps
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-postgres: dev-deps
	$(BIN)/python scripts/with_postgres.py -- $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## make test: the Debian packages, ruff, then the whole suite on SQLite and on a throw-away PostgreSQL server.
test: system-packages lint test-sqlite test-postgres

messages: venv
	cd leifeng && ../$(BIN)/python ../manage.py makemessages -l zh_Hans --no-obsolete && ../$(BIN)/python ../manage.py compilemessages

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
