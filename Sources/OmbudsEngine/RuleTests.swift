import Foundation
import OmbudsRules
import OmbudsSyntax

/// Runs rule tests: YAML files with cases, an evaluation time and the expected decision,
/// like `promtool test rules`.
public struct RuleTestRunner {
  public struct Outcome: Sendable {
    public var passed = 0
    public var failed = 0
    /// Failures and invalid tests, as diagnostics at the test's position.
    public var diagnostics: [Diagnostic] = []
    public var sources: [String: SourceFile] = [:]
    public var files: [String] = []
    /// What the tests exercised, when the runner collects it (`coverage: true`).
    public var coverage: RuleCoverage?
  }

  public let rules: CompiledRules
  /// Collect what the tests exercise (`Outcome.coverage`).
  public var collectsCoverage: Bool

  public init(rules: CompiledRules, coverage: Bool = false) {
    self.rules = rules
    self.collectsCoverage = coverage
  }

  /// The test files of a rule-set directory: `DIR/tests/*.yaml`.
  public static func testFiles(forRuleSet dir: String) -> [String] {
    let testsDir = (dir.hasSuffix("/") ? dir : dir + "/") + "tests"
    return (try? RuleSetLoader.ruleFiles(at: testsDir)) ?? []
  }

  public func run(files: [String]) -> Outcome {
    var outcome = Outcome()
    if collectsCoverage { outcome.coverage = RuleCoverage(rules: rules) }
    for path in files {
      guard let data = FileManager.default.contents(atPath: path) else {
        outcome.diagnostics.append(
          .error(
            .testInvalid, RuleTestMessages.cannotRead(path),
            at: SourceLocation(file: path, line: 1, column: 1, offset: 0))
        )
        outcome.failed += 1
        continue
      }
      let source = SourceFile(path: path, bytes: [UInt8](data))
      outcome.sources[path] = source
      outcome.files.append(path)
      runFile(source, &outcome)
    }
    return outcome
  }

  func invalid(_ message: LocalizedText, at location: SourceLocation, _ outcome: inout Outcome) {
    outcome.diagnostics.append(.error(.testInvalid, message, at: location))
    outcome.failed += 1
  }

  func runFile(_ source: SourceFile, _ outcome: inout Outcome) {
    let (root, diags) = YAMLParser().parse(source)
    outcome.diagnostics += diags
    guard let root else {
      if !diags.isEmpty { outcome.failed += 1 }
      return
    }
    guard let tests = root["tests"]?.items else {
      invalid(RuleTestMessages.needsTests, at: root.location, &outcome)
      return
    }
    var fileNow: Millis?
    if let n = root["now"] {
      guard let t = n.scalarText.flatMap(RFC3339.parse) else {
        invalid(RuleTestMessages.nowNotTimestamp, at: n.location, &outcome)
        return
      }
      fileNow = t
    }
    for test in tests {
      runTest(test, fileNow, &outcome)
    }
  }

