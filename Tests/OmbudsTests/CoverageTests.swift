import Foundation
import OmbudsEngine
import OmbudsRules
import Testing

/// `rules-check --test --coverage`: what the rule tests exercised, and the rest by position.
@Suite struct CoverageTests {
  /// The shipped rules in a temporary directory with only `tests` as rule tests.
  static func rules(tests: String) throws -> URL {
    let dir = try Support.temporaryDirectory().appendingPathComponent("rules")
    let fm = FileManager.default
    try fm.createDirectory(at: dir.appendingPathComponent("tests"), withIntermediateDirectories: true)
    for name in try fm.contentsOfDirectory(atPath: Support.rulesDir) where name.hasSuffix(".yaml") || name == "keywords"
    {
      try fm.copyItem(atPath: Support.rulesDir + "/" + name, toPath: dir.appendingPathComponent(name).path)
    }
    try tests.write(to: dir.appendingPathComponent("tests/cases.yaml"), atomically: true, encoding: .utf8)
    return dir
  }

  static func coverage(_ dir: URL) throws -> RuleCoverage {
    let set = try #require(RuleSetLoader.load(paths: [dir.path]).ruleSet)
    let outcome = RuleTestRunner(rules: try CompiledRules(set), coverage: true).run(
      files: RuleTestRunner.testFiles(forRuleSet: dir.path))
    #expect(outcome.failed == 0, "\(outcome.diagnostics)")
    return try #require(outcome.coverage)
  }

  /// An ordinary case and a major one (12 people), received Friday 26 September 2025 with
  /// compensation whose materials came the same day: resolve_by counts 10 working days across
  /// National Day (1–8 October) and the make-up Sundays 28 September and Saturday 11 October.
  static let twoTests = """
    now: 2025-09-26T18:00:00+08:00
    tests:
      - note: ordinary, 10 working days from Fri 26 Sep → Thu 16 Oct
        case:
          id: A
          received_at: 2025-09-26T09:00:00+08:00
          compensation: {amount: "100.00", currency: CNY}
          materials_complete_at: 2025-09-26T16:00:00+08:00
        want:
          level: ordinary
          refund_approver: market_management
          deadlines: {resolve_by: 2025-10-16T23:59:59+08:00}
      - note: twelve people are major
        case: {id: B, received_at: 2025-09-26T09:00:00+08:00, collective_size: 12}
        want:
          level: major
          deadlines: {resolve_by: 2025-09-27T09:00:00+08:00}
    """

