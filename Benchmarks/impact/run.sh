#!/usr/bin/env bash
# `ombuds impact` over a store of N cases (default 200,000), whole process, SQLite:
# the shipped rules against a draft that changes a level threshold, a refund tier and a
# deadline, at one instant (--at now), every changed case listed in JSON; and, for a smaller
# store (EVENT_CASES, default 2,000), --at events (every event replayed under both rule sets).
#
#   Benchmarks/impact/run.sh [CASES] [RUNS] [EVENT_CASES]   # from the repository root
#
# The store is made by Benchmarks/report/make_store.sh (generated rows, bulk-loaded). Prints
# elapsed time and peak memory per run, and the store file's checksum before and after (the
# command writes nothing). Goal (issue 11): 200,000 cases in under 15 s.
set -euo pipefail
if [[ ! -f Benchmarks/impact/run.sh ]]; then
  echo "run.sh: run me from the Ombuds repository root" >&2
  exit 2
fi
CASES=${1:-200000}
RUNS=${2:-3}
EVENT_CASES=${3:-2000}
swift build -c release --product ombuds >/dev/null
OMBUDS=${OMBUDS_BIN:-$PWD/.build/release/ombuds}
DIR=$(mktemp -d /tmp/ombuds-impact-bench-XXXXXX)
trap 'rm -rf "$DIR"' EXIT

# The draft: 重大 from 5 people (not 10), compensation up to 1,000 CNY for 市场管理部 (not
# 500), 48 hours (not 24) to resolve a complaint without compensation.
cp -r rules "$DIR/draft"
rm -rf "$DIR/draft/tests"
sed -i 's/collective_size >= 10 /collective_size >= 5 /' "$DIR/draft/severity.yaml"
sed -i 's/up_to: 500 CNY/up_to: 1000 CNY/; s/{above: 500 CNY, approver/{above: 1000 CNY, approver/; s/received_at + 24 hours/received_at + 48 hours/' \
  "$DIR/draft/refunds.yaml"

run() { # label, store, then impact's arguments
  local label=$1 db=$2
  shift 2
  local before after
  before=$(sha256sum "$db" | cut -c1-16)
  for ((i = 1; i <= RUNS; i++)); do
    /usr/bin/time -f "%e %M" -o "$DIR/time" "$OMBUDS" impact --store "$db" --current rules --rules "$DIR/draft" \
      --now 2026-12-01T09:00:00+08:00 "$@" --out "$DIR/impact.out"
    read -r seconds kb <"$DIR/time"
    echo "  $label run $i: ${seconds} s, peak ${kb} kB"
  done
  after=$(sha256sum "$db" | cut -c1-16)
  echo "  store checksum before $before, after $after"
}

OMBUDS="$OMBUDS" bash Benchmarks/report/make_store.sh "$CASES" "$DIR/big" "$DIR/big.sqlite"
echo "SQLite store: $(du -h "$DIR/big.sqlite" | cut -f1)"
run "$CASES cases, --at now, json (all changed cases)" "$DIR/big.sqlite" --format json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("  cases", d["cases"], "open", d["open_cases"], "changed", d["changed_cases"], "levels", d["levels"])' "$DIR/impact.out"
run "$CASES cases, --at now, text" "$DIR/big.sqlite" --format text

mkdir -p "$DIR/small"
OMBUDS="$OMBUDS" bash Benchmarks/report/make_store.sh "$EVENT_CASES" "$DIR/small" "$DIR/small.sqlite"
run "$EVENT_CASES cases, --at events, json" "$DIR/small.sqlite" --at events --format json
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["events"]; print("  replayed", e["replayed"], "level_differs", e["level_differs"], "refused_by_draft", e["refused_by_draft"])' "$DIR/impact.out"
