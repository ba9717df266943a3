#!/usr/bin/env python3
"""Deterministic generator of Ombuds case snapshots (JSON Lines).

Every line is one case snapshot exactly per the "Case snapshot" contract in
DESIGN.md: the sixteen contract fields, in contract order, nothing else.

    python3 Benchmarks/peers/gen_cases.py --count 200000 --out /tmp/cases.jsonl
    python3 Benchmarks/peers/gen_cases.py --count 20 --seed 7 --now 2025-10-20T12:00:00+08:00

The same (--count, --seed, --now, --line-bytes) always gives byte-identical output.

Shape of the data (roughly, for the default --now):

* received_at is spread uniformly from 00:00 +08:00 of the day 49 days before --now
  (2025-09-01 for the default) up to --now itself, whole seconds, always +08:00;
  lines are written in received_at order and ids follow that order.
* Most cases are ordinary: resolved within a day (delay_cause "none").  About one in
  ten takes days and carries a delay cause (ours / complainant / third_party); a few
  stay open.  Lawsuits, media, large collective complaints, reopenings and
  external support each occur in a few percent or less, so a few percent of cases are
  hot and about one percent major.
* About 70% of cases carry an issue_key; keys are shared by small groups of cases
  received close together (sometimes by the same complainant twice), so the "3 or
  more different complainants within one month" rule fires for a few percent.
* About 18% involve compensation, {"amount": "x.yz", "currency": "CNY"} with
  0 < x <= 2000, including exactly 500.00 and 500.01 now and then; most of those have
  materials_complete_at a few days after receipt (some around National Day 2025).
* text is a short Chinese complaint sentence matching the issue's category.
  --line-bytes N appends further sentences of the same category until the line is
  about N bytes long (DESIGN.md's JSONDecoder figure is for ~1,015-byte lines).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone

# Asia/Shanghai has had a fixed +08:00 offset (no daylight saving) since 1991.
SHANGHAI = timezone(timedelta(hours=8))
DEFAULT_NOW = "2025-10-20T12:00:00+08:00"
SPAN_DAYS = 49  # 2025-09-01 .. 2025-10-20 for the default --now

# category -> short complaint sentences (nothing here is harmful information;
# 暴力分拣 is the classic false friend of the keyword 暴力 and is meant to be here).
TEXTS: dict[str, list[str]] = {
    "logistics_damage": [
        "快递暴力分拣导致商品损坏，外包装严重变形。",
        "收到的包裹外箱破损，里面的玻璃杯碎了两个。",
        "快递暴力分拣，电视机屏幕被压裂。",
        "冷链生鲜到货时已经化冻，鱼虾有异味。",
    ],
    "delivery_delay": [
        "订单显示已发货五天，物流信息一直没有更新。",
        "快递员未经同意把包裹放在驿站，也没有通知我。",
        "承诺次日达，实际第四天才送到。",
        "包裹显示已签收，但我本人并没有收到。",
    ],
    "refund_delay": [
        "退款迟迟未到账，客服一直让我再等等。",
        "申请退货退款已经两周，商家一直不处理。",
        "退货已被仓库签收，退款却显示失败。",
        "取消订单后预付款至今没有退回。",
    ],
    "product_quality": [
        "新买的电热水壶用了三天就漏水。",
        "衣服洗了一次就严重掉色，要求退换。",
        "手机屏幕出现亮线，怀疑收到的是翻新机。",
        "奶粉罐内有异物，孩子喝了以后腹泻。",
        "空调安装后制冷效果很差，噪音很大。",
    ],
    "packaging_quality": [
        "礼盒包装破损，无法作为礼物送人。",
        "食品包装袋封口开裂，里面的饼干受潮了。",
        "包装内缺少说明书和保修卡。",
    ],
    "service_attitude": [
        "客服态度恶劣，说了两句就挂断我的电话。",
        "门店店员拒绝开具发票，还出言不逊。",
        "在线客服一直用机器人回复，问题得不到解决。",
        "上门维修师傅迟到两个小时，还多收了费用。",
    ],
    "billing": [
        "同一笔订单被重复扣款两次。",
        "会员自动续费没有任何提醒就扣了钱。",
        "优惠券结算时没有生效，多付了钱。",
        "账单里出现一笔我不认识的消费。",
    ],
    "false_advertising": [
        "商品详情页写的是纯棉，实际是化纤面料。",
        "宣传的赠品没有收到，客服说活动已结束。",
        "页面标注的保质期和实物不一致。",
    ],
    "installation": [
        "约好的上门安装师傅没来，也没有改约电话。",
        "热水器安装不规范，管道接口一直渗水。",
        "安装师傅额外收取了高价辅材费。",
    ],
}
CATEGORIES = list(TEXTS)
CATEGORY_WEIGHTS = [14, 16, 15, 17, 6, 10, 9, 6, 7]

CHANNELS = ["phone", "web", "wechat", "email", "visit", "letter", "mailbox", "third_party"]
CHANNEL_WEIGHTS = [30, 25, 20, 6, 5, 3, 4, 7]


def parse_rfc3339(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"--now needs a UTC offset: {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="number of cases (default 1000)")
    parser.add_argument("--seed", type=int, default=20251020, help="random seed (default 20251020)")
    parser.add_argument("--out", default="-", help="output file (default standard output)")
    parser.add_argument("--now", default=DEFAULT_NOW, type=parse_rfc3339,
                        help=f"evaluation time the data is shaped for (default {DEFAULT_NOW})")
    parser.add_argument("--line-bytes", type=int, default=0,
                        help="pad text with more sentences until each line is about this many bytes (default 0: one sentence)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must be >= 0")

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
    try:
        out.writelines(generate(args.count, args.seed, args.now, args.line_bytes))
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def generate(count: int, seed: int, now: datetime, line_bytes: int = 0):
    """Yield `count` JSON lines (with trailing newline)."""
    rng = random.Random(seed)
    pad_rng = random.Random(f"pad-{seed}")
    now_local = now.astimezone(SHANGHAI)
    now_ts = int(now_local.timestamp())
    start_local = (now_local - timedelta(days=SPAN_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    start_ts = int(start_local.timestamp())
    span = max(1, now_ts - start_ts)

    # received_at, sorted: ids and line order follow receipt order.
    received = sorted(start_ts + int(rng.random() * span) for _ in range(count))

    # random.choices is slow one at a time; draw the categorical fields in bulk.
    categories = rng.choices(CATEGORIES, weights=CATEGORY_WEIGHTS, k=count)
    channels = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS, k=count)

    # whole seconds, always +08:00, e.g. 2025-09-03T14:22:05+08:00
    day_prefix: dict[int, str] = {}
    clock = [f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]

    def fmt(ts: int) -> str:
        local = ts + 8 * 3600
        day, sec = divmod(local, 86400)
        prefix = day_prefix.get(day)
        if prefix is None:
            prefix = datetime.fromtimestamp(day * 86400, timezone.utc).strftime("%Y-%m-%d")
            day_prefix[day] = prefix
        minute, second = divmod(sec, 60)
        return f"{prefix}{clock[minute]}{second:02d}+08:00"

    # Issue groups: a case either has no issue_key, opens a new issue, or joins an
    # issue opened recently (so groups are small and close together in time).
    open_issues: list[list] = []  # [key, opened_ts, complainants(list)]
    issue_serial = 0
    complainant_serial = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    rnd = rng.random

    def randint(lo: int, hi: int) -> int:
        # like random.randint but cheaper; deterministic for a given seed
        return lo + int(rnd() * (hi - lo + 1))

    for i in range(count):
        ts = received[i]
        category = categories[i]

        # --- complainant and issue_key -------------------------------------------
        r = rnd()
        if r < 0.03:
            complainant = None  # anonymous letter / mailbox
        else:
            complainant_serial += 1
            complainant = f"P-{complainant_serial:07d}"
            if r < 0.06 and complainant_serial > 50:
                # a returning complainant on an unrelated matter
                complainant = f"P-{randint(1, complainant_serial - 1):07d}"

        r = rnd()
        issue_key = None
        if r < 0.30:
            pass
        elif r < 0.42 and open_issues:
            # join one of the recently opened issues (most recent ones most likely)
            n = len(open_issues)
            j = n - 1 - min(n - 1, int(rng.expovariate(1 / 12)))
            issue = open_issues[j]
            if ts - issue[1] > 35 * 86400:
                issue = None
            if issue is not None:
                issue_key = issue[0]
                category = issue_key.split(".", 1)[0]
                if issue[2] and rnd() < 0.15 and complainant is not None:
                    complainant = issue[2][randint(0, len(issue[2]) - 1)]  # same person again
                if complainant is not None:
                    issue[2].append(complainant)
        if issue_key is None and r >= 0.30:
            issue_serial += 1
            issue_key = f"{category}.{issue_serial:06d}"
            open_issues.append([issue_key, ts, [complainant] if complainant else []])
            if len(open_issues) > 400:
                del open_issues[:100]

        # --- severity drivers ---------------------------------------------------
        r = rnd()
        if r < 0.965:
            collective = 1
        elif r < 0.985:
            collective = 2
        elif r < 0.996:
            collective = randint(3, 9)
        else:
            collective = randint(10, 40)

        r = rnd()
        litigation = "none" if r < 0.992 else ("threatened" if r < 0.998 else "filed")
        r = rnd()
        media = "none" if r < 0.993 else ("threatened" if r < 0.998 else "exposed")
        reopened = rnd() < 0.025
        external = rnd() < 0.035

        # --- handling time, state, delay cause ------------------------------------
        r = rnd()
        if r < 0.86:
            duration = randint(600, 86399)                  # within a day
            cause = "none"
        elif r < 0.955:
            duration = randint(86400, 6 * 86400)            # one to six days
            cause = _cause(rnd(), 0.45)
        elif r < 0.99:
            duration = randint(6 * 86400, 25 * 86400)       # around a week or more
            cause = _cause(rnd(), 0.35)
        else:
            duration = randint(25 * 86400, 45 * 86400)      # around a month
            cause = _cause(rnd(), 0.30)
        resolved_ts = ts + duration
        if resolved_ts <= now_ts:
            state = "closed" if now_ts - resolved_ts > 3 * 86400 and rnd() < 0.7 else "resolved"
            resolved_at = fmt(resolved_ts)
        else:
            state = "open"
            resolved_at = None

        # --- compensation ---------------------------------------------------------
        compensation = None
        materials = None
        r = rnd()
        if r < 0.18:
            r2 = rnd()
            if r2 < 0.03:
                cents = 50000
            elif r2 < 0.05:
                cents = 50001
            elif r2 < 0.55:
                cents = randint(1, 30000)
            else:
                cents = randint(1, 200000)
            compensation = {"amount": f"{cents // 100}.{cents % 100:02d}", "currency": "CNY"}
            # the materials are complete before the case is resolved
            upper = min(6 * 86400, duration) if resolved_at is not None else 6 * 86400
            m_ts = ts + randint(min(1800, upper), upper)
            if m_ts <= now_ts and rnd() < 0.88:
                materials = fmt(m_ts)

        # --- text -----------------------------------------------------------------
        sentences = TEXTS[category]
        text = sentences[randint(0, len(sentences) - 1)]

        record = {
            "id": f"C-{i + 1:07d}",
            "received_at": fmt(ts),
            "state": state,
            "resolved_at": resolved_at,
            "channel": channels[i],
            "complainant_id": complainant,
            "collective_size": collective,
            "issue_key": issue_key,
            "litigation": litigation,
            "media": media,
            "delay_cause": cause,
            "reopened_after_resolution": reopened,
            "needs_external_support": external,
            "compensation": compensation,
            "materials_complete_at": materials,
            "text": text,
        }
        line = dumps(record)
        if line_bytes > 0:
            size = len(line.encode("utf-8"))
            if size < line_bytes:
                # a separate stream: padding never changes the cases themselves
                target = line_bytes + pad_rng.randint(-(line_bytes // 10), line_bytes // 10)
                parts = [text]
                while True:
                    extra = sentences[pad_rng.randrange(len(sentences))]
                    grown = size + len(extra.encode("utf-8"))
                    if grown - target > target - size:  # stop at the length nearest the target
                        break
                    parts.append(extra)
                    size = grown
                record["text"] = "".join(parts)
                line = dumps(record)
        yield line + "\n"


def _cause(r: float, ours: float) -> str:
    if r < ours:
        return "ours"
    if r < ours + (1 - ours) * 0.6:
        return "complainant"
    return "third_party"


if __name__ == "__main__":
    sys.exit(main())
