import Foundation
import OmbudsEngine
import OmbudsRules
import Testing

/// The shipped policy, through its own table-driven rule tests and through code.
@Suite struct PolicyTests {
  /// Every rule set that ships: the default policy and each example.
  static var ruleSets: [String] {
    let examples = Support.root.appendingPathComponent("rules/examples")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
    return ["rules"] + names.sorted().map { "rules/examples/\($0)" }
  }

  @Test(arguments: ruleSets)
  func shippedRuleSetIsCleanAndItsTestsPass(_ dir: String) throws {
    let path = Support.root.appendingPathComponent(dir).path
    let result = RuleSetLoader.load(paths: [path])
    #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics.map(\.description))")
    let set = try #require(result.ruleSet)
    let outcome = RuleTestRunner(rules: try CompiledRules(set)).run(files: RuleTestRunner.testFiles(forRuleSet: path))
    #expect(outcome.failed == 0, "\(outcome.diagnostics.map(\.description).joined(separator: "\n"))")
    #expect(outcome.passed >= 3, "\(dir) ships too few rule tests")
  }

  @Test func defaultPolicyTestsCoverEveryBoundary() throws {
    let rules = try Support.defaultRules()
    let outcome = RuleTestRunner(rules: rules).run(files: RuleTestRunner.testFiles(forRuleSet: Support.rulesDir))
    #expect(outcome.failed == 0)
    #expect(outcome.passed >= 40)
  }

  /// Proof that policy lives in YAML: copy `rules/`, raise major's collective size from 10 to
  /// 12, and a complaint by 10 people is hot instead of major.
  @Test func changingAThresholdInYAMLChangesTheDecision() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let copy = dir.appendingPathComponent("rules")
    try FileManager.default.copyItem(at: URL(fileURLWithPath: Support.rulesDir), to: copy)
    let severity = copy.appendingPathComponent("severity.yaml")
    let text = try String(contentsOf: severity, encoding: .utf8)
    #expect(text.contains("collective_size >= 10"))
    try text.replacingOccurrences(of: "collective_size >= 10", with: "collective_size >= 12")
      .write(to: severity, atomically: true, encoding: .utf8)

    let json = #"{"id":"T","received_at":"2025-10-20T09:00:00+08:00","collective_size":10}"#
    let now = Support.time("2025-10-20T10:00:00+08:00")
    let before = try Support.defaultRules()
    #expect(before.levels[before.evaluate(try Support.facts(before, json), at: now).level].id == "major")
    let after = try CompiledRules(try #require(RuleSetLoader.load(paths: [copy.path]).ruleSet))
    let decision = after.evaluate(try Support.facts(after, json), at: now)
    #expect(after.levels[decision.level].id == "hot")
    #expect(after.ruleSet.contentHash != before.ruleSet.contentHash)
  }

  @Test func reasonsNameTheRuleLines() throws {
    let rules = try Support.defaultRules()
    let f = try Support.facts(
      rules, #"{"id":"T","received_at":"2025-10-01T09:00:00+08:00","collective_size":12,"media":"exposed"}"#)
    let d = rules.evaluate(f, at: Support.time("2025-10-01T10:00:00+08:00"))
    let items = d.reasons.map { rules.levels[Int($0.level)].items[Int($0.item)] }
    #expect(items.map(\.text) == ["media == exposed", "collective_size >= 10"])
    #expect(
      items.map { "\(($0.location.file as NSString).lastPathComponent):\($0.location.line):\($0.location.column)" }
        == ["severity.yaml:8:9", "severity.yaml:9:9"])
  }

