# Tovholder. `make run` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv: found on PATH, else in ~/.local/bin, else installed there from PyPI.
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium

.PHONY: help deps-serve run test test-fast fuzz lint migrate demo bench bench-quick i18n deps browser-deps posters-deps poster-examples poster-samples screenshots clean

help:
	@echo "make run      start the server on http://0.0.0.0:8000 (SQLite under ./data by default)"
	@echo "make test     run every test (installs what the tests need first)"
	@echo "make test-fast  the tests without a server process or a browser (the edit-test loop)"
	@echo "make fuzz     the property test of a run with 10,000 random sequences (about 20 minutes)"
	@echo "make lint     ruff (its checks and its format), and mypy --strict on app/, exercises/ and bench/"
	@echo "make migrate  upgrade the database to the newest schema"
	@echo "make i18n     extract messages and update the catalogues"
	@echo "make bench    40 to 2,000 phones against real servers, as ratios to a bare socket floor (~8 min)"
	@echo "make bench-quick  40 phones x 50 steps and a 200-phone answer burst; checks delivery, not timings"
	@echo "make poster-examples  render real posters of a demo team of 40 to docs/posters/{core-task,coordination,lessons,alliance,safety,leadership}.png"
	@echo "make poster-samples   render the built-in sample posters to docs/posters/*-{en,nb}.png"
	@echo "make screenshots  the projector, console and phones of every exercise type, nb and en, to docs/screenshots/"

$(UV):
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv

# Compiled at install: where PYTHONDONTWRITEBYTECODE is set, every process (each test server)
# would otherwise compile the libraries again, about a second of CPU each time.
.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

deps: .venv/.synced

# What serving needs and nothing else: `make run` never installs the test and lint tools (the `dev`
# dependency group, which `make test` and `make lint` add). --inexact keeps them where they are.
.venv/.synced-serve: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --no-dev --inexact --compile-bytecode
	@touch $@

deps-serve: .venv/.synced-serve

SERVE := $(UV) run --frozen --no-dev --no-sync

# Debian's Chromium for the browser tests; nothing downloads a browser of its own.
browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi

# Debian's poppler-utils: the poster tests read PDFs back with pdftotext, pdfinfo and pdffonts.
posters-deps:
	@if ! command -v pdftotext >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then \
	  echo "installing Debian's poppler-utils"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	fi

# Real posters from `tovholder demo` sessions of one team (the four meetings of the core-task program
# and a reflection),
# as PNG previews: docs/posters/{core-task,coordination,lessons}.png. The sessions live in a scratch
# SQLite database in a temporary folder, removed afterwards.
POSTER_TEAM := North Ridge home care
poster-examples: deps
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export TOVHOLDER_DATA_DIR="$$tmp" TOVHOLDER_DATABASE_URL=; \
	seed=1; for flow in core-task-1 core-task-2 coordination-1 coordination-2 alliance safety leadership; do \
	  $(UV) run tovholder demo --flow $$flow --team "$(POSTER_TEAM)" --participants 40 --seed $$seed >/dev/null; \
	  seed=$$((seed + 1)); \
	done; \
	run=$$($(UV) run tovholder demo --flow reflection --team "$(POSTER_TEAM)" --participants 40 --seed 9); \
	for kind in core-task coordination lessons alliance safety leadership; do \
	  $(UV) run tovholder poster "$$run" --kind $$kind --format png --ppi 60 --out docs/posters/$$kind.png; \
	done

# The built-in sample posters (app/posters/sample.py), every kind in English and Norwegian.
poster-samples: deps
	$(UV) run python -m app.posters.sample --out-dir docs/posters --ppi 60

run: deps-serve
	$(SERVE) tovholder run

migrate: deps-serve
	$(SERVE) tovholder migrate

# Two workers (pytest-xdist), one per core, each taking a whole module at a time in the order of
# conftest.py (the modules with servers first); the 15 slowest steps at the end, so a slow test shows.
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: the workers and every test server
# would otherwise compile the app and the rewritten tests again.
PYTEST := PYTHONDONTWRITEBYTECODE= $(UV) run pytest -n 2 --dist loadfile --no-loadscope-reorder
test: deps browser-deps posters-deps
	$(PYTEST) --durations=15

# No server process, no browser: the in-process app, the runner, the exercises, the docs.
test-fast: deps posters-deps
	$(PYTEST) --durations=10 -m "not server and not browser"

# The property test of a run (tests/test_property.py) with 10,000 random sequences instead of make
# test's 200 (and a third of each on PostgreSQL).
fuzz: deps
	TOVHOLDER_FUZZ_EXAMPLES=10000 PYTHONDONTWRITEBYTECODE= $(UV) run pytest -p no:xdist -q tests/test_property.py

# Speed and memory as ratios to a bare socket floor measured in the same run (never timed asserts
# in tests): writes bench/results.json and prints the table (the README's "Benchmark"). PostgreSQL and
# Redis on 127.0.0.1 for W6, skipped (and said so) when they are not there.
bench: deps
	$(UV) run python -m bench

# In CI: every phone gets every step and every answer is stored once; no timing is judged.
bench-quick: deps
	$(UV) run python -m bench --quick

lint: deps
	$(UV) run ruff check app exercises tests migrations bench
	$(UV) run ruff format --check app exercises tests migrations bench
	$(UV) run mypy app exercises bench

I18N_POT := app/i18n/messages.pot

# Extract messages and update the catalogues; an unchanged template keeps its old date.
i18n: deps
	$(UV) run pybabel -q extract -F babel.cfg --project=Tovholder --copyright-holder="Tovholder contributors" \
	  --sort-output --no-wrap --add-location=file -o $(I18N_POT).new .
	@if [ -f $(I18N_POT) ] && diff -q -I '^"POT-Creation-Date: ' $(I18N_POT) $(I18N_POT).new >/dev/null; \
	  then rm $(I18N_POT).new; else mv $(I18N_POT).new $(I18N_POT); fi
	$(UV) run pybabel -q update -i $(I18N_POT) -d app/i18n -D messages --no-wrap --previous \
	  --ignore-obsolete --ignore-pot-creation-date

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache

# The current screens (projector 1920x1080, console 1280x800, phones 390x844 and 320x640) of every
# exercise type, in nb and en, from a server on a fresh database: docs/screenshots/.
screenshots: deps browser-deps
	$(UV) run python -m tests.screenshots
