#!/usr/bin/env bash
# Mutation testing on demand (never in CI): mutmut 3 changes the code one small step at a time
# (a < for a <=, a + for a -, a constant, a dropped argument) and runs the tests that cover the
# changed function; a mutant the tests still pass ("survived") marks a test gap, or an
# equivalent change. docs/mutants.md lists the survivors and why each is left.
#
#   bench/mutate.sh [TARGET ...]     TARGET: indicators assessment repeats ranking (default: all)
#
# Each target runs in its own copy of the tree under ${MUTATE_DIR:-/tmp/gridwatch-mutate}/TARGET
# (mutmut writes its mutants/ folder in the working directory), with only the code and the test
# files of that target: the machine is small and shared. The base settings are [tool.mutmut] in
# pyproject.toml; this script narrows only_mutate and the tests per target. Results stay in the
# copy: `cd /tmp/gridwatch-mutate/TARGET && mutmut results` lists the survivors, `mutmut show
# NAME` shows one. Set JOBS (default 1) for parallel workers.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3)
MUTMUT=$(dirname "$PY")/mutmut
[ -x "$MUTMUT" ] || { echo "mutmut is not installed: $PY -m pip install 'mutmut>=3.8'" >&2; exit 1; }
BASE=${MUTATE_DIR:-/tmp/gridwatch-mutate}
JOBS=${JOBS:-1}

# target → "files to mutate|mutant names (globs)|test files"
declare -A TARGETS=(
  [indicators]="queries/indicators.py|queries.indicators.*|tests/test_indicators.py tests/test_indicator_properties.py tests/test_indicators_mutants.py tests/test_due_conventions.py tests/test_repeat_problems.py tests/test_desk_queries.py"
  [assessment]="queries/assessment.py|queries.assessment.*|tests/test_assessment.py tests/test_assessment_mutants.py"
  [repeats]="queries/repeats.py|queries.repeats.*|tests/test_repeats.py tests/test_repeat_problems.py tests/test_repeats_edges.py tests/test_repeats_mutants.py"
  [ranking]="snapshot/ranking.py snapshot/build.py|snapshot.ranking.* snapshot.build.x_ranking_section*|tests/test_wall_ranking.py tests/test_screen_snapshot.py tests/test_two_level_city.py tests/test_ranking_mutants.py"
)

# Reads `mutmut results --all true` on stdin; argv: target name, then the mutant-name globs.
SUMMARY='
import collections, fnmatch, sys
name, globs = sys.argv[1], sys.argv[2:]
count = collections.Counter()
for line in sys.stdin:
    mutant, _, status = line.strip().rpartition(": ")
    if not any(fnmatch.fnmatchcase(mutant, g) for g in globs):
        continue
    count[status] += 1
    if status != "killed":
        print(f"  [{name}] {mutant}: {status}")
total = sum(count.values())
killed = count["killed"]
ratio = f"{100 * killed / total:.1f} %" if total else "no mutants"
print(f"  [{name}] {total} mutants: " + ", ".join(f"{n} {s}" for s, n in sorted(count.items()))
      + f"; kill ratio {ratio}")
'

toml_list() { local out="" item; for item in "$@"; do out+="\"$item\", "; done; echo "[${out%, }]"; }

run_target() {
  local name=$1 spec=${TARGETS[$1]:-}
  [ -n "$spec" ] || { echo "unknown target $name (known: ${!TARGETS[*]})" >&2; exit 2; }
  IFS='|' read -r files names tests <<<"$spec"
  local work=$BASE/$name
  echo "== $name: mutating $files, tests $tests (in $work)"
  rm -rf "$work" && mkdir -p "$work"
  # The tracked tree as committed plus working changes, without .git, caches or old mutants.
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) \
    | tar -xf - -C "$work"
  # Narrow [tool.mutmut] of the copy to this target (the section ends the file).
  # shellcheck disable=SC2086
  "$PY" - "$work/pyproject.toml" "$(toml_list $files)" "$(toml_list $tests)" <<'PYEOF'
import re, sys
path, only, tests = sys.argv[1:]
text = open(path, encoding="utf-8").read()
text = re.sub(r"(?m)^only_mutate = .*$", f"only_mutate = {only}", text)
text = re.sub(r"(?m)^pytest_add_cli_args_test_selection = .*$",
              f"pytest_add_cli_args_test_selection = {tests}", text)
open(path, "w", encoding="utf-8").write(text)
PYEOF
  # shellcheck disable=SC2086
  (cd "$work" && "$MUTMUT" run --max-children "$JOBS" $names) | tail -n 25
  # mutmut mutates whole files: keep only this target's mutants (build.py has more than the
  # ranking), list those not killed and count every status.
  # shellcheck disable=SC2086
  (cd "$work" && "$MUTMUT" results --all true) | "$PY" -c "$SUMMARY" "$name" $names
}

if [ $# -eq 0 ]; then set -- indicators assessment repeats ranking; fi
for target in "$@"; do run_target "$target"; done
