import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsStore
import Testing

/// `ombuds impact`: what a draft rule set would do to the stored cases, read-only.
@Suite(.serialized) struct ImpactTests {
  /// The shipped rules with each `(file, old, new)` replacement made (each must apply).
  static func draft(_ changes: [(String, String, String)]) throws -> (dir: URL, rules: CompiledRules) {
    let dir = try Support.temporaryDirectory().appendingPathComponent("draft")
    let fm = FileManager.default
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    for name in try fm.contentsOfDirectory(atPath: Support.rulesDir) where name.hasSuffix(".yaml") || name == "keywords"
    {
      try fm.copyItem(atPath: Support.rulesDir + "/" + name, toPath: dir.appendingPathComponent(name).path)
    }
    for (file, old, new) in changes {
      let url = dir.appendingPathComponent(file)
      let text = try String(contentsOf: url, encoding: .utf8)
      #expect(text.contains(old), "\(file) holds `\(old)`")
      try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
    }
    let result = RuleSetLoader.load(paths: [dir.path])
    let set = try #require(result.ruleSet, "\(result.diagnostics)")
    return (dir, try CompiledRules(set))
  }

  /// 重大 from 5 people (not 10); compensation up to 1,000 CNY approved by 市场管理部 (not
  /// 500); a complaint without compensation resolved within 48 hours (not 24).
  static let wider: [(String, String, String)] = [
    ("severity.yaml", "collective_size >= 10 ", "collective_size >= 5 "),
    ("refunds.yaml", "up_to: 500 CNY", "up_to: 1000 CNY"),
    ("refunds.yaml", "{above: 500 CNY, approver", "{above: 1000 CNY, approver"),
    ("refunds.yaml", "received_at + 24 hours", "received_at + 48 hours"),
  ]

  static let t0 = "2026-11-02T09:00:00+08:00"
  static let now = Support.time("2026-11-02T12:00:00+08:00")

  /// A (6 people: hot), B (compensation 800 CNY: general manager), C (plain), D (6 people,
  /// resolved and closed with its brief special report), E (12 people: major). All received
  /// on Monday 2 November 2026 at 09:00.
  static func load(_ store: CaseStore) async throws {
    let cases: [(String, [String: JSONValue])] = [
      ("A", ["collective_size": .int(6)]),
      (
        "B",
        [
          "compensation": .object(["amount": .string("800.00"), "currency": .string("CNY")]),
          "materials_complete_at": .string(t0),
        ]
      ),
      ("C", [:]),
      ("D", ["collective_size": .int(6)]),
      ("E", ["collective_size": .int(12)]),
    ]
    for (id, extra) in cases {
      var fields: [String: JSONValue] = ["received_at": .string(t0), "delay_cause": "complainant"]
      fields.merge(extra) { _, new in new }
      try await store.apply(
        CaseEvent(
          eventID: "\(id)-1", caseID: id, kind: .received, at: Support.time(t0), actor: "intake_staff", fields: fields))
    }
    let t1 = Support.time(t0) + 3_600_000
    try await store.apply(
      CaseEvent(eventID: "D-2", caseID: "D", kind: .resolved, at: t1, actor: "customer_service_center"))
    try await store.apply(
      CaseEvent(
        eventID: "D-3", caseID: "D", kind: .closed, at: t1 + 1, actor: "customer_service_center",
        fields: [
          "reports": .array([.object(["report": .string("brief_special"), "parts": .array([.string("course")])])])
        ]))
  }

