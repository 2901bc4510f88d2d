# The two commands a new user needs: `make run` and `make test`.
# Both create a virtual environment in .venv and install Visnyk into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config.toml

.PHONY: run test messages bench bench-ingest bench-browse bench-broadcast bench-digests bench-soak bench-million clean

$(BIN)/visnyk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(CONFIG):
	cp config.example.toml $(CONFIG)
	@echo "Created $(CONFIG) from config.example.toml; edit it to taste."

run: $(BIN)/visnyk $(CONFIG)
	$(BIN)/visnyk run --config $(CONFIG)

test: $(BIN)/visnyk
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

messages: $(BIN)/visnyk
	$(BIN)/pybabel extract -F babel.cfg -k N_ -o bot/i18n/visnyk.pot --no-location --sort-output --width=100 --project=visnyk bot
	$(BIN)/pybabel update -i bot/i18n/visnyk.pot -d bot/i18n/locales -D visnyk --no-fuzzy-matching --ignore-obsolete --width=100

bench: bench-ingest bench-browse bench-broadcast bench-digests

bench-ingest: $(BIN)/visnyk
	$(BIN)/python -m bench.ingest

bench-browse: $(BIN)/visnyk
	$(BIN)/python -m bench.browse

bench-broadcast: $(BIN)/visnyk
	$(BIN)/python -m bench.broadcast

bench-digests: $(BIN)/visnyk
	$(BIN)/python -m bench.digests

# Not part of `bench`: 90 simulated days at 100,000 chats take about an hour (see README).
bench-soak: $(BIN)/visnyk
	$(BIN)/python -m bench.soak

# Not part of `bench`: a million readers; building their database takes a few minutes the
# first time (kept in bench/.cache/), each run about five more (see README).
bench-million: $(BIN)/visnyk
	$(BIN)/python -m bench.million

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
