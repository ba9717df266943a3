import Foundation
import OmbudsEngine
import OmbudsRules

extension CaseStore {
  /// Fault injection for crash tests: `OMBUDS_FAULT_KILL_AT=N` kills the process with
  /// SIGKILL inside the N-th event's transaction, after its writes and before its commit.
  static let faultCountdown = FaultCountdown(ProcessInfo.processInfo.environment["OMBUDS_FAULT_KILL_AT"])

  /// A new case is a plain insert (two instances receiving the same new case cannot both
  /// succeed); a known one, locked by `FOR UPDATE`, is updated.
  static let caseUpsert = """
    ON CONFLICT(id) DO UPDATE SET version = excluded.version, state = excluded.state, snapshot = excluded.snapshot,
      stage = excluded.stage, lifecycle = excluded.lifecycle,
      issue_key = excluded.issue_key, complainant_key = excluded.complainant_key, received_at = excluded.received_at,
      level = excluded.level, override_level = excluded.override_level, next_review_at = excluded.next_review_at,
      due_at = excluded.due_at, department = excluded.department
    """

  /// A case's party (its columns NULL when it has none) and an event id's use (the `seen_`
  /// columns NULL when unused), as one row. With `existence`, also whether the case exists
  /// (`existing_case`, its id or NULL; arguments: the case id first); with `lock`
  /// (`SQLExecutor.keyLockColumn`), a key's lock taken in the same statement (its key the
  /// first argument). Then the case id and the event id.
  static func lookupQuery(existence: Bool, locking lock: String?) -> String {
    """
    SELECT p.complainant_id, p.contact, p.respondent,
      e.case_id AS seen_case_id, e.type AS seen_type, e.actor AS seen_actor, e.person AS seen_person\(lock.map { ", \($0) AS locked" } ?? "")\(existence ? ", c.id AS existing_case" : "")
    FROM (SELECT 1 AS one) AS o\(existence ? " LEFT JOIN cases c ON c.id = ?" : "")
      LEFT JOIN parties p ON p.case_id = ? LEFT JOIN events e ON e.event_id = ?
    """
  }

  /// Applies one event in one transaction. Throws `StoreError` naming what is wrong; nothing
  /// is written then. A write race with another instance sharing a PostgreSQL database
  /// (`StoreError.retry`) is run again, up to five times.
  @discardableResult
  public func apply(_ event: CaseEvent) async throws -> ApplyOutcome {
    var tries = 0
    while true {
      do {
        return try await writing { db in try await self.apply(event, in: db) }
      } catch StoreError.retry(let why) {
        // Another instance raced this one; run again on what it committed.
        tries += 1
        if tries >= 5 { throw StoreError.retry(why) }
      }
    }
  }

  /// Applies one event in the transaction `db`. With a `principal` (`apply(_:by:)`), the
  /// rules' permissions are checked once the case is loaded, before anything is written.
  func apply(_ event: CaseEvent, principal: Principal? = nil, in db: any SQLExecutor) async throws -> ApplyOutcome {
    try await applyDetailed(event, principal: principal, in: db).outcome
  }

  /// Applies `events` in order, each in its own transaction as `apply(_:)` does, and returns
  /// each one's outcome or error (a refused event does not stop the ones after it). On SQLite
  /// the transactions run one after the other in one visit to the writer's queue, which saves
  /// the caller's task two thread hand-offs an event; on PostgreSQL they are `apply(_:)` one
  /// by one (with its retries).
  public func apply(contentsOf events: [CaseEvent]) async -> [Result<ApplyOutcome, any Error>] {
    guard let sqlite = backend as? SQLiteBackend else { return await Self.each(events) { try await self.apply($0) } }
    return await sqlite.writeEach(events.count) { i, db in try await self.apply(events[i], in: db) }.map {
      $0.mapError(Self.storeError)
    }
  }

  /// Applies `event` — as `principal`'s (see `apply(_:by:)`), or a trusted caller's when nil
  /// — and answers what it did: the case's version, level and the decision's JSON. An event
  /// id applied before answers the first answer again (`replayed`), read in the same
  /// transaction. One transaction, no read after it: what an HTTP answer needs.
  public func applyAnswering(_ event: CaseEvent, by principal: Principal?) async throws -> (
    answer: AppliedEvent, replayed: Bool
  ) {
    let event = Self.stamped(event, by: principal)
    var tries = 0
    while true {
      do {
        return try await writing { db in try await self.answering(event, by: principal, in: db) }
      } catch StoreError.retry(let why) {
        tries += 1
        if tries >= 5 { throw StoreError.retry(why) }
      }
    }
  }

