#!/usr/bin/env bash
# A SQLite case store of N generated cases, for the benchmarks (report, impact):
#
#   OMBUDS=.build/release/ombuds Benchmarks/report/make_store.sh CASES DIR DB
#
# gen_store.py writes the rows (cases through whole lifecycles, a decision per event) as CSV
# into DIR/rows; `ombuds` creates and migrates the store at DB; sqlite3's .import loads the rows.
set -euo pipefail
CASES=$1
DIR=$2
DB=$3
OMBUDS=${OMBUDS:-$PWD/.build/release/ombuds}
echo "generating $CASES cases…"
python3 Benchmarks/report/gen_store.py --cases "$CASES" --end 2026-12-01 --out "$DIR/rows" >/dev/null
chmod -R a+r "$DIR/rows"
echo "rows: $(wc -l <"$DIR/rows/cases.csv") cases, $(wc -l <"$DIR/rows/events.csv") events, $(wc -l <"$DIR/rows/decisions.csv") decisions"

CASE_COLUMNS="id, version, state, snapshot, issue_key, complainant_key, received_at, level, override_level, next_review_at, stage, lifecycle, due_at, department"
EVENT_COLUMNS="event_id, case_id, seq, type, actor, person, at, payload"
DECISION_COLUMNS="id, case_id, event_id, decided_at, level, decision, rule_set"

# SQLite: the store made and migrated by ombuds, the rows loaded by sqlite3's .import.
"$OMBUDS" cases --store "$DB" --rules rules >/dev/null
sqlite3 "$DB" <<SQL
PRAGMA journal_mode = WAL;
CREATE TEMP TABLE c ($CASE_COLUMNS);
CREATE TEMP TABLE e ($EVENT_COLUMNS);
CREATE TEMP TABLE d ($DECISION_COLUMNS);
.mode csv
.import $DIR/rows/cases.csv c
.import $DIR/rows/events.csv e
.import $DIR/rows/decisions.csv d
INSERT INTO cases ($CASE_COLUMNS) SELECT id, CAST(version AS INTEGER), state, snapshot, NULLIF(issue_key, ''),
  NULLIF(complainant_key, ''), CAST(received_at AS INTEGER), level, NULLIF(override_level, ''),
  CAST(NULLIF(next_review_at, '') AS INTEGER), stage, lifecycle, CAST(NULLIF(due_at, '') AS INTEGER),
  NULLIF(department, '') FROM c;
INSERT INTO events ($EVENT_COLUMNS) SELECT event_id, case_id, CAST(seq AS INTEGER), type, actor, NULLIF(person, ''),
  CAST(at AS INTEGER), payload FROM e;
INSERT INTO decisions ($DECISION_COLUMNS) SELECT CAST(id AS INTEGER), case_id, event_id, CAST(decided_at AS INTEGER),
  level, decision, rule_set FROM d;
ANALYZE;
SQL
