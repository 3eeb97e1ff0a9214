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

# The whole suite on SQLite, then the database-facing tests on PostgreSQL (the fault test of a
# real server against a stopped and a frozen PostgreSQL, marked postgres, runs only there).
# One after the other: side by side on 2 cores they took as long in all (16 min 0 s against
# 11 + 5), each slowed by the other.
test: system-packages install lint
	$(BIN)/python -m pytest -q -m "not postgres"
	PYTHON=$(BIN)/python tests/pg/run.sh

test-pg: system-packages install
	PYTHON=$(BIN)/python tests/pg/run.sh