  /// `applyAnswering(_:by:)` for each of `events`, in order, each in its own transaction; on
  /// SQLite in one visit to the writer's queue (see `apply(contentsOf:)`). A refused event
  /// does not stop the ones after it.
  public func applyAnswering(contentsOf events: [CaseEvent], by principal: Principal?) async -> [Result<
    (answer: AppliedEvent, replayed: Bool), any Error
  >] {
    guard let sqlite = backend as? SQLiteBackend else {
      return await Self.each(events) { try await self.applyAnswering($0, by: principal) }
    }
    let stamped = events.map { Self.stamped($0, by: principal) }
    return await sqlite.writeEach(stamped.count) { i, db in try await self.answering(stamped[i], by: principal, in: db)
    }
    .map { $0.mapError(Self.storeError) }
  }

  /// `one` for each of `events`, in order: each one's outcome or error.
  static func each<T>(_ events: [CaseEvent], _ one: (CaseEvent) async throws -> T) async -> [Result<T, any Error>] {
    var results: [Result<T, any Error>] = []
    results.reserveCapacity(events.count)
    for event in events {
      do { results.append(.success(try await one(event))) } catch { results.append(.failure(error)) }
    }
    return results
  }

  /// The event as `principal`'s: its actor the principal's role, its person the principal's.
  static func stamped(_ event: CaseEvent, by principal: Principal?) -> CaseEvent {
    guard let principal else { return event }
    var event = event
    event.actor = principal.role
    event.person = principal.person
    return event
  }

  /// `applyAnswering`'s transaction.
  func answering(_ event: CaseEvent, by principal: Principal?, in db: any SQLExecutor) async throws -> (
    answer: AppliedEvent, replayed: Bool
  ) {
    let (outcome, decisionJSON) = try await self.applyDetailed(event, principal: principal, in: db)
    switch outcome {
    case .applied(let version, let level):
      return (
        AppliedEvent(
          caseID: event.caseID, type: event.kind.rawValue, version: version, level: level,
          decisionJSON: decisionJSON),
        false
      )
    case .duplicate:
      guard let first = try await self.appliedEvent(event.eventID, in: db) else {
        throw StoreError.database("event `\(event.eventID)` is applied but not stored")
      }
      return (first, true)
    }
  }

