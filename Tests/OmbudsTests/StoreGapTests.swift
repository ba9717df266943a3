import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax
import Testing

@testable import OmbudsStore

/// Store behaviours that had no test of their own: malicious marks, the hot close gate, the
/// one-month escalation by time, redacted event payloads, the cap of a compensation deadline.
@Suite(.serialized) struct StoreGapTests {
  func ev(_ id: String, _ kind: CaseEvent.Kind, _ at: String, actor: String = "intake", _ f: [String: Any] = [:])
    -> CaseEvent
  {
    CaseEvent(eventID: id, caseID: "C", kind: kind, at: Support.time(at), actor: actor, fields: f)
  }

  @Test(arguments: StoreKind.allCases) func aCaseIsMarkedMaliciousOnlyWithAReason(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let t = "2025-10-09T09:00:00+08:00"
      try await f.store.apply(ev("e1", .received, t, ["received_at": t]))
      await #expect(throws: StoreError.invalidEvent("`mark_malicious` needs a `reason`")) {
        try await f.store.apply(ev("e2", .markMalicious, t, ["reason": ""]))
      }
      try await f.store.apply(ev("e3", .markMalicious, t, ["reason": "捏造事实，恶意举报"]))
      let stored = try #require(try await f.store.cases().first)
      let life = try #require(try JSONSerialization.jsonObject(with: Data(stored.lifecycleJSON.utf8)) as? [String: Any])
      #expect(life["malicious"] as? String == "捏造事实，恶意举报")
      #expect(stored.stage == "received")
    }
  }

  @Test(arguments: StoreKind.allCases) func closingAHotCaseNeedsTheBriefReport(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let t = "2025-10-09T09:00:00+08:00"
      try await f.store.apply(ev("e1", .received, t, ["received_at": t, "collective_size": 3]))
      try await f.store.apply(ev("e2", .resolved, t))
      await #expect(
        throws: StoreError.gate(
          case: "C", transition: "close", missing: "the `brief_special` report (required at level hot)")
      ) { try await f.store.apply(ev("e3", .closed, t, ["reports": []])) }
      try await f.store.apply(ev("e4", .closed, t, ["reports": [["report": "brief_special", "parts": ["course"]]]]))
      #expect(try await f.store.cases().first?.state == "closed")
    }
  }

  @Test(arguments: StoreKind.allCases) func aCaseTurnsMajorExactlyWhenItTurnsOneMonthOld(_ kind: StoreKind) async throws
  {
    try await StoreFixture.run(kind) { (f) async throws in
      let t = "2025-10-31T09:00:00+08:00"
      try await f.store.apply(ev("e1", .received, t, ["received_at": t]))
      try await f.store.runDue(at: Support.time("2025-11-07T09:00:00+08:00"))
      #expect(try await f.level("C") == "hot")
      // 31 October + one calendar month = 30 November (the month's last day).
      #expect(Support.format(try await f.store.cases().first?.nextReviewAt) == "2025-11-30T09:00:00+08:00")
      try await f.store.runDue(at: Support.time("2025-11-30T08:59:59+08:00"))
      #expect(try await f.level("C") == "hot")
      try await f.store.runDue(at: Support.time("2025-11-30T09:00:00+08:00"))
      #expect(try await f.level("C") == "major")
    }
  }

  @Test(arguments: StoreKind.allCases) func eventPayloadsKeepNoIdentity(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let t = "2025-10-09T09:00:00+08:00"
      try await f.store.apply(
        ev(
          "e1", .received, t, ["received_at": t, "complainant_id": "赵六", "contact": "13911112222", "respondent": "s-9"])
      )
      let dump = try await f.store.cases().map { $0.snapshotJSON + ($0.decisionJSON ?? "") + $0.lifecycleJSON }.joined()
      #expect(!dump.contains("赵六") && !dump.contains("13911112222") && !dump.contains("s-9"))
      let withIdentity = try await f.store.cases(includeConfidential: true).first?.snapshotJSON ?? ""
      #expect(withIdentity.contains("赵六") && withIdentity.contains("13911112222"))
      // The stored event payload.
      let payloads = try await f.store.backend.read { db in try await db.strings("SELECT payload FROM events", []) }
      #expect(
        payloads == [
          #"{"complainant_id":"[confidential]","contact":"[confidential]","received_at":"2025-10-09T09:00:00+08:00","respondent":"[confidential]"}"#
        ])
    }
  }

  /// `resolve_by` with compensation counts 10 working days from `materials_complete_at`; a cap
  /// counts from the same timestamp, not from `received_at`.
  @Test func anExtensionCapCountsFromTheRuleThatSetTheDeadline() async throws {
    let dir = try Support.temporaryDirectory()
    let rulesDir = dir.appendingPathComponent("rules")
    try FileManager.default.copyItem(atPath: Support.rulesDir, toPath: rulesDir.path)
    let refunds = rulesDir.appendingPathComponent("refunds.yaml")
    var text = try String(contentsOf: refunds, encoding: .utf8)
    #expect(text.contains("  resolve_by:\n"))
    text = text.replacingOccurrences(of: "  resolve_by:\n", with: "  resolve_by:\n    max: 20 working days\n")
    try text.write(to: refunds, atomically: true, encoding: .utf8)
    let loaded = RuleSetLoader.load(paths: [rulesDir.path])
    let rules = try CompiledRules(try #require(loaded.ruleSet, "\(loaded.diagnostics.map(\.description))"))
    let store = try await CaseStore(path: dir.appendingPathComponent("s.sqlite").path, rules: rules)
    let t = "2025-09-01T09:00:00+08:00"
    try await store.apply(
      ev(
        "e1", .received, t,
        [
          "received_at": t, "compensation": ["amount": "80.00", "currency": "CNY"],
          "materials_complete_at": "2025-10-09T09:00:00+08:00",
        ]))
    // 20 working days after 9 October 2025 end on 5 November (11 October is a make-up working
    // day; counted from 1 September they would
    // end in late September, before the deadline itself).
    try await store.apply(
      ev("e2", .extend, t, ["deadline": "resolve_by", "until": "2025-11-05T23:59:59+08:00", "reason": "鉴定中"]))
    await #expect(throws: StoreError.self) {
      try await store.apply(
        ev("e3", .extend, t, ["deadline": "resolve_by", "until": "2025-11-06T09:00:00+08:00", "reason": "再延"]))
    }
  }
}

