# Two commands for a fresh machine: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` starts the emulated civil registry too: births of the demo region every N seconds.
EMULATE_EVERY ?= 300

.PHONY: install run serve demo test lint bench reset worker beat messages clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## The platform with demo data on http://$(HOST):$(PORT)/ (embedded PostgreSQL unless DATABASE_URL is set).
run: demo
	$(PY) manage.py emulate births --count 3 --every $(EMULATE_EVERY) --first-after 15 \
		--url http://$(HOST):$(PORT) & EMULATOR=$$!; trap "kill $$EMULATOR" EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_reference_data
	$(PY) manage.py load_demo_data --base-url http://$(HOST):$(PORT)
	$(PY) manage.py load_measures
	$(PY) manage.py collectstatic --noinput --verbosity 0

## Lint, architecture contracts, migrations check, the whole test suite.
test: install lint
	$(PY) -m pytest -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
		DJANGO_ALLOWED_HOSTS=example.org $(PY) manage.py check --deploy --fail-level WARNING

## Benchmarks: bench/results.json and bench/RESULTS.md.
bench: install
	$(PY) bench/run.py

## A Celery worker and beat against CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0).
worker: install
	$(VENV)/bin/celery -A config worker -Q default,events,measures,integration -l info

beat: install
	$(VENV)/bin/celery -A config beat -l info

## Regenerate the Russian translations after changing user-visible strings.
messages: install
	$(PY) manage.py makemessages -l ru -l en --ignore=.venv --ignore=.data --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

## Stop the embedded PostgreSQL and wipe all local data.
reset:
	if test -x $(PY); then $(PY) -m config.embedded stop; fi
	rm -rf .data staticfiles
