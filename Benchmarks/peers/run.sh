#!/usr/bin/env bash
# Ombuds against named peers, on the same generated cases, in the same run.
#
#   Benchmarks/peers/run.sh            # from the repository root
#
# Steps: (a) pip-install the peers if missing; (b) generate the cases into a temporary
# directory; (c) time Ombuds' evaluator (ombuds-eval-bench); (d) time the whole
# `ombuds classify` process; (e) time the peers (peer_policy.py) and check that they,
# and `ombuds classify`, agree with the plain-Python version of the policy; (f) print
# ns/decision for every engine, the ratio to Ombuds, and classify against its goal.
#
# Environment (all optional):
#   OMBUDS_EVAL_BENCH        evaluator benchmark binary (default Benchmarks/.build/release/ombuds-eval-bench;
#                            built with `swift build -c release --package-path Benchmarks` when missing)
#   OMBUDS_BIN               the ombuds executable (default .build/release/ombuds; built when missing)
#   OMBUDS_BENCH_COUNT       cases to generate (default 200000)
#   OMBUDS_BENCH_SEED        generator seed (default 20251020)
#   OMBUDS_BENCH_NOW         evaluation time (default 2025-10-20T12:00:00+08:00)
#   OMBUDS_BENCH_LINE_BYTES  pad each case line to about this many bytes (default 1015, so
#                            200,000 lines are ~203 MB like the JSONDecoder figure in
#                            DESIGN.md; 0 = one short sentence per case, ~92 MB)
#   OMBUDS_BENCH_PEER_LIMIT  cases evaluated per peer (default 20000; 0 = all)
#   OMBUDS_BENCH_GOAL        whole-process classify goal in seconds (default 3)
#   OMBUDS_BENCH_ANONYMOUS   same-issue rule in the Python policy: "ignore" null complainant_id
#                            (default) or count each anonymous case as "distinct"
#   OMBUDS_BENCH_STRICT      1 = exit 1 when a peer or `ombuds classify` disagrees with the
#                            Python policy (default: report it loudly, exit 0)
#   PYTHON                   python interpreter (default python3)
#
# Exit status: 0 when everything ran (disagreements are reported, see STRICT); 1 on a
# real failure (a build, the generator, a benchmark binary or classify failing); 2 when
# not run from the repository root.
set -euo pipefail

if [[ ! -f Benchmarks/peers/gen_cases.py || ! -f Benchmarks/peers/peer_policy.py ]]; then
    echo "run.sh: run me from the Ombuds repository root (Benchmarks/peers/ not found in $PWD)" >&2
    exit 2
fi

PYTHON=${PYTHON:-python3}
DEFAULT_EVAL_BENCH=Benchmarks/.build/release/ombuds-eval-bench
DEFAULT_OMBUDS_BIN=.build/release/ombuds
OMBUDS_EVAL_BENCH=${OMBUDS_EVAL_BENCH:-$DEFAULT_EVAL_BENCH}
OMBUDS_BIN=${OMBUDS_BIN:-$DEFAULT_OMBUDS_BIN}
COUNT=${OMBUDS_BENCH_COUNT:-200000}
SEED=${OMBUDS_BENCH_SEED:-20251020}
NOW=${OMBUDS_BENCH_NOW:-2025-10-20T12:00:00+08:00}
LINE_BYTES=${OMBUDS_BENCH_LINE_BYTES:-1015}
PEER_LIMIT=${OMBUDS_BENCH_PEER_LIMIT:-20000}
GOAL=${OMBUDS_BENCH_GOAL:-3}
STRICT=${OMBUDS_BENCH_STRICT:-0}
ANONYMOUS=${OMBUDS_BENCH_ANONYMOUS:-ignore}

say() { printf '\n== %s\n' "$*" >&2; }
fail() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ombuds-peers.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CASES=$WORK/cases.jsonl

