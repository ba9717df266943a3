#!/usr/bin/env bash
# A case's life over HTTP, from `received` to `closed`, against a real `ombuds serve` on a
# fresh SQLite store with the shipped rules. Prints each curl command and the real response
# (Markdown), as Documentation/HTTP.md shows them: run it again after changing the API.
#   scripts/http-walkthrough.sh [OMBUDS_BINARY] > /tmp/walkthrough.md
set -euo pipefail
cd "$(dirname "$0")/.."
OMBUDS="${1:-.build/debug/ombuds}"
DIR="$(mktemp -d)"
PORT="${PORT:-18088}"
STORE="$DIR/ombuds.sqlite"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DIR"' EXIT

token() { "$OMBUDS" token create --store "$STORE" --rules rules --role "$1" --name "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
INTAKE=$(token intake_staff 张敏)
CENTER=$(token customer_service_center 王芳)
HANDLER=$(token handler 李强)
OFFICE=$(token complaint_office 赵丽)
MANAGER=$(token general_manager 陈总)

"$OMBUDS" serve --store "$STORE" --rules rules --listen "127.0.0.1:$PORT" --review-interval 86400 \
  --notify-file "$DIR/notifications.jsonl" 2>"$DIR/serve.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# step TITLE TOKEN-NAME METHOD PATH [BODY]: prints the call and its response.
step() {
  local title="$1" who="$2" method="$3" path="$4" body="${5:-}"
  local token="${!who}"
  echo "### $title"
  echo
  echo '```console'
  if [ -n "$body" ]; then
    echo "\$ curl -s -X $method localhost:8080$path -H \"Authorization: Bearer \$$who\" -d '$body'"
    out=$(curl -s -w '\n%{http_code}' -X "$method" "http://127.0.0.1:$PORT$path" -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' -d "$body")
  else
    echo "\$ curl -s localhost:8080$path -H \"Authorization: Bearer \$$who\""
    out=$(curl -s -w '\n%{http_code}' -X "$method" "http://127.0.0.1:$PORT$path" -H "Authorization: Bearer $token")
  fi
  code=$(tail -n1 <<<"$out")
  echo "# HTTP $code"
  # One member per line; nested values on one line each (lists of objects: one item per line).
  sed '$d' <<<"$out" | python3 -c '
import json, sys
v = json.load(sys.stdin)
c = lambda x: json.dumps(x, ensure_ascii=False, separators=(",", ":"))
lines = []
for k, x in v.items():
    if isinstance(x, list) and x and all(isinstance(i, dict) for i in x):
        lines.append("  %s: [\n%s\n  ]" % (c(k), ",\n".join("    " + c(i) for i in x)))
    else:
        lines.append("  %s: %s" % (c(k), c(x)))
print("{\n" + ",\n".join(lines) + "\n}")' | sed "s|$PWD/||g"
  echo '```'
  echo
}

T="2025-10-20T09:00:00+08:00"
step "Intake receives an online complaint asking for 800 CNY" INTAKE POST /v1/cases/C-1001/events \
  '{"event_id":"c1001-1","type":"received","at":"'$T'","received_at":"'$T'","channel":"web","complainant_id":"13800138000","contact":"13800138000","text":"退款未到账","compensation":{"amount":"800.00","currency":"CNY"}}'
step "The same event again: the first answer" INTAKE POST /v1/cases/C-1001/events \
  '{"event_id":"c1001-1","type":"received","at":"'$T'","received_at":"'$T'","channel":"web"}'
step "Intake registers it" INTAKE POST /v1/cases/C-1001/events '{"event_id":"c1001-2","type":"register","at":"2025-10-20T09:05:00+08:00"}'
step "A handler cannot accept it" HANDLER POST /v1/cases/C-1001/events '{"event_id":"c1001-3","type":"accept","at":"2025-10-20T09:10:00+08:00"}'
step "The customer-service center accepts it" CENTER POST /v1/cases/C-1001/events '{"event_id":"c1001-3","type":"accept","at":"2025-10-20T09:10:00+08:00","expected_version":2}'
step "… and assigns it to 李强" CENTER POST /v1/cases/C-1001/events '{"event_id":"c1001-4","type":"assign","at":"2025-10-20T09:20:00+08:00","assignee":"李强"}'
step "The assignee investigates and proposes" HANDLER POST /v1/cases/C-1001/events '{"event_id":"c1001-5","type":"investigate","at":"2025-10-20T10:00:00+08:00"}'
step "A stale version: 409 with the current one" HANDLER POST /v1/cases/C-1001/events '{"event_id":"c1001-6","type":"propose","at":"2025-10-20T15:00:00+08:00","expected_version":4}'
step "Proposed at the current version" HANDLER POST /v1/cases/C-1001/events '{"event_id":"c1001-6","type":"propose","at":"2025-10-20T15:00:00+08:00","expected_version":5}'
step "The complaint office passes the proposal" OFFICE POST /v1/cases/C-1001/events '{"event_id":"c1001-7","type":"approve","at":"2025-10-20T16:00:00+08:00"}'
step "Carrying out needs the general manager's approval (800 CNY)" HANDLER POST /v1/cases/C-1001/events '{"event_id":"c1001-8","type":"carry_out","at":"2025-10-20T16:30:00+08:00"}'
step "The general manager approves the refund" MANAGER POST /v1/cases/C-1001/events '{"event_id":"c1001-9","type":"approve","at":"2025-10-20T17:00:00+08:00"}'
step "Carried out" HANDLER POST /v1/cases/C-1001/events '{"event_id":"c1001-8","type":"carry_out","at":"2025-10-20T17:30:00+08:00"}'
step "The reply to an online complaint needs the center's approval" HANDLER POST /v1/cases/C-1001/events '{"event_id":"c1001-10","type":"reply","at":"2025-10-21T08:30:00+08:00"}'
step "The center approves the reply" CENTER POST /v1/cases/C-1001/events '{"event_id":"c1001-11","type":"approve_reply","at":"2025-10-21T08:35:00+08:00"}'
step "Replied" HANDLER POST /v1/cases/C-1001/events '{"event_id":"c1001-10","type":"reply","at":"2025-10-21T08:40:00+08:00"}'
step "Closed by the center" CENTER POST /v1/cases/C-1001/events '{"event_id":"c1001-12","type":"closed","at":"2025-10-21T09:00:00+08:00","reports":[{"report":"bulletin_summary"}]}'
step "The case as the handler sees it" HANDLER GET /v1/cases/C-1001
step "Closed cases received in October" CENTER GET '/v1/cases?state=closed&received_from=2025-10-01T00:00:00%2B08:00&limit=10'
