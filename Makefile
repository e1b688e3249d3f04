# Template development. `make test` installs what it needs (once), then runs everything.
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV := .venv
BIN := $(VENV)/bin
FERRETDB := .cache/bin/ferretdb
PROMTOOL := .cache/bin/promtool
ACTIONLINT := .cache/bin/actionlint
TEMPLATE_CODE := hooks local_extensions tests benchmarks

.PHONY: test install ferretdb promtool actionlint chromium lint bench clean

test: lint ferretdb promtool actionlint chromium
	$(BIN)/pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet --group dev
	touch $@

# The test server: FerretDB with its SQLite backend, built with Go from tools/ferretdb.
ferretdb: $(FERRETDB)

$(FERRETDB): tools/ferretdb/go.mod tools/ferretdb/go.sum tools/ferretdb/main.go
	cd tools/ferretdb && go build -o ../../$(FERRETDB) .

# Prometheus's promtool, to check the generated scrape config and alert rules.
promtool: $(PROMTOOL)

$(PROMTOOL): tools/promtool/go.mod tools/promtool/go.sum
	cd tools/promtool && go build -o ../../$(PROMTOOL) github.com/prometheus/prometheus/cmd/promtool

# The benchmark of docs/benchmarks.md (needs wrk: apt-get install wrk). About 15 minutes.
bench: install ferretdb
	$(BIN)/python -m pip install --quiet --group bench
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# GitHub's workflow checker, for the generated and this repository's workflows.
actionlint: $(ACTIONLINT)

$(ACTIONLINT): tools/actionlint/go.mod tools/actionlint/go.sum
	cd tools/actionlint && go build -o ../../$(ACTIONLINT) github.com/rhysd/actionlint/cmd/actionlint

# A browser for the /docs test: Debian's chromium (or any chromium or chrome on PATH).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
		|| command -v google-chrome >/dev/null \
		|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

lint: install
	$(BIN)/ruff check $(TEMPLATE_CODE)
	$(BIN)/ruff format --check $(TEMPLATE_CODE)

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache .hypothesis
