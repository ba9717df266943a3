import Foundation
import Testing

/// End-to-end: the real executables, their output and exit statuses.
@Suite(.serialized) struct CLITests {
  let now = "2025-10-20T12:00:00+08:00"

  @Test func classifyFollowsTheContract() throws {
    let input = """
      {"id":"C-1","received_at":"2025-10-01T09:00:00+08:00","collective_size":3,"state":"resolved","resolved_at":"2025-10-01T10:00:00+08:00"}

      {"id":"C-2","received_at":"2025-09-26T15:00:00+08:00","compensation":{"amount":"650.00","currency":"CNY"},"materials_complete_at":"2025-09-26T15:00:00+08:00","state":"resolved","resolved_at":"2025-09-27T10:00:00+08:00"}
      {"id":"C-3","received_at":"2025-10-01T09:00:00+08:00","colour":"red"}
      not json
      {"id":"C-4","received_at":"2025-10-19T09:00:00+08:00","compensation":{"amount":"500.00","currency":"CNY"}}
      """
    let run = try Support.run("ombuds", ["classify", "--now", now], stdin: input)
    #expect(run.status == 1)
    let lines = run.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 3)
    let decisions = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    #expect(decisions.map { $0["id"] as? String } == ["C-1", "C-2", "C-4"])
    #expect(decisions.map { $0["level"] as? String } == ["hot", "ordinary", "ordinary"])
    #expect(decisions[0]["refund_approver"] is NSNull)
    #expect(decisions[1]["refund_approver"] as? String == "general_manager")
    #expect(decisions[2]["refund_approver"] as? String == "market_management")
    #expect(decisions.map { $0["categories"] as? [String] } == [[], [], []])
    let deadlines = decisions.map { ($0["deadlines"] as? [String: Any])?["resolve_by"] }
    #expect(deadlines[0] as? String == "2025-10-02T09:00:00+08:00")
    #expect(deadlines[1] as? String == "2025-10-16T23:59:59+08:00")
    #expect(deadlines[2] is NSNull)  // compensation, but the materials are not complete yet
    let reasons = try #require(decisions[0]["reasons"] as? [[String: Any]])
    #expect(reasons.first?["condition"] as? String == "collective_size >= 3")
    #expect(reasons.first?["source"] as? String == "rules/severity.yaml:16:9")
    #expect((decisions[0]["rule_set"] as? String)?.hasPrefix("sha256:") == true)
    let errors = run.stderr.split(separator: "\n").map(String.init)
    #expect(errors.count == 2)
    #expect(errors[0] == #"{"line":4,"error":"unknown field `colour`"}"#)
    #expect(errors[1].hasPrefix(#"{"line":5,"error":"#))
  }

  @Test func classifyExitsZeroWhenEveryLineIsGood() throws {
    let run = try Support.run("ombuds", ["classify", "--now", now, "Examples/cases.jsonl"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.split(separator: "\n").count >= 30)
    #expect(run.stderr.isEmpty)
  }

  @Test func classifyBadUsageAndBadRulesExitTwo() throws {
    #expect(try Support.run("ombuds", ["classify", "--now", "yesterday"], stdin: "").status == 2)
    #expect(try Support.run("ombuds", ["classify", "--bogus"], stdin: "").status == 2)
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try "levels:\n  major: {any: [colective_size >= 10]}\n".write(
      to: dir.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
    let run = try Support.run("ombuds", ["classify", "--rules", dir.path, "--now", now], stdin: "")
    #expect(run.status == 2)
    #expect(run.stderr.contains("bad.yaml:2:17: error: unknown field `colective_size` [rules.unknown-field]"))
  }

  @Test func rulesCheckCleanDefaultRules() throws {
    let run = try Support.run("rules-check", [])
    #expect(run.status == 0, "\(run.stdout)")
    #expect(run.stdout.contains("rules/severity.yaml: SUCCESS"))
    #expect(run.stdout.hasSuffix("0 errors, 0 warnings\n"))
  }

  @Test func rulesCheckRunsRuleTests() throws {
    let run = try Support.run("rules-check", ["--test", "rules"])
    #expect(run.status == 0, "\(run.stdout)")
    #expect(run.stdout.contains(" passed, 0 failed\n"))
  }

  @Test func rulesCheckReportsWithCaretAndHelp() throws {
    let path = "Tests/OmbudsTests/Golden/rules-unknown-key.yaml"
    let run = try Support.run("rules-check", [path])
    #expect(run.status == 1)
    #expect(
      run.stdout.contains(
        """
        \(path):8:5: error: unknown key `lable` in level `major` [rules.unknown-key]
         8 |     lable: 重大投诉
           |     ^~~~~
          = help: did you mean `label`?
        """))
    #expect(run.stdout.contains("\(path): FAILED (1 error, 0 warnings)"))
  }

  @Test func rulesCheckJSON() throws {
    let run = try Support.run("rules-check", ["--format", "json", "Tests/OmbudsTests/Golden/rules-tier-gap.yaml"])
    #expect(run.status == 1)
    let obj = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let diags = try #require(obj["diagnostics"] as? [[String: Any]])
    #expect(diags.first?["code"] as? String == "rules.tier-gap")
    #expect(diags.first?["line"] as? Int == 8)
    #expect(obj["errors"] as? Int == 1)
  }

  @Test func rulesCheckBadUsageExitsTwo() throws {
    #expect(try Support.run("rules-check", ["--format", "xml"]).status == 2)
    let missing = try Support.run("rules-check", ["no/such/dir"])
    #expect(missing.status == 1)
    #expect(missing.stdout.contains("no/such/dir:1:1: error: cannot read `no/such/dir`"))
  }
}