  func runTest(_ test: YAMLNode, _ fileNow: Millis?, _ outcome: inout Outcome) {
    let note = test["note"]?.scalarText ?? "test at line \(test.location.line)"
    var now = fileNow
    if let n = test["now"] {
      guard let t = n.scalarText.flatMap(RFC3339.parse) else {
        invalid(RuleTestMessages.nowNotTimestamp, at: n.location, &outcome)
        return
      }
      now = t
    }
    guard let now else {
      invalid(RuleTestMessages.noNow(note), at: test.location, &outcome)
      return
    }
    if let pairs = test.pairs {
      for p in pairs where !["note", "now", "history", "case", "want"].contains(p.key.value) {
        invalid(
          RuleTestMessages.unknownKey(
            p.key.value, suggestion: Suggest.closest(to: p.key.value, in: ["note", "now", "history", "case", "want"])),
          at: p.key.location, &outcome)
        return
      }
    }
    guard let caseNode = test["case"], let want = test["want"] else {
      invalid(RuleTestMessages.needsCaseAndWant(note), at: test.location, &outcome)
      return
    }
    var all: [CaseFacts] = []
    for (i, node) in ((test["history"]?.items ?? []) + [caseNode]).enumerated() {
      let json = Self.json(node)
      do {
        var f = try json.withUnsafeBufferPointer { b throws(CaseError) in try rules.reader.read(b) }
        f.ordinal = i
        all.append(f)
      } catch {
        invalid(RuleTestMessages.invalidCase(note, "\(error)"), at: node.location, &outcome)
        return
      }
    }
    let target = all[all.count - 1]
    let history = InMemoryHistory(cases: all, windows: rules.aggregateWindows, asOf: now, calendar: rules.calendar)
    let decision = rules.evaluate(target, at: now, history: history)
    outcome.coverage?.observe(target, at: now, history: history, decision: decision, rules: rules)
    var problems: [LocalizedText] = []
    // Each expectation that does not hold, at its line in `want`: expected beside actual.
    var related: [Diagnostic.Related] = []
    func differ(_ at: SourceLocation, _ field: String, expected: String, actual: String, _ summary: LocalizedText) {
      problems.append(summary)
      related.append(.init(RuleTestMessages.expectedActual(field, expected: expected, actual: actual), at: at))
    }
    let set = rules.ruleSet
    guard let wantPairs = want.pairs else {
      invalid(RuleTestMessages.wantNotMapping, at: want.location, &outcome)
      return
    }
    for p in wantPairs {
      switch p.key.value {
      case "level":
        let got = set.levels[decision.level].id
        if p.value.scalarText != got {
          differ(
            p.key.location, "level", expected: "`\(p.value.scalarText ?? "?")`", actual: "`\(got)`",
            RuleTestMessages.levelIs(got, want: p.value.scalarText ?? "?"))
        }
      case "reasons":
        let got = decision.reasons.map { set.levels[Int($0.level)].items[Int($0.item)].text }
        let wanted = (p.value.items ?? []).compactMap(\.scalarText)
        if got != wanted {
          differ(
            p.key.location, "reasons", expected: "\(wanted)", actual: "\(got)",
            RuleTestMessages.listIs("reasons", "\(got)", want: "\(wanted)"))
        }
      case "refund_approver":
        let got = decision.refundApprover.map { set.roles[$0].id }
        let wanted = p.value.isNull ? nil : p.value.scalarText
        if got != wanted {
          differ(
            p.key.location, "refund_approver", expected: wanted ?? "null", actual: got ?? "null",
            RuleTestMessages.valueIs("refund_approver", got ?? "null", want: wanted ?? "null"))
        }
      case "deadlines":
        for d in p.value.pairs ?? [] {
          guard let index = set.deadlines.firstIndex(where: { $0.id == d.key.value }) else {
            problems.append(RuleTestMessages.noDeadline(d.key.value))
            continue
          }
          let got = decision.deadlines[index]
          let wanted: Millis? = d.value.isNull ? nil : d.value.scalarText.flatMap(RFC3339.parse)
          if !d.value.isNull, wanted == nil {
            problems.append(RuleTestMessages.deadlineNotTimestamp(d.key.value, d.value.scalarText ?? ""))
          } else if got != wanted {
            differ(
              d.key.location, "deadlines.\(d.key.value)", expected: format(wanted), actual: format(got),
              RuleTestMessages.deadlineIs(d.key.value, format(got), want: format(wanted)))
          }
        }
      case "categories":
        var got: [String] = []
        for (i, c) in set.categories.enumerated() where i < 64 && decision.categoryBits & (1 << UInt64(i)) != 0 {
          got.append(c.id)
        }
        got.sort()
        let wanted = (p.value.items ?? []).compactMap(\.scalarText).sorted()
        if got != wanted {
          differ(
            p.key.location, "categories", expected: "\(wanted)", actual: "\(got)",
            RuleTestMessages.listIs("categories", "\(got)", want: "\(wanted)"))
        }
      case "matches":
        // Each wanted match as `keyword@start-end` (Unicode scalars of the case text).
        let got = decision.matches.map { m in
          "\(rules.screening?.patterns[Int(m.pattern)].text ?? "?")@\(m.start)-\(m.end)"
        }
        let wanted = (p.value.items ?? []).compactMap(\.scalarText)
        if got != wanted {
          differ(
            p.key.location, "matches", expected: "\(wanted)", actual: "\(got)",
            RuleTestMessages.listIs("matches", "\(got)", want: "\(wanted)"))
        }
      case "next_review_at":
        let wanted: Millis? = p.value.isNull ? nil : p.value.scalarText.flatMap(RFC3339.parse)
        if decision.nextReviewAt != wanted {
          differ(
            p.key.location, "next_review_at", expected: format(wanted), actual: format(decision.nextReviewAt),
            RuleTestMessages.valueIs("next_review_at", format(decision.nextReviewAt), want: format(wanted)))
        }
      default:
        problems.append(RuleTestMessages.unknownExpectation(p.key.value))
      }
    }
    if problems.isEmpty {
      outcome.passed += 1
    } else {
      outcome.failed += 1
      outcome.diagnostics.append(
        .error(
          .testFailed, RuleTestMessages.failed(note, problems), at: test.location,
          related: related
        ).resolvingLabels(rules.ruleSet.labelTable))
    }
  }

  func format(_ t: Millis?) -> String {
    guard let t else { return "null" }
    return RFC3339.format(t, offsetSeconds: rules.calendar.clock.offset(at: t))
  }

  /// A YAML case as JSON bytes: plain numbers, booleans and null keep their JSON type.
  static func json(_ node: YAMLNode) -> [UInt8] {
    var out: [UInt8] = []
    write(node, &out)
    return out
  }