  /// `apply(_:principal:in:)`, with the decision's JSON as stored.
  func applyDetailed(_ event: CaseEvent, principal: Principal?, in db: any SQLExecutor) async throws -> (
    outcome: ApplyOutcome, decisionJSON: String?
  ) {
    // The case (locked), its party and the event id, in one trip where the backend can. The
    // event id is looked up last: once the case's lock is held, a concurrent transaction that
    // applied the same event (and created or changed the case) has committed, and is seen.
    // The party and the event id come in one statement (one row, whether or not either
    // exists): one round trip fewer on PostgreSQL. A `received` event needs no lock on its
    // case — a case that exists refuses it, and two instances inserting the same new case
    // collide on its key (a retry) — so whether the case exists comes in that statement too,
    // with the lock of the new case's issue (its key is known before any read): two round
    // trips fewer.
    let received = event.kind == .received
    let earlyLock = received ? event.fields["issue_key"]?.string.map { "issue:\($0)" } : nil
    let lockColumn = earlyLock == nil ? nil : db.keyLockColumn
    let lookupArguments: [any SQLArgument] =
      (lockColumn == nil ? [] : [earlyLock ?? ""]) + (received ? [event.caseID] : []) + [event.caseID, event.eventID]
    let lookupStatement = SQLStatement(
      Self.lookupQuery(existence: received, locking: lockColumn), lookupArguments)
    let found = try await db.fetchEach(
      received
        ? [lookupStatement]
        : [SQLStatement("SELECT * FROM cases WHERE id = ? \(db.forUpdate)", [event.caseID]), lookupStatement])
    let lookup = found.last?.first
    if let lookup, let seenCase: String = lookup["seen_case_id"] {
      let seenType: String = lookup["seen_type"]
      guard seenCase == event.caseID, seenType == event.kind.rawValue else {
        throw StoreError.invalidEvent(
          "event id `\(event.eventID)` was already used for a `\(seenType)` event of case `\(seenCase)`")
      }
      // A principal's retry is a duplicate; another principal's use of the id is not theirs.
      if let principal,
        (lookup["seen_actor"] as String) != principal.role
          || (lookup["seen_person"] as String?) != principal.person
      {
        throw StoreError.invalidEvent(
          "event id `\(event.eventID)` was already used by someone other than \(principal)")
      }
      return (.duplicate, nil)
    }
    var c: CaseState
    if received {
      guard (lookup?["existing_case"] as String?) == nil else { throw StoreError.caseExists(event.caseID) }
      c = CaseState()
    } else if let row = found[0].first {
      c = CaseState(row: row, party: lookup)
    } else {
      throw StoreError.unknownCase(event.caseID)
    }
    if let principal { try checkPermission(event, by: principal, on: c) }
    if let expected = event.expectedVersion, expected != c.version {
      throw StoreError.conflict(case: event.caseID, expected: expected, actual: c.version)
    }
    let level = c.level
    let effects = try transition(event, &c)
    let snapshotText = c.snapshot.json
    // Evaluate: the facts with the party's identity, at the event's time.
    let facts = try self.facts(event.caseID, snapshotText: snapshotText, complainantID: c.party.complainantID)
    if let gate = Lifecycle.gateName(event.kind) {
      try checkGates(gate, event, facts: facts, level: level, lifecycle: c.lifecycle)
    }
    // An approval request names a role, or the compensation tier's approver: the role asked
    // is kept in the lifecycle (an approver of the case for the rules' permissions).
    var approvalAsked = effects.approvalAsked
    if approvalAsked == "refund_approver" {
      var d = Decision()
      rules.classify(facts, at: event.at, into: &d)
      guard let role = d.refundApprover.map({ rules.ruleSet.roles[$0].id }) else {
        throw StoreError.invalidEvent("`request_approval`: case `\(event.caseID)` has no compensation to approve")
      }
      approvalAsked = role
    }
    if let who = approvalAsked, !(c.lifecycle.approvalsRequested ?? []).contains(who) {
      c.lifecycle.approvalsRequested = (c.lifecycle.approvalsRequested ?? []) + [who]
    }
    // Cases of one issue are counted together: one writer per issue at a time.
    if let key = facts.issueKey.map({ "issue:\($0)" }), lockColumn == nil || key != earlyLock {
      try await db.lock(key: key)
    }
    // A new or changed case can make others of its issue hot: they are read with the issue's
    // receipts, in one trip.
    let reevaluatesIssue = event.kind == .received || event.kind == .updated
    let issue = try await readIssue(of: facts, at: event.at, others: reevaluatesIssue, in: db)
    let decision = try await decide(
      facts, at: event.at, level: level, override: c.override, lifecycle: c.lifecycle, history: issue?.history,
      in: db)
    let newLevel = rules.levels[decision.level].id
    if newLevel != level { c.lifecycle.levelSince = event.at }
    c.version += 1
    // Persist: event, snapshot, party, decision, outbox, the other cases of the issue. These
    // writes each touch a row of their own and need no read between them: on PostgreSQL
    // they go as one statement (one round trip) when flushed.
    let writes = DeferredWrites(db)
    // Event payloads keep no identity either.
    let payload = StoreJSON.string(.object(Self.redacted(event.fields)))
    // Deadline alerts due by now are written; the next one brings the next review forward.
    var nextReview = decision.nextReviewAt
    if let alertAt = try await writeDeadlineAlerts(
      caseID: event.caseID, unresolved: facts.resolvedAt == nil && c.state == "open", decision: decision,
      at: event.at, in: writes), alertAt < (nextReview ?? .max)
    {
      nextReview = alertAt
    }
    let complainantKey = c.party.complainantID.map(pseudonym)
    let decisionJSON = renderDecision(decision, facts: facts)
    let decisionStatement = decisionInsert(
      decision, facts: facts, eventID: event.eventID, at: event.at, json: decisionJSON)
    try await writes.executeAll([
      SQLStatement(
        "INSERT INTO events (event_id, case_id, seq, type, actor, person, at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [event.eventID, event.caseID, c.version, event.kind.rawValue, event.actor, event.person, event.at, payload]),
      SQLStatement(
        """
        INSERT INTO cases (id, version, state, snapshot, issue_key, complainant_key, received_at, level, override_level, next_review_at, stage, lifecycle, due_at, department)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        \(c.version == 1 ? "" : Self.caseUpsert)
        """,
        [
          event.caseID, c.version, c.state, snapshotText, facts.issueKey, complainantKey, facts.receivedAt, newLevel,
          c.override, nextReview, c.stage.rawValue, c.lifecycle.json,
          Self.dueAt(decision, unresolved: facts.resolvedAt == nil && c.state == "open"), c.lifecycle.department,
        ]),
      SQLStatement(
        "INSERT INTO parties (case_id, complainant_id, contact, respondent) VALUES (?, ?, ?, ?) ON CONFLICT(case_id) DO UPDATE SET complainant_id = excluded.complainant_id, contact = excluded.contact, respondent = excluded.respondent",
        [event.caseID, c.party.complainantID, c.party.contact, c.party.respondent]),
      decisionStatement,
    ])
    try await writeOutbox(
      caseID: event.caseID, previous: level, decision: decision, closing: event.kind == .closed, at: event.at,
      round: c.lifecycle.round ?? 1, in: writes)
    if event.kind == .updated {
      try await writeChangeNotices(
        caseID: event.caseID, eventID: event.eventID, before: effects.factsBefore, after: c.snapshot,
        decision: decision, at: event.at, in: writes)
    }
    if let who = approvalAsked {
      try await writeApprovalRequest(
        caseID: event.caseID, eventID: event.eventID, approver: who, decision: decision, at: event.at, in: writes)
    }
    // Re-evaluate the other open cases of the issue, counting this case as now written.
    if reevaluatesIssue, let issue, !issue.others.isEmpty {
      issue.history.update(id: event.caseID, issue: facts.issueKey, time: facts.receivedAt, who: complainantKey)
      for row in issue.others {
        try await reevaluate(
          row, complainant: row["party_complainant_id"], at: event.at, history: issue.history, in: writes)
      }
    }
    try await writes.flush()
    if Self.faultCountdown.fire() {
      // Everything written so far reaches the database, uncommitted, before the kill.
      _ = try await db.fetchAll("SELECT 1")
      kill(getpid(), SIGKILL)
    }
    return (.applied(version: c.version, level: newLevel), decisionJSON)
  }

  /// The earliest deadline of an open, unresolved case; nil otherwise (nothing is due).
  static func dueAt(_ decision: Decision, unresolved: Bool) -> Millis? {
    unresolved ? decision.deadlines.compactMap { $0 }.min() : nil
  }

  /// The statement that stores a decision (rendered without the complainant's identity).
  func decisionInsert(
    _ decision: Decision, facts: CaseFacts, eventID: String?, at: Millis, json: String? = nil,
    previousRuleSet: String? = nil
  ) -> SQLStatement {
    SQLStatement(
      "INSERT INTO decisions (case_id, event_id, decided_at, level, decision, rule_set, previous_rule_set) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [
        facts.id, eventID, at, rules.levels[decision.level].id, json ?? renderDecision(decision, facts: facts),
        rules.contentHash, previousRuleSet,
      ])
  }

  /// A decision as stored: its JSON, without the complainant's identity.
  func renderDecision(_ decision: Decision, facts: CaseFacts) -> String {
    var out: [UInt8] = []
    var safe = facts
    safe.strings[BuiltinFields.complainantID] = nil
    renderer.append(decision, for: safe, to: &out)
    if out.last == 0x0A { out.removeLast() }
    return String(decoding: out, as: UTF8.self)
  }
}

/// Counts down to the event whose transaction a crash test kills (`OMBUDS_FAULT_KILL_AT`).
final class FaultCountdown: @unchecked Sendable {
  // @unchecked: `left` is only touched under `lock`.
  private let lock = NSLock()
  private var left: Int?

  init(_ setting: String?) { left = setting.flatMap(Int.init) }

  /// True for the N-th call.
  func fire() -> Bool {
    lock.withLock {
      guard let n = left else { return false }
      left = n - 1
      return n <= 1
    }
  }
}