extension CLITests {
  @Test func rejectionsNameTheirFileWhenSeveralAreGiven() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let a = dir.appendingPathComponent("a.jsonl")
    let b = dir.appendingPathComponent("b.jsonl")
    try #"{"id":"A1","received_at":"2025-10-01T09:00:00+08:00"}"#.write(to: a, atomically: true, encoding: .utf8)
    try "{\"id\":\"B1\",\"received_at\":\"2025-10-01T09:00:00+08:00\"}\n{\"id\":\"B2\"}\n".write(
      to: b, atomically: true, encoding: .utf8)
    let run = try Support.run("ombuds", ["classify", "--now", now, a.path, b.path])
    #expect(run.status == 1)
    #expect(run.stdout.split(separator: "\n").count == 2)
    #expect(run.stderr == "{\"line\":2,\"error\":\"field `received_at` is required\",\"file\":\(quoted(b.path))}\n")
  }

  func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "/", with: "/") + "\"" }
}

extension CLITests {
  /// The store commands on both backends: a SQLite file, and a database on the throwaway
  /// PostgreSQL cluster (`--store postgres://…`).
  @Test(arguments: StoreKind.allCases) func replayCasesAndTickOnAStore(_ kind: StoreKind) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    guard let db = try Support.storeLocation(kind, in: dir) else { return }
    let events = """
      {"event_id":"e1","case":"C-1","type":"received","at":"2025-10-01T09:00:00+08:00","actor":"intake","received_at":"2025-10-01T09:00:00+08:00","complainant_id":"P1"}
      {"event_id":"e2","case":"C-1","type":"closed","at":"2025-10-02T09:00:00+08:00","actor":"x"}
      {"event_id":"e3","case":"C-2","type":"received","at":"2025-10-01T09:00:00+08:00","actor":"intake","received_at":"2025-10-01T09:00:00+08:00","media":"exposed"}
      """
    let first = try Support.run("ombuds", ["replay", "--store", db], stdin: events)
    #expect(first.status == 1)
    #expect(first.stderr == "{\"line\":2,\"error\":\"case `C-1` is received: `closed` is not allowed\"}\n")
    // Run again: applied events are skipped, the same line is rejected again, nothing doubles.
    let again = try Support.run("ombuds", ["replay", "--store", db], stdin: events)
    #expect(again.stderr == first.stderr)
    let cases = try Support.run("ombuds", ["cases", "--store", db])
    #expect(cases.status == 0)
    let lines = cases.stdout.split(separator: "\n")
    #expect(lines.count == 2)
    #expect(!cases.stdout.contains("P1"))
    let tick = try Support.run("ombuds", ["tick", "--store", db, "--now", "2025-10-08T10:00:00+08:00"])
    #expect(tick.stdout == "{\"reevaluated\":2}\n")
    let after = try Support.run("ombuds", ["cases", "--store", db])
    let levels = try after.stdout.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["level"] as? String
    }
    #expect(levels == ["hot", "major"])
    #expect(try Support.run("ombuds", ["cases", "--store", "mysql://localhost/x"]).status == 2)
  }
}

