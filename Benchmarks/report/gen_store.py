#!/usr/bin/env python3
"""Rows of a case store with N cases through whole lifecycles, as CSV files for the tables
`cases`, `events` and `decisions` (the columns the store writes), for the bulletin benchmark
(Benchmarks/report/run.sh). Deterministic for a seed.

Cases are received over the 365 days before --end, 09:00-ish local time (+08:00), in 12
handling units of varied performance; ~10% rejected, ~8% still open, the rest resolved
(most replied to, followed up and closed; ~5% reopened). Each event carries the decision
the store would have written for it (one `decisions` row per event), with `resolve_by`
24 hours after receipt as in the shipped rules.

  gen_store.py --cases 200000 --end 2026-12-01 --out DIR
"""
import argparse
import csv
import json
import os
import random
from datetime import datetime, timedelta, timezone

TZ = timezone(timedelta(hours=8))
CHANNELS = ["phone"] * 5 + ["web"] * 3 + ["letter", "visit", "wechat", "email"]
UNITS = ["市场管理部", "工程部", "客服中心", "审计部", "财务部", "营业一部", "营业二部", "营业三部",
         "运维部", "法务部", "质量部", "行政公关部"]
# Each unit's chance of answering and resolving late (some below the 85% floors).
LATE = [0.05, 0.25, 0.08, 0.12, 0.04, 0.10, 0.18, 0.06, 0.09, 0.14, 0.03, 0.07]
SATISFACTION = ["satisfied"] * 6 + ["fairly_satisfied"] * 3 + ["dissatisfied"]
CATEGORIES = ["rumor", "vice_and_violence", "insult_defamation", "site_damage"]
RULE_SET = "sha256:" + "7" * 64
LABELS = {"ordinary": "一般投诉", "important": "重要投诉", "hot": "热点投诉", "major": "重大投诉"}


def ts(ms):
    return datetime.fromtimestamp(ms / 1000, TZ).isoformat(timespec="seconds")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=200000)
    p.add_argument("--end", default="2026-12-01")
    p.add_argument("--seed", type=int, default=20261130)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    rnd = random.Random(a.seed)
    end = int(datetime.fromisoformat(a.end + "T00:00:00+08:00").timestamp() * 1000)
    start = end - 365 * 86_400_000
    hour = 3_600_000
    os.makedirs(a.out, exist_ok=True)
    fc = open(os.path.join(a.out, "cases.csv"), "w", newline="")
    fe = open(os.path.join(a.out, "events.csv"), "w", newline="")
    fd = open(os.path.join(a.out, "decisions.csv"), "w", newline="")
    cw, ew, dw = csv.writer(fc), csv.writer(fe), csv.writer(fd)
    decision_id = 0
    for i in range(a.cases):
        cid = "B-%07d" % i
        day = rnd.randrange(365)
        received = start + day * 86_400_000 + rnd.randrange(8 * hour, 20 * hour)
        channel = rnd.choice(CHANNELS)
        u = rnd.randrange(len(UNITS))
        late = rnd.random() < LATE[u]
        size = 1
        r = rnd.random()
        level = "ordinary"
        if r < 0.005:
            size, level = 12, "major"
        elif r < 0.025:
            size, level = 4, "hot"
        categories = [rnd.choice(CATEGORIES)] if rnd.random() < 0.01 else []
        resolve_by = received + 24 * hour
        snapshot = {"id": cid, "received_at": ts(received), "channel": channel, "collective_size": size,
                    "delay_cause": "ours", "text": "投诉内容 %d" % i}
        if rnd.random() < 0.3:
            snapshot["issue_key"] = "issue-%d" % rnd.randrange(2000)
        events = [("received", received, {k: v for k, v in snapshot.items() if k != "id"}, "intake_staff"),
                  ("register", received, {}, "intake_staff")]
        fate = rnd.random()
        stage, state = "registered", "open"
        lifecycle = {}
        resolved_at = None
        if fate < 0.10:
            events.append(("reject", received + rnd.randrange(hour, 20 * hour), {"reason": "不属于受理范围"},
                           "customer_service_center"))
            stage, state = "rejected", "closed"
        else:
            answered = received + (rnd.randrange(25 * hour, 60 * hour) if late else rnd.randrange(hour, 20 * hour))
            events.append(("accept", answered, {}, "customer_service_center"))
            events.append(("assign", answered, {"assignee": "h-%d" % u, "department": UNITS[u]},
                           "customer_service_center"))
            lifecycle = {"assignee": "h-%d" % u, "department": UNITS[u]}
            stage = "assigned"
            if fate > 0.18:
                done = answered + (rnd.randrange(30 * hour, 90 * hour) if late else rnd.randrange(hour, 4 * hour))
                events.append(("resolved", done, {}, "handler"))
                resolved_at = done
                stage, state = "carried_out", "resolved"
                if rnd.random() < 0.9:
                    events.append(("reply", done + hour, {}, "handler"))
                    stage = "replied"
                    if rnd.random() < 0.85:
                        s = rnd.choice(SATISFACTION)
                        events.append(("follow_up", done + 2 * hour, {"satisfaction": s}, "customer_service_center"))
                        lifecycle["satisfaction"] = s
                        stage = "follow_up"
                        if rnd.random() < 0.06:
                            events.append(("reopened", done + 72 * hour, {}, "customer_service_center"))
                            stage, state, level, resolved_at = "accepted", "open", "important", None
                        elif rnd.random() < 0.95:
                            reports = []
                            if level == "major":
                                reports = [{"report": "detailed_special", "parts": ["course", "causes", "prevention"]}]
                            elif level == "hot":
                                reports = [{"report": "brief_special", "parts": ["course"]}]
                            events.append(("closed", done + 3 * hour, {"reports": reports} if reports else {},
                                           "customer_service_center"))
                            stage, state = "closed", "closed"
        if resolved_at is not None:
            snapshot["resolved_at"] = ts(resolved_at)
        for seq, (kind, at, payload, actor) in enumerate(events, 1):
            eid = "%s-%d" % (cid, seq)
            ew.writerow([eid, cid, seq, kind, actor, "", at,
                         json.dumps(payload, ensure_ascii=False, separators=(",", ":"))])
            decision_id += 1
            decision = {"id": cid, "level": level, "reasons": [], "categories": categories,
                        "matches": [], "refund_approver": None, "deadlines": {"resolve_by": ts(resolve_by)},
                        "actions": [{"kind": "report", "on": "close", "report": "bulletin_summary",
                                     "to": ["leadership"]}],
                        "next_review_at": ts(at + 86_400_000), "rule_set": RULE_SET}
            dw.writerow([decision_id, cid, eid, at, level,
                         json.dumps(decision, ensure_ascii=False, separators=(",", ":")), RULE_SET])
        due = resolve_by if state == "open" else ""
        cw.writerow([cid, len(events), state, json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")),
                     snapshot.get("issue_key", ""), "", received, level, "", "", stage,
                     json.dumps(lifecycle, ensure_ascii=False, separators=(",", ":")), due,
                     lifecycle.get("department", "")])
    for f in (fc, fe, fd):
        f.close()
    print(decision_id)


if __name__ == "__main__":
    main()
