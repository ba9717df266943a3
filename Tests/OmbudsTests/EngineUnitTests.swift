import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax
import Testing

@Suite struct CalendarTests {
  func calendar() throws -> BusinessCalendar {
    try Support.defaultRules().calendar
  }

  @Test(arguments: [
    // materials complete → 10th working day, 23:59:59 local (the arrival day never counts)
    ("2025-09-26T15:00:00+08:00", 10, "2025-10-16T23:59:59+08:00"),  // across National Day, Sep 28 and Oct 11 worked
    ("2025-09-30T10:00:00+08:00", 1, "2025-10-09T23:59:59+08:00"),
    ("2025-10-10T10:00:00+08:00", 1, "2025-10-11T23:59:59+08:00"),  // Saturday Oct 11 is a make-up working day
    ("2026-02-12T10:00:00+08:00", 3, "2026-02-24T23:59:59+08:00"),  // Feb 13, Sat Feb 14, then Feb 24
    ("2026-02-13T18:00:00+08:00", 10, "2026-03-05T23:59:59+08:00"),  // Feb 14, 24, 25, 26, 27, 28, Mar 2, 3, 4, 5
    ("2025-12-31T23:30:00+08:00", 1, "2026-01-04T23:59:59+08:00"),  // Jan 1–3 off, Sunday Jan 4 is a make-up day
  ])
  func workingDays(_ start: String, _ n: Int, _ want: String) throws {
    let cal = try calendar()
    #expect(Support.format(cal.adding(workingDays: n, to: Support.time(start))) == want)
  }

  @Test func monthsClampToTheMonthEnd() throws {
    let clock = try calendar().clock
    #expect(
      Support.format(clock.adding(months: 1, to: Support.time("2025-01-31T10:00:00+08:00")))
        == "2025-02-28T10:00:00+08:00")
    #expect(
      Support.format(clock.adding(months: 1, to: Support.time("2024-01-31T10:00:00+08:00")))
        == "2024-02-29T10:00:00+08:00")
    #expect(
      Support.format(clock.adding(months: 1, to: Support.time("2025-12-15T00:30:00+08:00")))
        == "2026-01-15T00:30:00+08:00")
  }

  @Test func workingDayFlags() throws {
    let cal = try calendar()
    func day(_ s: String) -> Int { CivilDate(s)?.dayNumber ?? 0 }
    #expect(cal.isWorkingDay(day("2025-09-28")))  // Sunday, make-up
    #expect(!cal.isWorkingDay(day("2025-10-08")))
    #expect(cal.isWorkingDay(day("2025-10-09")))
    #expect(!cal.isWorkingDay(day("2026-02-23")))
    #expect(cal.isWorkingDay(day("2026-02-28")))  // Saturday, make-up
    #expect(!cal.isWorkingDay(day("2026-03-01")))  // ordinary Sunday
  }
}

@Suite struct ValueTests {
  /// RFC 3339 has four-digit years: years below 1000 are padded, and instants outside
  /// 0000–9999 (a deadline rules put past year 9999, Int64's ends) are written as the bounds.
  @Test func rfc3339TimesHaveFourDigitYearsWithinTheirRange() {
    let early = RFC3339.parse("0003-01-04T01:46:01-22:14") ?? 0
    #expect(RFC3339.format(early, offsetSeconds: 8 * 3600) == "0003-01-05T08:00:01+08:00")
    #expect(RFC3339.format(Int64.max, offsetSeconds: 8 * 3600) == "9999-12-31T23:59:59.999+08:00")
    #expect(RFC3339.format(Int64.min, offsetSeconds: 0) == "0000-01-01T00:00:00Z")
    let last = RFC3339.parse("9999-12-31T23:59:59Z") ?? 0
    #expect(RFC3339.format(last + 86_400_000, offsetSeconds: 0) == "9999-12-31T23:59:59.999Z")
    #expect(RFC3339.format(last, offsetSeconds: 0) == "9999-12-31T23:59:59Z")
  }

  @Test func rfc3339() {
    #expect(RFC3339.parse("2025-10-01T00:00:00Z") == 1_759_276_800_000)
    #expect(RFC3339.parse("2025-10-01T08:00:00+08:00") == 1_759_276_800_000)
    #expect(RFC3339.parse("2025-10-01T08:00:00.250+08:00") == 1_759_276_800_250)
    #expect(RFC3339.parse("2025-10-01T08:00:00") == nil)
    #expect(RFC3339.parse("2025-02-30T08:00:00Z") == nil)
    #expect(RFC3339.format(1_759_276_800_000, offsetSeconds: 8 * 3600) == "2025-10-01T08:00:00+08:00")
    #expect(RFC3339.format(1_759_276_800_250, offsetSeconds: 0) == "2025-10-01T00:00:00.250Z")
  }

