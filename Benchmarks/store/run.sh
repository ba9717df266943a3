#!/usr/bin/env bash
# The case store's full state changes per second beside raw insert rates of the same
# database, on SQLite and on PostgreSQL, in one run: `raw_inserts_per_s`, five rows of 300
# bytes per transaction (event, case, party, decision, one outbox row), on SQLite also
# `raw_inserts_async_per_s`, the same rows through GRDB's `async` write (the hand-off to the
# writer queue and back that a caller who may not block pays), and
# `raw_store_rows_per_s`, the very rows the store wrote (its tables and indexes, its decisions
# and every outbox row), spread over as many transactions.
#
#   Benchmarks/store/run.sh [EVENTS] [TASKS] [BATCH]   # from the repository root; 3000 events
#
# TASKS (default 1): how many tasks apply the events at once (the store is async; one task
# awaits each event in turn). BATCH (default 0: none): one task hands the store BATCH events
# at a time (`apply(contentsOf:)`, as `ombuds replay` does), each still its own transaction.
#
# PostgreSQL: a throwaway cluster from the installed server binaries on 127.0.0.1 (as the
# `postgres` user when run as root, since initdb refuses root), removed at exit.
set -euo pipefail
if [[ ! -f Benchmarks/store/run.sh ]]; then
  echo "run.sh: run me from the Ombuds repository root" >&2
  exit 2
fi
EVENTS=${1:-3000}
TASKS=${2:-1}
BATCH=${3:-0}
swift build -c release --package-path Benchmarks --product ombuds-store-bench >/dev/null
BENCH=Benchmarks/.build/release/ombuds-store-bench

echo "SQLite:"
"$BENCH" --rules rules --events "$EVENTS" --tasks "$TASKS" --batch "$BATCH"

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z "$BIN" || ! -x "$BIN/initdb" ]]; then
  echo "PostgreSQL: server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi
DIR=$(mktemp -d /tmp/ombuds-bench-pg-XXXXXX)
AS=()
if [[ $(id -u) == 0 ]]; then
  chown postgres "$DIR"
  AS=(/usr/sbin/runuser -u postgres --)
fi
PORT=$(( 20000 + RANDOM % 20000 ))
cleanup() {
  "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" -w start >/dev/null
"${AS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres bench
"${AS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres rows
echo "PostgreSQL:"
"$BENCH" --rules rules --events "$EVENTS" --tasks "$TASKS" --batch "$BATCH" --postgres "postgres://postgres@127.0.0.1:$PORT/bench" \
  --postgres-rows "postgres://postgres@127.0.0.1:$PORT/rows"
