#!/usr/bin/env bash
# The PostgreSQL pass of `make test`: start a throwaway cluster on loopback, run the
# database-facing tests against it (one database per test, copied from a template: see
# tests/conftest.py), stop it and delete it whatever happens.
#
#   tests/pg/run.sh                 the pass (the files below)
#   tests/pg/run.sh tests/test_x.py other pytest arguments instead of the list
#
# tests/test_fault_pg.py starts a cluster of its own (it stops and freezes it) beside this one.
#
# The cluster runs as the current user; as root (PostgreSQL refuses to run as root) it runs
# as the `postgres` user the Debian package creates, in a folder handed to that user.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
PG_FILES=(
  tests/test_migrations.py tests/test_readonly_role.py
  tests/test_indicators.py tests/test_due_conventions.py tests/test_empty_rates.py
  tests/test_assessment.py tests/test_kept_months.py tests/test_publish_command.py
  tests/test_repeats.py tests/test_repeats_mutants.py
  tests/test_scope.py tests/test_auth.py
  tests/test_import_cases.py tests/test_import_areas.py tests/test_import_places.py
  tests/test_import_volunteers.py tests/test_import_quality.py
  tests/test_snapshot.py tests/test_screen_snapshot.py tests/test_volunteers.py
  tests/test_sections.py tests/test_sections_data.py tests/test_import_checkins.py
  tests/test_desk_queries.py tests/test_desk_export.py tests/test_shared_snapshot.py
  tests/test_query_plans.py tests/test_settled.py
  tests/test_fault_pg.py
)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  bindir=$(dirname "$(command -v initdb || true)")
fi
if [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL is not installed: apt-get install postgresql (make system-packages)" >&2
  exit 1
fi

run_as=()
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
  owner=postgres
  run_as=(runuser -u postgres --)
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/gridwatch-pg.XXXXXX")
chmod 755 "$work"
[ "$owner" = "$(id -un)" ] || chown "$owner" "$work"

stop() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop EXIT INT TERM

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${run_as[@]}" "$bindir/initdb" -D "$work/data" -U "$owner" -A trust -E UTF8 --no-locale \
  >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; exit 1; }
# A throwaway cluster: durability off (fsync, full-page writes) buys speed, loopback only.
"${run_as[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -s start -o \
  "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$work \
   -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  || { cat "$work/server.log" >&2; exit 1; }

export GRIDWATCH_TEST_DATABASE_URL="postgresql+psycopg://$owner@127.0.0.1:$port/postgres"
echo "PostgreSQL pass: $("$bindir/postgres" --version), port $port"
if [ "$#" -gt 0 ]; then
  "$PYTHON" -m pytest -q -p no:cacheprovider "$@"
else
  "$PYTHON" -m pytest -q -p no:cacheprovider "${PG_FILES[@]}"
fi