  @Test(arguments: StoreKind.allCases)
  func everyKindOfChangeIsCountedAndEachChangedCaseListed(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { f in
      try await Self.load(f.store)
      let draft = try Self.draft(Self.wider).rules
      let impact = try await f.store.impact(of: draft, at: Self.now)
      #expect(impact.cases == 5 && impact.openCases == 4 && impact.refusedByDraft == 0)
      #expect(impact.current.ruleSet == f.store.rules.contentHash && impact.draft.ruleSet == draft.contentHash)
      #expect(
        impact.levels == [
          .init(from: "hot", to: "major", cases: 2), .init(from: "major", to: "major", cases: 1),
          .init(from: "ordinary", to: "ordinary", cases: 2),
        ])
      #expect(impact.ruleLevels == impact.levels && impact.heldByRatchet == 0)
      #expect(impact.approvers == [.init(from: "general_manager", to: "market_management", cases: 1)])
      // resolve_by of A, C and E (open, unresolved, no compensation) one day later; D is closed.
      var shift = Impact.DeadlineShift(deadline: "resolve_by")
      shift.later = 3
      shift.smallest = 86_400_000
      shift.largest = 86_400_000
      #expect(impact.deadlines == [shift])
      #expect(
        impact.noticesAdded.map(\.what) == [
          "on a change of litigation, media, collective_size, delay_cause, compensation at `major`: notify customer_service_center with the `progress` report",
          "on closing at `major`: notify leadership with the `detailed_special` report",
          "on entering `major`: notify customer_service_center, admin_pr, leadership (immediately)",
          "on entering `major`: notify emergency_group (immediately)",
          "while open at `major`: notify customer_service_center every 1 week with the `progress` report",
        ])
      #expect(impact.noticesAdded.allSatisfy { $0.cases == 1 })
      #expect(
        impact.noticesRemoved == [
          .init(what: "on closing at `hot`: notify leadership with the `brief_special` report", cases: 1)
        ])
      #expect(
        impact.gatesAdded == [
          .init(what: "`carry_out` needs the approval of `market_management` for the compensation", cases: 1),
          .init(what: "`close` needs the `detailed_special` report", cases: 1),
        ])
      #expect(
        impact.gatesRemoved == [
          .init(what: "`carry_out` needs the approval of `general_manager` for the compensation", cases: 1),
          .init(what: "`close` needs the `brief_special` report", cases: 1),
        ])
      #expect(impact.changedTotal == 5 && impact.changed.map(\.id) == ["A", "B", "C", "D", "E"])
      let byID = Dictionary(uniqueKeysWithValues: impact.changed.map { ($0.id, $0) })
      #expect(
        byID["C"]?.changes == [
          "deadline `resolve_by` 2026-11-03T09:00:00+08:00 → 2026-11-04T09:00:00+08:00 (+1d)"
        ])
      #expect(byID["D"]?.changes == ["level `hot` → `major`"] && byID["D"]?.state == "closed")
      #expect(
        byID["B"]?.changes == [
          "refund approver `general_manager` → `market_management`",
          "+ gate: `carry_out` needs the approval of `market_management` for the compensation",
          "− gate: `carry_out` needs the approval of `general_manager` for the compensation",
        ])
      #expect(byID["A"]?.changes.first == "level `hot` → `major`")
      // Both decisions, with their reasons and the rule lines that made them.
      let a = try #require(byID["A"])
      #expect(a.currentJSON.contains(#""level":"hot","reasons":[{"level":"hot","condition":"collective_size >= 3""#))
      #expect(a.draftJSON.contains(#""level":"major","reasons":[{"level":"major","condition":"collective_size >= 5""#))
      #expect(a.draftJSON.contains("severity.yaml:9:9"))

      // The list can be cut; the total still counts every changed case.
      let cut = try await f.store.impact(of: draft, at: Self.now, listLimit: 2)
      #expect(cut.changed.map(\.id) == ["A", "B"] && cut.changedTotal == 5)
      // Nothing was written: the same cases, levels and versions, no new decision.
      let after = try await f.store.cases()
      #expect(after.map(\.level) == ["hot", "ordinary", "ordinary", "hot", "major"])
      #expect(after.map(\.version) == [1, 1, 1, 3, 1])
      #expect(try await f.store.timeline(of: "A").filter { $0.kind == .decision }.count == 1)
    }
  }

  @Test(arguments: StoreKind.allCases)
  func aStricterDraftShowsTheRulesOwnLevelsBesideTheRatchet(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { f in
      try await Self.load(f.store)
      let draft = try Self.draft([("severity.yaml", "collective_size >= 3 ", "collective_size >= 7 ")]).rules
      let impact = try await f.store.impact(of: draft, at: Self.now)
      // A and D (6 people) stay 热点: levels never fall on their own.
      #expect(impact.levels.contains(.init(from: "hot", to: "hot", cases: 2)))
      #expect(impact.ruleLevels.contains(.init(from: "hot", to: "ordinary", cases: 2)))
      #expect(impact.heldByRatchet == 2 && impact.changedTotal == 0)
    }
  }

  @Test func aDraftThatCannotReadACaseSaysWhy() async throws {
    try await StoreFixture.run(.sqlite) { f in
      try await Self.load(f.store)
      let draft = try Self.draft([
        ("fields.yaml", "type: integer\n    min: 1\n    default: 1", "type: integer\n    min: 7\n    default: 7")
      ]).rules
      let impact = try await f.store.impact(of: draft, at: Self.now)
      #expect(impact.refusedByDraft == 2)
      #expect(impact.levels.contains(.init(from: "hot", to: nil, cases: 2)))
      let a = try #require(impact.changed.first { $0.id == "A" })
      #expect(a.changes.count == 1 && a.changes[0].hasPrefix("the draft rules refuse the case: "))
      #expect(a.changes[0].contains("collective_size"))
      #expect(a.draftJSON == "null")
    }
  }

  @Test(arguments: StoreKind.allCases)
  func replayingTheEventsComparesEachEvent(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { f in
      try await Self.load(f.store)
      let draft = try Self.draft(Self.wider).rules
      let replay = try await f.store.replayImpact(of: draft)
      #expect(replay.events == 7)
      // A's receipt, D's receipt and D's resolution end at major; D's closing with the brief
      // special report is refused: a major case needs the detailed one.
      #expect(replay.levelDiffers == 3 && replay.refusedByDraft == 1 && replay.refusedByCurrentOnly == 0)
      #expect(replay.casesDiffering == 2)
      #expect(replay.firstDifferences.map(\.eventID) == ["A-1", "D-1"])
      #expect(replay.firstDifferences.map(\.current) == ["hot", "hot"])
      #expect(replay.firstDifferences.map(\.draft) == ["major", "major"])
      #expect(replay.noticesAdded.contains { $0.what.hasSuffix("→ emergency_group") && $0.cases == 2 })
      #expect(replay.noticesRemoved.contains { $0.what.hasPrefix("report close/hot/") && $0.cases == 1 })
      // The store itself is untouched.
      #expect(try await f.store.cases().map(\.version) == [1, 1, 1, 3, 1])
    }
  }

  /// The real `ombuds impact` on a SQLite store: opened for reading only, its file unchanged.
  @Test func theCommandWritesNothing() async throws {
    let dir = try Support.temporaryDirectory()
    let path = dir.appendingPathComponent("store.sqlite").path
    do {
      let store = try await CaseStore(path: path, rules: try Support.defaultRules())
      try await Self.load(store)
    }
    let draft = try Self.draft(Self.wider).dir.path
    // The database file and its write-ahead log, byte for byte (SQLite may create an empty
    // log when it opens a store for reading: no byte written is the same as none).
    func digest() -> [Data] { [path, path + "-wal"].map { FileManager.default.contents(atPath: $0) ?? Data() } }
    let before = digest()
    let now = "--now=2026-11-02T12:00:00+08:00"
    let text = try Support.run("ombuds", ["impact", "--store", path, "--rules", draft, now])
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.stdout.contains("at 2026-11-02T12:00:00+08:00: 5 cases (4 open), 5 would change"))
    #expect(text.stdout.contains("  resolve_by: 3 later (+1d)"))
    #expect(text.stdout.contains("  general_manager → market_management: 1"))
    let json = try Support.run(
      "ombuds", ["impact", "--store", path, "--rules", draft, now, "--format", "json", "--at", "events"])
    #expect(json.status == 0, "\(json.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(object["changed_cases"] as? Int == 5)
    #expect((object["cases_listed"] as? [[String: Any]])?.count == 5)
    #expect((object["events"] as? [String: Any])?["refused_by_draft"] as? Int == 1)
    let html = try Support.run(
      "ombuds", ["impact", "--store", path, "--rules", draft, now, "--format", "html", "--cases", "1"])
    #expect(html.status == 0)
    #expect(html.stdout.contains(#"<td data-from="hot" data-to="major" class="d">2</td>"#))
    #expect(html.stdout.contains(#"<article data-case="A">"#) && !html.stdout.contains(#"data-case="B""#))
    #expect(digest() == before)

    // A store that is not there is not created.
    let missing = dir.appendingPathComponent("missing.sqlite").path
    let refused = try Support.run("ombuds", ["impact", "--store", missing, "--rules", draft])
    #expect(refused.status == 2 && refused.stderr.contains("cannot open `\(missing)`: no such store"))
    #expect(!FileManager.default.fileExists(atPath: missing))
  }
}
