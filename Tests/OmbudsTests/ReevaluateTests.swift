import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsStore
import Testing

/// A rule change reaches the cases in flight by decision (`ombuds reevaluate`, `ombuds serve
/// --on-reload reevaluate`), not by accident.
@Suite(.serialized) struct ReevaluateTests {
  /// The shipped rules with the collective-complaint threshold of 热点 changed from 3 to `n`.
  static func rules(hotFrom n: Int) throws -> (dir: URL, rules: CompiledRules) {
    let dir = try Support.temporaryDirectory().appendingPathComponent("rules")
    let fm = FileManager.default
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    for name in try fm.contentsOfDirectory(atPath: Support.rulesDir) where name.hasSuffix(".yaml") || name == "keywords"
    {
      try fm.copyItem(atPath: Support.rulesDir + "/" + name, toPath: dir.appendingPathComponent(name).path)
    }
    let severity = dir.appendingPathComponent("severity.yaml")
    let text = try String(contentsOf: severity, encoding: .utf8)
    #expect(text.contains("collective_size >= 3 "))
    try text.replacingOccurrences(of: "collective_size >= 3 ", with: "collective_size >= \(n) ").write(
      to: severity, atomically: true, encoding: .utf8)
    let result = RuleSetLoader.load(paths: [dir.path])
    let set = try #require(result.ruleSet, "\(result.diagnostics)")
    return (dir, try CompiledRules(set))
  }

  static let t0 = "2026-11-02T09:00:00+08:00"

  /// A (2 people, ordinary), B (3 people, hot), C (2 people, closed).
  static func load(_ store: CaseStore) async throws {
    for (id, size) in [("A", 2), ("B", 3), ("C", 2)] {
      try await store.apply(
        CaseEvent(
          eventID: "\(id)-1", caseID: id, kind: .received, at: Support.time(t0), actor: "intake_staff",
          fields: ["received_at": .string(t0), "collective_size": .int(Int64(size)), "delay_cause": "complainant"]))
    }
    let t1 = Support.time(t0) + 3_600_000
    for (i, kind) in [CaseEvent.Kind.resolved, .closed].enumerated() {
      try await store.apply(
        CaseEvent(eventID: "C-\(i + 2)", caseID: "C", kind: kind, at: t1 + Int64(i), actor: "customer_service_center"))
    }
  }

  func decisions(_ store: CaseStore, _ id: String) async throws -> [TimelineEntry] {
    try await store.timeline(of: id).filter { $0.kind == .decision }
  }

  @Test(arguments: StoreKind.allCases)
  func everyOpenCaseGetsOneDecisionNamingBothRuleSets(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { f in
      try await Self.load(f.store)
      let old = f.store.rules.contentHash
      let lower = try Self.rules(hotFrom: 2).rules
      #expect(lower.contentHash != old)
      let store = try await CaseStore(backend: f.store.backend, rules: lower)
      let before = try await decisions(store, "A").count
      let closedBefore = try await decisions(store, "C").count
      let at = Support.time("2026-11-02T12:00:00+08:00")
      let summary = try await store.reevaluateOpen(at: at, batch: 1)
      // A and B are open (batches of one: two transactions); C is closed and left alone.
      #expect(summary.cases == 2)
      #expect(summary.levelChanges == [.init(caseID: "A", from: "ordinary", to: "hot")])
      #expect(summary.previousRuleSets == [old: 2])
      let a = try await decisions(store, "A")
      #expect(a.count == before + 1)
      #expect(a.last?.level == "hot" && a.last?.ruleSet == lower.contentHash && a.last?.previousRuleSet == old)
      #expect(a.last?.eventID == nil && a.last?.at == at)
      #expect(a.dropLast().allSatisfy { $0.previousRuleSet == nil })
      let b = try await decisions(store, "B")
      #expect(b.last?.level == "hot" && b.last?.previousRuleSet == old)
      #expect(try await decisions(store, "C").count == closedBefore)
      #expect(try await store.cases().first { $0.id == "A" }?.level == "hot")

      // Back to a higher threshold: levels never fall on their own; again one decision each.
      let higher = try Self.rules(hotFrom: 5).rules
      let again = try await CaseStore(backend: f.store.backend, rules: higher).reevaluateOpen(at: at + 1)
      #expect(again.cases == 2 && again.levelChanges.isEmpty)
      #expect(again.previousRuleSets == [lower.contentHash: 2])
      let last = try #require(try await decisions(store, "A").last)
      #expect(last.level == "hot" && last.ruleSet == higher.contentHash && last.previousRuleSet == lower.contentHash)
    }
  }

  @Test func theCommandReportsWhatItDid() async throws {
    let path = try Support.temporaryDirectory().appendingPathComponent("r.sqlite").path
    let store = try await CaseStore(path: path, rules: try Support.defaultRules())
    try await Self.load(store)
    let (dir, lower) = try Self.rules(hotFrom: 2)
    let run = try Support.run(
      "ombuds", ["reevaluate", "--store", path, "--rules", dir.path, "--now", "2026-11-02T12:00:00+08:00"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(
      run.stdout
        == "{\"rule_set\":\"\(lower.contentHash)\",\"reevaluated\":2,\"level_changes\":[{\"case\":\"A\",\"from\":\"ordinary\",\"to\":\"hot\"}],\"previous_rule_sets\":{\"\(store.rules.contentHash)\":2}}\n"
    )
    let bad = try Support.run("ombuds", ["reevaluate", "--store", path, "--now", "tomorrow"])
    #expect(bad.status == 2 && bad.stderr.contains("--now `tomorrow` is not an RFC 3339 timestamp"))
  }

  @Test func serveReevaluatesOnReloadWhenAskedTo() async throws {
    let (dir, _) = try Self.rules(hotFrom: 3)
    let path = try Support.temporaryDirectory().appendingPathComponent("s.sqlite").path
    let store = try await CaseStore(path: path, rules: try Support.defaultRules())
    try await Self.load(store)
    let s = try await LiveServer(store: path, rulesDir: dir.path, extra: ["--on-reload", "reevaluate"])
    let severity = dir.appendingPathComponent("severity.yaml")
    let text = try String(contentsOf: severity, encoding: .utf8)
    try text.replacingOccurrences(of: "collective_size >= 3 ", with: "collective_size >= 2 ").write(
      to: severity, atomically: true, encoding: .utf8)
    #expect(await s.log.contains("open cases re-evaluated under the new rules"))
    #expect(await s.log.contains("\"cases\":\"2\""))
    let token = try s.token(role: "customer_service_center", name: "王芳")
    let a = try await s.call(.GET, "/v1/cases/A", token: token)
    #expect(a.json?["level"] as? String == "hot")
    let timeline = try #require(a.json?["timeline"] as? [[String: Any]])
    let last = try #require(timeline.last { $0["kind"] as? String == "decision" })
    #expect(last["previous_rule_set"] as? String == store.rules.contentHash)
    await s.stop()
  }
}
