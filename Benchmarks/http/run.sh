#!/usr/bin/env bash
# `ombuds serve`'s HTTP API beside its baselines, all in one run (release builds):
#
#   - events per second through POST /v1/cases/{id}/events (each a new case's `received`
#     event), on SQLite and on PostgreSQL, against the store's own library rate for the same
#     events at the same concurrency, as many as the HTTP run applied (ombuds-store-bench),
#     the server API-only like the library (and on SQLite once more delivering its outbox);
#   - single-case POST /v1/classify requests per second against GET /healthz, the same
#     server's trivial route;
#   - p50 and p99 latency of each (wrk), and the server's peak memory (VmHWM) under load.
#
#   Benchmarks/http/run.sh [SECONDS] [CONNECTIONS]    # from the repository root; 10 s, 4
#
# Needs wrk (Debian: apt-get install wrk) and, for PostgreSQL, the server binaries
# (apt-get install postgresql); a throwaway cluster is started and removed.
set -euo pipefail
if [[ ! -f Benchmarks/http/run.sh ]]; then
  echo "run.sh: run me from the Ombuds repository root" >&2
  exit 2
fi
SECONDS_EACH=${1:-10}
CONNECTIONS=${2:-4}
command -v wrk >/dev/null || { echo "run.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }
swift build -c release --product ombuds >/dev/null
swift build -c release --package-path Benchmarks --product ombuds-store-bench >/dev/null
OMBUDS=$PWD/.build/release/ombuds
BENCH=$PWD/Benchmarks/.build/release/ombuds-store-bench
HERE=$PWD/Benchmarks/http
DIR=$(mktemp -d /tmp/ombuds-http-bench-XXXXXX)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
AS=()
[[ $(id -u) == 0 ]] && AS=(/usr/sbin/runuser -u postgres --)
SERVER=""
cleanup() {
  [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null || true
  [[ -n "$PGBIN" && -d "$DIR/pg" ]] && "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
PORT=$(( 21000 + RANDOM % 20000 ))

# start_server STORE [OPTION...]: a token in $TOKEN, the server's pid in $SERVER, on $PORT.
start_server() {
  local store=$1
  shift
  TOKEN=$("$OMBUDS" token create --store "$store" --rules rules --role customer_service_center --name bench \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  "$OMBUDS" serve --store "$store" --rules rules --listen "127.0.0.1:$PORT" --review-interval 86400 \
    --notify-file "$DIR/notifications.jsonl" "$@" >/dev/null 2>"$DIR/serve.log" &
  SERVER=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.05; done
  echo "run.sh: ombuds serve did not start" >&2
  cat "$DIR/serve.log" >&2
  exit 1
}
stop_server() {
  PEAK=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}
load() { # SCRIPT PATH
  OMBUDS_TOKEN=$TOKEN OMBUDS_PREFIX="h$RANDOM-" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" -s "$HERE/$1" \
    "http://127.0.0.1:$PORT$2" | tail -n1
}
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# The library applies events and delivers nothing: the server is measured API-only
# (--no-dispatch) beside it, and once more delivering its outbox as it goes (the default).
# The library applies as many events as the HTTP run did: a store grows heavier to write as
# it fills (more receipts of each issue to count), so both end at the same size.
echo "== SQLite: events through HTTP (wrk -c $CONNECTIONS) beside the library (--tasks $CONNECTIONS)"
start_server "$DIR/http.sqlite" --no-dispatch
HTTP_SQLITE=$(load events.lua /)
stop_server
PEAK_SQLITE=$PEAK
echo "http (API only):     $HTTP_SQLITE  peak ${PEAK_SQLITE} kB"
LIB_SQLITE=$("$BENCH" --rules rules --events "$(field "$HTTP_SQLITE" requests)" --tasks "$CONNECTIONS")
echo "library:             $LIB_SQLITE"
start_server "$DIR/http-delivering.sqlite"
HTTP_SQLITE_D=$(load events.lua /)
stop_server
echo "http (delivering):   $HTTP_SQLITE_D  peak ${PEAK} kB"

echo "== classify (one case per request) beside GET /healthz, wrk -c 32"
start_server "$DIR/classify.sqlite"
CONNECTIONS_SAVED=$CONNECTIONS
CONNECTIONS=32
TRIVIAL=$(load trivial.lua /healthz)
CLASSIFY=$(load classify.lua /)
CONNECTIONS=$CONNECTIONS_SAVED
stop_server
PEAK_CLASSIFY=$PEAK
echo "healthz:  $TRIVIAL"
echo "classify: $CLASSIFY  peak ${PEAK_CLASSIFY} kB"

HTTP_PG=""
LIB_PG=""
if [[ -n "$PGBIN" && -x "$PGBIN/initdb" ]]; then
  echo "== PostgreSQL: events through HTTP beside the library"
  mkdir -p "$DIR/pgs"
  [[ $(id -u) == 0 ]] && chown postgres "$DIR" "$DIR/pgs"
  "${AS[@]}" "$PGBIN/initdb" -D "$DIR/pg" -A trust -U postgres >/dev/null
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pgs/log" -o "-p $((PORT + 1)) -k $DIR/pgs -c listen_addresses=127.0.0.1" -w start >/dev/null
  "${AS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p $((PORT + 1)) -U postgres lib
  "${AS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p $((PORT + 1)) -U postgres http
  start_server "postgres://postgres@127.0.0.1:$((PORT + 1))/http" --no-dispatch
  HTTP_PG=$(load events.lua /)
  stop_server
  PEAK_PG=$PEAK
  echo "http:    $HTTP_PG  peak ${PEAK_PG} kB"
  LIB_PG=$("$BENCH" --rules rules --events "$(field "$HTTP_PG" requests)" --tasks "$CONNECTIONS" --postgres "postgres://postgres@127.0.0.1:$((PORT + 1))/lib")
  echo "library: $LIB_PG"
else
  echo "== PostgreSQL: server binaries not found (apt-get install postgresql): skipped" >&2
fi

echo "== ratios"
# ratio LABEL MEASURED BASELINE GOAL: MEASURED/s vs BASELINE/s = ×, beside the goal.
ratio() {
  python3 -c 'import sys; m, b = float(sys.argv[2]), float(sys.argv[3]); print("%s: %.0f/s vs %.0f/s = %.2fx (goal >= %s)" % (sys.argv[1], m, b, m / b, sys.argv[4]))' "$@"
}
ratio "SQLite events, HTTP (API only) vs library" "$(field "$HTTP_SQLITE" per_s)" "$(field "$LIB_SQLITE" store_changes_per_s)" 0.7
[[ -n "$HTTP_PG" ]] && ratio "PostgreSQL events, HTTP (API only) vs library" "$(field "$HTTP_PG" per_s)" "$(field "$LIB_PG" store_changes_per_s)" 0.7
ratio "classify vs /healthz" "$(field "$CLASSIFY" per_s)" "$(field "$TRIVIAL" per_s)" 0.5
