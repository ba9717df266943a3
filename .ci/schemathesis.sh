#!/usr/bin/env bash
# The HTTP API against its contract: starts a real `ombuds serve` on a throwaway store, seeds a
# few cases through the API, and runs schemathesis with Documentation/openapi.yaml against it.
# Fails on any 5xx and on any response whose status, content type, headers or body the spec
# does not allow.
#
#   OMBUDS=.build/debug/ombuds .ci/schemathesis.sh
#
# Settings (environment): OMBUDS (the built binary; default .build/debug/ombuds),
# ST_MAX_EXAMPLES (per operation and phase; default 200), ST_SEED (default 20251020: the same
# inputs every run; set another, or "random", to explore), ST_WORKERS (default 1: with 2, the
# CPython 3.11.7 here failed `ast.parse` in Hypothesis's threads, "AST constructor recursion
# depth mismatch"),
# ST_PHASES (default examples,coverage,fuzzing,stateful), ST_ARGS (more `schemathesis run`
# options, e.g. "--continue-on-failure --report junit").
set -euo pipefail
cd "$(dirname "$0")/.."

OMBUDS="${OMBUDS:-.build/debug/ombuds}"
SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-200}"
SEED="${ST_SEED:-20251020}"
WORKERS="${ST_WORKERS:-1}"
PHASES="${ST_PHASES:-examples,coverage,fuzzing,stateful}"

if [ ! -x "$OMBUDS" ]; then
  echo "schemathesis.sh: no ombuds binary at $OMBUDS (swift build first, or set OMBUDS)" >&2
  exit 2
fi
OMBUDS="$(cd "$(dirname "$OMBUDS")" && pwd)/$(basename "$OMBUDS")"

# curl seeds the store; schemathesis does the rest.
if ! command -v curl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq curl
fi
PYTHON="$(command -v python3)"
installed="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)"
if [ "$installed" != "$SCHEMATHESIS_VERSION" ]; then
  # PIP_BREAK_SYSTEM_PACKAGES: a Debian python3 refuses pip installs outside a venv otherwise.
  PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    "$PYTHON" -m pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$WORK/serve.log" ]; then
    echo "--- the server's warnings and errors (last 40) ---" >&2
    grep -E '"level":"(warning|error|critical)"' "$WORK/serve.log" | tail -n 40 >&2 || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

STORE="$WORK/s.sqlite"
TOKEN="$("$OMBUDS" token create --store "$STORE" --rules rules --role customer_service_center --name ci |
  "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

# Port 0: the server binds a free port and logs it (no race with another process picking it).
"$OMBUDS" serve --store "$STORE" --rules rules --listen 127.0.0.1:0 --review-interval 86400 \
  --notify-file "$WORK/n.jsonl" >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 300); do
  PORT="$("$PYTHON" - "$WORK/serve.log" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    if entry.get("message") == "listening" and entry.get("port"):
        print(entry["port"])
        break
EOF
)"
  if [ -n "$PORT" ] && curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "schemathesis.sh: ombuds serve exited before it listened" >&2
    exit 1
  fi
  PORT=""
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "schemathesis.sh: ombuds serve did not answer /healthz within 30 s" >&2
  exit 1
fi
BASE="http://127.0.0.1:$PORT"
echo "ombuds serve on $BASE (store $STORE)"

