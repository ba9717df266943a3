#!/usr/bin/env bash
# The quality bulletin over a store of N cases (default 200,000), whole process, on SQLite
# and on PostgreSQL: `ombuds report` for one month and for the whole year the cases span,
# every format's data computed (HTML written), with elapsed time and peak memory.
#
#   Benchmarks/report/run.sh [CASES] [RUNS]   # from the repository root; 200000, 3
#
# The store's rows are generated (gen_store.py: cases through whole lifecycles, a decision
# per event, as the store writes them) and loaded with the databases' bulk loaders into a
# store that `ombuds` created and migrated. PostgreSQL: a throwaway cluster (as the
# `postgres` user when run as root), removed at exit. Goals (issue 10): < 5 s, < 300 MB.
set -euo pipefail
if [[ ! -f Benchmarks/report/run.sh ]]; then
  echo "run.sh: run me from the Ombuds repository root" >&2
  exit 2
fi
CASES=${1:-200000}
RUNS=${2:-3}
swift build -c release --product ombuds >/dev/null
OMBUDS=${OMBUDS_BIN:-$PWD/.build/release/ombuds}

DIR=$(mktemp -d /tmp/ombuds-report-bench-XXXXXX)
chmod 755 "$DIR"
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
AS=()
[[ $(id -u) == 0 ]] && AS=(/usr/sbin/runuser -u postgres --)
cleanup() {
  [[ -n "$BIN" && -d "$DIR/pg" ]] && "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

# The rows, and the SQLite store made from them (make_store.sh).
DB="$DIR/store.sqlite"
OMBUDS="$OMBUDS" bash Benchmarks/report/make_store.sh "$CASES" "$DIR" "$DB"
CASE_COLUMNS="id, version, state, snapshot, issue_key, complainant_key, received_at, level, override_level, next_review_at, stage, lifecycle, due_at, department"
EVENT_COLUMNS="event_id, case_id, seq, type, actor, person, at, payload"
DECISION_COLUMNS="id, case_id, event_id, decided_at, level, decision, rule_set"
echo "SQLite store: $(du -h "$DB" | cut -f1)"

measure() { # label, then the report's arguments
  local label=$1
  shift
  local best=""
  for ((i = 1; i <= RUNS; i++)); do
    /usr/bin/time -f "%e %M" -o "$DIR/time" "$OMBUDS" report --rules rules "$@" --now 2026-12-01T09:00:00+08:00 \
      --out "$DIR/bulletin.html"
    read -r seconds kb <"$DIR/time"
    echo "  $label run $i: ${seconds} s, peak ${kb} kB"
  done
}
echo "SQLite:"
measure "month (2026-11)" --store "$DB" --from 2026-11-01 --to 2026-11-30
measure "year (2025-12 … 2026-11)" --store "$DB" --from 2025-12-01 --to 2026-11-30

if [[ -z "$BIN" || ! -x "$BIN/initdb" ]]; then
  echo "PostgreSQL: server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi
mkdir -p "$DIR/pg"
[[ $(id -u) == 0 ]] && chown postgres "$DIR/pg"
PORT=$(( 20000 + RANDOM % 20000 ))
"${AS[@]}" "$BIN/initdb" -D "$DIR/pg" -A trust -U postgres >/dev/null
"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/log" -o "-p $PORT -k $DIR/pg -c listen_addresses=127.0.0.1" -w start >/dev/null
"${AS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres bench
URL="postgres://postgres@127.0.0.1:$PORT/bench"
"$OMBUDS" cases --store "$URL" --rules rules >/dev/null
psql -q -h 127.0.0.1 -p "$PORT" -U postgres bench <<SQL
\copy cases ($CASE_COLUMNS) FROM '$DIR/rows/cases.csv' CSV
\copy events ($EVENT_COLUMNS) FROM '$DIR/rows/events.csv' CSV
\copy decisions ($DECISION_COLUMNS) FROM '$DIR/rows/decisions.csv' CSV
SELECT setval('decisions_id_seq', (SELECT max(id) FROM decisions));
VACUUM ANALYZE;
SQL
echo "PostgreSQL:"
measure "month (2026-11)" --store "$URL" --from 2026-11-01 --to 2026-11-30
measure "year (2025-12 … 2026-11)" --store "$URL" --from 2025-12-01 --to 2026-11-30
