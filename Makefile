# make demo: install into .venv and run the collector with its demo shop.
# make test: install what the tests need (Chromium, Node.js and nginx from apt, the
#            rest from PyPI) and run the whole suite.
# make bench: the benchmark (bench/), with PostgreSQL when the local cluster runs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test chromium node nginx postgres bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/pip install --quiet .
	$(BIN)/consentpixel serve

chromium:
	@[ -x /usr/bin/chromium ] || [ -n "$$CONSENTPIXEL_CHROMIUM" ] || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# nginx, in front of the collector in e2e/test_deploy.py (openssl makes its certificate)
nginx:
	@{ command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null && command -v openssl >/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nginx openssl >/dev/null; }

postgres:
	@.ci/postgres

# Node.js checks that the audit's probe.js parses (node --check); nothing is installed with npm.
node:
	@command -v node >/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs; }

test: $(BIN)/python chromium node nginx postgres
	$(BIN)/pip install --quiet ".[test]"
	$(BIN)/python -m pytest -n auto

bench: $(BIN)/python postgres
	$(BIN)/pip install --quiet ".[test]"
	$(BIN)/python -m bench $(if $(wildcard /var/run/postgresql/.s.PGSQL.5432),--postgres 'postgresql:///postgres?host=/var/run/postgresql')