# --- (a) peers --------------------------------------------------------------------
say "(a) peers"
for spec in zen-engine:zen opa-eval:opa_eval; do
    dist=${spec%%:*}
    module=${spec##*:}
    if "$PYTHON" -c "import $module" 2>/dev/null; then
        echo "$dist: installed" >&2
    elif "$PYTHON" -m pip install -q --disable-pip-version-check "$dist" >"$WORK/pip.log" 2>&1 \
            && "$PYTHON" -c "import $module" 2>/dev/null; then
        echo "$dist: installed now" >&2
    else
        # not fatal: peer_policy.py reports the peer as unavailable and runs the others
        echo "$dist: could not be installed; that peer will be reported as unavailable" >&2
        sed 's/^/    /' "$WORK/pip.log" | tail -5 >&2 || true
    fi
done

# --- (b) cases --------------------------------------------------------------------
say "(b) generating $COUNT cases (seed $SEED, now $NOW, line bytes $LINE_BYTES)"
"$PYTHON" Benchmarks/peers/gen_cases.py --count "$COUNT" --seed "$SEED" --now "$NOW" \
    --line-bytes "$LINE_BYTES" --out "$CASES" || fail "gen_cases.py failed"
CASES_BYTES=$(wc -c <"$CASES" | tr -d ' ')
echo "$CASES: $COUNT lines, $CASES_BYTES bytes" >&2

# --- (c) Ombuds evaluator ----------------------------------------------------------
say "(c) Ombuds evaluator: $OMBUDS_EVAL_BENCH"
if [[ ! -x "$OMBUDS_EVAL_BENCH" ]]; then
    [[ "$OMBUDS_EVAL_BENCH" == "$DEFAULT_EVAL_BENCH" ]] \
        || fail "OMBUDS_EVAL_BENCH=$OMBUDS_EVAL_BENCH is not an executable"
    echo "building ombuds-eval-bench (release)" >&2
    swift build -c release --package-path Benchmarks --product ombuds-eval-bench \
        || fail "building ombuds-eval-bench failed"
fi
"$OMBUDS_EVAL_BENCH" --rules rules --cases "$CASES" --now "$NOW" >"$WORK/eval.out" \
    || fail "ombuds-eval-bench failed"
grep '^[[:space:]]*{' "$WORK/eval.out" | tail -n 1 >"$WORK/eval.json" || true
[[ -s "$WORK/eval.json" ]] || fail "ombuds-eval-bench printed no JSON line: $(head -c 300 "$WORK/eval.out")"
cat "$WORK/eval.json" >&2

# --- (d) whole classify process ----------------------------------------------------
say "(d) whole process: $OMBUDS_BIN classify"
if [[ ! -x "$OMBUDS_BIN" ]]; then
    [[ "$OMBUDS_BIN" == "$DEFAULT_OMBUDS_BIN" ]] || fail "OMBUDS_BIN=$OMBUDS_BIN is not an executable"
    echo "building ombuds (release)" >&2
    swift build -c release --product ombuds || fail "building ombuds failed"
fi
# One untimed run keeps the decisions, to check them against the Python policy in (e).
classify_rc=0
"$OMBUDS_BIN" classify --rules rules --now "$NOW" "$CASES" >"$WORK/classify.jsonl" 2>"$WORK/classify.err" \
    || classify_rc=$?
case $classify_rc in
    0) ;;
    1) echo "WARNING: ombuds classify rejected $(wc -l <"$WORK/classify.err" | tr -d ' ') generated line(s):" >&2
       head -n 5 "$WORK/classify.err" >&2 ;;
    *) head -n 20 "$WORK/classify.err" >&2
       fail "ombuds classify exited with status $classify_rc" ;;
esac

if command -v hyperfine >/dev/null 2>&1; then
    printf -v classify_cmd '%q classify --rules rules --now %q %q' "$OMBUDS_BIN" "$NOW" "$CASES"
    hyperfine_flags=(--shell=bash --warmup 1 --runs 3 --style basic --export-json "$WORK/hyperfine.json")
    [[ $classify_rc -eq 1 ]] && hyperfine_flags+=(--ignore-failure)
    hyperfine "${hyperfine_flags[@]}" "$classify_cmd" >&2 || fail "hyperfine failed"
    "$PYTHON" - "$WORK/hyperfine.json" >"$WORK/classify-time.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(json.dumps({"tool": "hyperfine", "runs": len(r["times"]), "best": r["min"], "mean": r["mean"]}))
EOF
else
    echo "hyperfine not installed: timing 3 runs in Python, best counts" >&2
    "$PYTHON" - "$OMBUDS_BIN" "$NOW" "$CASES" "$classify_rc" >"$WORK/classify-time.json" <<'EOF'