  @Test func moneyIsExact() {
    #expect(Money.parseUnits("500.01") == 5_000_100)
    #expect(Money.parseUnits("500") == 5_000_000)
    #expect(Money.parseUnits("0.0001") == 1)
    #expect(Money.parseUnits("0.00001") == nil)
    #expect(Money.parseUnits("1.5e3") == nil)
    #expect(Money.format(units: 5_000_100) == "500.01")
  }

  /// The rule-set hash: SHA-256 over each file's name and bytes, in name order — the value
  /// Python's hashlib gives for the same bytes (`sha256(b"a.yaml\0" + a + b"\0" + b"b.yaml\0" + b + b"\0")`).
  @Test func ruleSetHashIsSHA256OfNamesAndBytes() throws {
    let a = SourceFile(path: "dir/a.yaml", text: "levels:\n  ordinary:\n    otherwise: true\n")
    let b = SourceFile(path: "dir/b.yaml", text: "settings:\n  name: 测试\n")
    let result = RuleSetLoader.check(sources: [b, a])
    let set = try #require(result.ruleSet, "\(result.diagnostics)")
    #expect(set.contentHash == "sha256:99a4990fd5f126f53512c7bde78b9298fc64170813c61eb82f1cdb9dac596ded")
  }

  @Test func suggestions() {
    #expect(Suggest.closest(to: "mjaor", in: ["major", "hot"]) == "major")
    #expect(Suggest.closest(to: "lable", in: ["label", "any"]) == "label")
    #expect(Suggest.closest(to: "zzzzzz", in: ["major"]) == nil)
  }
}

@Suite struct YAMLTests {
  @Test func positionsComeFromStartEvents() throws {
    let text = "# 注释\nlevels:\n  重大: {any: [a]}\n  hot:\n    - x\n"
    let (root, diags) = YAMLParser().parse(SourceFile(path: "f.yaml", text: text))
    #expect(diags.isEmpty)
    let levels = try #require(root?["levels"])
    #expect(levels.location.line == 3 && levels.location.column == 3)
    let major = try #require(levels.pairs?.first)
    #expect(major.key.location.line == 3 && major.key.location.column == 3)
    #expect(major.value.location.column == 7)  // the `{`, not the end of the mapping
    // Byte offsets count UTF-8: "# 注释\n" is 9 bytes, "levels:\n" 8, then two spaces.
    #expect(major.key.location.offset == 19)
    let hot = try #require(levels["hot"])
    #expect(hot.location.line == 5 && hot.location.column == 5)
  }

  @Test func limitsAreDiagnosticsNotCrashes() {
    let parser = YAMLParser(limits: YAMLLimits(maxBytes: 1000, maxDepth: 10, maxNodes: 50))
    let big = SourceFile(path: "big.yaml", text: String(repeating: "a: b\n", count: 300))
    #expect(parser.parse(big).diagnostics.map(\.code) == ["yaml.too-large"])
    let deep = SourceFile(
      path: "deep.yaml", text: String(repeating: "[", count: 20) + String(repeating: "]", count: 20))
    #expect(parser.parse(deep).diagnostics.map(\.code) == ["yaml.too-deep"])
    let many = SourceFile(path: "many.yaml", text: "[" + (0..<80).map(String.init).joined(separator: ",") + "]")
    #expect(parser.parse(many).diagnostics.map(\.code) == ["yaml.too-many-nodes"])
    // The billion laughs: refused at the first anchor.
    let bomb = SourceFile(path: "bomb.yaml", text: "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n")
    #expect(YAMLParser().parse(bomb).diagnostics.map(\.code) == ["yaml.alias"])
  }

  /// Regression: `same_issue_complainants(within: 1 month) >= 3` unquoted is a YAML mapping;
  /// it must still read as the condition, with its position.
  @Test func unquotedFunctionConditionReadsAsText() throws {
    let rules = try Support.defaultRules()
    let hot = try #require(rules.levels.first { $0.id == "hot" })
    let item = try #require(hot.items.first { $0.text.hasPrefix("same_issue") })
    #expect(item.text == "same_issue_complainants(within: 1 month) >= 3")
    #expect(item.location.line == 15 && item.location.column == 9)
  }
}

@Suite struct HistoryTests {
  func run(_ lines: [String], now: String) throws -> [String: String] {
    let rules = try Support.defaultRules()
    let batch = ClassifyBatch(rules: rules, workers: 2)
    let (out, rejected) = batch.run(Array(lines.joined(separator: "\n").utf8), now: Support.time(now))
    #expect(rejected.isEmpty)
    var levels: [String: String] = [:]
    for line in String(decoding: out, as: UTF8.self).split(separator: "\n") {
      let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      if let id = obj?["id"] as? String, let level = obj?["level"] as? String { levels[id] = level }
    }
    return levels
  }

