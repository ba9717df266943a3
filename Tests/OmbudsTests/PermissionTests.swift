import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax
import Testing

@testable import OmbudsStore

/// The rules' `permissions` (POLICY §8) in the engine and in the store: who may post which
/// event on a case in which stage, with the refusal's message and rule position; who sees
/// the complainant's identity; a refusal writes nothing.
@Suite(.serialized) struct PermissionTests {
  static let t0 = "2025-10-09T10:00:00+08:00"

  /// The shipped rules' permissions file, as a position prefix.
  static let file = "rules/permissions.yaml"

  /// `path:line:column` with the package root taken off the path, as the shipped rules cite it.
  static func relative(_ rule: String?) -> String? {
    guard let rule else { return nil }
    let root = Support.root.path + "/"
    return rule.hasPrefix(root) ? String(rule.dropFirst(root.count)) : rule
  }

  static let csc = Principal(person: "c-1", role: "customer_service_center")
  static let intake = Principal(person: "i-1", role: "intake_staff")
  static let handler1 = Principal(person: "h-1", role: "handler")
  static let handler2 = Principal(person: "h-2", role: "handler")
  static let leader = Principal(person: "l-1", role: "leadership")
  static let office = Principal(person: "o-1", role: "complaint_office")
  static let generalManager = Principal(person: "g-1", role: "general_manager")
  static let marketManagement = Principal(person: "m-1", role: "market_management")

  @Test func eventTypesAreTheStoresEventKinds() {
    #expect(EventTypes.all == CaseEvent.Kind.allCases.map(\.rawValue))
  }

  // MARK: The engine

  @Test func theDefaultRulesHaveThePolicyOfSection8() throws {
    let rules = try Support.defaultRules()
    #expect(rules.hasPermissions)
    let p = try #require(rules.ruleSet.permissions)
    #expect(Self.relative(p.respondentLocation.description) == "\(Self.file):9:3")
    #expect(p.roles["customer_service_center"]?.identity == .always)
    #expect(p.assignee?.identity == .unlessProtected)
    #expect(p.approver?.events == ["approve"])
    #expect(p.protectIdentity?.majorHarmfulInformation == true)
    #expect(p.protectIdentity?.when?.text == "confidential")
    // Only settings.override_by may override.
    let overriders = p.roles.filter { $0.value.allows("override") }.map(\.key)
    #expect(overriders == [try #require(rules.ruleSet.overrideRole)])
  }

  struct EngineRow: Sendable, CustomStringConvertible {
    var note: String
    var principal: Principal
    var event: String
    var parties: CaseParties
    /// nil: allowed; else the message and the rule (relative).
    var denied: (message: String, rule: String?)?
    var description: String { note }
  }