  @Test func whatTwoTestsExerciseAndWhatTheyLeave() throws {
    let c = try Self.coverage(try Self.rules(tests: Self.twoTests))
    func hits(_ kind: RuleCoverage.Kind, _ what: String) -> Int? {
      c.items.first { $0.kind == kind && $0.what == what }?.hits
    }
    // Every item of every level is evaluated for every test: 12 people also make `>= 3` hold.
    #expect(hits(.condition, "collective_size >= 10") == 1)
    #expect(hits(.condition, "collective_size >= 3") == 1)
    #expect(hits(.condition, "litigation == filed") == 0)
    #expect(hits(.level, "`major`") == 1 && hits(.level, "`ordinary`") == 1)
    #expect(hits(.level, "`hot`") == 0)
    #expect(hits(.refundTier, "above 0.00 CNY up to 500.00 CNY → market_management") == 1)
    #expect(hits(.refundTier, "above 500.00 CNY → general_manager") == 0)
    #expect(hits(.deadlineRule, "`resolve_by`: when compensation == none, received_at + 24 hours") == 1)
    #expect(
      hits(.deadlineRule, "`resolve_by`: when compensation != none, materials_complete_at + 10 working days") == 1)
    #expect(hits(.holiday, "`cn_mainland`: 国庆节、中秋节 2025") == 1)
    #expect(hits(.holiday, "`cn_mainland`: 春节 2026") == 0)
    #expect(hits(.makeUpDay, "`cn_mainland`: 2025-09-28") == 1 && hits(.makeUpDay, "`cn_mainland`: 2025-10-11") == 1)
    #expect(hits(.makeUpDay, "`cn_mainland`: 2026-02-14") == 0)
    #expect(hits(.duty, "`major` on_enter: notify emergency_group") == 1)
    #expect(
      hits(.duty, "`hot` on_enter: notify customer_service_center, functional_department, responsible_leader") == 0)
    #expect(hits(.gate, "`close` when level == major") == 1)
    #expect(hits(.gate, "`carry_out` when compensation != none") == 1)
    #expect(hits(.gate, "`reply` when channel in [web, wechat, email, mailbox]") == 0)
    // A keyword never matched, at its line.
    let gamble = try #require(c.items.first { $0.kind == .keyword && $0.what == "`vice_and_violence`: 赌博" })
    #expect(gamble.hits == 0 && gamble.location.file.hasSuffix("categories.yaml"))
    #expect(c.uncovered.contains { $0.what == "`vice_and_violence`: 赌博" })
    #expect(c.covered < c.total && c.percent < 50)
  }

  @Test func everyShippedRuleSetIsFullyCovered() throws {
    var dirs = [Support.rulesDir]
    let examples = Support.root.appendingPathComponent("rules/examples").path
    for name in try FileManager.default.contentsOfDirectory(atPath: examples).sorted()
    where !name.hasSuffix(".md") {
      dirs.append(examples + "/" + name)
    }
    #expect(dirs.count == 5)
    for dir in dirs {
      let c = try Self.coverage(URL(fileURLWithPath: dir))
      #expect(c.total > 10)
      #expect(c.uncovered.isEmpty, "\(dir): \(c.uncovered.map { "\($0.location) \($0.what)" })")
    }
  }

  @Test func aCalendarNoDeadlineCountsWorkingDaysOnHasNoHolidaysToCover() throws {
    // passenger_transport's deadlines count calendar days and hours only.
    let c = try Self.coverage(Support.root.appendingPathComponent("rules/examples/passenger_transport"))
    #expect(!c.items.contains { $0.kind == .holiday || $0.kind == .makeUpDay })
    let sales = try Self.coverage(Support.root.appendingPathComponent("rules/examples/sales"))
    #expect(sales.items.count { $0.kind == .holiday } == 13)
  }

  @Test func theCommandReportsListsAndEnforcesTheMinimum() throws {
    let dir = try Self.rules(tests: Self.twoTests).path
    let text = try Support.run("rules-check", ["--test", "--coverage", "--quiet", dir])
    #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
    #expect(text.stdout.contains("2 passed, 0 failed\ncoverage of \(dir): "))
    #expect(text.stdout.contains("\n  \(dir)/severity.yaml: "))
    #expect(text.stdout.contains("not exercised by any rule test:\n"))
    #expect(
      text.stdout.contains(
        "\(dir)/calendar.yaml:19:9: holiday `cn_mainland`: 春节 2026 — never crossed by a working-day deadline"))
    #expect(text.stdout.contains("\(dir)/severity.yaml:7:9: condition litigation == filed — never held"))

    let below = try Support.run("rules-check", ["--test", "--coverage-min", "90", "--quiet", dir])
    #expect(below.status == 1)
    #expect(below.stdout.contains("— below the minimum of 90%"))
    let atZero = try Support.run("rules-check", ["--test", "--coverage-min", "0", "--quiet", dir])
    #expect(atZero.status == 0)
    let full = try Support.run("rules-check", ["--test", "--coverage-min", "100", "--quiet", Support.rulesDir])
    #expect(full.status == 0, "\(full.stdout)")

    let json = try Support.run("rules-check", ["--test", "--coverage", "--format", "json", dir])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    let sets = try #require(object["coverage"] as? [[String: Any]])
    #expect(sets.count == 1 && sets[0]["rule_set"] as? String == dir)
    let items = try #require(sets[0]["items"] as? [[String: Any]])
    let major = try #require(items.first { $0["what"] as? String == "collective_size >= 10" })
    #expect(major["kind"] as? String == "condition" && major["tests"] as? Int == 1 && major["line"] as? Int == 9)
    #expect((sets[0]["total"] as? Int) == items.count)

    let github = try Support.run("rules-check", ["--test", "--coverage", "--format", "github", dir])
    #expect(github.stdout.contains("::notice file=\(dir)/severity.yaml,line=7,col=9,title=not covered by rule tests::"))

    // Coverage is what the tests exercise: without --test it is a usage error.
    let usage = try Support.run("rules-check", ["--coverage", dir])
    #expect(usage.status == 2 && usage.stderr.contains("--coverage needs --test"))
    let range = try Support.run("rules-check", ["--test", "--coverage-min", "101", dir])
    #expect(range.status == 2 && range.stderr.contains("--coverage-min must be a percentage from 0 to 100, not 101"))
  }
}
