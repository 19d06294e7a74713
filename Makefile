# Intermediary Service Supermarket — `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CATALOGS := $(patsubst %.po,%.mo,$(wildcard market/translations/*/LC_MESSAGES/messages.po))
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format messages serve worker clean bench

install: $(STAMP) $(CATALOGS)

$(STAMP): pyproject.toml scripts/system-deps.sh
	@bash scripts/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]" --config-settings editable_mode=compat
	@touch $(STAMP)

# compiled message catalogs (.mo) are build products, not sources
market/translations/%/LC_MESSAGES/messages.mo: market/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -D messages -d market/translations -l $*

run: install
	$(BIN)/market db upgrade
	$(BIN)/market demo
	$(BIN)/market serve --host $(HOST) --port $(PORT)

test: install
	PY=$(BIN)/python bash scripts/with-postgres.sh $(BIN)/python -m pytest -n auto -p no:cacheprovider

# the benchmark suite of issue 12.6 (county and province databases, ~20 minutes; bench/README.md)
bench: install
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null || true
	PY=$(BIN)/python bash scripts/with-postgres.sh $(BIN)/python bench/suite.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# re-extract the translatable strings and merge them into the catalogs
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k lazy_gettext -k N_ \
	  --no-location --sort-output -o market/translations/messages.pot $(wildcard market listings bidding invoices oversight)
	$(BIN)/pybabel update -D messages -d market/translations -i market/translations/messages.pot --no-fuzzy-matching

clean:
	rm -rf $(VENV) var .pytest_cache