  static let engineRows: [EngineRow] = [
    EngineRow(
      note: "intake staff register", principal: intake, event: "register", parties: CaseParties(), denied: nil),
    EngineRow(
      note: "intake staff may not accept", principal: intake, event: "accept", parties: CaseParties(),
      denied: (
        "`i-1` (role `intake_staff`) may not post `accept`: role `intake_staff` is not granted it", "\(file):13:5"
      )),
    EngineRow(
      note: "the assignee investigates", principal: handler1, event: "investigate",
      parties: CaseParties(assignee: "h-1"), denied: nil),
    EngineRow(
      note: "another handler does not", principal: handler2, event: "investigate",
      parties: CaseParties(assignee: "h-1"),
      denied: (
        "`h-2` (role `handler`) may not post `investigate`: role `handler` is not granted it; the assignee may, and the case is assigned to `h-1`",
        "\(file):49:5"
      )),
    EngineRow(
      note: "a role without an entry", principal: leader, event: "propose", parties: CaseParties(),
      denied: (
        "`l-1` (role `leadership`) may not post `propose`: role `leadership` has no entry under `permissions.roles`; the assignee may, and the case is not assigned yet",
        "\(file):11:3"
      )),
    EngineRow(
      note: "the respondent, even in a permitted role",
      principal: Principal(person: "r-1", role: "customer_service_center"),
      event: "accept", parties: CaseParties(respondent: "r-1"),
      denied: (
        "`r-1` (role `customer_service_center`) may not post `accept`: they are the person complained about, who never acts on their own case (被投诉人回避)",
        "\(file):9:3"
      )),
    EngineRow(
      note: "the respondent as the assignee", principal: handler1, event: "investigate",
      parties: CaseParties(assignee: "h-1", respondent: "h-1"),
      denied: (
        "`h-1` (role `handler`) may not post `investigate`: they are the person complained about, who never acts on their own case (被投诉人回避)",
        "\(file):9:3"
      )),
    EngineRow(
      note: "the customer-service center overrides", principal: csc, event: "override", parties: CaseParties(),
      denied: nil),
    EngineRow(
      note: "the complaint office may not override", principal: office, event: "override", parties: CaseParties(),
      denied: (
        "`o-1` (role `complaint_office`) may not post `override`: role `complaint_office` is not granted it",
        "\(file):44:5"
      )),
    EngineRow(
      note: "the tier's approver approves", principal: generalManager, event: "approve",
      parties: CaseParties(approvers: ["general_manager"]), denied: nil),
    EngineRow(
      note: "another tier's approver does not", principal: marketManagement, event: "approve",
      parties: CaseParties(approvers: ["general_manager"]),
      denied: (
        "`m-1` (role `market_management`) may not post `approve`: role `market_management` has no entry under `permissions.roles`; an approver of the case may, and its approvers are `general_manager`",
        "\(file):11:3"
      )),
    EngineRow(
      note: "no approval asked", principal: generalManager, event: "approve", parties: CaseParties(),
      denied: (
        "`g-1` (role `general_manager`) may not post `approve`: role `general_manager` has no entry under `permissions.roles`; an approver of the case may, and the case asks for no approval",
        "\(file):11:3"
      )),
    EngineRow(
      note: "a role the rules do not define", principal: Principal(person: "x", role: "janitor"), event: "updated",
      parties: CaseParties(),
      denied: ("`x` (role `janitor`) may not post `updated`: the rules define no role `janitor`", nil)),
  ]

  @Test(arguments: engineRows) func whoMayPostWhat(_ row: EngineRow) throws {
    let rules = try Support.defaultRules()
    let verdict = rules.permission(for: row.event, by: row.principal, parties: row.parties)
    switch (verdict, row.denied) {
    case (.allowed, nil): break
    case (.denied(let message, let rule), let want?):
      #expect(message == want.message)
      #expect(Self.relative(rule) == want.rule)
    default:
      Issue.record("\(row.note): got \(verdict), want \(row.denied.map { "denied: \($0.message)" } ?? "allowed")")
    }
  }

  @Test func identityByRoleAndProtection() throws {
    let rules = try Support.defaultRules()
    let parties = CaseParties(assignee: "h-1", respondent: "r-1")
    let cases: [(Principal, unprotected: Bool, protected: Bool)] = [
      (Self.csc, true, true),
      (Self.handler1, true, false),  // the assignee
      (Self.handler2, false, false),
      (Self.intake, false, false),
      (Self.leader, false, false),
      (Principal(person: "r-1", role: "customer_service_center"), false, false),  // the respondent
      (Principal(person: "x", role: "janitor"), false, false),
    ]
    for (p, unprotected, protected) in cases {
      #expect(rules.seesIdentity(p, parties: parties, protected: false) == unprotected, "\(p)")
      #expect(rules.seesIdentity(p, parties: parties, protected: true) == protected, "\(p)")
    }
    #expect(rules.mayRead(Self.leader) && !rules.mayRead(Principal(person: "x", role: "janitor")))
  }

  @Test func protectionFromMajorHarmfulInformationOrARequest() throws {
    let rules = try Support.defaultRules()
    func protected(_ json: String) throws -> Bool {
      rules.identityProtected(try Support.facts(rules, json), at: Support.time(Self.t0), level: nil)
    }
    let base = "\"id\":\"P\",\"received_at\":\"\(Self.t0)\""
    #expect(try !protected("{\(base),\"text\":\"快递员暴力分拣\"}"))
    // subversion is a `major` category; vice_and_violence is not.
    #expect(try protected("{\(base),\"text\":\"有人在论坛煽动颠覆国家政权\"}"))
    #expect(try !protected("{\(base),\"text\":\"网站上有赌博广告\"}"))
    #expect(try protected("{\(base),\"confidential\":true}"))
  }