# Seeds: the cases the spec's examples name (C-2025-0101, C-2025-0102), a few more through a
# batch, so that GET /v1/cases/{id}, the lists and the outbox have rows to show.
post() { # post PATH BODY EXPECTED_STATUS [CONTENT_TYPE]
  local status
  status="$(curl -sS -o "$WORK/reply.json" -w '%{http_code}' -X POST "$BASE$1" \
    -H "Authorization: Bearer $TOKEN" -H "Content-Type: ${4:-application/json}" --data-binary "$2")"
  if [ "$status" != "$3" ]; then
    echo "schemathesis.sh: seeding POST $1 answered $status, not $3: $(cat "$WORK/reply.json")" >&2
    exit 1
  fi
}
post /v1/cases/C-2025-0101/events '{"event_id":"C-2025-0101-r","type":"received","at":"2025-11-10T09:05:00+08:00","received_at":"2025-11-10T09:00:00+08:00","channel":"visit","collective_size":4,"issue_key":"route-12-overcharge","complainant_id":"王五-13900000001","contact":"13900000001","respondent":"driver-0457","text":"12路司机多收车费，4名乘客联名投诉"}' 201
post /v1/cases/C-2025-0102/events '{"event_id":"C-2025-0102-r","type":"received","at":"2025-10-20T09:00:00+08:00","received_at":"2025-10-20T09:00:00+08:00","channel":"web","media":"exposed","complainant_id":"13800000000"}' 201
post /v1/cases/C-2025-0102/events '{"event_id":"C-2025-0102-g","type":"register","at":"2025-10-20T10:00:00+08:00"}' 201
post /v1/events "$(printf '%s\n' \
  '{"case":"B-1","event_id":"B-1-r","type":"received","received_at":"2025-10-13T09:00:00+08:00","channel":"web","compensation":{"amount":"650.00","currency":"CNY"},"materials_complete_at":"2025-10-14T09:00:00+08:00"}' \
  '{"case":"B-2","event_id":"B-2-r","type":"received","received_at":"2025-10-14T09:00:00+08:00","issue_key":"route-12-overcharge","complainant_id":"c-2"}' \
  '{"case":"B-2","event_id":"B-2-d","type":"resolved","at":"2025-10-15T09:00:00+08:00"}' \
  '{"case":"B-3","event_id":"B-3-r","type":"received","received_at":"2025-10-15T09:00:00+08:00","litigation":"filed","text":"他说有人卖冰毒"}')" 200 application/x-ndjson
if ! grep -q '"status":201.*"status":201.*"status":201.*"status":201' "$WORK/reply.json"; then
  echo "schemathesis.sh: the seeding batch was not applied: $(cat "$WORK/reply.json")" >&2
  exit 1
fi

# JSON Lines bodies: the spec shows them as arrays of the lines' objects; these hooks put them on
# the wire as lines, and read JSON Lines answers back as arrays for the schema check.
cat >"$WORK/hooks.py" <<'EOF'
import json

import schemathesis

NDJSON = ("application/x-ndjson", "application/jsonl", "application/json-lines")


@schemathesis.serializer(*NDJSON)
def ndjson_lines(ctx, value):
    if isinstance(value, list):
        return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in value).encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return (json.dumps(value, ensure_ascii=False) + "\n").encode("utf-8")


@schemathesis.deserializer(*NDJSON)
def ndjson_items(ctx, response):
    # Lines end at "\n" only: str.splitlines() would also split at U+0085, U+2028… inside strings.
    text = response.content.decode("utf-8")
    return [json.loads(line) for line in text.split("\n") if line.strip()]
EOF

seed=(--seed "$SEED")
if [ "$SEED" = random ]; then seed=(); fi
read -r -a extra <<<"${ST_ARGS:-}"
start=$SECONDS
set +e
# From the temp dir: schemathesis and Hypothesis keep caches (.schemathesis/, .hypothesis/) in the
# working directory, and they do not belong in the repository.
SPEC="$PWD/Documentation/openapi.yaml"
(cd "$WORK" && SCHEMATHESIS_HOOKS="$WORK/hooks.py" timeout 900 \
  "$PYTHON" -c 'import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())' \
  run "$SPEC" \
  --url "$BASE" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases "$PHASES" \
  --max-examples "$MAX_EXAMPLES" \
  "${seed[@]}" \
  --workers "$WORKERS" \
  --request-timeout 40 \
  --generation-database none \
  --suppress-health-check all \
  --no-color \
  "${extra[@]}")
result=$?
set -e
echo "schemathesis: exit $result in $((SECONDS - start)) s"
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "schemathesis.sh: ombuds serve died during the run" >&2
  exit 1
fi
exit "$result"
