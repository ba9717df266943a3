#!/usr/bin/env python3
"""The default Ombuds severity + refund-approver policy (POLICY.md §1, §4), written
again for other engines, each timed separately on the same cases in the same run.

    python3 Benchmarks/peers/peer_policy.py --cases /tmp/cases.jsonl \
        --now 2025-10-20T12:00:00+08:00 --limit 20000

Peers (each one prepared once, then evaluated once per case inside the timed loop):

  python baseline               a plain-Python hand-written version (the reference)
  zen-engine compile_expression zen.compile_expression(...) once; Expression.evaluate(ctx) per case
  zen-engine decision table     a JDM graph (input -> expression node -> two first-hit
                                decision tables -> output); ZenEngine().create_decision(jdm)
                                once; ZenDecision.evaluate(ctx) per case
  opa-eval (regorus) Rego       opa_eval.OpaEval(policy.rego, query="data.ombuds.decision")
                                once; OpaEval.evaluate_parsed(input_json) per case

What every peer computes, per case (DESIGN.md "Semantics the default policy must have"):

  level     major      litigation == filed, media == exposed, collective_size >= 10, or
                       delay_cause == ours and received_at + 1 calendar month <= end
            hot        litigation == threatened, media == threatened,
                       same_issue_complainants >= 3, collective_size >= 3, or
                       delay_cause == ours and end - received_at >= 7 days
            important  reopened_after_resolution or needs_external_support
            ordinary   otherwise
            where end = resolved_at, or the evaluation time while unresolved, and the
            calendar month is added on the Asia/Shanghai wall clock (day clamped to the
            end of a shorter month: 01-31 + 1 month = 02-28).
  approver  compensation amount > 500 -> general_manager; 0 < amount <= 500 ->
            market_management; no compensation (or 0) -> null.

`same_issue_complainants` (the windowed aggregate) is computed once, in plain Python,
before any timing, and handed to every peer as an input field: for a case with an
issue_key, the largest number of distinct complainant_ids among the cases with the same
issue_key received no later than --now inside one half-open window [s, s + 1 calendar
month) that contains the case's received_at; 0 without issue_key.  A null complainant_id
is not counted by default (--anonymous ignore: the brief says "distinct complainant_id
values"); --anonymous distinct counts each anonymous case as a complainant of its own.

Each peer gets the same per-case input: the policy fields of the case (timestamps as the
RFC 3339 strings of the file, compensation as {"amount": "650.00", "currency": "CNY"} or
null), "now" (the --now string) and same_issue_complainants.  Inputs are built in each
peer's preferred form (dict, or JSON text for the engines that accept it) before timing.

Output: one JSON object per peer on its own line (stdout), then a human table.
Exit status: 0 when every peer that ran agrees with the baseline on every case,
1 when some peer disagreed, 2 on bad usage or unreadable input.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import sys
import tempfile
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta, timezone
from decimal import Decimal

# Asia/Shanghai has had a fixed +08:00 offset (no daylight saving) since 1991.
SHANGHAI = timezone(timedelta(hours=8))
WEEK = timedelta(days=7)
DEFAULT_NOW = "2025-10-20T12:00:00+08:00"
DEFAULT_LIMIT = 20000
ALL_PEERS = ("zen-expression", "zen-jdm", "zen-jdm-decision", "opa")

DEFAULTS = {
    "state": "open",
    "resolved_at": None,
    "channel": "phone",
    "complainant_id": None,
    "collective_size": 1,
    "issue_key": None,
    "litigation": "none",
    "media": "none",
    "delay_cause": "ours",
    "reopened_after_resolution": False,
    "needs_external_support": False,
    "compensation": None,
    "materials_complete_at": None,
    "text": "",
}
POLICY_FIELDS = (
    "received_at", "resolved_at", "litigation", "media", "collective_size", "delay_cause",
    "reopened_after_resolution", "needs_external_support", "compensation",
)


# --------------------------------------------------------------------------- time

def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if value.tzinfo is None:
        raise ValueError(f"timestamp without UTC offset: {text!r}")
    return value.astimezone(SHANGHAI)


def add_month(value: datetime) -> datetime:
    """One calendar month later on the Shanghai wall clock, day clamped to month end."""
    year, month = (value.year + 1, 1) if value.month == 12 else (value.year, value.month + 1)
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


# ------------------------------------------------------------- windowed aggregate

def same_issue_complainants(cases: list[dict], now: datetime, anonymous: str = "ignore") -> list[int]:
    """Per case: max distinct complainants in a one-calendar-month window around it.

    Windows are half-open, [s, s + 1 calendar month): a case received exactly one month
    after another is no longer "within one month" of it (一个月后 = a full month has
    elapsed, as for open_for >= 1 month).  anonymous="ignore" counts only non-null
    complainant_id values; "distinct" counts every anonymous case as a complainant of its own.
    """
    groups: dict[str, list[tuple[datetime, str | None, int]]] = defaultdict(list)
    received = [parse_time(c["received_at"]) for c in cases]
    for index, case in enumerate(cases):
        key = case.get("issue_key")
        if key is not None and received[index] <= now:
            who = case.get("complainant_id")
            if who is None and anonymous == "distinct":
                who = "\0case:" + str(case["id"])
            groups[key].append((received[index], who, index))
    result = [0] * len(cases)
    for members in groups.values():
        members.sort(key=lambda m: m[0])
        times = [m[0] for m in members]
        ends = [add_month(t) for t in times]
        n = len(members)
        # window_count[s]: distinct complainants in [times[s], ends[s]) (two pointers;
        # the best window around a case can always start at some case's receipt)
        window_count = [0] * n
        seen: dict[str, int] = defaultdict(int)
        hi = 0
        for s in range(n):
            while hi < n and times[hi] < ends[s]:
                who = members[hi][1]
                if who is not None:
                    seen[who] += 1
                hi += 1
            window_count[s] = len(seen)
            who = members[s][1]
            if who is not None:
                seen[who] -= 1
                if seen[who] == 0:
                    del seen[who]
        # for case j: max window_count[s] over s with times[s] <= times[j] < ends[s]
        # (a contiguous range of s ending at the last s with times[s] <= times[j])
        best: deque[int] = deque()  # indices with decreasing window_count
        lo = 0
        s_next = 0
        for j in range(n):
            while s_next < n and times[s_next] <= times[j]:
                while best and window_count[best[-1]] <= window_count[s_next]:
                    best.pop()
                best.append(s_next)
                s_next += 1
            while lo < s_next and ends[lo] <= times[j]:
                lo += 1
            while best and best[0] < lo:
                best.popleft()
            result[members[j][2]] = window_count[best[0]] if best else 0
    return result


# ------------------------------------------------------------------ the baseline

def make_baseline(now_text: str):
    now = parse_time(now_text)
    five_hundred = Decimal(500)
    zero = Decimal(0)

    def evaluate(c: dict) -> tuple[str, str | None]:
        received = parse_time(c["received_at"])
        resolved = c["resolved_at"]
        end = parse_time(resolved) if resolved is not None else now
        ours = c["delay_cause"] == "ours"
        litigation = c["litigation"]
        media = c["media"]
        size = c["collective_size"]
        if (litigation == "filed" or media == "exposed" or size >= 10
                or (ours and add_month(received) <= end)):
            level = "major"
        elif (litigation == "threatened" or media == "threatened"
              or c["same_issue_complainants"] >= 3 or size >= 3
              or (ours and end - received >= WEEK)):
            level = "hot"
        elif c["reopened_after_resolution"] or c["needs_external_support"]:
            level = "important"
        else:
            level = "ordinary"
        compensation = c["compensation"]
        if compensation is None:
            approver = None
        else:
            amount = Decimal(compensation["amount"])
            approver = ("general_manager" if amount > five_hundred
                        else "market_management" if amount > zero else None)
        return level, approver

    return evaluate


# ---------------------------------------------------------------------- zen-engine

ZEN_END = 'd(resolved_at ?? now, "Asia/Shanghai")'
ZEN_RECEIVED = 'd(received_at, "Asia/Shanghai")'
ZEN_LEVEL = (
    '(litigation == "filed" or media == "exposed" or collective_size >= 10'
    f' or (delay_cause == "ours" and {ZEN_RECEIVED}.add(1, "M") <= {ZEN_END}))'
    ' ? "major" : ('
    '(litigation == "threatened" or media == "threatened" or same_issue_complainants >= 3'
    ' or collective_size >= 3'
    f' or (delay_cause == "ours" and {ZEN_RECEIVED}.add(7, "d") <= {ZEN_END}))'
    ' ? "hot" : ('
    '(reopened_after_resolution or needs_external_support) ? "important" : "ordinary"))'
)
ZEN_APPROVER = (
    'compensation == null ? null : ('
    'number(compensation.amount) > 500 ? "general_manager" : ('
    'number(compensation.amount) > 0 ? "market_management" : null))'
)
ZEN_DECISION_EXPRESSION = f"{{level: {ZEN_LEVEL}, approver: {ZEN_APPROVER}}}"


def zen_jdm_graph() -> dict:
    """input -> derived fields -> {level table, approver table} -> output.

    The two first-hit tables read the derived node's output side by side and write only
    their own column (passThrough false), so the result is {"level", "approver"};
    zen-engine leaves a null output out of the result, hence `.get("approver")`.
    """
    def table(node_id, name, inputs, output, rows):
        cols = [{"id": f"{node_id}-i{k}", "name": label, "field": field}
                for k, (label, field) in enumerate(inputs)]
        out_col = {"id": f"{node_id}-o", "name": output, "field": output}
        rules = []
        for r, (cells, value) in enumerate(rows):
            rule = {"_id": f"{node_id}-r{r}", out_col["id"]: value}
            for col in cols:
                rule[col["id"]] = cells.get(col["field"], "")
            rules.append(rule)
        return {"id": node_id, "name": name, "type": "decisionTableNode",
                "position": {"x": 0, "y": 0},
                "content": {"hitPolicy": "first", "inputs": cols, "outputs": [out_col],
                            "rules": rules, "passThrough": False,
                            "inputField": None, "outputPath": None,
                            "executionMode": "single"}}

    derived = {
        "id": "derived", "name": "derived fields", "type": "expressionNode",
        "position": {"x": 0, "y": 0},
        "content": {"passThrough": True, "inputField": None, "outputPath": None,
                    "executionMode": "single", "expressions": [
            {"id": "x1", "key": "month_elapsed",
             "value": f'{ZEN_RECEIVED}.add(1, "M") <= {ZEN_END}'},
            {"id": "x2", "key": "week_elapsed",
             "value": f'{ZEN_RECEIVED}.add(7, "d") <= {ZEN_END}'},
            {"id": "x3", "key": "amount",
             "value": "compensation == null ? 0 : number(compensation.amount)"},
        ]},
    }
    level_inputs = [
        ("诉讼", "litigation"), ("媒体", "media"), ("集体人数", "collective_size"),
        ("延误原因", "delay_cause"), ("满一个月", "month_elapsed"), ("满一周", "week_elapsed"),
        ("同样投诉人数", "same_issue_complainants"),
        ("二次投诉", "reopened_after_resolution"), ("外部支持", "needs_external_support"),
    ]
    level_rows = [
        ({"litigation": '"filed"'}, '"major"'),
        ({"media": '"exposed"'}, '"major"'),
        ({"collective_size": ">= 10"}, '"major"'),
        ({"delay_cause": '"ours"', "month_elapsed": "true"}, '"major"'),
        ({"litigation": '"threatened"'}, '"hot"'),
        ({"media": '"threatened"'}, '"hot"'),
        ({"same_issue_complainants": ">= 3"}, '"hot"'),
        ({"collective_size": ">= 3"}, '"hot"'),
        ({"delay_cause": '"ours"', "week_elapsed": "true"}, '"hot"'),
        ({"reopened_after_resolution": "true"}, '"important"'),
        ({"needs_external_support": "true"}, '"important"'),
        ({}, '"ordinary"'),
    ]
    approver_rows = [
        ({"amount": "> 500"}, '"general_manager"'),
        ({"amount": "> 0"}, '"market_management"'),
        ({}, "null"),
    ]
    nodes = [
        {"id": "in", "name": "case", "type": "inputNode", "position": {"x": 0, "y": 0}},
        derived,
        table("level", "投诉分类", level_inputs, "level", level_rows),
        table("approver", "索赔审批", [("金额", "amount")], "approver", approver_rows),
        {"id": "out", "name": "decision", "type": "outputNode", "position": {"x": 0, "y": 0}},
    ]
    links = [("in", "derived"), ("derived", "level"), ("derived", "approver"),
             ("level", "out"), ("approver", "out")]
    edges = [{"id": f"e{k}", "type": "edge", "sourceId": a, "targetId": b}
             for k, (a, b) in enumerate(links)]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


# ------------------------------------------------------------------ opa-eval (Rego)

REGO_POLICY = r'''
package ombuds

import rego.v1

# Asia/Shanghai has had a fixed +08:00 offset (no daylight saving) since 1991:
# shifting by it makes time.add_date work on the Shanghai wall clock.
shanghai_ns := ((8 * 60) * 60) * 1000000000

week_ns := ((((7 * 24) * 60) * 60) * 1000000000)

received_ns := time.parse_rfc3339_ns(input.received_at)

end_ns := time.parse_rfc3339_ns(input.resolved_at) if {
	input.resolved_at != null
} else := time.parse_rfc3339_ns(input.now)

month_elapsed if {
	(time.add_date(received_ns + shanghai_ns, 0, 1, 0) - shanghai_ns) <= end_ns
}

week_elapsed if {
	(end_ns - received_ns) >= week_ns
}

major if input.litigation == "filed"

major if input.media == "exposed"

major if input.collective_size >= 10

major if {
	input.delay_cause == "ours"
	month_elapsed
}

hot if input.litigation == "threatened"

hot if input.media == "threatened"

hot if input.same_issue_complainants >= 3

hot if input.collective_size >= 3

hot if {
	input.delay_cause == "ours"
	week_elapsed
}

important if input.reopened_after_resolution

important if input.needs_external_support

level := "major" if {
	major
} else := "hot" if {
	hot
} else := "important" if {
	important
} else := "ordinary"

approver := "general_manager" if {
	to_number(input.compensation.amount) > 500
} else := "market_management" if {
	to_number(input.compensation.amount) > 0
} else := null

decision := {"level": level, "approver": approver}
'''


# ------------------------------------------------------------------------ running

class PeerResult:
    def __init__(self, engine: str, api: str):
        self.engine = engine
        self.api = api
        self.status = "ok"
        self.note = ""
        self.decisions = 0
        self.seconds = 0.0
        self.mismatches = 0
        self.examples: list[str] = []

    def as_json(self) -> dict:
        out = {"engine": self.engine, "api": self.api, "status": self.status,
               "decisions": self.decisions, "seconds": round(self.seconds, 6),
               "ns_per_decision": round(self.seconds * 1e9 / self.decisions, 1) if self.decisions else None,
               "mismatches": self.mismatches if self.status == "ok" else None}
        if self.note:
            out["note"] = self.note
        if self.examples:
            out["mismatch_examples"] = self.examples
        return out


def timed(evaluate, inputs, warmup: int = 200):
    for item in inputs[:warmup]:  # untimed warm-up: caches, lazy init
        evaluate(item)
    started = time.perf_counter_ns()
    results = [evaluate(item) for item in inputs]
    return results, (time.perf_counter_ns() - started) / 1e9


def compare(result: PeerResult, got: list, want: list, ids: list[str]) -> None:
    result.decisions = len(got)
    for index, (g, w) in enumerate(zip(got, want)):
        if g != w:
            result.mismatches += 1
            if len(result.examples) < 5:
                result.examples.append(f"{ids[index]}: got {g}, want {w}")


def run_baseline(inputs, now_text):
    result = PeerResult("python baseline", "hand-written Python function per case")
    decisions, result.seconds = timed(make_baseline(now_text), inputs)
    result.decisions = len(decisions)
    return result, decisions


def run_zen_expression(inputs, json_inputs, want, ids, context_form):
    result = PeerResult("zen-engine compile_expression",
                        "zen.compile_expression(expr) once; Expression.evaluate(ctx) per case")
    try:
        import zen  # type: ignore
    except ImportError as error:
        result.status, result.note = "unavailable", f"cannot import zen ({error}); pip install zen-engine"
        return result
    try:
        expression = zen.compile_expression(ZEN_DECISION_EXPRESSION)

        def evaluate(ctx):
            out = expression.evaluate(ctx)
            return out["level"], out["approver"]

        got, result.seconds = timed(evaluate, json_inputs if context_form == "json" else inputs)
        result.note = f"context passed as {context_form}; zen-engine {_version('zen-engine')}"
        compare(result, got, want, ids)
    except Exception as error:  # a peer failing must not stop the others
        result.status, result.note = "error", _one_line(error)
    return result


def run_zen_jdm(inputs, json_inputs, want, ids, context_form, via_create_decision=False):
    if via_create_decision:
        result = PeerResult("zen-engine JDM create_decision",
                            "ZenEngine().create_decision(jdm) once; ZenDecision.evaluate(ctx) per case")
    else:
        result = PeerResult("zen-engine decision table",
                            'ZenEngine({"loader": {"type": "static", ...}}) once; '
                            "ZenEngine.evaluate(key, ctx) per case")
    try:
        import zen  # type: ignore
    except ImportError as error:
        result.status, result.note = "unavailable", f"cannot import zen ({error}); pip install zen-engine"
        return result
    try:
        graph = zen_jdm_graph()
        if via_create_decision:
            decision = zen.ZenDecisionContent(json.dumps(graph, ensure_ascii=False))
            decision = zen.ZenEngine().create_decision(decision)

            def evaluate(ctx):
                out = decision.evaluate(ctx)["result"]
                return out.get("level"), out.get("approver")
        else:
            engine = zen.ZenEngine({"loader": {"type": "static", "content": {"ombuds": graph}}})

            def evaluate(ctx):
                out = engine.evaluate("ombuds", ctx)["result"]
                return out.get("level"), out.get("approver")

        got, result.seconds = timed(evaluate, json_inputs if context_form == "json" else inputs)
        result.note = f"context passed as {context_form}; zen-engine {_version('zen-engine')}"
        compare(result, got, want, ids)
    except Exception as error:
        result.status, result.note = "error", _one_line(error)
    return result


def run_opa(json_inputs, want, ids):
    result = PeerResult("opa-eval (regorus) Rego",
                        'opa_eval.OpaEval(path, query="data.ombuds.decision") once; '
                        "evaluate_parsed(input_json) per case")
    try:
        import opa_eval  # type: ignore
    except ImportError as error:
        result.status, result.note = "unavailable", f"cannot import opa_eval ({error}); pip install opa-eval"
        return result
    path = None
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".rego", delete=False, encoding="utf-8") as f:
            f.write(REGO_POLICY)
            path = f.name
        evaluator = opa_eval.OpaEval(path, query="data.ombuds.decision")

        def evaluate(text):
            out = evaluator.evaluate_parsed(text)
            return out["level"], out["approver"]

        got, result.seconds = timed(evaluate, json_inputs)
        result.note = (f"opa-eval {_version('opa-eval')}: Rust regorus interpreter behind PyO3, "
                       "not the Go OPA; input must be JSON text")
        compare(result, got, want, ids)
    except Exception as error:
        result.status, result.note = "error", _one_line(error)
    finally:
        if path:
            os.unlink(path)
    return result


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return "?"


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


def load_cases(path: str) -> list[dict]:
    cases = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict) or "id" not in raw or "received_at" not in raw:
                    raise ValueError("not a case snapshot (needs id and received_at)")
            except ValueError as error:
                raise SystemExit(f"{path}:{number}: {error}")
            case = dict(DEFAULTS)
            case.update(raw)
            cases.append(case)
    return cases


def peer_input(case: dict, now_text: str, same_issue: int) -> dict:
    item = {field: case[field] for field in POLICY_FIELDS}
    item["now"] = now_text
    item["same_issue_complainants"] = same_issue
    return item


def check_ombuds(path: str, ids: list[str], want_all: list, same_issue: list[int]) -> dict:
    """Compare `ombuds classify` output (level, refund_approver) with the baseline."""
    index = {case_id: k for k, case_id in enumerate(ids)}
    seen = mismatches = unknown = 0
    examples = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            out = json.loads(line)
            k = index.get(out.get("id"))
            if k is None:
                unknown += 1
                continue
            seen += 1
            got = (out.get("level"), out.get("refund_approver"))
            if got != want_all[k]:
                mismatches += 1
                if len(examples) < 5:
                    examples.append(f"{ids[k]}: ombuds {got}, baseline {want_all[k]} "
                                    f"(same_issue_complainants {same_issue[k]})")
    return {"engine": "ombuds classify (check)", "decisions": seen, "mismatches": mismatches,
            "missing": len(ids) - seen, "unknown_ids": unknown, "mismatch_examples": examples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", required=True, help="case snapshots, JSON Lines")
    parser.add_argument("--now", default=DEFAULT_NOW, help=f"evaluation time (default {DEFAULT_NOW})")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                        help=f"evaluate at most N cases per peer (default {DEFAULT_LIMIT}; 0 = all)")
    parser.add_argument("--peers", default=",".join(ALL_PEERS),
                        help=f"comma-separated subset of {','.join(ALL_PEERS)} (baseline always runs)")
    parser.add_argument("--anonymous", choices=("ignore", "distinct"), default="ignore",
                        help="same-issue rule: ignore null complainant_id (default) or count each "
                             "anonymous case as a distinct complainant")
    parser.add_argument("--zen-context", choices=("json", "dict"), default="json",
                        help="hand zen-engine its context as JSON text (default, faster) or as a dict")
    parser.add_argument("--decisions-out", metavar="FILE",
                        help="write the baseline decision of every case as JSON Lines "
                             '({"id", "level", "refund_approver", "same_issue_complainants"})')
    parser.add_argument("--check-ombuds", metavar="FILE",
                        help="also compare an `ombuds classify` output file with the baseline, all cases")
    parser.add_argument("--no-table", action="store_true", help="JSON lines only")
    args = parser.parse_args(argv)

    try:
        now = parse_time(args.now)
    except ValueError as error:
        parser.error(f"--now: {error}")
    try:
        cases = load_cases(args.cases)
    except OSError as error:
        print(f"peer_policy: {error}", file=sys.stderr)
        return 2

    # ---- untimed preparation: the windowed aggregate and the peers' inputs -------
    prep_started = time.perf_counter()
    same_issue = same_issue_complainants(cases, now, args.anonymous)
    ids = [c["id"] for c in cases]
    need_all = bool(args.decisions_out or args.check_ombuds)
    limit = len(cases) if args.limit <= 0 else min(args.limit, len(cases))
    count = len(cases) if need_all else limit
    inputs_all = [peer_input(cases[k], args.now, same_issue[k]) for k in range(count)]
    inputs = inputs_all[:limit]
    json_inputs = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in inputs]
    prep_seconds = time.perf_counter() - prep_started

    results = []
    baseline, want = run_baseline(inputs, args.now)
    results.append(baseline)
    wanted = {p.strip() for p in args.peers.split(",") if p.strip()}
    unknown_peers = wanted - set(ALL_PEERS)
    if unknown_peers:
        parser.error(f"unknown peer(s): {', '.join(sorted(unknown_peers))}")
    if "zen-expression" in wanted:
        results.append(run_zen_expression(inputs, json_inputs, want, ids, args.zen_context))
    if "zen-jdm" in wanted:
        results.append(run_zen_jdm(inputs, json_inputs, want, ids, args.zen_context))
    if "zen-jdm-decision" in wanted:
        results.append(run_zen_jdm(inputs, json_inputs, want, ids, args.zen_context,
                                   via_create_decision=True))
    if "opa" in wanted:
        results.append(run_opa(json_inputs, want, ids))

    for result in results:
        print(json.dumps(result.as_json(), ensure_ascii=False), flush=True)

    want_all = None
    if need_all:
        evaluate = make_baseline(args.now)
        want_all = want + [evaluate(item) for item in inputs_all[limit:]]
    if args.decisions_out:
        with open(args.decisions_out, "w", encoding="utf-8") as f:
            for k, (level, approver) in enumerate(want_all):
                f.write(json.dumps({"id": ids[k], "level": level, "refund_approver": approver,
                                    "same_issue_complainants": same_issue[k]},
                                   ensure_ascii=False) + "\n")
    ombuds_check = None
    if args.check_ombuds:
        ombuds_check = check_ombuds(args.check_ombuds, ids, want_all, same_issue)
        print(json.dumps(ombuds_check, ensure_ascii=False), flush=True)

    if not args.no_table:
        print_table(results, cases, want, limit, prep_seconds, args.now, ombuds_check)

    disagreements = sum(r.mismatches for r in results if r.status == "ok")
    return 1 if disagreements else 0


def print_table(results, cases, want, limit, prep_seconds, now_text, ombuds_check) -> None:
    levels = defaultdict(int)
    approvers = defaultdict(int)
    for level, approver in want:
        levels[level] += 1
        approvers[approver or "null"] += 1
    print()
    print(f"{len(cases)} cases loaded, {limit} evaluated per peer, now = {now_text}; "
          f"untimed preparation (same-issue windows, inputs) {prep_seconds:.2f} s")
    print("baseline levels:   " + ", ".join(f"{k} {levels[k]}" for k in ("major", "hot", "important", "ordinary")))
    print("baseline approver: " + ", ".join(f"{k} {v}" for k, v in sorted(approvers.items())))
    print()
    header = f"{'engine':<32} {'status':<11} {'decisions':>9} {'seconds':>9} {'ns/decision':>12} {'mismatches':>10}"
    print(header)
    print("-" * len(header))
    for r in results:
        j = r.as_json()
        ns = f"{j['ns_per_decision']:.1f}" if j["ns_per_decision"] else "-"
        mm = str(j["mismatches"]) if j["mismatches"] is not None else "-"
        print(f"{r.engine:<32} {r.status:<11} {r.decisions:>9} {r.seconds:>9.3f} {ns:>12} {mm:>10}")
    for r in results:
        if r.status != "ok":
            print(f"  {r.engine}: {r.status}: {r.note}")
        for example in r.examples:
            print(f"  {r.engine} mismatch: {example}")
    if ombuds_check:
        print(f"ombuds classify vs baseline: {ombuds_check['decisions']} compared, "
              f"{ombuds_check['mismatches']} mismatches, {ombuds_check['missing']} missing")
        for example in ombuds_check["mismatch_examples"]:
            print(f"  {example}")


if __name__ == "__main__":
    sys.exit(main())
