# Two commands for a fresh machine: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` starts the emulated civil registry too: births of the demo region every N seconds;
# and the emulated agencies, bank, federal register and SMS gateway (docs/peers.md) on these ports.
EMULATE_EVERY ?= 300
AGENCIES_PORT ?= 8101
BANK_PORT ?= 8102
REGISTER_PORT ?= 8103
SMS_PORT ?= 8104
# The emulated identity provider (OpenID Connect, ESIA-like) the portal logs citizens in with.
IDP_PORT ?= 8105
IDP := http://$(HOST):$(IDP_PORT)

.PHONY: install run serve demo test lint browser bench reset worker beat messages clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## The platform with demo data on http://$(HOST):$(PORT)/ (embedded PostgreSQL unless DATABASE_URL is set).
# Beside the server: the emulated peers, beat's periodic work run in-process (no broker in the
# embedded mode), and the emulated civil registry; all stopped with the server.
run: demo
	export SMS_GATEWAY_URL=$${SMS_GATEWAY_URL:-http://$(HOST):$(SMS_PORT)/} \
		SMS_GATEWAY_SECRET=$${SMS_GATEWAY_SECRET:-demo-sms} \
		PORTAL_OIDC_CLIENT_ID=$${PORTAL_OIDC_CLIENT_ID:-social-treasury-portal} \
		PORTAL_OIDC_CLIENT_SECRET=$${PORTAL_OIDC_CLIENT_SECRET:-demo-idp} \
		PORTAL_OIDC_AUTHORIZATION_URL=$${PORTAL_OIDC_AUTHORIZATION_URL:-$(IDP)/authorize} \
		PORTAL_OIDC_TOKEN_URL=$${PORTAL_OIDC_TOKEN_URL:-$(IDP)/token} \
		PORTAL_OIDC_USERINFO_URL=$${PORTAL_OIDC_USERINFO_URL:-$(IDP)/userinfo} \
		PORTAL_OIDC_JWKS_URL=$${PORTAL_OIDC_JWKS_URL:-$(IDP)/jwks} \
		PORTAL_OIDC_END_SESSION_URL=$${PORTAL_OIDC_END_SESSION_URL:-$(IDP)/end-session} \
		PORTAL_OIDC_ISSUER=$${PORTAL_OIDC_ISSUER:-$(IDP)}; \
	$(PY) manage.py peer agencies --host $(HOST) --port $(AGENCIES_PORT) \
		--error-share 0.02 --slow-share 0.05 & AGENCIES=$$!; \
	$(PY) manage.py peer bank --host $(HOST) --port $(BANK_PORT) & BANK=$$!; \
	$(PY) manage.py peer register --host $(HOST) --port $(REGISTER_PORT) \
		--secrets register=demo-egisso & REGISTER=$$!; \
	$(PY) manage.py peer sms --host $(HOST) --port $(SMS_PORT) & SMS=$$!; \
	$(PY) manage.py idp --host $(HOST) --port $(IDP_PORT) \
		--redirect-uri http://$(HOST):$(PORT)/portal/oidc/callback/ & IDP=$$!; \
	$(PY) manage.py run_periodic & PERIODIC=$$!; \
	$(PY) manage.py emulate births --count 3 --every $(EMULATE_EVERY) --first-after 15 \
		--url http://$(HOST):$(PORT) & EMULATOR=$$!; \
	trap "kill $$AGENCIES $$BANK $$REGISTER $$SMS $$IDP $$PERIODIC $$EMULATOR" EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_reference_data
	$(PY) manage.py load_demo_data --base-url http://$(HOST):$(PORT) \
		--agencies-url http://$(HOST):$(AGENCIES_PORT)/ --bank-url http://$(HOST):$(BANK_PORT)/ \
		--register-url http://$(HOST):$(REGISTER_PORT)/
	$(PY) manage.py load_measures
	$(PY) manage.py load_portal_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0

## Lint, architecture contracts, migrations check, the whole test suite.
test: install lint browser
	$(PY) -m pytest -q -p no:cacheprovider

# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || \
		(echo "Chromium is missing and could not be installed: apt-get install chromium" && exit 1)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
		DJANGO_ALLOWED_HOSTS=example.org CACHE_URL=redis://127.0.0.1:6379/1 \
		$(PY) manage.py check --deploy --fail-level WARNING

## Benchmarks: bench/results.json and bench/RESULTS.md.
bench: install
	$(PY) bench/run.py

## A Celery worker and beat against CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0).
worker: install
	$(VENV)/bin/celery -A config worker -Q default,events,measures,integration,notifications -l info

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
