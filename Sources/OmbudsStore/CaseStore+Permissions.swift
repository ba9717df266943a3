import Foundation
import OmbudsEngine
import OmbudsRules

extension CaseStore {
  /// Applies one event for an authenticated `principal`: the event's `actor` becomes the
  /// principal's role and its `person` the principal's person (whatever the event said), and
  /// the rules' `permissions` (POLICY §8) are checked in the transaction, once the case is
  /// loaded and before anything is written. A refusal throws `StoreError.notPermitted` and
  /// writes nothing. The same event id applied again for the same principal is `.duplicate`.
  ///
  /// `apply(_:)` without a principal is for trusted callers (`ombuds replay`, a Swift caller
  /// that has checked itself): it checks no permissions.
  @discardableResult
  public func apply(_ event: CaseEvent, by principal: Principal) async throws -> ApplyOutcome {
    var stamped = event
    stamped.actor = principal.role
    stamped.person = principal.person
    let event = stamped
    var tries = 0
    while true {
      do {
        return try await writing { db in try await self.apply(event, principal: principal, in: db) }
      } catch StoreError.retry(let why) {
        tries += 1
        if tries >= 5 { throw StoreError.retry(why) }
      }
    }
  }

  /// Throws `StoreError.notPermitted` unless the rules let `principal` post `event` on `c`
  /// (the case as loaded: its assignee, its respondent, its approvers).
  func checkPermission(_ event: CaseEvent, by principal: Principal, on c: CaseState) throws {
    let type = event.kind.rawValue
    var parties = CaseParties(assignee: c.lifecycle.assignee, respondent: c.party.respondent)
    var verdict = rules.permission(for: type, by: principal, parties: parties)
    // The approvers of a case cost an evaluation: worked out only when they could matter.
    if !verdict.isAllowed, c.version > 0, rules.ruleSet.permissions?.approver?.allows(type) == true {
      let facts = try self.facts(event.caseID, c.snapshot, c.party)
      parties.approvers = rules.approvers(
        facts, at: event.at, level: floor(level: c.level), asked: c.lifecycle.approvalsRequested ?? [])
      verdict = rules.permission(for: type, by: principal, parties: parties)
    }
    // Nor may the person an event names as the one complained about post it.
    if verdict.isAllowed, event.kind == .received || event.kind == .updated,
      let named = event.text("respondent"), named == principal.person
    {
      parties.respondent = named
      verdict = rules.permission(for: type, by: principal, parties: parties)
    }
    if case .denied(let message, let rule) = verdict {
      throw StoreError.notPermitted(case: event.caseID, message: "case `\(event.caseID)`: \(message)", rule: rule)
    }
  }

  /// One stored case as `principal` may see it, or nil when there is none with this id. The
  /// complainant's identity and contact details are in the snapshot only when the rules'
  /// `seesIdentity` says so, the case's protection (`protect_identity`) evaluated from its
  /// facts and level now; `identityIncluded` says whether they are. The person complained
  /// about is shown to whoever would see the identity were it not protected. Throws
  /// `StoreError.notPermitted` for a role the rules do not define.
  public func storedCase(_ id: String, for principal: Principal, now: Millis? = nil) async throws -> StoredCase? {
    try checkRead(principal, case: id)
    let row = try await reading { db in try await db.fetchAll("\(Self.caseQuery) WHERE c.id = ?", [id]).first }
    return row.map { storedCase($0, for: principal, now: now) }
  }

  /// Every stored case as `principal` may see it (see `storedCase(_:for:now:)`), by receipt
  /// time and id.
  public func cases(for principal: Principal, now: Millis? = nil) async throws -> [StoredCase] {
    try checkRead(principal, case: "")
    let rows = try await reading { db in try await db.fetchAll("\(Self.caseQuery) ORDER BY c.received_at, c.id") }
    return rows.map { storedCase($0, for: principal, now: now) }
  }

  /// Throws `StoreError.notPermitted` for a principal whose role the rules do not define.
  public func checkRead(_ principal: Principal, case id: String = "") throws {
    guard rules.mayRead(principal) else {
      throw StoreError.notPermitted(
        case: id, message: "\(principal) may not read cases: the rules define no role `\(principal.role)`", rule: nil)
    }
    try checkView("cases", principal, case: id)
  }

  /// Refuses `principal` a view the rules' `views` do not give its role (`cases`, `outbox`,
  /// `reports`, `metrics`; RuleLanguage.md §17).
  public func checkView(_ view: String, _ principal: Principal, case id: String = "") throws {
    if case .denied(let message, let rule) = rules.mayView(view, role: principal.role) {
      throw StoreError.notPermitted(case: id, message: "`\(principal.person)`: \(message)", rule: rule)
    }
  }

  /// A case row as `principal` may see it.
  func storedCase(_ row: SQLRow, for principal: Principal, now: Millis?) -> StoredCase {
    var stored = storedCase(row, includeConfidential: false)
    let party = Party(row)
    guard party != Party() else { return stored }
    let lifecycle = CaseLifecycle.read(row["lifecycle"])
    let parties = CaseParties(assignee: lifecycle.assignee, respondent: party.respondent)
    // Whether the identity would be shown at all, before the case's protection is worked out.
    guard rules.seesIdentity(principal, parties: parties, protected: false) else { return stored }
    var snapshot = CaseSnapshot.read(stored.snapshotJSON)
    if let r = party.respondent { snapshot["respondent"] = .string(r) }
    let at = now ?? Int64(Date().timeIntervalSince1970 * 1000)
    // A snapshot the rules no longer read (they changed since) cannot be shown unprotected.
    let protected =
      (try? self.facts(stored.id, snapshotText: row["snapshot"], complainantID: party.complainantID)).map {
        rules.identityProtected($0, at: at, level: floor(level: stored.level))
      } ?? true
    if rules.seesIdentity(principal, parties: parties, protected: protected) {
      if let v = party.complainantID { snapshot["complainant_id"] = .string(v) }
      if let v = party.contact { snapshot["contact"] = .string(v) }
      stored.identityIncluded = true
    }
    stored.snapshotJSON = snapshot.json
    return stored
  }
}