extension CLITests {
  /// The importer killed inside a transaction at several points, then run again, ends with
  /// exactly the state of an uninterrupted import.
  @Test(arguments: StoreKind.allCases) func aKilledImportRunAgainEndsInTheSameState(_ kind: StoreKind) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    func store(_ name: String) throws -> String? {
      switch kind {
      case .sqlite: return dir.appendingPathComponent("\(name).sqlite").path
      case .postgres: return try PostgresServer.available()?.newDatabase()
      }
    }
    var lines: [String] = []
    for c in 0..<40 {
      let day = c % 28 + 1
      let t = "2025-10-\(day < 10 ? "0" : "")\(day)T09:00:00+08:00"
      lines.append(
        #"{"event_id":"r\#(c)","case":"C\#(c)","type":"received","at":"\#(t)","actor":"i","received_at":"\#(t)","complainant_id":"P\#(c % 7)","issue_key":"K\#(c % 5)","collective_size":\#(c % 4 + 1)}"#
      )
      if c % 3 == 0 {
        lines.append(
          #"{"event_id":"u\#(c)","case":"C\#(c)","type":"updated","at":"\#(t)","actor":"i","media":"threatened"}"#)
      }
      if c % 4 == 0 {
        lines.append(#"{"event_id":"d\#(c)","case":"C\#(c)","type":"resolved","at":"\#(t)","actor":"i"}"#)
      }
    }
    let events = dir.appendingPathComponent("events.jsonl")
    try lines.joined(separator: "\n").write(to: events, atomically: true, encoding: .utf8)
    guard let whole = try store("whole"), let killed = try store("killed") else { return }
    #expect(try Support.run("ombuds", ["replay", "--store", whole, events.path]).status == 0)
    // Random kill points, from a seed that a failure names so that it can be replayed.
    var seed =
      UInt64(ProcessInfo.processInfo.environment["OMBUDS_KILL_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)
    let firstSeed = seed
    for _ in 0..<6 {
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let point = Int(seed >> 59) + 1  // 1…32: the n-th event still to apply dies before its commit
      let run = try Support.run(
        "ombuds", ["replay", "--store", killed, events.path], environment: ["OMBUDS_FAULT_KILL_AT": "\(point)"])
      // Killed by SIGKILL, or finished when fewer events were left than the point.
      #expect(run.status == 9 || run.status == 0, "seed \(firstSeed), point \(point): \(run.stderr)")
    }
    #expect(try Support.run("ombuds", ["replay", "--store", killed, events.path]).status == 0)
    let a = try Support.run("ombuds", ["cases", "--store", whole]).stdout
    let b = try Support.run("ombuds", ["cases", "--store", killed]).stdout
    #expect(a.split(separator: "\n").count == 40)
    #expect(a == b, "seed \(firstSeed)")
  }
}

/// `ombuds screen` end to end: matches as JSON lines, totals, bad usage.
@Suite struct ScreenCommandTests {
  @Test func screenReportsDisguisedKeywordsAsJSONLinesAndTotals() throws {
    let dir = try Support.temporaryDirectory()
    let file = dir.appendingPathComponent("t.txt")
    // Line 2: a spaced, traditional-character keyword; the exception phrase is not a match.
    try "快递暴力分拣，包裹破损\n有人在群里组织賭 博\n".write(to: file, atomically: true, encoding: .utf8)
    let run = try Support.run("ombuds", ["screen", "--rules", Support.rulesDir, file.path])
    #expect(run.status == 0, "\(run.stderr)")
    let lines = run.stdout.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    #expect(lines.count == 1)
    #expect(lines.first?["category"] as? String == "vice_and_violence")
    #expect(lines.first?["keyword"] as? String == "赌博")
    #expect(lines.first?["line"] as? Int == 2)
    #expect(lines.first?["file"] as? String == file.path)
    let count = try Support.run("ombuds", ["screen", "--rules", Support.rulesDir, "--count", file.path])
    let totals = try #require(try JSONSerialization.jsonObject(with: Data(count.stdout.utf8)) as? [String: Any])
    #expect(totals["matches"] as? Int == 1)
    #expect(totals["bytes"] as? Int == Data("快递暴力分拣，包裹破损\n有人在群里组织賭 博\n".utf8).count)
    // A keyword list instead of the rules.
    let list = dir.appendingPathComponent("k.tsv")
    try "# test list\nrumor\t包裹破损\n".write(to: list, atomically: true, encoding: .utf8)
    let byList = try Support.run("ombuds", ["screen", "--keywords", list.path, file.path])
    #expect(byList.stdout.contains("\"category\":\"rumor\""))
    // Bad usage and bad rules: exit 2.
    #expect(try Support.run("ombuds", ["screen", "--rules", "/nonexistent", file.path]).status == 2)
    #expect(
      try Support.run("ombuds", ["screen", "--rules", Support.rulesDir, "--keywords", list.path, file.path]).status == 2
    )
  }
}

/// `ombuds screen` names the disguise it undid: in JSON, with `--explain`, and with `--match`.
@Suite struct ScreenDisguiseCommandTests {
  @Test func screenNamesTheDisguise() throws {
    let dir = try Support.temporaryDirectory()
    let file = dir.appendingPathComponent("t.txt")
    try "这里有dubo网站\n我的邻居Dubois先生\n".write(to: file, atomically: true, encoding: .utf8)
    let json = try Support.run("ombuds", ["screen", "--rules", Support.rulesDir, file.path])
    #expect(
      json.stdout
        == "{\"file\":\"\(file.path)\",\"line\":1,\"start\":3,\"end\":7,\"category\":\"vice_and_violence\",\"keyword\":\"赌博\",\"disguise\":\"pinyin\"}\n"
    )
    let explain = try Support.run("ombuds", ["screen", "--rules", Support.rulesDir, "--explain", file.path])
    #expect(
      explain.stdout
        == "\(file.path):1:3-7: 「dubo」 is vice_and_violence keyword `赌博`, written disguised (pinyin): characters written in pinyin\n"
    )
    let list = dir.appendingPathComponent("k.tsv")
    try "rumor\t赌博\n".write(to: list, atomically: true, encoding: .utf8)
    #expect(try Support.run("ombuds", ["screen", "--keywords", list.path, file.path]).stdout.isEmpty)
    let withModes = try Support.run("ombuds", ["screen", "--keywords", list.path, "--match", "pinyin", file.path])
    #expect(withModes.stdout.contains("\"disguise\":\"pinyin\""))
    #expect(try Support.run("ombuds", ["screen", "--keywords", list.path, "--match", "pinyn", file.path]).status == 2)
    #expect(
      try Support.run("ombuds", ["screen", "--rules", Support.rulesDir, "--match", "pinyin", file.path]).status == 2)
  }
}