  static func write(_ node: YAMLNode, _ out: inout [UInt8]) {
    switch node {
    case .scalar(let s, let style):
      if style == .plain {
        let v = s.value
        if node.isNull {
          out.append(contentsOf: "null".utf8)
          return
        }
        if v == "true" || v == "false" || Int64(v) != nil
          || (v.contains(".") && Money.parseUnits(Substring(v)) != nil && !v.hasPrefix("."))
        {
          out.append(contentsOf: v.utf8)
          return
        }
      }
      JSONText.appendString(s.value, to: &out)
    case .sequence(let items, _):
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        write(item, &out)
      }
      out.append(UInt8(ascii: "]"))
    case .mapping(let pairs, _):
      out.append(UInt8(ascii: "{"))
      for (i, p) in pairs.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        JSONText.appendString(p.key.value, to: &out)
        out.append(UInt8(ascii: ":"))
        write(p.value, &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }
}

/// The messages of rule tests, in English and Chinese.
public enum RuleTestMessages {
  static func cannotRead(_ path: String) -> LocalizedText {
    LocalizedText(en: "cannot read `\(path)`", zh: "无法读取 `\(path)`")
  }
  static let needsTests = LocalizedText(en: "a test file needs a `tests:` list", zh: "测试文件需要 `tests:` 列表")
  static let nowNotTimestamp = LocalizedText(
    en: "`now` must be an RFC 3339 timestamp", zh: "`now` 必须是 RFC 3339 时间戳")
  static func noNow(_ note: String) -> LocalizedText {
    LocalizedText(
      en: "test \"\(note)\" has no `now` (set it on the test or the file)", zh: "测试“\(note)”没有 `now`（请在测试或文件上设置）")
  }
  static func unknownKey(_ key: String, suggestion: String?) -> LocalizedText {
    guard let suggestion else { return LocalizedText(en: "unknown key `\(key)` in a test", zh: "测试中有未知的键 `\(key)`") }
    return LocalizedText(
      en: "unknown key `\(key)` in a test; did you mean `\(suggestion)`?",
      zh: "测试中有未知的键 `\(key)`；您是不是想写 `\(suggestion)`？")
  }
  static func needsCaseAndWant(_ note: String) -> LocalizedText {
    LocalizedText(en: "test \"\(note)\" needs `case` and `want`", zh: "测试“\(note)”需要 `case` 和 `want`")
  }
  static func invalidCase(_ note: String, _ error: String) -> LocalizedText {
    LocalizedText(en: "test \"\(note)\": case is not valid: \(error)", zh: "测试“\(note)”：案件无效：\(error)")
  }
  static func expectedActual(_ field: String, expected: String, actual: String) -> LocalizedText {
    LocalizedText(
      en: "`\(field)`: expected \(expected), actual \(actual)", zh: "`\(field)`：期望 \(expected)，实际 \(actual)")
  }
  static let wantNotMapping = LocalizedText(en: "`want` must be a mapping", zh: "`want` 必须是映射")
  static func levelIs(_ got: String, want: String) -> LocalizedText {
    LocalizedText(en: "level is `\(got)`, want `\(want)`", zh: "级别为 \(.level, got)，期望 \(.level, want)")
  }
  static func listIs(_ name: String, _ got: String, want: String) -> LocalizedText {
    LocalizedText(en: "\(name) are \(got), want \(want)", zh: "`\(name)` 为 \(got)，期望 \(want)")
  }
  static func valueIs(_ name: String, _ got: String, want: String) -> LocalizedText {
    LocalizedText(en: "\(name) is \(got), want \(want)", zh: "`\(name)` 为 \(got)，期望 \(want)")
  }
  static func noDeadline(_ id: String) -> LocalizedText {
    LocalizedText(en: "no deadline `\(id)` in the rules", zh: "规则中没有期限 `\(id)`")
  }
  static func deadlineNotTimestamp(_ id: String, _ text: String) -> LocalizedText {
    LocalizedText(
      en: "deadline `\(id)`: `\(text)` is not an RFC 3339 timestamp",
      zh: "期限 \(.deadline, id)：`\(text)` 不是 RFC 3339 时间戳")
  }
  static func deadlineIs(_ id: String, _ got: String, want: String) -> LocalizedText {
    LocalizedText(en: "\(id) is \(got), want \(want)", zh: "期限 \(.deadline, id) 为 \(got)，期望 \(want)")
  }
  static func unknownExpectation(_ key: String) -> LocalizedText {
    LocalizedText(en: "unknown expectation `\(key)`", zh: "未知的期望项 `\(key)`")
  }
  static func failed(_ note: String, _ problems: [LocalizedText]) -> LocalizedText {
    let all = LocalizedText.joined(problems, en: "; ", zh: "；")
    return LocalizedText(en: "test \"\(note)\" failed: \(all.en)", zh: "测试“\(note)”未通过：\(all)")
  }
  /// The checked rule set could not be compiled (a limit of the compiler, in its words).
  public static func compileFailed(_ error: String) -> LocalizedText {
    LocalizedText(en: error, zh: "规则集无法编译：\(error)")
  }
}
