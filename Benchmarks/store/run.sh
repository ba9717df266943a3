#!/usr/bin/env bash
# The case store's full state changes per second beside the same database's raw insert rate
# for the same rows, on SQLite and on PostgreSQL, in one run.
#
#   Benchmarks/store/run.sh [EVENTS] [TASKS]   # from the repository root; default 3000 events
#
# TASKS (default 1): how many tasks apply the events at once (the store is async; one task
# applies them one after the other, as `ombuds replay` does).
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
swift build -c release --package-path Benchmarks --product ombuds-store-bench >/dev/null
BENCH=Benchmarks/.build/release/ombuds-store-bench

echo "SQLite:"
"$BENCH" --rules rules --events "$EVENTS" --tasks "$TASKS"

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
echo "PostgreSQL:"
"$BENCH" --rules rules --events "$EVENTS" --tasks "$TASKS" --postgres "postgres://postgres@127.0.0.1:$PORT/bench"