/// The level analysis tells `>` from `>=` on durations.
@Suite struct LevelAnalysisEdgeTests {
  func codes(_ higher: String, _ lower: String) -> [String] {
    let yaml = """
      levels:
        hot: {any: ["\(higher)"]}
        important: {any: ["\(lower)"]}
        ordinary: {otherwise: true}
      """
    return RuleSetLoader.check(sources: [SourceFile(path: "l.yaml", text: yaml)]).diagnostics.map(\.code)
  }

  @Test func aStricterHigherDurationLeavesTheBoundaryToTheLowerLevel() {
    // A case open exactly 7 days is important: the lower level is reachable.
    #expect(!codes("open_for > 7 days", "open_for >= 7 days").contains("rules.unreachable-level"))
    // The other way round, every case the lower level admits is taken by the higher one.
    #expect(codes("open_for >= 7 days", "open_for > 7 days").contains("rules.unreachable-level"))
    #expect(codes("open_for >= 7 days", "open_for >= 8 days").contains("rules.unreachable-level"))
  }
}

/// Pseudonyms made with swift-crypto's HMAC are the ones the first stores wrote.
@Test func pseudonymsAreUnchangedBySwiftCrypto() async throws {
  let dir = try Support.temporaryDirectory()
  let store = try await CaseStore(path: dir.appendingPathComponent("p.sqlite").path, rules: try Support.defaultRules())
  let id = "张三-13800000000"
  let old = ReferenceSHA256.hmac(key: store.pseudonymKey, message: Array(id.utf8))
  #expect(store.pseudonym(id) == Hex.encode(old))
  #expect(store.pseudonym(id).count == 64)
}

/// The store's JSON writer writes what Foundation's would (sorted keys, booleans kept apart
/// from numbers, which `NSNumber` blurs on Linux).
@Test func storeJSONMatchesFoundation() throws {
  let text =
    #"{"b":true,"a":1,"c":1.5,"d":null,"e":0,"f":"x\"y\n/z","g":[1,false,{"z":"重大","y":[]}],"h":12345678901234,"i":false}"#
  let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
  let foundation = String(
    decoding: try JSONSerialization.data(withJSONObject: parsed, options: [.sortedKeys, .withoutEscapingSlashes]),
    as: UTF8.self)
  #expect(StoreJSON.string(parsed) == foundation)
  let built: [String: Any] = ["n": 3, "t": true, "l": Int64(1_760_000_000_000), "s": ["a", "b"], "o": ["k": "v"]]
  #expect(StoreJSON.string(built) == #"{"l":1760000000000,"n":3,"o":{"k":"v"},"s":["a","b"],"t":true}"#)
}

/// A store whose re-evaluations paused for five weeks sends one current progress report, not
/// five stale ones.
@Test func aLongPauseSendsOnlyTheLatestMissedRepeat() async throws {
  let dir = try Support.temporaryDirectory()
  let store = try await CaseStore(path: dir.appendingPathComponent("r.sqlite").path, rules: try Support.defaultRules())
  let t = "2025-11-03T09:00:00+08:00"
  try await store.apply(
    CaseEvent(
      eventID: "e1", caseID: "C", kind: .received, at: Support.time(t), actor: "i",
      fields: ["received_at": t, "litigation": "filed"]))
  try await store.runDue(at: Support.time("2025-12-10T12:00:00+08:00"))
  let repeats = try await store.outboxItems().filter { $0.key.hasPrefix("C/repeat/") }
  // Weekly from 3 November: the fifth, 8 December, is the latest before 10 December.
  #expect(repeats.map { Support.format($0.dueAt) } == ["2025-12-08T09:00:00+08:00"])
}

/// Durations in seconds: a webhook's timeout.
@Test func aWebhookTimeoutIsWrittenInSeconds() throws {
  let yaml = """
    levels:
      ordinary: {otherwise: true}
    roles:
      desk:
        channels: [webhook]
        webhook: {url: "http://127.0.0.1:9/hook", secret_env: DESK_SECRET, timeout: 10s}
    """
  let set = try #require(RuleSetLoader.check(sources: [SourceFile(path: "w.yaml", text: yaml)]).ruleSet)
  #expect(set.roles.first?.webhook?.timeout == RuleDuration(10, .seconds))
  #expect(RuleDuration(10, .seconds).description == "10 seconds")
}
