import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsStore
import OmbudsSyntax
import Testing

/// Which backend a store test runs on: every scenario runs on both.
enum StoreKind: String, CaseIterable, Sendable {
  case sqlite, postgres
}

/// Runs store backends' background work (PostgreSQL: their connection pools) for as long as a
/// test runs, in a task group: `start` adds one, and all are cancelled when the test ends.
final class BackendRunner: Sendable {
  let continuation: AsyncStream<any StoreBackend>.Continuation

  init(_ continuation: AsyncStream<any StoreBackend>.Continuation) { self.continuation = continuation }

  func start(_ backend: any StoreBackend) {
    if backend.needsRunning { continuation.yield(backend) }
  }

  /// A store on `backend`, its background work started first.
  func store(_ backend: any StoreBackend, rules: CompiledRules) async throws -> CaseStore {
    start(backend)
    return try await CaseStore(backend: backend, rules: rules)
  }

  /// A store on the PostgreSQL database at `url`.
  func store(url: String, rules: CompiledRules) async throws -> CaseStore {
    try await store(try PostgresBackend(url: url), rules: rules)
  }

  /// Runs `body` with a runner; the backends it started stop when `body` ends.
  static func run<T: Sendable>(_ body: (BackendRunner) async throws -> T) async throws -> T {
    let (stream, continuation) = AsyncStream.makeStream(of: (any StoreBackend).self)
    let runner = BackendRunner(continuation)
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        await withDiscardingTaskGroup { running in
          for await backend in stream { running.addTask { try? await backend.run() } }
        }
      }
      defer {
        continuation.finish()
        group.cancelAll()
      }
      return try await body(runner)
    }
  }
}

/// A fresh, empty store of one kind (a new SQLite file, or a new database on the throwaway
/// PostgreSQL cluster).
struct StoreFixture: Sendable {
  let rules: CompiledRules
  let dir: URL
  let store: CaseStore
  let kind: StoreKind
  let runner: BackendRunner

  /// Runs `body` with a fresh store of `kind`; does nothing when PostgreSQL is not installed
  /// and this is not CI.
  static func run(
    _ kind: StoreKind, rules: CompiledRules? = nil, _ body: (StoreFixture) async throws -> Void
  ) async throws {
    let rules = try rules ?? Support.defaultRules()
    if kind == .postgres, try PostgresServer.available() == nil { return }
    try await BackendRunner.run { (runner) async throws in
      let dir = try Support.temporaryDirectory()
      let store: CaseStore
      switch kind {
      case .sqlite:
        store = try await CaseStore(path: dir.appendingPathComponent("test.sqlite").path, rules: rules)
      case .postgres:
        let server = try #require(try PostgresServer.available())
        store = try await runner.store(url: try server.newDatabase(), rules: rules)
      }
      try await body(StoreFixture(rules: rules, dir: dir, store: store, kind: kind, runner: runner))
    }
  }

  /// Another empty store of the same kind.
  func another() async throws -> CaseStore {
    switch kind {
    case .sqlite:
      try await CaseStore(path: dir.appendingPathComponent("other-\(UUID().uuidString).sqlite").path, rules: rules)
    case .postgres:
      try await runner.store(url: try #require(try PostgresServer.available()).newDatabase(), rules: rules)
    }
  }

  func level(_ id: String) async throws -> String? { try await store.cases().first { $0.id == id }?.level }
}

/// The case store, on SQLite and on PostgreSQL: the lifecycle, the ratchet, idempotency,
/// concurrency, the outbox. Serialized: the PostgreSQL tests share one server.
@Suite(.serialized) struct StoreTests {
  func event(
    _ id: String, _ c: String, _ kind: CaseEvent.Kind, _ at: String, actor: String = "intake",
    _ fields: [String: Any] = [:], expected: Int? = nil
  ) -> CaseEvent {
    CaseEvent(
      eventID: id, caseID: c, kind: kind, at: Support.time(at), actor: actor, fields: fields, expectedVersion: expected)
  }