/// `rules-check --test` reports failing and malformed rule tests, and an unreadable path, with
/// positions and codes; exit 1.
@Suite struct RuleTestDiagnosticsTests {
  @Test func failingAndInvalidRuleTestsAndMissingPathsAreDiagnostics() throws {
    let dir = try Support.temporaryDirectory()
    let rules = dir.appendingPathComponent("rules")
    try FileManager.default.copyItem(atPath: Support.rulesDir, toPath: rules.path)
    try """
    now: 2025-10-20T12:00:00+08:00
    tests:
      - note: a deliberately wrong expectation
        case: {id: F1, received_at: 2025-10-20T09:00:00+08:00, collective_size: 10}
        want: {level: hot}

    """.write(to: rules.appendingPathComponent("tests/zz-fail.yaml"), atomically: true, encoding: .utf8)
    try "now: 2025-10-20T12:00:00+08:00\ntests: 7\n".write(
      to: rules.appendingPathComponent("tests/zz-invalid.yaml"), atomically: true, encoding: .utf8)
    let run = try Support.run("rules-check", ["--test", "rules"], in: dir)
    #expect(run.status == 1)
    let out = run.stdout + run.stderr
    #expect(
      out.contains(
        "rules/tests/zz-fail.yaml:3:5: error: test \"a deliberately wrong expectation\" failed: level is `major`, want `hot` [test.failed]"
      ))
    #expect(out.contains("rules/tests/zz-invalid.yaml:1:1: error: a test file needs a `tests:` list [test.invalid]"))
    #expect(out.contains(" passed, 2 failed"))
    let missing = try Support.run("rules-check", ["/nonexistent-ombuds-rules"])
    #expect(missing.status == 1)
    #expect(
      (missing.stdout + missing.stderr).contains(
        "/nonexistent-ombuds-rules:1:1: error: cannot read `/nonexistent-ombuds-rules`: no such file or directory [rules.io]"
      ))
  }
}
