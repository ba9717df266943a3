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
          .error(.testInvalid, "cannot read `\(path)`", at: SourceLocation(file: path, line: 1, column: 1, offset: 0))
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

  func invalid(_ message: String, at location: SourceLocation, _ outcome: inout Outcome) {
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
      invalid("a test file needs a `tests:` list", at: root.location, &outcome)
      return
    }
    var fileNow: Millis?
    if let n = root["now"] {
      guard let t = n.scalarText.flatMap(RFC3339.parse) else {
        invalid("`now` must be an RFC 3339 timestamp", at: n.location, &outcome)
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
        invalid("`now` must be an RFC 3339 timestamp", at: n.location, &outcome)
        return
      }
      now = t
    }
    guard let now else {
      invalid("test \"\(note)\" has no `now` (set it on the test or the file)", at: test.location, &outcome)
      return
    }
    if let pairs = test.pairs {
      for p in pairs where !["note", "now", "history", "case", "want"].contains(p.key.value) {
        invalid(
          "unknown key `\(p.key.value)` in a test\(Suggest.help(for: p.key.value, in: ["note", "now", "history", "case", "want"]).map { "; \($0)" } ?? "")",
          at: p.key.location, &outcome)
        return
      }
    }
    guard let caseNode = test["case"], let want = test["want"] else {
      invalid("test \"\(note)\" needs `case` and `want`", at: test.location, &outcome)
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
        invalid("test \"\(note)\": case is not valid: \(error)", at: node.location, &outcome)
        return
      }
    }
    let target = all[all.count - 1]
    let history = InMemoryHistory(cases: all, windows: rules.aggregateWindows, asOf: now, calendar: rules.calendar)
    let decision = rules.evaluate(target, at: now, history: history)
    outcome.coverage?.observe(target, at: now, history: history, decision: decision, rules: rules)
    var problems: [String] = []
    // Each expectation that does not hold, at its line in `want`: expected beside actual.
    var related: [Diagnostic.Related] = []
    func differ(_ at: SourceLocation, _ field: String, expected: String, actual: String, _ summary: String) {
      problems.append(summary)
      related.append(.init("`\(field)`: expected \(expected), actual \(actual)", at: at))
    }
    let set = rules.ruleSet
    guard let wantPairs = want.pairs else {
      invalid("`want` must be a mapping", at: want.location, &outcome)
      return
    }
    for p in wantPairs {
      switch p.key.value {
      case "level":
        let got = set.levels[decision.level].id
        if p.value.scalarText != got {
          differ(
            p.key.location, "level", expected: "`\(p.value.scalarText ?? "?")`", actual: "`\(got)`",
            "level is `\(got)`, want `\(p.value.scalarText ?? "?")`")
        }
      case "reasons":
        let got = decision.reasons.map { set.levels[Int($0.level)].items[Int($0.item)].text }
        let wanted = (p.value.items ?? []).compactMap(\.scalarText)
        if got != wanted {
          differ(
            p.key.location, "reasons", expected: "\(wanted)", actual: "\(got)", "reasons are \(got), want \(wanted)")
        }
      case "refund_approver":
        let got = decision.refundApprover.map { set.roles[$0].id }
        let wanted = p.value.isNull ? nil : p.value.scalarText
        if got != wanted {
          differ(
            p.key.location, "refund_approver", expected: wanted ?? "null", actual: got ?? "null",
            "refund_approver is \(got ?? "null"), want \(wanted ?? "null")")
        }
      case "deadlines":
        for d in p.value.pairs ?? [] {
          guard let index = set.deadlines.firstIndex(where: { $0.id == d.key.value }) else {
            problems.append("no deadline `\(d.key.value)` in the rules")
            continue
          }
          let got = decision.deadlines[index]
          let wanted: Millis? = d.value.isNull ? nil : d.value.scalarText.flatMap(RFC3339.parse)
          if !d.value.isNull, wanted == nil {
            problems.append("deadline `\(d.key.value)`: `\(d.value.scalarText ?? "")` is not an RFC 3339 timestamp")
          } else if got != wanted {
            differ(
              d.key.location, "deadlines.\(d.key.value)", expected: format(wanted), actual: format(got),
              "\(d.key.value) is \(format(got)), want \(format(wanted))")
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
            "categories are \(got), want \(wanted)")
        }
      case "matches":
        // Each wanted match as `keyword@start-end` (Unicode scalars of the case text).
        let got = decision.matches.map { m in
          "\(rules.screening?.patterns[Int(m.pattern)].text ?? "?")@\(m.start)-\(m.end)"
        }
        let wanted = (p.value.items ?? []).compactMap(\.scalarText)
        if got != wanted {
          differ(
            p.key.location, "matches", expected: "\(wanted)", actual: "\(got)", "matches are \(got), want \(wanted)")
        }
      case "next_review_at":
        let wanted: Millis? = p.value.isNull ? nil : p.value.scalarText.flatMap(RFC3339.parse)
        if decision.nextReviewAt != wanted {
          differ(
            p.key.location, "next_review_at", expected: format(wanted), actual: format(decision.nextReviewAt),
            "next_review_at is \(format(decision.nextReviewAt)), want \(format(wanted))")
        }
      default:
        problems.append("unknown expectation `\(p.key.value)`")
      }
    }
    if problems.isEmpty {
      outcome.passed += 1
    } else {
      outcome.failed += 1
      outcome.diagnostics.append(
        .error(
          .testFailed, "test \"\(note)\" failed: " + problems.joined(separator: "; "), at: test.location,
          related: related))
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