  @Test(arguments: StoreKind.allCases) func levelsRatchetAndOnlyAnOverrideMovesDown(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(event("e1", "C", .received, t, ["received_at": t, "collective_size": 3]))
      #expect(try await f.level("C") == "hot")
      // Fewer people later: the level does not fall on its own.
      try await store.apply(event("e2", "C", .updated, "2025-10-01T10:00:00+08:00", ["collective_size": 1]))
      #expect(try await f.level("C") == "hot")
      await #expect(throws: StoreError.self) {
        try await store.apply(
          event(
            "e3", "C", .override, "2025-10-01T11:00:00+08:00", actor: "clerk", ["level": "ordinary", "reason": "x"]))
      }
      try await store.apply(
        event(
          "e4", "C", .override, "2025-10-01T11:00:00+08:00", actor: "customer_service_center",
          ["level": "ordinary", "reason": "not a collective complaint after all"]))
      #expect(try await f.level("C") == "ordinary")
    }
  }

  @Test(arguments: StoreKind.allCases) func anEventIdAppliedTwiceIsANoOp(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      let e = event("e1", "C", .received, t, ["received_at": t])
      #expect(try await store.apply(e) == .applied(version: 1, level: "ordinary"))
      #expect(try await store.apply(e) == .duplicate)
      #expect(try await store.cases().count == 1)
    }
  }

  @Test(arguments: StoreKind.allCases) func aStaleVersionIsAConflict(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(event("e1", "C", .received, t, ["received_at": t]))
      try await store.apply(event("e2", "C", .updated, t, ["collective_size": 2], expected: 1))
      await #expect(throws: StoreError.conflict(case: "C", expected: 1, actual: 2)) {
        try await store.apply(event("e3", "C", .updated, t, ["collective_size": 5], expected: 1))
      }
    }
  }

  @Test(arguments: StoreKind.allCases) func eightConcurrentWritersLoseNoUpdate(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(event("e0", "C", .received, t, ["received_at": t]))
      let perWriter = 5
      await withTaskGroup(of: Void.self) { group in
        for w in 0..<8 {
          group.addTask {
            for k in 0..<perWriter {
              while true {
                let version = (try? await store.cases().first { $0.id == "C" }?.version) ?? 0
                let e = CaseEvent(
                  eventID: "w\(w)-\(k)", caseID: "C", kind: .updated, at: Support.time(t), actor: "w\(w)",
                  fields: ["collective_size": 1 + (w + k) % 2], expectedVersion: version)
                do {
                  try await store.apply(e)
                  break
                } catch StoreError.conflict {
                  continue  // someone else wrote first: read again and retry
                } catch {
                  Issue.record("writer \(w): \(error)")
                  return
                }
              }
            }
          }
        }
      }
      #expect(try await store.cases().first?.version == 1 + 8 * perWriter)
    }
  }

  /// Who may override a level is the rules' `settings.override_by`, not a name in the code.
  @Test func theOverrideRoleComesFromTheRules() async throws {
    let yaml = """
      settings: {override_by: service_desk}
      fields:
        collective_size: {type: integer, min: 1, default: 1}
      levels:
        major: {any: [collective_size >= 10]}
        ordinary: {otherwise: true}
      roles:
        service_desk: {label: 服务台}
        customer_service_center: {label: 客服中心}
      calendars:
        cn: {time_zone: Asia/Shanghai, weekend: [saturday, sunday]}
      """
    let rules = try Support.compile(yaml)
    let dir = try Support.temporaryDirectory()
    let store = try await CaseStore(path: dir.appendingPathComponent("s.sqlite").path, rules: rules)
    let t = "2025-10-01T09:00:00+08:00"
    try await store.apply(event("e1", "C", .received, t, ["received_at": t, "collective_size": 12]))
    await #expect(
      throws: StoreError.forbidden("case `C`: only `service_desk` may set a level (actor is `customer_service_center`)")
    ) {
      try await store.apply(
        event(
          "e2", "C", .override, t, actor: "customer_service_center", ["level": "ordinary", "reason": "误报"]))
    }
    try await store.apply(event("e3", "C", .override, t, actor: "service_desk", ["level": "ordinary", "reason": "误报"]))
    #expect(try await store.cases().first?.level == "ordinary")
    // A rule set naming no such role allows no overrides, and an undefined one is an error.
    let none = try Support.compile(yaml.replacingOccurrences(of: "settings: {override_by: service_desk}\n", with: ""))
    let other = try await CaseStore(path: dir.appendingPathComponent("o.sqlite").path, rules: none)
    try await other.apply(event("e1", "C", .received, t, ["received_at": t]))
    await #expect(throws: StoreError.self) {
      try await other.apply(event("e2", "C", .override, t, actor: "service_desk", ["level": "major", "reason": "x"]))
    }
    let bad = RuleSetLoader.check(sources: [
      SourceFile(
        path: "x.yaml", text: yaml.replacingOccurrences(of: "override_by: service_desk", with: "override_by: desk"))
    ])
    #expect(
      bad.diagnostics.contains { $0.code == "rules.undefined-role" && $0.message == "undefined override role `desk`" })
  }

  /// Eight instances, each with its own connection to one PostgreSQL database: the same new
  /// case, the same event id, updates of one case and one issue's complainants, all at once.
  @Test func eightInstancesOnOnePostgreSQLDatabaseLoseNothing() async throws {
    guard let server = try PostgresServer.available() else { return }
    let url = try server.newDatabase()
    let rules = try Support.defaultRules()
    try await BackendRunner.run { (runner) async throws in
      var opened: [CaseStore] = []
      for _ in 0..<8 { opened.append(try await runner.store(url: url, rules: rules)) }
      let stores = opened
      let t = "2025-10-01T09:00:00+08:00"
      // The same new case from eight instances, under eight event ids: one wins, seven are told.
      let outcomes = await withTaskGroup(of: String.self) { group in
        for w in 0..<8 {
          group.addTask {
            do {
              try await stores[w].apply(event("n\(w)", "N", .received, t, ["received_at": t]))
              return "applied"
            } catch StoreError.caseExists("N") {
              return "exists"
            } catch {
              Issue.record("instance \(w): \(error)")
              return "error"
            }
          }
        }
        return await group.reduce(into: [String]()) { $0.append($1) }
      }
      let applied = outcomes.filter { $0 == "applied" }.count
      let exists = outcomes.filter { $0 == "exists" }.count
      #expect(applied == 1 && exists == 7)
      // The same event id from eight instances: applied once, a no-op seven times.
      await withTaskGroup(of: Void.self) { group in
        for w in 0..<8 {
          group.addTask {
            do {
              try await stores[w].apply(event("same", "N", .updated, t, ["collective_size": 2]))
            } catch {
              Issue.record("instance \(w): \(error)")
            }
          }
        }
      }
      #expect(try await stores[0].cases().first { $0.id == "N" }?.version == 2)
      // Updates with versions from eight instances: none lost.
      await withTaskGroup(of: Void.self) { group in
        for w in 0..<8 {
          group.addTask {
            for k in 0..<4 {
              while true {
                let version = (try? await stores[w].cases().first { $0.id == "N" }?.version) ?? 0
                do {
                  try await stores[w].apply(
                    CaseEvent(
                      eventID: "u\(w)-\(k)", caseID: "N", kind: .updated, at: Support.time(t), actor: "w\(w)",
                      fields: ["collective_size": 1 + (w + k) % 2], expectedVersion: version))
                  break
                } catch StoreError.conflict {
                  continue
                } catch {
                  Issue.record("instance \(w): \(error)")
                  return
                }
              }
            }
          }
        }
      }
      #expect(try await stores[0].cases().first { $0.id == "N" }?.version == 2 + 8 * 4)
      // Three complainants of one issue received at once on three instances: all hot.
      await withTaskGroup(of: Void.self) { group in
        for w in 0..<3 {
          group.addTask {
            do {
              try await stores[w].apply(
                event("i\(w)", "I\(w)", .received, t, ["received_at": t, "complainant_id": "P\(w)", "issue_key": "K"]))
            } catch {
              Issue.record("instance \(w): \(error)")
            }
          }
        }
      }
      #expect(try await stores[0].cases().filter { $0.id.hasPrefix("I") }.map(\.level) == ["hot", "hot", "hot"])
    }
  }

  @Test(arguments: StoreKind.allCases) func closingAMajorCaseNeedsTheDetailedReportWithAllParts(_ kind: StoreKind)
    async throws
  {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(event("e1", "C", .received, t, ["received_at": t, "media": "exposed"]))
      await #expect(throws: StoreError.illegalTransition(case: "C", state: "received", event: "closed")) {
        try await store.apply(event("e0", "C", .closed, "2025-10-05T09:00:00+08:00", ["reports": []]))
      }
      try await store.apply(event("e1b", "C", .resolved, "2025-10-04T09:00:00+08:00"))
      await #expect(
        throws: StoreError.gate(
          case: "C", transition: "close", missing: "the `detailed_special` report (required at level major)")
      ) {
        try await store.apply(event("e2", "C", .closed, "2025-10-05T09:00:00+08:00", ["reports": []]))
      }
      await #expect(
        throws: StoreError.gate(
          case: "C", transition: "close", missing: "parts prevention of the `detailed_special` report")
      ) {
        try await store.apply(
          event(
            "e3", "C", .closed, "2025-10-05T09:00:00+08:00",
            ["reports": [["report": "detailed_special", "parts": ["course", "causes"]]]]))
      }
      try await store.apply(
        event(
          "e4", "C", .closed, "2025-10-05T09:00:00+08:00",
          ["reports": [["report": "detailed_special", "parts": ["course", "causes", "prevention"]]]]))
      #expect(try await store.cases().first?.state == "closed")
      #expect(try await store.outbox().contains { $0.key == "C/close/major/0/1/leadership/log" })
    }
  }

  @Test(arguments: StoreKind.allCases) func aThirdComplainantMakesEveryCaseOfTheIssueHot(_ kind: StoreKind) async throws
  {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      for (i, day) in ["01", "10", "20"].enumerated() {
        let t = "2025-10-\(day)T09:00:00+08:00"
        try await store.apply(
          event(
            "e\(i)", "C\(i)", .received, t,
            ["received_at": t, "complainant_id": "P\(i)", "issue_key": "K", "delay_cause": "none"]))
      }
      #expect(try await store.cases().map(\.level) == ["hot", "hot", "hot"])
    }
  }

  @Test(arguments: StoreKind.allCases) func aCaseTurnsHotExactlyWhenItTurnsOneWeekOld(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(
        event("e1", "C", .received, t, ["received_at": t, "compensation": ["amount": "50.00", "currency": "CNY"]]))
      #expect(Support.format(try await store.cases().first?.nextReviewAt) == "2025-10-08T09:00:00+08:00")
      #expect(try await store.runDue(at: Support.time("2025-10-08T08:59:59+08:00")) == 0)
      #expect(try await f.level("C") == "ordinary")
      #expect(try await store.runDue(at: Support.time("2025-10-08T09:00:00+08:00")) == 1)
      #expect(try await f.level("C") == "hot")
      #expect(Support.format(try await store.cases().first?.nextReviewAt) == "2025-11-01T09:00:00+08:00")
    }
  }

  @Test(arguments: StoreKind.allCases) func anOpenMajorCaseIsReportedWeekly(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(event("e1", "C", .received, t, ["received_at": t, "litigation": "filed"]))
      // Tick every day for a month.
      for day in 2...31 {
        let d = day < 10 ? "0\(day)" : "\(day)"
        try await store.runDue(at: Support.time("2025-10-\(d)T12:00:00+08:00"))
      }
      let repeats = try await store.outbox().filter { $0.key.hasPrefix("C/repeat/") }.map { Support.format($0.dueAt) }
      // Weekly from receipt; non-urgent, so the one falling on 8 October (National Day) waits
      // for the next working day's office hours.
      #expect(
        repeats == [
          "2025-10-09T09:00:00+08:00", "2025-10-15T09:00:00+08:00", "2025-10-22T09:00:00+08:00",
          "2025-10-29T09:00:00+08:00",
        ])
    }
  }

  @Test(arguments: StoreKind.allCases) func theComplainantsIdentityIsKeptApart(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(event("e1", "C", .received, t, ["received_at": t, "complainant_id": "张三-13800000000"]))
      let c = try #require(try await store.cases().first)
      #expect(!c.snapshotJSON.contains("张三"))
      #expect(!(c.decisionJSON ?? "").contains("张三"))
      #expect(try await store.cases(includeConfidential: true).first?.snapshotJSON.contains("张三") == true)
    }
  }

  @Test(arguments: StoreKind.allCases) func rerunningAnInterruptedImportEndsInTheSameState(_ kind: StoreKind)
    async throws
  {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let events = (0..<30).map { i -> CaseEvent in
        let t = "2025-10-\(i % 28 + 1 < 10 ? "0" : "")\(i % 28 + 1)T09:00:00+08:00"
        return i % 3 == 2
          ? event("e\(i)", "C\(i - 1)", .updated, t, ["collective_size": 4])
          : event(
            "e\(i)", "C\(i)", .received, t, ["received_at": t, "issue_key": "K\(i % 4)", "complainant_id": "P\(i)"])
      }
      for e in events { _ = try? await store.apply(e) }
      let whole = try await store.cases().map { "\($0.id) \($0.level) \($0.version) \($0.snapshotJSON)" }
      // A second store: stopped after 11 events, then the whole import run again.
      let other = try await f.another()
      for e in events.prefix(11) { _ = try? await other.apply(e) }
      for e in events { _ = try? await other.apply(e) }
      #expect(try await other.cases().map { "\($0.id) \($0.level) \($0.version) \($0.snapshotJSON)" } == whole)
    }
  }

  @Test(arguments: StoreKind.allCases) func theLifecycleRefusesIllegalMovesAndNamesThem(_ kind: StoreKind) async throws
  {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(
        event("e1", "C", .received, t, ["received_at": t, "respondent": "staff-7", "channel": "phone"]))
      try await store.apply(event("e2", "C", .register, t))
      await #expect(throws: StoreError.illegalTransition(case: "C", state: "registered", event: "propose")) {
        try await store.apply(event("e3", "C", .propose, t))
      }
      try await store.apply(event("e4", "C", .accept, t))
      await #expect(
        throws: StoreError.forbidden("case `C`: the assignee is the person complained about and must recuse (回避)")
      ) {
        try await store.apply(event("e5", "C", .assign, t, ["assignee": "staff-7"]))
      }
      for (i, step) in [CaseEvent.Kind.assign, .investigate, .propose, .approve, .carryOut, .reply, .followUp]
        .enumerated()
      {
        try await store.apply(event("s\(i)", "C", step, t, step == .assign ? ["assignee": "staff-9"] : [:]))
      }
      try await store.apply(event("e6", "C", .closed, t, ["reports": []]))
      let c = try #require(try await store.cases().first)
      #expect(c.stage == "closed" && c.state == "closed")
      try await store.apply(event("e7", "C", .reopened, "2025-10-05T09:00:00+08:00"))
      #expect(try await store.cases().first?.stage == "accepted")
      #expect(try await store.cases().first?.snapshotJSON.contains("\"reopened_after_resolution\":true") == true)
    }
  }

  @Test(arguments: StoreKind.allCases) func compensationNeedsItsTiersApproverAndOnlineRepliesTheCenters(
    _ kind: StoreKind
  ) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(
        event(
          "e1", "C", .received, t,
          ["received_at": t, "channel": "web", "compensation": ["amount": "650.00", "currency": "CNY"]]))
      for (i, step) in [CaseEvent.Kind.register, .accept, .assign, .investigate, .propose].enumerated() {
        try await store.apply(event("s\(i)", "C", step, t, step == .assign ? ["assignee": "a"] : [:]))
      }
      try await store.apply(event("e2", "C", .approve, t, actor: "market_management"))
      await #expect(
        throws: StoreError.gate(
          case: "C", transition: "carry_out", missing: "the approval of `general_manager` for the compensation")
      ) {
        try await store.apply(event("e3", "C", .carryOut, t))
      }
      try await store.apply(event("e4", "C", .approve, t, actor: "general_manager"))
      try await store.apply(event("e5", "C", .carryOut, t))
      await #expect(
        throws: StoreError.gate(
          case: "C", transition: "reply",
          missing: "the approval of the reply by `customer_service_center` (approve_reply)")
      ) {
        try await store.apply(event("e6", "C", .reply, t))
      }
      await #expect(throws: StoreError.self) {
        try await store.apply(event("e7", "C", .approveReply, t, actor: "clerk"))
      }
      try await store.apply(event("e8", "C", .approveReply, t, actor: "customer_service_center"))
      try await store.apply(event("e9", "C", .reply, t))
      #expect(try await store.cases().first?.stage == "replied")
    }
  }

  @Test(arguments: StoreKind.allCases) func aDeadlineExtendsOnlyWithAReasonAndWithinItsCap(_ kind: StoreKind)
    async throws
  {
    let transport = Support.root.appendingPathComponent("rules/examples/passenger_transport").path
    let rules = try CompiledRules(try #require(RuleSetLoader.load(paths: [transport]).ruleSet))
    try await StoreFixture.run(kind, rules: rules) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(
        CaseEvent(
          eventID: "e1", caseID: "C", kind: .received, at: Support.time(t), actor: "a", fields: ["received_at": t]))
      func extend(_ id: String, _ until: String, _ reason: String) async throws {
        try await store.apply(
          CaseEvent(
            eventID: id, caseID: "C", kind: .extend, at: Support.time(t), actor: "a",
            fields: ["deadline": "reply_by", "until": until, "reason": reason]))
      }
      await #expect(throws: StoreError.self) { try await extend("e2", "2025-11-20T09:00:00+08:00", "") }
      await #expect(throws: StoreError.self) { try await extend("e3", "2025-12-20T09:00:00+08:00", "complex case") }
      try await extend("e4", "2025-11-20T09:00:00+08:00", "complex case: a third party must be heard")
      #expect(try await store.cases().first?.lifecycleJSON.contains("2025-11-20T09:00:00+08:00") == true)
      // The decision carries the extended deadline.
      #expect(
        try await store.cases().first?.decisionJSON?.contains("\"reply_by\":\"2025-11-20T09:00:00+08:00\"") == true)
      // An "extension" to an earlier time than the deadline in force is refused.
      await #expect(
        throws: StoreError.invalidEvent(
          "`extend`: `until` must be later than the deadline in force (2025-11-20T09:00:00+08:00)")
      ) { try await extend("e5", "2025-11-10T09:00:00+08:00", "shorter") }
    }
  }

  @Test(arguments: StoreKind.allCases) func aRejectedCaseStopsItsClock(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(event("e1", "C", .received, t, ["received_at": t]))
      try await store.apply(event("e2", "C", .reject, "2025-10-01T10:00:00+08:00", ["reason": "not our service"]))
      #expect(try await store.cases().first?.nextReviewAt == nil)
      try await store.runDue(at: Support.time("2025-12-01T09:00:00+08:00"))
      #expect(try await f.level("C") == "ordinary")
      #expect(
        try await store.cases().first?.snapshotJSON.contains("\"resolved_at\":\"2025-10-01T10:00:00+08:00\"") == true)
    }
  }

  @Test(arguments: StoreKind.allCases) func eachCloseOfAReopenedCaseHasItsReport(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      let reports = ["reports": [["report": "detailed_special", "parts": ["course", "causes", "prevention"]]]]
      try await store.apply(event("e1", "C", .received, t, ["received_at": t, "media": "exposed"]))
      try await store.apply(event("e2", "C", .resolved, t))
      try await store.apply(event("e3", "C", .closed, t, reports))
      try await store.apply(event("e4", "C", .reopened, "2025-10-02T09:00:00+08:00"))
      try await store.apply(event("e5", "C", .resolved, "2025-10-03T09:00:00+08:00"))
      try await store.apply(event("e6", "C", .closed, "2025-10-03T09:00:00+08:00", reports))
      #expect(
        try await store.outbox().filter { $0.key.hasPrefix("C/close/") }.map(\.key) == [
          "C/close/major/0/1/leadership/log", "C/close/major/0/2/leadership/log",
        ])
    }
  }

  @Test(arguments: StoreKind.allCases) func closedCasesRefuseOverridesAndReusedEventIdsAreErrors(_ kind: StoreKind)
    async throws
  {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(event("e1", "C", .received, t, ["received_at": t]))
      try await store.apply(event("e2", "C", .resolved, t))
      try await store.apply(event("e3", "C", .closed, t))
      await #expect(throws: StoreError.illegalTransition(case: "C", state: "closed", event: "override")) {
        try await store.apply(
          event("e4", "C", .override, t, actor: "customer_service_center", ["level": "major", "reason": "x"]))
      }
      await #expect(
        throws: StoreError.invalidEvent("event id `e2` was already used for a `resolved` event of case `C`")
      ) {
        try await store.apply(event("e2", "C", .updated, t, ["collective_size": 20]))
      }
    }
  }

  @Test(arguments: StoreKind.allCases) func anAppealClearsEarlierApprovals(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      let t = "2025-10-01T09:00:00+08:00"
      try await store.apply(
        event("e1", "C", .received, t, ["received_at": t, "compensation": ["amount": "650.00", "currency": "CNY"]]))
      for (i, step) in [CaseEvent.Kind.register, .accept, .assign, .investigate, .propose].enumerated() {
        try await store.apply(event("s\(i)", "C", step, t, step == .assign ? ["assignee": "a"] : [:]))
      }
      try await store.apply(event("a1", "C", .approve, t, actor: "general_manager"))
      try await store.apply(event("a2", "C", .carryOut, t))
      try await store.apply(event("a3", "C", .closed, t))
      try await store.apply(event("a4", "C", .appeal, t))
      for (i, step) in [CaseEvent.Kind.investigate, .propose].enumerated() {
        try await store.apply(event("b\(i)", "C", step, t))
      }
      try await store.apply(event("b9", "C", .approve, t, actor: "staff-3"))
      await #expect(throws: StoreError.self) { try await store.apply(event("b10", "C", .carryOut, t)) }
    }
  }
}
