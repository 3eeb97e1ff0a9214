# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBIAN_PACKAGES := chromium fonts-noto-cjk libreoffice-impress poppler-utils postgresql

.PHONY: demo test test-pg install system-packages lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"

# Browser tests drive Debian's chromium (never a downloaded browser); CJK fonts render Chinese;
# LibreOffice and poppler turn the meeting deck into PDF and PNG pages in its test; PostgreSQL
# runs the database-facing tests a second time (tests/pg/run.sh, a throwaway cluster).
system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

demo: install
	$(BIN)/gridwatch demo

# ruff (the project's line length) and mypy (queries/, settings, snapshot/) must be clean.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# The whole suite on SQLite and, at the same time, the database-facing tests on PostgreSQL (the
# fault test of a real server against a stopped and a frozen PostgreSQL, marked postgres, runs
# only there). The two passes share no files or ports; the PostgreSQL pass spends most of its
# time waiting out its outages, so side by side they take about as long as the SQLite pass
# alone. Its output is printed after the SQLite pass; an interrupt stops both (SIGINT to the
# pass's own process group: its pytest tears down, its clusters stop). A job sent to the
# background ignores SIGINT, and its children would inherit that (the tests stop the servers
# they start with SIGINT, as Ctrl+C does): env gives the pass SIGINT back.
test: system-packages install lint
	@log=$$(mktemp "$${TMPDIR:-/tmp}/gridwatch-pg-pass.XXXXXX"); \
	PYTHON=$(BIN)/python setsid env --default-signal=INT tests/pg/run.sh >"$$log" 2>&1 & pg=$$!; \
	trap 'kill -INT -$$pg 2>/dev/null; wait $$pg; cat "$$log"; rm -f "$$log"; exit 130' INT TERM HUP; \
	$(BIN)/python -m pytest -q -m "not postgres"; sqlite=$$?; \
	wait $$pg; postgres=$$?; \
	echo "== the PostgreSQL pass (tests/pg/run.sh)"; cat "$$log"; rm -f "$$log"; \
	echo "SQLite pass exit $$sqlite, PostgreSQL pass exit $$postgres"; \
	[ $$sqlite = 0 ] && [ $$postgres = 0 ]

test-pg: system-packages install
	PYTHON=$(BIN)/python tests/pg/run.sh
