# guessgame: `make run` to play, `make test` to run every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Local state (SQLite file, embedded Redis socket, secret key); settings read the same.
VAR_DIR := $(or $(GUESSGAME_VAR_DIR),var)
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help install migrate run serve status secret-key test test-sqlite test-postgres lint format bench train clean

help:
	@echo "make run    - install, migrate and start web + worker + broker on http://127.0.0.1:$(PORT)"
	@echo "make serve  - the production-like stack (gunicorn, whitenoise, Celery worker + beat)"
	@echo "make status - the state of make serve's processes (supervisorctl)"
	@echo "make test   - the whole suite, on SQLite and (when reachable) PostgreSQL"
	@echo "make lint   - ruff"
	@echo "make bench  - benchmarks under bench/"
	@echo "make train  - retrain the default model from scratch (about 15 minutes)"

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	GUESSGAME_PORT=$(PORT) $(VENV)/bin/honcho --procfile Procfile start

# Production-like on this machine: plain HTTP on localhost, so the https-only
# protections are off here; behind TLS leave them at their (on) defaults.
# supervisord (guessgame/supervisord.conf) restarts whichever process dies; Ctrl-C or a
# SIGTERM to make stops them all. The embedded broker runs only when REDIS_URL is unset.
serve: export GUESSGAME_VAR_DIR := $(abspath $(VAR_DIR))
serve: export GUESSGAME_EMBEDDED_REDIS := $(if $(REDIS_URL),false,true)
serve: export DJANGO_ENV := production
serve: export DEBUG := false
serve: export SECURE_SSL_REDIRECT := false
serve: export SECURE_COOKIES := false
serve: export SECURE_HSTS_SECONDS := 0
serve: install secret-key
	SECRET_KEY=$${SECRET_KEY:-$$(cat $(VAR_DIR)/secret_key)} $(PY) manage.py migrate --noinput
	SECRET_KEY=$${SECRET_KEY:-$$(cat $(VAR_DIR)/secret_key)} $(PY) manage.py collectstatic --noinput --verbosity 0
	SECRET_KEY=$${SECRET_KEY:-$$(cat $(VAR_DIR)/secret_key)} GUESSGAME_PORT=$(PORT) exec $(VENV)/bin/supervisord --configuration guessgame/supervisord.conf

status: export GUESSGAME_VAR_DIR := $(abspath $(VAR_DIR))
status:
	$(VENV)/bin/supervisorctl --configuration guessgame/supervisord.conf status

# The key `make serve` signs sessions with: made once, readable by its owner only (an
# older one left 0644 is tightened).
secret-key:
	@mkdir -p $(VAR_DIR)
	@test -s $(VAR_DIR)/secret_key || (umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(64))" > $(VAR_DIR)/secret_key)
	@chmod 600 $(VAR_DIR)/secret_key

# Tests use their own var/test (database file, embedded Redis socket), never var/.
test: install
	@bash tests/run.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The demo's baseline (seed CNN, about 3 minutes) is trained once into var/ for the
# side-by-side inference benchmark.
var/models/seed-full/model.keras: | install
	$(PY) -m training.train --model seed --out var/models/seed-full --seed 0

bench: install var/models/seed-full/model.keras
	$(PY) -m pip install --quiet -r bench/requirements.txt
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) bench/bench_inference.py
	$(PY) bench/bench_formats.py
	$(PY) bench/bench_api.py
	$(PY) bench/bench_load.py
	$(PY) bench/bench_flood.py

train: install
	$(PY) -m training.train --model default --out inference/shipped/default-v2

clean:
	rm -rf var staticfiles .pytest_cache