  @Test func ratchetFloorKeepsALevel() throws {
    let rules = try Support.defaultRules()
    let f = try Support.facts(rules, #"{"id":"T","received_at":"2025-10-01T09:00:00+08:00"}"#)
    let now = Support.time("2025-10-01T10:00:00+08:00")
    #expect(rules.levels[rules.evaluate(f, at: now).level].id == "ordinary")
    let hot = try #require(rules.levels.firstIndex { $0.id == "hot" })
    #expect(rules.levels[rules.evaluate(f, at: now, floor: hot).level].id == "hot")
  }

  /// A case turning one week old for reasons on our side is due for review exactly then.
  @Test func nextReviewIsWhenTheCaseTurnsOneWeekOld() throws {
    let rules = try Support.defaultRules()
    let f = try Support.facts(
      rules, #"{"id":"T","received_at":"2025-10-01T09:00:00+08:00","compensation":{"amount":"50.00","currency":"CNY"}}"#
    )
    let d = rules.evaluate(f, at: Support.time("2025-10-02T10:00:00+08:00"))
    #expect(Support.format(d.nextReviewAt) == "2025-10-08T09:00:00+08:00")
    let resolved = try Support.facts(
      rules,
      #"{"id":"T","received_at":"2025-10-01T09:00:00+08:00","state":"closed","resolved_at":"2025-10-01T12:00:00+08:00"}"#
    )
    #expect(rules.evaluate(resolved, at: Support.time("2025-10-02T10:00:00+08:00")).nextReviewAt == nil)
  }

  @Test func foreignCurrencyNeedsAnEquivalent() throws {
    let rules = try Support.defaultRules()
    #expect(throws: CaseError.self) {
      try Support.facts(
        rules,
        #"{"id":"T","received_at":"2025-10-01T09:00:00+08:00","compensation":{"amount":"80.00","currency":"USD"}}"#)
    }
  }
}

/// Regression: a rule set with no deadlines, duties or time conditions read past empty tables.
@Suite struct MinimalRuleSetTests {
  @Test func aRuleSetWithOnlyLevelsEvaluates() throws {
    let rules = try Support.compile(
      """
      fields:
        size: {type: integer, default: 1}
      levels:
        big: {any: [size >= 5]}
        small: {otherwise: true}
      """)
    let now = Support.time("2025-10-01T00:00:00Z")
    let small = rules.evaluate(try Support.facts(rules, #"{"id":"a","received_at":"2025-09-01T00:00:00Z"}"#), at: now)
    #expect(rules.levels[small.level].id == "small")
    #expect(small.deadlines.isEmpty && small.nextReviewAt == nil && small.refundApprover == nil)
    let big = rules.evaluate(
      try Support.facts(rules, #"{"id":"b","received_at":"2025-09-01T00:00:00Z","size":7}"#), at: now)
    #expect(rules.levels[big.level].id == "big")
    #expect(big.reasons.map(\.item) == [0])
  }
}

/// More than 64 leaves: the evaluator takes its per-term path instead of one bit mask.
@Suite struct ManyLeavesTests {
  @Test func aRuleSetWithMoreThanSixtyFourLeavesDecidesTheSame() throws {
    var yaml = "fields:\n  n: {type: integer, default: 0}\n  flag: {type: bool, default: false}\nlevels:\n"
    yaml += "  high:\n    any:\n" + (1...40).map { "      - n == \($0 * 10) and flag\n" }.joined()
    yaml += "  middle:\n    any:\n" + (1...40).map { "      - n == \($0 * 10 + 5)\n" }.joined()
    yaml += "  low:\n    otherwise: true\n"
    let rules = try Support.compile(yaml)
    let now = Support.time("2025-10-01T00:00:00Z")
    func level(_ json: String) throws -> String {
      rules.levels[rules.evaluate(try Support.facts(rules, json), at: now).level].id
    }
    let base = #""id":"x","received_at":"2025-09-01T00:00:00Z""#
    #expect(try level("{\(base),\"n\":400,\"flag\":true}") == "high")
    #expect(try level("{\(base),\"n\":400}") == "low")
    #expect(try level("{\(base),\"n\":405}") == "middle")
    #expect(try level("{\(base),\"n\":7}") == "low")
    let d = rules.evaluate(try Support.facts(rules, "{\(base),\"n\":15}"), at: now)
    #expect(d.reasons.map(\.item) == [0])
  }
}

/// Regressions found while documenting: absent values, defaults, bounds, the clock.
@Suite struct AbsentValueTests {
  static let yaml = """
    fields:
      vip: {type: bool, optional: true}
      tier: {type: enum, values: [gold, silver], optional: true}
      note: {type: string}
      rating: {type: decimal, min: 1, max: 5, default: 3}
      count: {type: integer, optional: true}
    levels:
      a: {any: [complainant_id != "P1"]}
      b: {any: [vip == false]}
      d:
        any:
          - tier not in [gold]
      f:
        any:
          - count not in [1, 2]
      e: {any: [note == ""]}
      z: {otherwise: true}
    """

  @Test func comparisonsWithAnAbsentValueAreFalse() throws {
    let rules = try Support.compile(Self.yaml)
    let f = try Support.facts(rules, #"{"id":"x","received_at":"2025-09-01T00:00:00Z"}"#)
    let d = rules.evaluate(f, at: Support.time("2025-09-02T00:00:00Z"))
    // a, b, d do not hold without a value (`vip != true` is the same test as `vip == false`); `note` is not optional, so it is "" and e holds.
    #expect(rules.levels[d.level].id == "e")
    let g = try Support.facts(rules, #"{"id":"y","received_at":"2025-09-01T00:00:00Z","vip":false,"note":"n"}"#)
    #expect(rules.levels[rules.evaluate(g, at: Support.time("2025-09-02T00:00:00Z")).level].id == "b")
  }

  @Test func decimalBoundsAreEnforcedOnCases() throws {
    let rules = try Support.compile(Self.yaml)
    #expect(throws: CaseError.self) {
      try Support.facts(rules, #"{"id":"x","received_at":"2025-09-01T00:00:00Z","rating":"9.5"}"#)
    }
  }

  @Test func aResolvedCaseWithoutResolvedAtStillHasANextReview() throws {
    let rules = try Support.defaultRules()
    let f = try Support.facts(rules, #"{"id":"x","received_at":"2025-10-01T09:00:00+08:00","state":"resolved"}"#)
    let d = rules.evaluate(f, at: Support.time("2025-10-02T09:00:00+08:00"))
    // The 24-hour deadline falls due now; one week after receipt it turns hot.
    #expect(Support.format(d.nextReviewAt) == "2025-10-08T09:00:00+08:00")
  }
}
