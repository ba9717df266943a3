#!/usr/bin/env python3
"""Recall and false positives of screening's disguise modes (issue 12), measured.

    pip install pypinyin==0.55.0 jieba==0.42.1        # data for the corpora (jieba: its dict.txt)
    swift build -c release --product ombuds
    python3 Benchmarks/screening/evasion.py             # from the repository root
    python3 Benchmarks/screening/evasion.py --out-dir /tmp/ev --json /tmp/ev/results.json
    python3 Benchmarks/screening/evasion.py --goals     # exit 1 when a goal is missed (CI,
                                                        # .ci/screening.sh, on the debug build)

The keywords are the shipped rule set's (rules/categories.yaml and its keyword lists). Three
corpora are generated (deterministically, --seed) into --out-dir:

  evasion.tsv   every keyword in at least ten disguises, one per line, inside an ordinary
                sentence: `kind<TAB>category<TAB>keyword<TAB>line`. The kinds:
                  pinyin            全拼, lower case                      dubo
                  pinyin_tones      with tone marks                       dǔbó
                  pinyin_caps       capitals and spaces                   Du Bo
                  mixed_first       first character in pinyin             du博
                  mixed_last        last character in pinyin              赌bo
                  homophone_one     one character → a homophone           堵博
                  homophone_all     every character → a homophone         堵搏
                  homophone_sep     one homophone, `*` between characters 堵*博
                  homophone_pinyin  one homophone and one pinyin          堵bo
                  pinyin_traditional one pinyin, the rest traditional     du博 / 賭bo
                  split             one character as its components       贝者博   (when it has a split)
                  split_pinyin      one split, one pinyin                 贝者bo   (idem)
                  lookalike         one character → a look-alike          睹博     (when it has one)
                Homophones are common characters (by jieba's word frequencies) whose commonest
                reading is the character's; splits and look-alikes come from the same tables
                Ombuds uses (so `split` and `lookalike` recall measures the matcher, not the data).
  clean_sentences.txt  ordinary complaint sentences (templates and slots below, plus the
                example texts of Examples/cases.jsonl): no keyword.
  clean_words.txt      the words of jieba's dictionary (dict.txt, ~349,000 words), one per
                line: no keyword.
  clean_pinyin.txt     50,000 of those words written in pinyin (pypinyin's lazy_pinyin,
                `xuexi` for 学习), one per line: what `pinyin` costs where people write pinyin
                (characters here are Latin letters).
A clean line in which the rules *without* modes already find a keyword (赌博机 contains 赌博)
is dropped: what is left has no keyword, so every match there is a false positive.

Measured (ombuds screen --keywords … --match …):
  recall per kind with every mode on, and per mode set;
  false positives per 100,000 characters (code points, line breaks not counted) on each
  clean corpus, per mode set, and for the shipped rules as they are (`--rules rules`,
  exceptions included).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MODES = ["pinyin", "homophones", "split", "lookalike"]

PREFIXES = ["有人在群里说", "举报：这里有", "客服说", "我发现平台上有", "听说", "对方一直在搞", "", "页面上写着"]
SUFFIXES = ["网站", "的事情，请核实。", "，希望处理。", "！", "内容", "电话", "，已截图。", ""]

# Ordinary complaint sentences: templates with slots.
SUBJECTS = ["快递员", "客服", "商家", "司机", "物业", "导游", "店员", "售后", "配送员", "前台", "经理", "保安"]
OBJECTS = ["包裹", "订单", "退款", "发票", "手机", "冰箱", "电费", "门票", "行李", "外卖", "房租", "押金",
           "会员卡", "优惠券", "保修单", "洗衣机", "空调", "车票", "酒店房间", "快递柜"]
PROBLEMS = ["一直没有处理", "态度很差", "拖了三天", "不接电话", "多收了钱", "把东西弄坏了", "说好的没有兑现",
            "少发了一件", "送错了地址", "不给开发票", "推来推去", "让我等了两个小时", "没有任何解释",
            "擅自取消了", "价格和页面不一致", "质量有问题", "一再拖延", "要求我自己承担运费"]
ASKS = ["请尽快处理", "要求退款", "希望给个说法", "要求赔偿损失", "请核实情况", "请领导关注", "希望加快进度",
        "要求重新发货", "请给我回电话", "希望改进服务"]
TIMES = ["昨天", "上周五", "十月一日", "今天上午", "前天晚上", "国庆期间", "本月初", "三天前"]
PLACES = ["在北京朝阳区", "在上海", "在小区门口", "在机场", "在门店", "在网上", "在电话里", "在景区"]
AMOUNTS = ["200元", "1,580元", "35.5元", "99元", "两千多块", "3000元"]
TEMPLATES = [
    "{time}{place}买的{obj}，{subj}{prob}，{ask}。",
    "{subj}{prob}，{obj}到现在还没到，{ask}。",
    "我的{obj}{prob}，{subj}说不归他们管，{ask}！",
    "订单号20251003{n}，{obj}{prob}，金额{amount}，{ask}。",
    "{time}联系{subj}，对方{prob}，{ask}。",
    "第二次投诉了：{obj}{prob}，{subj}{prob2}。",
    "{place}遇到的{subj}{prob}，{obj}也{prob2}，{ask}，谢谢。",
    "投诉{subj}：{time}的{obj}{prob}，我已经打了{k}次电话。",
    "关于{obj}的问题，{subj}{prob}，损失{amount}，{ask}。",
    "家里老人{time}订的{obj}，{subj}{prob}，老人不会用手机，{ask}。",
]


def fail(msg: str) -> None:
    sys.exit(f"evasion.py: {msg}")


def shipped_keywords() -> list[tuple[str, str]]:
    import yaml
    doc = yaml.safe_load(open(ROOT / "rules" / "categories.yaml", encoding="utf-8"))
    out = []
    for cat, decl in doc["categories"].items():
        for k in decl.get("keywords", []):
            out.append((cat, str(k)))
    for rel in doc.get("keyword_lists", []):
        for line in open(ROOT / "rules" / rel, encoding="utf-8"):
            line = line.rstrip("\n")
            if not line or line.startswith("#") or "\t" not in line:
                continue
            cat, kw = line.split("\t", 1)
            out.append((cat, kw))
    seen, unique = set(), []
    for cat, kw in out:
        if kw not in seen:
            seen.add(kw)
            unique.append((cat, kw))
    return unique


def swift_table(name: str) -> str:
    text = open(ROOT / "Sources" / "OmbudsScreening" / f"{name}.swift", encoding="utf-8").read()
    return text.split('#"""\n', 1)[1].split('\n  """#', 1)[0]


def load_splits() -> dict[str, list[str]]:
    out = {}
    for line in swift_table("CharacterSplits").split("\n"):
        line = line.strip()
        if len(line) >= 3:
            out[line[0]] = line[2:].split("|")
    return out


def load_lookalikes() -> dict[str, list[str]]:
    text = open(ROOT / "Sources" / "OmbudsScreening" / "DisguiseModes.swift", encoding="utf-8").read()
    block = text.split("let groups = [", 1)[1].split("]", 1)[0]
    out: dict[str, list[str]] = {}
    for g in re.findall(r'"([^"]+)"', block):
        for c in g:
            out.setdefault(c, []).extend(x for x in g if x != c)
    return out


def load_t2s_inverse() -> dict[str, str]:
    inv: dict[str, str] = {}
    text = open(ROOT / "Sources" / "OmbudsScreening" / "TraditionalChinese.swift", encoding="utf-8").read()
    for t, s in re.findall(r"\(0x([0-9A-F]+), 0x([0-9A-F]+)\)", text):
        tc, sc = chr(int(t, 16)), chr(int(s, 16))
        if sc not in inv or ord(tc) < ord(inv[sc]):
            inv[sc] = tc
    return inv


def jieba_words() -> list[tuple[str, int]]:
    try:
        import jieba
    except ImportError:
        fail("jieba is not installed (pip install jieba==0.42.1)")
    path = Path(jieba.__file__).parent / "dict.txt"
    out = []
    for line in open(path, encoding="utf-8"):
        parts = line.split()
        if len(parts) >= 2:
            out.append((parts[0], int(parts[1])))
    return out


def ordinary_words() -> set[str]:
    """The words of the generated ordinary-word lists (CommonWords.swift, WrittenWords.swift)."""
    out: set[str] = set()
    for name in ("CommonWords", "WrittenWords"):
        text = (ROOT / "Sources" / "OmbudsScreening" / f"{name}.swift").read_text(encoding="utf-8")
        body = text.split('#"""', 1)[1].split('"""#', 1)[0]
        out.update(body.split())
    return out


def toneless(s: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFD", s):
        if unicodedata.combining(ch):
            if ch == "\u0308":
                out[-1] = "v"
            continue
        out.append(ch)
    return "".join(out)


def build_corpora(out: Path, seed: int) -> dict:
    from pypinyin import lazy_pinyin, pinyin, Style
    from pypinyin.pinyin_dict import pinyin_dict
    rng = random.Random(seed)
    keywords = shipped_keywords()
    splits, looks, trad = load_splits(), load_lookalikes(), load_t2s_inverse()
    words = jieba_words()
    freq: dict[str, int] = {}
    for w, f in words:
        for c in w:
            freq[c] = freq.get(c, 0) + f
    by_syllable: dict[str, list[str]] = {}
    for cp, raw in pinyin_dict.items():
        c = chr(cp)
        if freq.get(c, 0) < 2000:
            continue
        first = toneless(raw.split(",")[0])
        by_syllable.setdefault(first, []).append(c)
    for s in by_syllable:
        by_syllable[s].sort(key=lambda c: -freq.get(c, 0))

    def homophone(c: str) -> str | None:
        syl = toneless(pinyin(c, style=Style.TONE)[0][0])
        cands = [x for x in by_syllable.get(syl, [])[:8] if x != c and trad.get(c) != x]
        return rng.choice(cands) if cands else None

    lines: list[tuple[str, str, str, str]] = []
    for cat, kw in keywords:
        chars = list(kw)
        cjk = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
        if len(cjk) < 2:
            continue
        py = lazy_pinyin(kw, errors=lambda x: list(x))
        tones = pinyin(kw, style=Style.TONE, errors=lambda x: [[c] for c in x])
        tones = [t[0] for t in tones]
        forms: dict[str, str] = {}
        if len(py) == len(chars):
            forms["pinyin"] = "".join(py)
            forms["pinyin_tones"] = "".join(tones)
            forms["pinyin_caps"] = " ".join(p.capitalize() for p in py)
            i, j = cjk[0], cjk[-1]
            forms["mixed_first"] = "".join(py[k] if k == i else chars[k] for k in range(len(chars)))
            forms["mixed_last"] = "".join(py[k] if k == j else chars[k] for k in range(len(chars)))
            k = rng.choice(cjk)
            forms["pinyin_traditional"] = "".join(
                py[x] if x == k else trad.get(chars[x], chars[x]) for x in range(len(chars)))
        homs = {i: homophone(chars[i]) for i in cjk}
        able = [i for i in cjk if homs[i]]
        if able:
            i = rng.choice(able)
            forms["homophone_one"] = "".join(homs[i] if k == i else chars[k] for k in range(len(chars)))
            forms["homophone_all"] = "".join(homs.get(k) or chars[k] for k in range(len(chars)))
            forms["homophone_sep"] = "*".join(homs[i] if k == i else chars[k] for k in range(len(chars)))
            others = [k for k in cjk if k != i]
            if others and len(py) == len(chars):
                j = rng.choice(others)
                forms["homophone_pinyin"] = "".join(
                    homs[i] if k == i else py[k] if k == j else chars[k] for k in range(len(chars)))
        sp = [i for i in cjk if chars[i] in splits]
        if sp:
            i = rng.choice(sp)
            forms["split"] = "".join(splits[chars[i]][0] if k == i else chars[k] for k in range(len(chars)))
            others = [k for k in cjk if k != i]
            if others and len(py) == len(chars):
                j = rng.choice(others)
                forms["split_pinyin"] = "".join(
                    splits[chars[i]][0] if k == i else py[k] if k == j else chars[k] for k in range(len(chars)))
        lk = [i for i in cjk if chars[i] in looks]
        if lk:
            i = rng.choice(lk)
            forms["lookalike"] = "".join(rng.choice(looks[chars[i]]) if k == i else chars[k] for k in range(len(chars)))
        for kind, form in forms.items():
            lines.append((kind, cat, kw, rng.choice(PREFIXES) + form + rng.choice(SUFFIXES)))
    with open(out / "evasion.tsv", "w", encoding="utf-8") as f:
        for row in lines:
            f.write("\t".join(row) + "\n")
    with open(out / "evasion.txt", "w", encoding="utf-8") as f:
        for row in lines:
            f.write(row[3] + "\n")
    with open(out / "keywords.tsv", "w", encoding="utf-8") as f:
        for cat, kw in keywords:
            f.write(f"{cat}\t{kw}\n")
    # Clean corpora.
    sentences = []
    for _ in range(20000):
        t = rng.choice(TEMPLATES)
        sentences.append(t.format(
            time=rng.choice(TIMES), place=rng.choice(PLACES), obj=rng.choice(OBJECTS), subj=rng.choice(SUBJECTS),
            prob=rng.choice(PROBLEMS), prob2=rng.choice(PROBLEMS), ask=rng.choice(ASKS),
            amount=rng.choice(AMOUNTS), n=rng.randrange(1000, 9999), k=rng.randrange(2, 9)))
    examples = ROOT / "Examples" / "cases.jsonl"
    if examples.exists():
        for line in open(examples, encoding="utf-8"):
            try:
                t = json.loads(line).get("text")
            except json.JSONDecodeError:
                continue
            if t:
                sentences.append(t.replace("\n", " "))
    (out / "clean_sentences.raw").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    (out / "clean_words.raw").write_text("\n".join(w for w, _ in words) + "\n", encoding="utf-8")
    kinds: dict[str, int] = {}
    for kind, *_ in lines:
        kinds[kind] = kinds.get(kind, 0) + 1
    per_keyword: dict[str, int] = {}
    for _, _, kw, _ in lines:
        per_keyword[kw] = per_keyword.get(kw, 0) + 1
    return {"keywords": len(keywords), "lines": len(lines), "kinds": kinds,
            "min_disguises_per_keyword": min(per_keyword.values()) if per_keyword else 0}


def screen(binary: str, args: list[str], path: Path) -> list[dict]:
    done = subprocess.run([binary, "screen", *args, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"ombuds screen {' '.join(args)} failed: {done.stderr[-500:]}")
    return [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]


def clean(binary: str, keywords: Path, raw: Path, out: Path) -> tuple[int, int]:
    """Drops the lines in which the plain rules find a keyword; returns (lines, characters)."""
    hits = {m["line"] for m in screen(binary, ["--keywords", str(keywords)], raw)}
    kept = [l for n, l in enumerate(raw.read_text(encoding="utf-8").split("\n")[:-1], 1) if n not in hits]
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return len(kept), sum(len(l) for l in kept)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ombuds", default=str(ROOT / ".build" / "release" / "ombuds"))
    ap.add_argument("--out-dir", default="/tmp/ombuds-evasion")
    ap.add_argument("--seed", type=int, default=20251130)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--goals", action="store_true",
                    help="exit 1 unless issue 12's goals hold: recall >= 95 %% with every mode, and "
                         "<= 1 false positive per 100,000 characters of each Chinese clean corpus "
                         "with the shipped rules (CI runs this)")
    args = ap.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(args.ombuds, os.X_OK):
        fail(f"{args.ombuds} is not an executable (swift build -c release --product ombuds)")
    info = build_corpora(out, args.seed)
    kw = out / "keywords.tsv"
    sizes = {name: clean(args.ombuds, kw, out / f"{name}.raw", out / f"{name}.txt")
             for name in ("clean_sentences", "clean_words")}
    # The clean words written in pinyin (a sample): what `pinyin` costs where people write pinyin.
    from pypinyin import lazy_pinyin
    words = (out / "clean_words.txt").read_text(encoding="utf-8").split("\n")[:-1]
    sample = random.Random(args.seed).sample(words, min(len(words), 50000))
    (out / "clean_pinyin.txt").write_text(
        "\n".join("".join(lazy_pinyin(w)) for w in sample) + "\n", encoding="utf-8")
    lines = (out / "clean_pinyin.txt").read_text(encoding="utf-8").split("\n")[:-1]
    sizes["clean_pinyin"] = (len(lines), sum(len(l) for l in lines))
    rows = [row.split("\t") for row in (out / "evasion.tsv").read_text(encoding="utf-8").split("\n") if row]
    mode_sets = [("none", ""), *[(m, m) for m in MODES], ("all", ",".join(MODES))]
    results: dict = {"corpus": info, "clean": {k: {"lines": v[0], "chars": v[1]} for k, v in sizes.items()},
                     "recall": {}, "false_positives": {}}
    print(f"evasion corpus: {info['lines']} lines, {info['keywords']} keywords, "
          f"at least {info['min_disguises_per_keyword']} disguises each")
    for name, (lines, chars) in sizes.items():
        print(f"{name}: {lines} lines, {chars} characters")
    print()
    kinds = sorted(info["kinds"])
    header = f"{'modes':<12}" + "".join(f"{k[:14]:>15}" for k in kinds) + f"{'all kinds':>11}"
    print("recall (share of disguised lines where the keyword is found)")
    print(header)
    for name, modes in mode_sets:
        found: dict[int, set[str]] = {}
        for m in screen(args.ombuds, ["--keywords", str(kw)] + (["--match", modes] if modes else []),
                        out / "evasion.txt"):
            found.setdefault(m["line"], set()).add(m["keyword"])
        per: dict[str, list[int]] = {}
        for n, (kind, _, keyword, _) in enumerate(rows, 1):
            hit = keyword in found.get(n, set())
            per.setdefault(kind, [0, 0])
            per[kind][0] += hit
            per[kind][1] += 1
        total = sum(v[0] for v in per.values()) / max(1, sum(v[1] for v in per.values()))
        results["recall"][name] = {k: per[k][0] / per[k][1] for k in kinds} | {"all": total}
        print(f"{name:<12}" + "".join(f"{100 * per[k][0] / per[k][1]:>14.1f}%" for k in kinds) + f"{100 * total:>10.1f}%")
    print()
    print("false positives per 100,000 characters")
    print(f"{'modes':<22}" + "".join(f"{n:>18}" for n in sizes))
    for name, modes in mode_sets + [("shipped rules", None)]:
        cells = []
        for corpus, (_, chars) in sizes.items():
            a = ["--rules", str(ROOT / "rules")] if modes is None else (
                ["--keywords", str(kw)] + (["--match", modes] if modes else []))
            matches = screen(args.ombuds, a, out / f"{corpus}.txt")
            per100k = len(matches) * 1e5 / max(1, chars)
            results["false_positives"].setdefault(name, {})[corpus] = {
                "matches": len(matches), "per_100k": per100k,
                "examples": sorted({m["keyword"] for m in matches})[:12]}
            cells.append(f"{per100k:>11.2f} ({len(matches):>4})")
        print(f"{name:<22}" + "".join(f"{c:>18}" for c in cells))
    # The dictionary words again, two ways the whole-corpus figure cannot show (shipped rules).
    # Held out: the words neither ordinary-word list holds (wordfreq segments its text with
    # jieba, so many of jieba's words are in it; these are the words the lists did not see).
    # Weighted: each word counted as often as jieba's frequencies say it occurs in text.
    listed = ordinary_words()
    words = (out / "clean_words.txt").read_text(encoding="utf-8").split("\n")[:-1]
    frequency = dict(jieba_words())
    hit_lines = {m["line"] for m in screen(args.ombuds, ["--rules", str(ROOT / "rules")], out / "clean_words.txt")}
    held = [n for n, w in enumerate(words, 1) if w not in listed]
    held_chars = sum(len(words[n - 1]) for n in held)
    held_hits = sum(1 for n in held if n in hit_lines)
    weight = sum(frequency.get(w, 0) * len(w) for w in words)
    weighted = sum(frequency.get(words[n - 1], 0) for n in hit_lines) * 1e5 / max(1, weight)
    results["dictionary_words_shipped_rules"] = {
        "held_out": {"words": len(held), "chars": held_chars, "matches": held_hits,
                     "per_100k": held_hits * 1e5 / max(1, held_chars)},
        "weighted_per_100k": weighted}
    print()
    print(f"shipped rules on the dictionary words neither ordinary-word list holds: {len(held)} words, "
          f"{held_chars} characters, {held_hits} matches, {held_hits * 1e5 / max(1, held_chars):.2f} per 100,000")
    print(f"shipped rules on the dictionary words weighted by jieba's frequencies: {weighted:.4f} per 100,000")
    # Per category and mode, on the Chinese clean corpora together: what choosing `match:` weighs.
    chinese = ("clean_sentences", "clean_words")
    chars = sum(sizes[c][1] for c in chinese)
    cats = sorted({line.split("\t")[0] for line in kw.read_text(encoding="utf-8").split("\n") if line})
    print()
    print(f"false positives per 100,000 characters of {' + '.join(chinese)}, per category and mode "
          f"(keyword list, no exceptions)")
    print(f"{'category':<20}" + "".join(f"{m:>12}" for m in MODES))
    per_cat: dict[str, dict[str, float]] = {}
    for m in MODES:
        counts: dict[str, int] = {}
        for corpus in chinese:
            for hit in screen(args.ombuds, ["--keywords", str(kw), "--match", m], out / f"{corpus}.txt"):
                counts[hit["category"]] = counts.get(hit["category"], 0) + 1
        for c in cats:
            per_cat.setdefault(c, {})[m] = counts.get(c, 0) * 1e5 / max(1, chars)
    for c in cats:
        print(f"{c:<20}" + "".join(f"{per_cat[c][m]:>12.2f}" for m in MODES))
    results["false_positives_per_category"] = per_cat
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.goals:
        missed = []
        if results["recall"]["all"]["all"] < 0.95:
            missed.append(f"recall with every mode {100 * results['recall']['all']['all']:.1f} % < 95 %")
        for corpus in ("clean_sentences", "clean_words"):
            fp = results["false_positives"]["shipped rules"][corpus]
            if fp["per_100k"] > 1.0:
                missed.append(f"shipped rules on {corpus}: {fp['per_100k']:.2f} false positives per "
                              f"100,000 characters > 1 ({', '.join(fp['examples'])})")
        print()
        for m in missed:
            print(f"goal missed: {m}", file=sys.stderr)
        if missed:
            return 1
        print("goals: recall >= 95 % with every mode, <= 1 false positive per 100,000 characters "
              "with the shipped rules: met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
