# The two commands a new user needs: `make run` and `make test`.
# Both create a virtual environment in .venv first; `make run` installs Visnyk into it,
# `make test` Visnyk and the test tools (pytest, ruff, mypy). Each remembers its install in a
# stamp file in .venv, redone when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
CONFIG ?= config.toml
# The database the benchmarks run on: sqlite, or postgresql (a throw-away cluster of
# tests/postgresql.py, so the server must be installed: python -m tests.postgresql install).
DB ?= sqlite

.PHONY: run test messages bench bench-ingest bench-browse bench-broadcast bench-digests bench-enqueue bench-copy bench-soak bench-million clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Order-only on the venv: the time of its python (which a Python upgrade may touch) is no reason
# to reinstall; `make clean` removes the venv with its stamps.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# The test tools come with Visnyk itself: a `make run` after `make test` installs nothing.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

$(CONFIG):
	cp config.example.toml $(CONFIG)
	@echo "Created $(CONFIG) from config.example.toml; edit it to taste."

# One simple command: make runs it without a shell, and on SIGTERM (docker stop, systemd,
# kill) sends SIGTERM on to the bot and waits for its shutdown (tests/test_make_run.py). Keep it
# one command: no `;`, `&&`, pipes or redirections, which would put a shell in between.
run: $(RUN_STAMP) $(CONFIG)
	$(BIN)/visnyk run --config $(CONFIG)

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m tests.postgresql install
	$(BIN)/pytest

messages: $(DEV_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -o bot/i18n/visnyk.pot --no-location --sort-output --width=100 --project=visnyk bot
	$(BIN)/pybabel update -i bot/i18n/visnyk.pot -d bot/i18n/locales -D visnyk --no-fuzzy-matching --ignore-obsolete --width=100

bench: bench-ingest bench-browse bench-broadcast bench-digests bench-enqueue

bench-ingest: $(DEV_STAMP)
	$(BIN)/python -m bench.ingest

bench-browse: $(DEV_STAMP)
	$(BIN)/python -m bench.browse --db $(DB)

bench-broadcast: $(DEV_STAMP)
	$(BIN)/python -m bench.broadcast --db $(DB)

bench-digests: $(DEV_STAMP)
	$(BIN)/python -m bench.digests --db $(DB)

bench-enqueue: $(DEV_STAMP)
	$(BIN)/python -m bench.enqueue --db $(DB)

# Not part of `bench`: a 200,000-chat newsroom copied to a throw-away PostgreSQL cluster and
# back, about a minute and a half.
bench-copy: $(DEV_STAMP)
	$(BIN)/python -m bench.db_copy

# Not part of `bench`: 90 simulated days at 100,000 chats take about an hour (see README).
bench-soak: $(DEV_STAMP)
	$(BIN)/python -m bench.soak

# Not part of `bench`: a million readers; building their database takes a few minutes the
# first time (kept in bench/.cache/), each run about five more (see README).
bench-million: $(DEV_STAMP)
	$(BIN)/python -m bench.million

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
