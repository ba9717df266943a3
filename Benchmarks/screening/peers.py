#!/usr/bin/env python3
"""Multi-keyword scanning peers for the harmful-content screening benchmark: the keywords
of keywords.tsv over corpus.txt (both from gen_corpus.py), with each engine timed
separately (build, then scan) in the same run.

    python3 Benchmarks/screening/peers.py --keywords DIR/keywords.tsv --corpus DIR/corpus.txt

Engines (every one WITHOUT normalization: none of them can apply NFKC, case folding,
traditional→simplified or separator skipping while matching, so they find only the
keywords exactly as written; Ombuds does all of that in its one automaton):

  ahocorasick-rs bytes  ahocorasick_rs.BytesAhoCorasick(utf8 patterns, matchkind=...,
                        implementation=...), then find_matches_as_indexes(corpus_bytes,
                        overlapping=...): no decoding at all. Implementation.DFA (which the
                        README calls the fastest to search), Implementation.ContiguousNFA, and
                        the library's default heuristic; each in two match kinds: Standard with
                        overlapping=True (every match, comparable to hyperscan and pyahocorasick
                        iter) and LeftmostFirst (non-overlapping: fewer matches). With 10,000
                        CJK keywords the DFA is NOT the fastest here (its large tables miss the
                        cache), which is why all three are measured: compare with the best row.
  ahocorasick-rs str    ahocorasick_rs.AhoCorasick(patterns, ...) on a Python str (the str is
                        decoded from the file once before timing), Standard overlapping, the
                        same three implementations
  pyahocorasick         ahocorasick.Automaton(); add_word per keyword; make_automaton();
                        scan = count the items of A.iter(text) (every match) or
                        A.iter_long(text) (leftmost-longest, non-overlapping)
  hyperscan             hyperscan.Database(mode=HS_MODE_BLOCK).compile(utf8 patterns,
                        literal=True) (the pure-literal compiler, hs_compile_lit_multi), once
                        with flags=0 (end offsets only) and once with HS_FLAG_SOM_LEFTMOST;
                        scan = db.scan(corpus_bytes, callback) over the whole corpus in one
                        block, counting matches in the Python callback

Scan time is the best of --repeat runs (all runs are in the JSON; an engine whose runs
already add up to --budget seconds is not run again). MB are 10^6 bytes of
the UTF-8 corpus for every engine. Output: one JSON line per engine on stdout,
    {"engine", "status", "build_seconds", "scan_seconds", "scan_seconds_all", "megabytes",
     "mb_per_s", "matches", "note"}
then a table. An engine whose package cannot be imported gets status "unavailable"
(and null numbers); the others still run. Exit 0 unless the inputs cannot be read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from pathlib import Path
from typing import Callable

NO_NORMALIZATION = "no normalization (exact keywords only)"


# Skipped besides Z*, P*, S*, M*: control, format, unassigned, surrogate, private use, and
# the default-ignorable code points (variation selectors, fillers), as Normalizer.swift does.
SKIPPED_C = {"Cc", "Cf", "Cn", "Cs", "Co"}
DEFAULT_IGNORABLE = [(0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
                     (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
                     (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
                     (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF)]


def reference_row(t2s_path: Path, keywords: list[str], text: str, megabytes: float, acrs) -> dict:
    """How many matches a normalizing scanner should report, computed the slow obvious way:
    NFKC, then lower case, then traditional→simplified (the project's table) while deleting
    every skipped character (Unicode Z*, P*, S*, M*, Cc, Cf, Cn, Cs, Co and the default-
    ignorables) and keeping line breaks as a hard break (U+000A), as Normalizer.swift
    describes, applied to the text and the keywords alike; then every (overlapping) match of
    the normalized keywords in the normalized text, with ahocorasick-rs. Deleting skipped
    characters counts the same matches as skipping them between a keyword's characters,
    since no keyword contains one. This is a count to check Ombuds against, not a peer: its
    time includes Python normalization."""
    engine = "reference: Python normalization + ahocorasick-rs"
    try:
        table_text = t2s_path.read_text(encoding="utf-8")
    except OSError as error:
        return {"engine": engine, "status": "unavailable", "matches": None,
                "note": f"no traditional→simplified table ({error})"}
    table: dict[int, int | None] = {
        int(t, 16): int(s, 16)
        for t, s in re.findall(r"\(0x([0-9A-Fa-f]+),\s*0x([0-9A-Fa-f]+)\)", table_text)}
    pair_count = len(table)
    line_breaks = {0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029}
    for cp in range(sys.maxunicode + 1):
        if cp in line_breaks:
            table[cp] = 0x0A  # a hard break: no keyword continues across it
        elif unicodedata.category(chr(cp))[0] in "ZPSM" or unicodedata.category(chr(cp)) in SKIPPED_C \
                or any(lo <= cp <= hi for lo, hi in DEFAULT_IGNORABLE):
            table[cp] = None

    def normalize(s: str) -> str:
        return unicodedata.normalize("NFKC", s).lower().translate(table)

    started = time.perf_counter()
    normalized_text = normalize(text)
    normalize_seconds = time.perf_counter() - started
    normalized_keywords = list(dict.fromkeys(k for k in map(normalize, keywords) if k))
    ac = acrs.AhoCorasick(normalized_keywords, matchkind=acrs.MatchKind.Standard)
    started = time.perf_counter()
    matches = len(ac.find_matches_as_indexes(normalized_text, overlapping=True))
    scan_seconds = time.perf_counter() - started
    return {"engine": engine, "status": "reference", "build_seconds": None, "scan_seconds": None,
            "scan_seconds_all": [], "megabytes": round(megabytes, 3), "mb_per_s": None,
            "matches": matches,
            "note": f"NOT a peer: the expected match count with normalization (NFKC, lower case, "
                    f"{pair_count} T→S pairs, {sum(v is None for v in table.values())} code points skipped, "
                    f"line breaks end a keyword, "
                    f"overlapping matches of {len(normalized_keywords)} normalized keywords); "
                    f"normalizing took {normalize_seconds:.2f} s in Python, scanning {scan_seconds:.2f} s"}


def load_keywords(path: str) -> list[str]:
    words: dict[str, None] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[1]:
                sys.exit(f"peers.py: {path}:{n}: expected category<TAB>keyword")
            words.setdefault(parts[1], None)
    return list(words)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


class Bench:
    def __init__(self, megabytes: float, repeat: int, budget: float):
        self.megabytes, self.repeat, self.budget, self.rows = megabytes, repeat, budget, []

    def run(self, engine: str, build: Callable[[], object], scan: Callable[[object], int], note: str) -> None:
        try:
            build_seconds, automaton = timed(build)
            times, matches = [], None
            for _ in range(self.repeat):
                seconds, count = timed(lambda: scan(automaton))
                times.append(seconds)
                stop = sum(times) >= self.budget
                if matches is not None and count != matches:
                    raise RuntimeError(f"match count changed between runs: {matches} then {count}")
                matches = count
                if stop:  # a slow engine (pyahocorasick): fewer runs, said in scan_seconds_all
                    break
            best = min(times)
            row = {"engine": engine, "status": "ok", "build_seconds": round(build_seconds, 4),
                   "scan_seconds": round(best, 4), "scan_seconds_all": [round(t, 4) for t in times],
                   "megabytes": round(self.megabytes, 3),
                   "mb_per_s": round(self.megabytes / best, 1) if best > 0 else None,
                   "matches": matches, "note": note}
            del automaton
        except Exception as error:  # a peer failing must not stop the others
            row = self.unavailable(engine, f"failed: {type(error).__name__}: {error}", status="failed")
        self.emit(row)

    def unavailable(self, engine: str, note: str, status: str = "unavailable") -> dict:
        return {"engine": engine, "status": status, "build_seconds": None, "scan_seconds": None,
                "scan_seconds_all": [], "megabytes": round(self.megabytes, 3), "mb_per_s": None,
                "matches": None, "note": note}

    def emit(self, row: dict) -> None:
        self.rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keywords", required=True, help="keywords.tsv (category<TAB>keyword)")
    ap.add_argument("--corpus", required=True, help="corpus.txt (UTF-8)")
    ap.add_argument("--repeat", type=int, default=3, help="scan runs per engine, best counts (default 3)")
    ap.add_argument("--budget", type=float, default=10.0,
                    help="stop repeating an engine's scan once its runs add up to this many seconds "
                         "(default 10; at least one run always)")
    ap.add_argument("--only", default="", help="comma-separated engine-name prefixes to run (default all)")
    ap.add_argument("--no-reference", dest="reference", action="store_false",
                    help="skip the normalized reference count (see reference_row)")
    ap.add_argument("--t2s", type=Path, default=Path(__file__).resolve().parent.parent.parent
                    / "Sources/OmbudsScreening/TraditionalChinese.swift",
                    help="traditional→simplified table for the reference count")
    args = ap.parse_args()

    keywords = load_keywords(args.keywords)
    with open(args.corpus, "rb") as f:
        data = f.read()
    decode_seconds, text = timed(lambda: data.decode("utf-8"))
    megabytes = len(data) / 1e6
    bench = Bench(megabytes, max(1, args.repeat), args.budget)
    patterns_utf8 = [k.encode("utf-8") for k in keywords]
    only = [p.strip() for p in args.only.split(",") if p.strip()]

    def wanted(engine: str) -> bool:
        return not only or any(engine.startswith(p) for p in only)

    print(f"# {len(keywords)} keywords, corpus {len(data)} bytes ({len(text)} code points); "
          f"decoding to str took {decode_seconds:.3f} s (not counted for the str engines); "
          f"every engine: {NO_NORMALIZATION}", file=sys.stderr)

    # --- ahocorasick-rs ----------------------------------------------------------------
    try:
        import ahocorasick_rs as acrs
        from importlib.metadata import version
        acrs_version = version("ahocorasick-rs")
    except ImportError as error:
        acrs = None
        for engine in ("ahocorasick-rs str", "ahocorasick-rs bytes"):
            if wanted(engine):
                bench.emit(bench.unavailable(engine, f"not installed ({error}); pip install ahocorasick-rs"))
    if acrs is not None:
        implementations = (("DFA", acrs.Implementation.DFA),
                           ("ContiguousNFA", acrs.Implementation.ContiguousNFA),
                           ("default", None))
        kinds = (("standard overlapping", acrs.MatchKind.Standard, True),
                 ("leftmost-first", acrs.MatchKind.LeftmostFirst, False))
        configs = [("bytes", impl, kind) for impl in implementations for kind in kinds]
        configs += [("str", impl, kinds[0]) for impl in implementations]
        for api, (impl_name, impl), (kind_name, kind, overlapping) in configs:
            engine = f"ahocorasick-rs {api} {impl_name} {kind_name}"
            if not wanted(engine):
                continue
            cls, patterns, haystack = ((acrs.BytesAhoCorasick, patterns_utf8, data) if api == "bytes"
                                       else (acrs.AhoCorasick, keywords, text))
            options = {"matchkind": kind}
            if impl is not None:
                options["implementation"] = impl
            bench.run(engine,
                      lambda cls=cls, patterns=patterns, options=options: cls(patterns, **options),
                      lambda ac, h=haystack, o=overlapping: len(ac.find_matches_as_indexes(h, overlapping=o)),
                      f"ahocorasick-rs {acrs_version} {cls.__name__}("
                      f"implementation={impl_name if impl is not None else 'None (library heuristic)'}, "
                      f"matchkind={kind_name.split()[0]}), find_matches_as_indexes(overlapping={overlapping}) "
                      f"on {api}; {NO_NORMALIZATION}")

    # --- pyahocorasick ------------------------------------------------------------------
    try:
        import ahocorasick
        from importlib.metadata import version
        pyac_version = version("pyahocorasick")
    except ImportError as error:
        ahocorasick = None
        if wanted("pyahocorasick"):
            bench.emit(bench.unavailable("pyahocorasick", f"not installed ({error}); pip install pyahocorasick"))
    if ahocorasick is not None:
        def build_pyac():
            automaton = ahocorasick.Automaton()
            for i, word in enumerate(keywords):
                automaton.add_word(word, i)
            automaton.make_automaton()
            return automaton

        def count(iterator) -> int:
            n = 0
            for _ in iterator:
                n += 1
            return n

        for method in ("iter", "iter_long"):
            engine = f"pyahocorasick {method}"
            if wanted(engine):
                bench.run(engine, build_pyac, lambda a, m=method: count(getattr(a, m)(text)),
                          f"pyahocorasick {pyac_version} Automaton.{method}() on str "
                          f"({'every match' if method == 'iter' else 'leftmost-longest, non-overlapping'}); "
                          f"{NO_NORMALIZATION}")

    # --- hyperscan ----------------------------------------------------------------------
    try:
        import hyperscan
        from importlib.metadata import version
        hs_version = version("hyperscan")
    except ImportError as error:
        hyperscan = None
        if wanted("hyperscan"):
            bench.emit(bench.unavailable("hyperscan", f"not installed or not loadable ({error}); "
                                                      "pip install hyperscan"))
    if hyperscan is not None:
        ids = list(range(len(patterns_utf8)))
        for label, flags in (("literal", 0), ("literal SOM_LEFTMOST", hyperscan.HS_FLAG_SOM_LEFTMOST)):
            engine = f"hyperscan {label}"
            if not wanted(engine):
                continue

            def build_hs(flags=flags):
                db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                db.compile(expressions=patterns_utf8, ids=ids, elements=len(patterns_utf8),
                           flags=flags, literal=True)
                return db

            def scan_hs(db) -> int:
                counter = [0]

                def on_match(pattern_id, start, end, flags, context):
                    counter[0] += 1
                    return None

                db.scan(data, match_event_handler=on_match)
                return counter[0]

            bench.run(engine, build_hs, scan_hs,
                      f"python-hyperscan {hs_version} block mode, literal=True (hs_compile_lit_multi), "
                      f"flags={'HS_FLAG_SOM_LEFTMOST' if flags else 0}, whole corpus as one block, "
                      f"matches counted in a Python callback; {NO_NORMALIZATION}")

    # --- reference count with normalization (not a peer) -------------------------------
    if args.reference and acrs is not None:
        bench.emit(reference_row(args.t2s, keywords, text, megabytes, acrs))

    # --- table --------------------------------------------------------------------------
    print(file=sys.stdout)
    print(f"{'engine':<56} {'build s':>8} {'scan s':>8} {'MB/s':>8} {'matches':>9}")
    print("-" * 93)
    for row in bench.rows:
        if row["status"] == "reference":
            print(f"{row['engine']:<56} {'-':>8} {'-':>8} {'-':>8} {row['matches']:>9}  (expected with normalization)")
        elif row["status"] != "ok":
            print(f"{row['engine']:<56} {'-':>8} {'-':>8} {'-':>8} {'-':>9}  {row['status']}: {row['note']}")
        else:
            print(f"{row['engine']:<56} {row['build_seconds']:>8.3f} {row['scan_seconds']:>8.3f} "
                  f"{row['mb_per_s']:>8.1f} {row['matches']:>9}")
    print(f"({megabytes:.1f} MB corpus, {len(keywords)} keywords; every peer scans WITHOUT normalization: "
          "it cannot see traditional, full-width, case-changed or separated forms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