  @Test func protectionConditionsMayMentionTheLevel() throws {
    let rules = try Support.compile(Self.miniRules + "  protect_identity: level == major\n")
    let facts = try Support.facts(rules, "{\"id\":\"P\",\"received_at\":\"\(Self.t0)\"}")
    let at = Support.time(Self.t0)
    #expect(rules.identityProtected(facts, at: at, level: 0))
    #expect(!rules.identityProtected(facts, at: at, level: 1))
    #expect(!rules.identityProtected(facts, at: at, level: nil))
  }

  static let miniRules = """
    settings: {override_by: boss}
    levels:
      major: {when: 'text == "x"'}
      ordinary: {otherwise: true}
    roles:
      boss: {label: 领导}
      clerk: {label: 职员}
    permissions:
      roles:
        boss: {events: [override, updated], identity: always}

    """

  @Test func withoutASectionEveryRoleMayPostEverythingAndNobodySeesTheIdentity() throws {
    let rules = try Support.compile(
      """
      levels:
        ordinary: {otherwise: true}
      roles:
        clerk: {label: 职员}
      """)
    #expect(!rules.hasPermissions)
    let clerk = Principal(person: "p", role: "clerk")
    for type in EventTypes.all {
      #expect(rules.permission(for: type, by: clerk, parties: CaseParties(respondent: "p")) == .allowed)
    }
    #expect(
      rules.permission(for: "updated", by: Principal(person: "p", role: "nobody"), parties: CaseParties())
        == .denied(message: "`p` (role `nobody`) may not post `updated`: the rules define no role `nobody`", rule: nil))
    #expect(!rules.seesIdentity(clerk, parties: CaseParties(), protected: false))
    #expect(
      !rules.identityProtected(
        try Support.facts(rules, "{\"id\":\"A\",\"received_at\":\"\(Self.t0)\"}"), at: 0, level: nil))
  }

  @Test func anEmptySectionGrantsNothing() throws {
    let rules = try Support.compile(
      """
      levels:
        ordinary: {otherwise: true}
      roles:
        clerk: {label: 职员}
      permissions:
      """)
    #expect(rules.hasPermissions)
    guard
      case .denied(let message, let rule) = rules.permission(
        for: "received", by: Principal(person: "p", role: "clerk"), parties: CaseParties())
    else {
      Issue.record("allowed")
      return
    }
    #expect(
      message == "`p` (role `clerk`) may not post `received`: role `clerk` has no entry under `permissions.roles`")
    #expect(rule == "test.yaml:5:1")
  }

  // MARK: The store

  func event(
    _ id: String, _ c: String, _ kind: CaseEvent.Kind, _ fields: [String: Any] = [:], actor: String = "trusted",
    at: String = t0
  ) -> CaseEvent {
    CaseEvent(eventID: id, caseID: c, kind: kind, at: Support.time(at), actor: actor, fields: fields)
  }

  /// The stages a test case can be brought to by trusted events.
  enum Stage: Int, Sendable {
    case received, registered, accepted, assigned, investigating, proposed
  }

  /// Brings case `id` to `stage` with trusted events (no principal): complainant 张三, the
  /// respondent `r-1`, assigned to `h-1`.
  func prepare(
    _ store: CaseStore, _ id: String, _ stage: Stage, compensation: String? = nil, fields: [String: Any] = [:]
  ) async throws {
    var received: [String: Any] = [
      "received_at": Self.t0, "complainant_id": "张三", "contact": "13900000001", "respondent": "r-1",
    ]
    if let compensation {
      received["compensation"] = ["amount": compensation, "currency": "CNY"]
      received["materials_complete_at"] = Self.t0
    }
    received.merge(fields) { _, new in new }
    try await store.apply(event("\(id)-0", id, .received, received))
    let steps: [(CaseEvent.Kind, [String: Any])] = [
      (.register, [:]), (.accept, [:]), (.assign, ["assignee": "h-1"]), (.investigate, [:]), (.propose, [:]),
    ]
    for (i, (kind, f)) in steps.prefix(stage.rawValue).enumerated() {
      try await store.apply(event("\(id)-\(i + 1)", id, kind, f))
    }
  }

  struct StoreRow: Sendable, CustomStringConvertible {
    var note: String
    var stage: Stage
    var compensation: String? = nil
    var principal: Principal
    var kind: CaseEvent.Kind
    var fields: [String: JSONValue] = [:]
    /// nil: applied; else the message (after `case `ID`: `) and the rule (relative).
    var denied: (message: String, rule: String?)? = nil
    var description: String { note }
  }

  static let storeRows: [StoreRow] = [
    StoreRow(note: "intake staff register a received case", stage: .received, principal: intake, kind: .register),
    StoreRow(
      note: "a handler may not register", stage: .received, principal: handler1, kind: .register,
      denied: ("`h-1` (role `handler`) may not post `register`: role `handler` is not granted it", "\(file):49:5")),
    StoreRow(
      note: "intake staff may not accept", stage: .registered, principal: intake, kind: .accept,
      denied: (
        "`i-1` (role `intake_staff`) may not post `accept`: role `intake_staff` is not granted it", "\(file):13:5"
      )),
    StoreRow(note: "the customer-service center accepts", stage: .registered, principal: csc, kind: .accept),
    StoreRow(
      note: "the customer-service center assigns", stage: .accepted, principal: csc, kind: .assign,
      fields: ["assignee": "h-2"]),
    StoreRow(
      note: "a handler before the case is assigned", stage: .accepted, principal: handler1, kind: .investigate,
      denied: (
        "`h-1` (role `handler`) may not post `investigate`: role `handler` is not granted it; the assignee may, and the case is not assigned yet",
        "\(file):49:5"
      )),
    StoreRow(note: "the assignee investigates", stage: .assigned, principal: handler1, kind: .investigate),
    StoreRow(
      note: "the assignee in another role", stage: .investigating,
      principal: Principal(person: "h-1", role: "intake_staff"),
      kind: .propose),
    StoreRow(
      note: "another handler may not investigate", stage: .assigned, principal: handler2, kind: .investigate,
      denied: (
        "`h-2` (role `handler`) may not post `investigate`: role `handler` is not granted it; the assignee may, and the case is assigned to `h-1`",
        "\(file):49:5"
      )),
    StoreRow(
      note: "leadership has no entry", stage: .investigating, principal: leader, kind: .propose,
      denied: (
        "`l-1` (role `leadership`) may not post `propose`: role `leadership` has no entry under `permissions.roles`; the assignee may, and the case is assigned to `h-1`",
        "\(file):11:3"
      )),
    StoreRow(
      note: "the respondent is refused even in a permitted role", stage: .accepted,
      principal: Principal(person: "r-1", role: "customer_service_center"), kind: .override,
      fields: ["level": "hot", "reason": "x"],
      denied: (
        "`r-1` (role `customer_service_center`) may not post `override`: they are the person complained about, who never acts on their own case (被投诉人回避)",
        "\(file):9:3"
      )),
    StoreRow(
      note: "an update naming its poster as the respondent", stage: .accepted, principal: csc, kind: .updated,
      fields: ["respondent": "c-1"],
      denied: (
        "`c-1` (role `customer_service_center`) may not post `updated`: they are the person complained about, who never acts on their own case (被投诉人回避)",
        "\(file):9:3"
      )),
    StoreRow(
      note: "override by the customer-service center", stage: .accepted, principal: csc, kind: .override,
      fields: ["level": "hot", "reason": "媒体可能关注"]),
    StoreRow(
      note: "override by the complaint office", stage: .accepted, principal: office, kind: .override,
      fields: ["level": "hot", "reason": "x"],
      denied: (
        "`o-1` (role `complaint_office`) may not post `override`: role `complaint_office` is not granted it",
        "\(file):44:5"
      )),
    StoreRow(
      note: "the general manager approves a refund over 500 CNY", stage: .proposed, compensation: "650.00",
      principal: generalManager, kind: .approve),
    StoreRow(
      note: "market management may not approve a refund over 500 CNY", stage: .proposed, compensation: "650.00",
      principal: marketManagement, kind: .approve,
      denied: (
        "`m-1` (role `market_management`) may not post `approve`: role `market_management` has no entry under `permissions.roles`; an approver of the case may, and its approvers are `general_manager`",
        "\(file):11:3"
      )),
    StoreRow(
      note: "market management approves up to 500 CNY", stage: .proposed, compensation: "500.00",
      principal: marketManagement, kind: .approve),
    StoreRow(
      note: "the general manager may not approve 500 CNY", stage: .proposed, compensation: "500.00",
      principal: generalManager, kind: .approve,
      denied: (
        "`g-1` (role `general_manager`) may not post `approve`: role `general_manager` has no entry under `permissions.roles`; an approver of the case may, and its approvers are `market_management`",
        "\(file):11:3"
      )),
    StoreRow(note: "the complaint office passes a review", stage: .proposed, principal: office, kind: .approve),
    StoreRow(
      note: "the complaint office returns a proposal", stage: .proposed, principal: office, kind: .returned,
      fields: ["reason": "证据不足"]),
    StoreRow(
      note: "a role the rules do not define", stage: .received, principal: Principal(person: "x", role: "janitor"),
      kind: .updated, denied: ("`x` (role `janitor`) may not post `updated`: the rules define no role `janitor`", nil)),
  ]

  @Test(arguments: StoreKind.allCases, storeRows)
  func whoMayPostWhichEventInWhichStage(_ kind: StoreKind, _ row: StoreRow) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let id = "P-1"
      try await prepare(f.store, id, row.stage, compensation: row.compensation)
      let before = try #require(try await f.store.storedCase(id))
      let e = CaseEvent(
        eventID: "attempt", caseID: id, kind: row.kind, at: Support.time("2025-10-09T11:00:00+08:00"),
        actor: "ignored", fields: row.fields)
      do {
        let outcome = try await f.store.apply(e, by: row.principal)
        if let want = row.denied {
          Issue.record("\(row.note): applied (\(outcome)), want refused: \(want.message)")
        }
        guard case .applied(let version, _) = outcome else {
          Issue.record("\(row.note): \(outcome)")
          return
        }
        #expect(version == before.version + 1)
        // The actor is the principal's role, the person the principal's person.
        let stored = try await f.store.backend.read { db in
          try await db.fetchAll("SELECT actor, person FROM events WHERE event_id = ?", ["attempt"])
        }
        #expect((stored.first?["actor"] as String?) == row.principal.role)
        #expect((stored.first?["person"] as String?) == row.principal.person)
      } catch let error as StoreError {
        guard case .notPermitted(let c, let message, let rule) = error, let want = row.denied else {
          Issue.record("\(row.note): \(error)")
          return
        }
        #expect(c == id)
        #expect(message == "case `\(id)`: \(want.message)")
        #expect(error.description == message)
        #expect(Self.relative(rule) == want.rule)
        // Nothing written: the same version, the same events, no row for the attempt.
        let after = try #require(try await f.store.storedCase(id))
        #expect(after.version == before.version)
        #expect(after.lifecycleJSON == before.lifecycleJSON && after.snapshotJSON == before.snapshotJSON)
        let events = try await f.store.backend.read { db in
          try await db.fetchAll("SELECT event_id FROM events WHERE case_id = ?", [id])
        }
        #expect(events.count == before.version)
        #expect(!events.contains { ($0["event_id"] as String) == "attempt" })
      }
    }
  }

  @Test(arguments: StoreKind.allCases) func aRequestedApproverMayApprove(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      try await prepare(f.store, "Q", .proposed)
      let approve = event("q-approve", "Q", .approve)
      await #expect(throws: StoreError.self) { try await f.store.apply(approve, by: Self.leader) }
      try await f.store.apply(event("q-ask", "Q", .requestApproval, ["approver": "leadership"]), by: Self.csc)
      #expect(try await f.store.storedCase("Q")?.lifecycle.approvalsRequested == ["leadership"])
      let outcome = try await f.store.apply(approve, by: Self.leader)
      #expect(outcome == .applied(version: 8, level: "ordinary"))
      #expect(try await f.store.storedCase("Q")?.lifecycle.approvals == ["leadership"])
    }
  }

  @Test(arguments: StoreKind.allCases) func aRetryIsADuplicateOnlyForTheSamePrincipal(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      try await prepare(f.store, "D", .received)
      let register = event("d-register", "D", .register)
      #expect(try await f.store.apply(register, by: Self.intake) == .applied(version: 2, level: "ordinary"))
      #expect(try await f.store.apply(register, by: Self.intake) == .duplicate)
      await #expect(
        throws: StoreError.invalidEvent(
          "event id `d-register` was already used by someone other than `c-1` (role `customer_service_center`)")
      ) { try await f.store.apply(register, by: Self.csc) }
      // A trusted caller's retry stays a duplicate.
      #expect(try await f.store.apply(register) == .duplicate)
    }
  }

  @Test(arguments: StoreKind.allCases) func identityInResponsesOnlyForPermittedRoles(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      try await prepare(store, "I-open", .assigned)
      try await prepare(store, "I-harmful", .assigned, fields: ["text": "举报：有人在论坛煽动颠覆国家政权"])
      try await prepare(store, "I-asked", .assigned, fields: ["confidential": true])
      let now = Support.time("2025-10-09T12:00:00+08:00")
      // (principal, case) → identity included, respondent shown
      let table: [(Principal, String, Bool, Bool)] = [
        (Self.csc, "I-open", true, true),
        (Self.handler1, "I-open", true, true),
        (Self.handler2, "I-open", false, false),
        (Self.leader, "I-open", false, false),
        (Self.intake, "I-open", false, false),
        (Principal(person: "r-1", role: "customer_service_center"), "I-open", false, false),
        (Self.csc, "I-harmful", true, true),
        (Self.handler1, "I-harmful", false, true),
        (Self.leader, "I-harmful", false, false),
        (Self.csc, "I-asked", true, true),
        (Self.handler1, "I-asked", false, true),
      ]
      for (p, id, included, respondent) in table {
        let c = try #require(try await store.storedCase(id, for: p, now: now))
        #expect(c.identityIncluded == included, "\(p) on \(id)")
        let s = c.snapshot
        #expect((s["complainant_id"]?.string == "张三") == included, "\(p) on \(id)")
        #expect((s["contact"]?.string == "13900000001") == included, "\(p) on \(id)")
        #expect(c.snapshotJSON.contains("13900000001") == included, "\(p) on \(id)")
        #expect((s["respondent"]?.string == "r-1") == respondent, "\(p) on \(id)")
      }
      let all = try await store.cases(for: Self.handler1, now: now)
      #expect(all.map(\.id).sorted() == ["I-asked", "I-harmful", "I-open"])
      #expect(all.filter(\.identityIncluded).map(\.id) == ["I-open"])
      #expect(try await store.storedCase("nope", for: Self.csc) == nil)
      await #expect(throws: StoreError.self) { try await store.cases(for: Principal(person: "x", role: "janitor")) }
      // The trusted readers are as they were.
      #expect(try await store.storedCase("I-open", includeConfidential: true)?.identityIncluded == true)
      #expect(try await store.storedCase("I-open")?.identityIncluded == false)
    }
  }

  @Test func aJSONLineMayNameThePerson() throws {
    let line =
      #"{"event_id":"e","case":"C","type":"register","at":"2025-10-09T10:00:00+08:00","actor":"intake_staff","person":"i-1"}"#
    let e = try CaseEvent.parse(Array(line.utf8))
    #expect(e.person == "i-1" && e.fields.isEmpty)
    let bad = #"{"event_id":"e","case":"C","type":"register","at":"2025-10-09T10:00:00+08:00","actor":"a","person":3}"#
    #expect(throws: StoreError.invalidEvent("field `person` must be a non-empty string")) {
      try CaseEvent.parse(Array(bad.utf8))
    }
  }
}