import json, subprocess, sys, time
binary, now, cases, expected_rc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
times = []
for _ in range(3):
    started = time.perf_counter()
    rc = subprocess.run([binary, "classify", "--rules", "rules", "--now", now, cases],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    times.append(time.perf_counter() - started)
    if rc != expected_rc:
        sys.exit(f"ombuds classify exited with status {rc}")
print(json.dumps({"tool": "python", "runs": len(times), "best": min(times), "mean": sum(times) / len(times)}))
EOF
fi
cat "$WORK/classify-time.json" >&2

# --- (e) peers ---------------------------------------------------------------------
say "(e) peers on the same cases (at most $PEER_LIMIT per peer)"
peers_rc=0
"$PYTHON" Benchmarks/peers/peer_policy.py --cases "$CASES" --now "$NOW" --limit "$PEER_LIMIT" \
    --anonymous "$ANONYMOUS" --check-ombuds "$WORK/classify.jsonl" >"$WORK/peers.out" || peers_rc=$?
cat "$WORK/peers.out" >&2
case $peers_rc in
    0|1) ;;
    *) fail "peer_policy.py failed with status $peers_rc" ;;
esac

# --- (f) summary -------------------------------------------------------------------
say "(f) summary"
summary_rc=0
"$PYTHON" - "$WORK/eval.json" "$WORK/peers.out" "$WORK/classify-time.json" \
    "$COUNT" "$CASES_BYTES" "$GOAL" "$STRICT" <<'EOF' || summary_rc=$?
import json, sys
eval_path, peers_path, classify_path, count, size, goal, strict = sys.argv[1:]
count, size, goal, strict = int(count), int(size), float(goal), strict == "1"

ombuds = json.loads(open(eval_path).read())
for key in ("decisions", "seconds", "ns_per_decision"):
    if key not in ombuds:
        sys.exit(f"ombuds-eval-bench output lacks {key!r}: {ombuds}")
base = float(ombuds["ns_per_decision"])
peers, check = [], None
for line in open(peers_path, encoding="utf-8"):
    if line.startswith("{"):
        row = json.loads(line)
        if row.get("engine") == "ombuds classify (check)":
            check = row
        else:
            peers.append(row)

def ratio(ns):
    if base <= 0:
        return "n/a (Ombuds reported 0 ns)"
    r = ns / base
    return f"{r:.1f}x slower than Ombuds" if r >= 1 else f"{1 / r:.1f}x faster than Ombuds"

print(f"{'engine':<34} {'decisions':>9} {'ns/decision':>12}  vs Ombuds")
print("-" * 86)
print(f"{'Ombuds (ombuds-eval-bench)':<34} {ombuds['decisions']:>9} {base:>12.1f}  1.0x")
disagreements = 0
for p in peers:
    if p["status"] != "ok":
        print(f"{p['engine']:<34} {'-':>9} {'-':>12}  {p['status']}: {p.get('note', '')}")
        continue
    note = ""
    if p["mismatches"]:
        disagreements += 1
        note = f"  (DISAGREES with the Python policy on {p['mismatches']} cases)"
    print(f"{p['engine']:<34} {p['decisions']:>9} {p['ns_per_decision']:>12.1f}  {ratio(p['ns_per_decision'])}{note}")
print()
for p in peers:
    if p["status"] == "ok":
        print(f"{p['engine']}: {ratio(p['ns_per_decision'])}")
print()
classify = json.load(open(classify_path))
verdict = "meets" if classify["best"] <= goal else "MISSES"
print(f"ombuds classify, whole process, {count} cases ({size / 1e6:.0f} MB): best {classify['best']:.2f} s, "
      f"mean {classify['mean']:.2f} s over {classify['runs']} runs ({classify['tool']}); "
      f"{verdict} the {goal:g} s goal ({classify['best'] * 1e9 / max(count, 1):.0f} ns/case)")
if check is not None:
    if check["mismatches"] or check["missing"]:
        disagreements += 1
        print(f"WARNING: ombuds classify disagrees with the Python policy: {check['mismatches']} of "
              f"{check['decisions']} decisions differ (level or refund_approver), {check['missing']} missing")
        for example in check.get("mismatch_examples", []):
            print(f"  {example}")
    else:
        print(f"ombuds classify agrees with the Python policy on all {check['decisions']} cases "
              "(level and refund_approver)")
sys.exit(3 if strict and disagreements else 0)
EOF
case $summary_rc in
    0) ;;
    3) fail "disagreements with the Python policy (OMBUDS_BENCH_STRICT=1)" ;;
    *) fail "the summary could not be made (status $summary_rc)" ;;
esac
