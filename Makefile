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

.PHONY: help install install-train install-dev install-bench lock migrate run serve status secret-key test test-fast test-sqlite test-postgres lint format bench train model-card clean

help:
	@echo "make run    - install, migrate and start web + worker + broker on http://127.0.0.1:$(PORT)"
	@echo "make serve  - the production-like stack (gunicorn, whitenoise, Celery worker + beat)"
	@echo "make status - the state of make serve's processes (supervisorctl)"
	@echo "make test   - the whole suite, on SQLite and (when reachable) PostgreSQL"
	@echo "make test-fast - the unit tests only, on SQLite (about a minute)"
	@echo "make lint   - ruff"
	@echo "make bench  - benchmarks under bench/"
	@echo "make train  - retrain the default model from scratch (about 50 minutes on 2 cores)"
	@echo "make lock   - re-resolve uv.lock and requirements/*.txt after editing pyproject.toml"

# Each job installs only what it needs, from the lock (exact versions, with hashes):
# requirements/base.txt (web + worker), train.txt, dev.txt (tests, lint; with training),
# bench.txt. A stamp per job; a changed requirements file installs again.
$(VENV)/.installed-%: requirements/%.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r $<
	touch $@

install: $(VENV)/.installed-base
install-train: $(VENV)/.installed-train
install-dev: $(VENV)/.installed-dev
install-bench: $(VENV)/.installed-bench

# pyproject.toml is the one list of dependencies; uv resolves it for every Python the
# project supports (requires-python) into uv.lock, and exports each job's requirements.
UV_VERSION := 0.13.8
lock: install
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv lock
	@for job in base train dev bench; do \
	  extra=$$([ $$job = base ] || echo "--extra $$job"); \
	  { echo "# Generated from pyproject.toml and uv.lock by \`make lock\`; do not edit."; \
	    $(VENV)/bin/uv export --frozen --no-emit-project --no-header $$extra \
	      --format requirements-txt --quiet; } > requirements/$$job.txt; \
	done

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	@rm -rf $(VAR_DIR)/metrics
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
	@rm -rf $(VAR_DIR)/metrics
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
test: install-dev
	@bash tests/run.sh

# The unit tests only (no worker, browser, training or PostgreSQL): the loop while coding.
test-fast: install-dev
	GUESSGAME_VAR_DIR=$(CURDIR)/var/test $(PY) -m pytest -q -m "not integration and not browser and not training and not postgres"

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The demo's baseline (seed CNN, about 3 minutes) is trained once into var/ for the
# side-by-side inference benchmark.
var/models/seed-full/model.keras: | install-bench
	$(PY) -m training.train --model seed --out var/models/seed-full --seed 0

bench: install-bench var/models/seed-full/model.keras
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) bench/bench_inference.py
	$(PY) bench/bench_formats.py
	$(PY) bench/bench_api.py
	$(PY) bench/bench_load.py
	$(PY) bench/bench_flood.py
	$(PY) bench/bench_gc.py
	$(PY) bench/bench_players.py
	$(PY) bench/bench_flywheel.py

train: install-train
	$(PY) -m training.train --model default --out inference/shipped/default-v3 --seed 0

# The model card of a trained version folder (training writes it; this rewrites it).
MODEL ?= inference/shipped/default-v2
model-card: install
	$(PY) -m training.model_card $(MODEL)

clean:
	rm -rf var staticfiles .pytest_cache