  func c(_ id: String, _ at: String, _ who: String?, _ key: String = "K") -> String {
    let w = who.map { "\"\($0)\"" } ?? "null"
    return
      #"{"id":"\#(id)","received_at":"\#(at)","complainant_id":\#(w),"issue_key":"\#(key)","resolved_at":"\#(at)","state":"resolved"}"#
  }

  @Test func threeDifferentComplainantsInAMonthMakeEveryCaseHot() throws {
    let levels = try run(
      [
        c("A", "2025-09-01T09:00:00+08:00", "P1"), c("B", "2025-09-20T09:00:00+08:00", "P2"),
        c("C", "2025-09-30T09:00:00+08:00", "P3"), c("D", "2025-11-15T09:00:00+08:00", "P4"),
      ], now: "2025-11-20T00:00:00+08:00")
    #expect(levels == ["A": "hot", "B": "hot", "C": "hot", "D": "ordinary"])
  }

  @Test func sameComplainantTwiceIsNotThree() throws {
    let levels = try run(
      [
        c("A", "2025-09-01T09:00:00+08:00", "P1"), c("B", "2025-09-20T09:00:00+08:00", "P2"),
        c("C", "2025-09-30T09:00:00+08:00", "P1"),
      ], now: "2025-10-20T00:00:00+08:00")
    #expect(levels.values.allSatisfy { $0 == "ordinary" })
  }

  @Test func aWindowIsOneCalendarMonth() throws {
    // Sep 1 → Oct 1 (exclusive): the Oct 1 case is outside A's window, but B, C, D share one.
    let levels = try run(
      [
        c("A", "2025-09-01T09:00:00+08:00", "P1"), c("B", "2025-09-15T09:00:00+08:00", "P2"),
        c("C", "2025-10-01T09:00:00+08:00", "P3"), c("D", "2025-10-14T09:00:00+08:00", "P4"),
      ], now: "2025-10-20T00:00:00+08:00")
    #expect(levels == ["A": "ordinary", "B": "hot", "C": "hot", "D": "hot"])
  }

  @Test func casesAfterTheEvaluationTimeDoNotCount() throws {
    let levels = try run(
      [
        c("A", "2025-09-01T09:00:00+08:00", "P1"), c("B", "2025-09-02T09:00:00+08:00", "P2"),
        c("C", "2025-09-03T09:00:00+08:00", "P3"),
      ], now: "2025-09-02T12:00:00+08:00")
    #expect(levels["A"] == "ordinary")
  }
}

@Suite struct AnonymousComplainantTests {
  /// Anonymous cases (no complainant_id) cannot be shown to come from different people.
  @Test func anonymousCasesDoNotCountAsDistinctComplainants() throws {
    let rules = try Support.defaultRules()
    let lines = [
      #"{"id":"A","received_at":"2025-09-01T09:00:00+08:00","complainant_id":"P1","issue_key":"K","state":"closed","resolved_at":"2025-09-01T10:00:00+08:00"}"#,
      #"{"id":"B","received_at":"2025-09-02T09:00:00+08:00","complainant_id":"P2","issue_key":"K","state":"closed","resolved_at":"2025-09-02T10:00:00+08:00"}"#,
      #"{"id":"C","received_at":"2025-09-03T09:00:00+08:00","issue_key":"K","state":"closed","resolved_at":"2025-09-03T10:00:00+08:00"}"#,
    ]
    let (out, _) = ClassifyBatch(rules: rules).run(
      Array(lines.joined(separator: "\n").utf8), now: Support.time("2025-09-10T00:00:00+08:00"))
    let text = String(decoding: out, as: UTF8.self)
    #expect(!text.contains(#""level":"hot""#))
  }
}

/// Regression: a long one-line list (240 KB) took minutes — each node's column was walked
/// from the line start, and each append copied the list. Both are linear now.
@Suite struct LongLineTests {
  @Test func aLongFlowListParsesWithPositions() throws {
    let items = Array(repeating: "2025-09-28", count: 20_000).joined(separator: ", ")
    let text = "calendars:\n  c:\n    working_days: [\(items)]\n"
    let (root, diagnostics) = YAMLParser().parse(SourceFile(path: "long.yaml", text: text))
    #expect(diagnostics.isEmpty)
    let list = try #require(root?["calendars"]?["c"]?["working_days"]?.items)
    #expect(list.count == 20_000)
    let last = try #require(list.last)
    #expect(last.location.line == 3)
    #expect(last.location.column == 20 + 19_999 * 12)
    #expect(last.location.offset == text.utf8.count - 12)
  }
}
