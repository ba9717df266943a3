import Crypto
import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax

/// What applying an event did.
public enum ApplyOutcome: Equatable, Sendable {
  /// Applied: the case's new version and level.
  case applied(version: Int, level: String)
  /// The event id was applied before: nothing changed (a re-run import is harmless).
  case duplicate
}

/// The case store: every change — the event, the snapshot, the decision, the outbox rows —
/// in one transaction, so a crash leaves all of it or none. The same logic runs on SQLite
/// (the default) and on PostgreSQL, where several instances may share the store.
public final class CaseStore: @unchecked Sendable {
  // @unchecked: the backend serializes transactions; `rules` is immutable.
  public let rules: CompiledRules
  public let backend: any StoreBackend
  let renderer: DecisionRenderer
  /// The store's own key for complainant pseudonyms.
  let pseudonymKey: [UInt8]
  let pseudonymSecret: SymmetricKey

  public init(backend: any StoreBackend, rules: CompiledRules) throws {
    self.backend = backend
    self.rules = rules
    self.renderer = DecisionRenderer(rules: rules)
    self.pseudonymKey = try backend.pseudonymKey()
    self.pseudonymSecret = SymmetricKey(data: pseudonymKey)
  }

  /// A store in the SQLite file at `path` (created and migrated when new).
  public convenience init(path: String, rules: CompiledRules) throws {
    try self.init(backend: try SQLiteBackend(path: path), rules: rules)
  }

  /// Fault injection for crash tests: `OMBUDS_FAULT_KILL_AT=N` kills the process with
  /// SIGKILL inside the N-th event's transaction, after its writes and before its commit.
  nonisolated(unsafe) static var faultCountdown: Int? = ProcessInfo.processInfo.environment["OMBUDS_FAULT_KILL_AT"]
    .flatMap(
      Int.init)

  static let confidential: Set<String> = ["complainant_id", "contact", "respondent"]

  /// A new case is a plain insert (two instances receiving the same new case cannot both
  /// succeed); a known one, locked by `FOR UPDATE`, is updated.
  static let caseUpsert = """
    ON CONFLICT(id) DO UPDATE SET version = excluded.version, state = excluded.state, snapshot = excluded.snapshot,
      stage = excluded.stage, lifecycle = excluded.lifecycle,
      issue_key = excluded.issue_key, complainant_key = excluded.complainant_key, received_at = excluded.received_at,
      level = excluded.level, override_level = excluded.override_level, next_review_at = excluded.next_review_at
    """

  /// Applies one event. Throws `StoreError` naming what is wrong; nothing is written then.
  @discardableResult
  public func apply(_ event: CaseEvent) throws -> ApplyOutcome {
    var tries = 0
    while true {
      do {
        return try backend.write { db in try self.apply(event, in: db) }
      } catch StoreError.retry(let why) {
        // Another instance raced this one; run again on what it committed.
        tries += 1
        if tries >= 5 { throw StoreError.retry(why) }
      } catch let e as StoreError {
        throw e
      } catch {
        throw StoreError.database("\(error)")
      }
    }
  }

  func apply(_ event: CaseEvent, in db: any SQLExecutor) throws -> ApplyOutcome {
    if let seen = try db.fetchOne("SELECT case_id, type FROM events WHERE event_id = ?", [event.eventID]) {
      guard (seen["case_id"] as String) == event.caseID, (seen["type"] as String) == event.kind.rawValue else {
        throw StoreError.invalidEvent(
          "event id `\(event.eventID)` was already used for a `\(seen["type"] as String)` event of case `\(seen["case_id"] as String)`"
        )
      }
      return .duplicate
    }
    let row = try db.fetchOne("SELECT * FROM cases WHERE id = ? \(db.forUpdate)", [event.caseID])
    var snapshot: [String: Any]
    var version = 0
    var state = "open"
    var stage = Stage.received
    var lifecycle: [String: Any] = [:]
    var level: String?
    var override: String?
    var party: [String: Any] = [:]
    if let row {
      guard event.kind != .received else { throw StoreError.caseExists(event.caseID) }
      version = row["version"]
      state = row["state"]
      stage = Stage(rawValue: row["stage"]) ?? .received
      let life: String = row["lifecycle"]
      lifecycle = (try? JSONSerialization.jsonObject(with: Data(life.utf8)) as? [String: Any]) ?? [:]
      level = row["level"]
      override = row["override_level"]
      let text: String = row["snapshot"]
      snapshot = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
      if let p = try db.fetchOne("SELECT * FROM parties WHERE case_id = ?", [event.caseID]) {
        if let c: String = p["complainant_id"] { party["complainant_id"] = c }
        if let c: String = p["contact"] { party["contact"] = c }
        if let c: String = p["respondent"] { party["respondent"] = c }
      }
    } else {
      guard event.kind == .received else { throw StoreError.unknownCase(event.caseID) }
      snapshot = [:]
    }
    if let expected = event.expectedVersion, expected != version {
      throw StoreError.conflict(case: event.caseID, expected: expected, actual: version)
    }
    // The event's effect on the facts and the lifecycle.
    let from = stage
    if let move = Lifecycle.moves[event.kind] {
      guard move.from.contains(stage) else {
        throw StoreError.illegalTransition(case: event.caseID, state: stage.rawValue, event: event.kind.rawValue)
      }
      stage = move.to
    }
    if stage == .closed, [.override, .extend, .approveReply, .requestApproval].contains(event.kind) {
      throw StoreError.illegalTransition(case: event.caseID, state: stage.rawValue, event: event.kind.rawValue)
    }
    let factsBefore = snapshot
    var approvalAsked: String?
    switch event.kind {
    case .requestApproval:
      guard let who = event.fields["approver"] as? String, !who.isEmpty else {
        throw StoreError.invalidEvent("`request_approval` needs an `approver` (a role id or `refund_approver`)")
      }
      guard who == "refund_approver" || rules.ruleSet.roles.contains(where: { $0.id == who }) else {
        throw StoreError.invalidEvent(
          "`request_approval`: unknown approver `\(who)` (roles: \(rules.ruleSet.roles.map(\.id).joined(separator: ", ")))"
        )
      }
      approvalAsked = who
    case .received, .updated:
      if event.kind == .updated, stage == .closed {
        throw StoreError.illegalTransition(case: event.caseID, state: stage.rawValue, event: "updated")
      }
      for (k, v) in event.fields {
        if Self.confidential.contains(k) { party[k] = v } else { snapshot[k] = v }
      }
    case .reject, .returned, .markMalicious:
      guard let reason = event.fields["reason"] as? String, !reason.isEmpty else {
        throw StoreError.invalidEvent("`\(event.kind.rawValue)` needs a `reason`")
      }
      if event.kind == .reject {
        lifecycle["rejected_reason"] = reason
        // Rejected is final: the clock stops, the level no longer moves with time.
        if snapshot["resolved_at"] == nil || snapshot["resolved_at"] is NSNull {
          snapshot["resolved_at"] = localTime(event.at)
        }
      }
      if event.kind == .markMalicious { lifecycle["malicious"] = reason }
    case .assign:
      guard let assignee = event.fields["assignee"] as? String, !assignee.isEmpty else {
        throw StoreError.invalidEvent("`assign` needs an `assignee`")
      }
      // 被投诉人应当回避: the person complained about cannot handle the case.
      if let respondent = party["respondent"] as? String, respondent == assignee {
        throw StoreError.forbidden(
          "case `\(event.caseID)`: the assignee is the person complained about and must recuse (回避)")
      }
      lifecycle["assignee"] = assignee
    case .approve:
      var approvals = (lifecycle["approvals"] as? [String]) ?? []
      approvals.append(event.actor)
      lifecycle["approvals"] = approvals
    case .approveReply:
      // Who approves replies is what the rules' `reply` gates require.
      let approvers = Set(rules.ruleSet.gates.filter { $0.transition == "reply" }.compactMap(\.requireApproval))
      guard approvers.contains(event.actor) else {
        throw StoreError.forbidden(
          "case `\(event.caseID)`: replies are approved by \(approvers.sorted().map { "`\($0)`" }.joined(separator: ", ")), not `\(event.actor)`"
        )
      }
      var by = (lifecycle["reply_approved_by"] as? [String]) ?? []
      by.append(event.actor)
      lifecycle["reply_approved_by"] = by
    case .extend:
      try extend(event, snapshot: snapshot, party: party, lifecycle: &lifecycle)
    case .resolved, .carryOut:
      if snapshot["resolved_at"] == nil || snapshot["resolved_at"] is NSNull {
        snapshot["resolved_at"] = (event.fields["resolved_at"] as? String) ?? localTime(event.at)
      }
    case .closed:
      if snapshot["resolved_at"] == nil || snapshot["resolved_at"] is NSNull {
        snapshot["resolved_at"] = localTime(event.at)
      }
    case .appeal:
      // 复核申诉: the case is open again for review; earlier approvals no longer count.
      snapshot["resolved_at"] = NSNull()
      lifecycle["approvals"] = nil
      lifecycle["reply_approved_by"] = nil
    case .reopened:
      snapshot["resolved_at"] = NSNull()
      snapshot["reopened_after_resolution"] = true
      lifecycle["round"] = ((lifecycle["round"] as? Int) ?? 1) + 1
      lifecycle["reply_approved_by"] = nil
      lifecycle["approvals"] = nil
      override = nil
    case .override:
      guard let role = rules.ruleSet.overrideRole else {
        throw StoreError.forbidden(
          "case `\(event.caseID)`: these rules name no role that may set a level (settings.override_by)")
      }
      guard event.actor == role else {
        throw StoreError.forbidden(
          "case `\(event.caseID)`: only `\(role)` may set a level (actor is `\(event.actor)`)")
      }
      guard let to = event.fields["level"] as? String, rules.levels.contains(where: { $0.id == to }) else {
        throw StoreError.invalidEvent(
          "override needs `level`, one of \(rules.levels.map(\.id).joined(separator: ", "))")
      }
      guard let reason = event.fields["reason"] as? String, !reason.isEmpty else {
        throw StoreError.invalidEvent("override needs a `reason`")
      }
      override = to
    default:
      break
    }
    state = stage.snapshotState
    snapshot["state"] = state
    _ = from
    snapshot["id"] = event.caseID
    let snapshotText = StoreJSON.string(snapshot)
    // Evaluate: the facts with the party's identity, at the event's time.
    let facts = try self.facts(
      event.caseID, snapshotText: snapshotText, complainantID: party["complainant_id"] as? String)
    if let gate = Lifecycle.gateName(event.kind) {
      try checkGates(gate, event, facts: facts, level: level, lifecycle: lifecycle)
    }
    // Cases of one issue are counted together: one writer per issue at a time.
    if let key = facts.issueKey { try db.lock(key: "issue:\(key)") }
    let history = StoreHistory(db: db, store: self, asOf: event.at)
    var decision = Decision()
    rules.evaluate(facts, at: event.at, history: history, floor: floor(level: level), into: &decision)
    try history.check()
    pin(&decision, override: override)
    applyExtensions(&decision, lifecycle)
    let newLevel = rules.levels[decision.level].id
    if newLevel != level { lifecycle["level_since"] = event.at }
    version += 1
    // Persist: event, snapshot, party, decision, outbox.
    // Event payloads keep no identity either.
    let payload = StoreJSON.string(Self.redacted(event.fields))
    // Deadline alerts due by now are written; the next one brings the next review forward.
    var nextReview = decision.nextReviewAt
    if let alertAt = try writeDeadlineAlerts(
      caseID: event.caseID, unresolved: facts.resolvedAt == nil && state == "open", decision: decision, at: event.at,
      in: db), alertAt < (nextReview ?? .max)
    {
      nextReview = alertAt
    }
    let complainantKey = (party["complainant_id"] as? String).map(pseudonym)
    // The event, the case, its party and the decision: one round trip on PostgreSQL.
    try db.executeAll([
      (
        "INSERT INTO events (event_id, case_id, seq, type, actor, at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [event.eventID, event.caseID, version, event.kind.rawValue, event.actor, event.at, payload]
      ),
      (
        """
        INSERT INTO cases (id, version, state, snapshot, issue_key, complainant_key, received_at, level, override_level, next_review_at, stage, lifecycle)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        \(version == 1 ? "" : Self.caseUpsert)
        """,
        [
          event.caseID, version, state, snapshotText, facts.issueKey, complainantKey, facts.receivedAt, newLevel,
          override,
          nextReview, stage.rawValue,
          StoreJSON.string(lifecycle),
        ]
      ),
      (
        "INSERT INTO parties (case_id, complainant_id, contact, respondent) VALUES (?, ?, ?, ?) ON CONFLICT(case_id) DO UPDATE SET complainant_id = excluded.complainant_id, contact = excluded.contact, respondent = excluded.respondent",
        [
          event.caseID, party["complainant_id"] as? String, party["contact"] as? String,
          party["respondent"] as? String,
        ]
      ),
      decisionInsert(decision, facts: facts, eventID: event.eventID, at: event.at),
    ])
    try writeOutbox(
      caseID: event.caseID, previous: level, decision: decision, closing: event.kind == .closed, at: event.at,
      round: (lifecycle["round"] as? Int) ?? 1, in: db)
    if event.kind == .updated {
      try writeChangeNotices(
        caseID: event.caseID, eventID: event.eventID, before: factsBefore, after: snapshot, decision: decision,
        at: event.at, in: db)
    }
    if var who = approvalAsked {
      if who == "refund_approver" {
        var d = Decision()
        rules.classify(facts, at: event.at, into: &d)
        guard let role = d.refundApprover.map({ rules.ruleSet.roles[$0].id }) else {
          throw StoreError.invalidEvent("`request_approval`: case `\(event.caseID)` has no compensation to approve")
        }
        who = role
      }
      try writeApprovalRequest(
        caseID: event.caseID, eventID: event.eventID, approver: who, decision: decision, at: event.at, in: db)
    }
    // A new or changed case can make others of its issue hot: re-evaluate the open ones.
    if event.kind == .received || event.kind == .updated, let key = facts.issueKey {
      let others = try db.fetchAll(
        "SELECT id, level FROM cases WHERE issue_key = ? AND id != ? AND state = 'open'", [key, event.caseID])
      let ceiling = rules.highestAggregateLevel ?? -1
      for other in others {
        // A case already at or above the highest level an aggregate can give stays there.
        let index = rules.levels.firstIndex { $0.id == (other["level"] as String) } ?? Int.max
        if index > ceiling { try reevaluate(other["id"], at: event.at, in: db) }
      }
    }
    if let n = Self.faultCountdown {
      if n <= 1 { kill(getpid(), SIGKILL) }
      Self.faultCountdown = n - 1
    }
    return .applied(version: version, level: newLevel)
  }

  /// An instant in the rule set's time zone, as RFC 3339.
  func localTime(_ t: Millis) -> String { RFC3339.format(t, offsetSeconds: rules.calendar.clock.offset(at: t)) }

  /// Deadlines extended by `extend` events replace the computed ones.
  func applyExtensions(_ decision: inout Decision, _ lifecycle: [String: Any]) {
    guard let extensions = lifecycle["extensions"] as? [String: Any] else { return }
    for (i, d) in rules.ruleSet.deadlines.enumerated() where i < decision.deadlines.count {
      if let e = extensions[d.id] as? [String: Any], let until = (e["until"] as? String).flatMap(RFC3339.parse) {
        decision.deadlines[i] = until
      }
    }
  }

  /// The lowest level index a case may take now: its current level (levels ratchet: they
  /// never fall on their own).
  func floor(level: String?) -> Int? {
    level.flatMap { id in rules.levels.firstIndex { $0.id == id } }
  }

  /// The customer-service center's override pins the level (up or down) until the next
  /// override, or until the case is reopened as a second complaint.
  func pin(_ decision: inout Decision, override: String?) {
    if let o = override, let index = rules.levels.firstIndex(where: { $0.id == o }) { decision.level = index }
  }

  /// The facts of a stored snapshot's JSON (which holds the case id), with the complainant
  /// put back for the evaluation: read straight from the text, not re-serialized.
  func facts(_ id: String, snapshotText text: String, complainantID: String?) throws -> CaseFacts {
    var bytes = Array(text.utf8)
    if let complainantID, bytes.first == 0x7B {
      var field = Array("{\"complainant_id\":".utf8)
      JSONText.appendString(complainantID, to: &field)
      if bytes.count > 2 { field.append(0x2C) }
      bytes.replaceSubrange(0..<1, with: field)
    }
    do {
      return try bytes.withUnsafeBufferPointer { b throws(CaseError) in try rules.reader.read(b) }
    } catch {
      throw StoreError.invalidCase(id, error.message)
    }
  }

  func facts(_ id: String, _ snapshot: [String: Any], _ party: [String: Any]) throws -> CaseFacts {
    var withID = snapshot
    withID["id"] = id
    return try facts(id, snapshotText: StoreJSON.string(withID), complainantID: party["complainant_id"] as? String)
  }

  /// A stable stand-in for a complainant id (an HMAC under the store's key), so that
  /// aggregates count people without the cases table holding who they are.
  func pseudonym(_ id: String) -> String {
    let mac = Crypto.HMAC<Crypto.SHA256>.authenticationCode(for: Array(id.utf8), using: pseudonymSecret)
    return Hex.encode(mac)
  }

  /// Event fields as stored: no identity (the payload of `events` is not confidential).
  static func redacted(_ fields: [String: Any]) -> [String: Any] {
    var kept = fields
    for k in confidential where kept[k] != nil { kept[k] = "[confidential]" }
    return kept
  }

  /// The gates the rules put on a transition: approvals and reports that must exist first.
  func checkGates(_ transition: String, _ event: CaseEvent, facts: CaseFacts, level: String?, lifecycle: [String: Any])
    throws
  {
    let levelIndex = level.flatMap { id in rules.levels.firstIndex { $0.id == id } } ?? (rules.levels.count - 1)
    let reports = (event.fields["reports"] as? [[String: Any]]) ?? []
    let handed = Set(reports.compactMap { $0["report"] as? String })
    let parts = Dictionary(
      reports.compactMap { r -> (String, Set<String>)? in
        guard let id = r["report"] as? String else { return nil }
        return (id, Set((r["parts"] as? [String]) ?? []))
      }, uniquingKeysWith: { a, b in a.union(b) })
    let approvals = Set((lifecycle["approvals"] as? [String]) ?? [])
    for (i, gate) in rules.ruleSet.gates.enumerated() where gate.transition == transition {
      guard rules.gateApplies(i, facts, at: event.at, level: levelIndex) else { continue }
      if let report = gate.requireReport {
        guard handed.contains(report) else {
          throw StoreError.gate(
            case: event.caseID, transition: transition,
            missing: "the `\(report)` report (required at level \(rules.levels[levelIndex].id))")
        }
        if let decl = rules.ruleSet.reports.first(where: { $0.id == report }) {
          let missing = decl.parts.map(\.id).filter { !(parts[report] ?? []).contains($0) }
          if !missing.isEmpty {
            throw StoreError.gate(
              case: event.caseID, transition: transition,
              missing: "parts \(missing.joined(separator: ", ")) of the `\(report)` report")
          }
        }
      }
      if let approver = gate.requireApproval {
        if approver == "refund_approver" {
          var d = Decision()
          rules.classify(facts, at: event.at, into: &d)
          if let role = d.refundApprover.map({ rules.ruleSet.roles[$0].id }), !approvals.contains(role) {
            throw StoreError.gate(
              case: event.caseID, transition: transition, missing: "the approval of `\(role)` for the compensation")
          }
        } else if transition == "reply" {
          if !((lifecycle["reply_approved_by"] as? [String]) ?? []).contains(approver) {
            throw StoreError.gate(
              case: event.caseID, transition: transition,
              missing: "the approval of the reply by `\(approver)` (approve_reply)")
          }
        } else if !approvals.contains(approver) {
          throw StoreError.gate(case: event.caseID, transition: transition, missing: "the approval of `\(approver)`")
        }
      }
    }
  }

  /// Records a deadline extension: with a reason, and never past the rules' cap.
  func extend(_ event: CaseEvent, snapshot: [String: Any], party: [String: Any], lifecycle: inout [String: Any]) throws
  {
    guard let name = event.fields["deadline"] as? String,
      let index = rules.ruleSet.deadlines.firstIndex(where: { $0.id == name })
    else {
      throw StoreError.invalidEvent(
        "`extend` needs `deadline`, one of \(rules.ruleSet.deadlines.map(\.id).joined(separator: ", "))")
    }
    guard let untilText = event.fields["until"] as? String, let until = RFC3339.parse(untilText) else {
      throw StoreError.invalidEvent("`extend` needs `until`, an RFC 3339 timestamp")
    }
    guard let reason = event.fields["reason"] as? String, !reason.isEmpty else {
      throw StoreError.invalidEvent("`extend` needs a `reason` (told to the complainant)")
    }
    let decl = rules.ruleSet.deadlines[index]
    guard let cap = decl.maximum else {
      throw StoreError.forbidden(
        "case `\(event.caseID)`: deadline `\(name)` cannot be extended (the rules set no `max`)")
    }
    let facts = try self.facts(event.caseID, snapshot, party)
    var d = Decision()
    rules.evaluate(facts, at: event.at, into: &d)
    // The cap counts from the same timestamp as the rule that set the deadline.
    let current = index < d.deadlines.count ? d.deadlines[index] : nil
    let calendar = rules.calendars[decl.calendar] ?? rules.calendar
    let base =
      decl.rules.lazy.compactMap { r -> Millis? in
        let b = facts.numbers[r.baseSlot]
        guard b != CaseFacts.null, let current, r.add.added(to: b, calendar: calendar) == current else { return nil }
        return b
      }.first ?? facts.receivedAt
    // An extension moves a deadline later, never earlier.
    let inForce =
      ((lifecycle["extensions"] as? [String: Any])?[name] as? [String: Any]).flatMap {
        ($0["until"] as? String).flatMap(RFC3339.parse)
      } ?? current
    if let inForce, until <= inForce {
      throw StoreError.invalidEvent(
        "`extend`: `until` must be later than the deadline in force (\(localTime(inForce)))")
    }
    let limit = cap.added(to: base, calendar: calendar)
    guard until <= limit else {
      throw StoreError.forbidden(
        "case `\(event.caseID)`: `\(name)` can be extended to \(RFC3339.format(limit, offsetSeconds: rules.calendar.clock.offset(at: limit))) at most (\(cap))"
      )
    }
    var extensions = (lifecycle["extensions"] as? [String: Any]) ?? [:]
    extensions[name] = ["until": untilText, "reason": reason]
    lifecycle["extensions"] = extensions
  }

  func record(_ decision: Decision, facts: CaseFacts, eventID: String?, at: Millis, in db: any SQLExecutor) throws {
    let (sql, arguments) = decisionInsert(decision, facts: facts, eventID: eventID, at: at)
    try db.execute(sql, arguments)
  }

  /// The statement that stores a decision (rendered without the complainant's identity).
  func decisionInsert(_ decision: Decision, facts: CaseFacts, eventID: String?, at: Millis) -> (String, [Any?]) {
    var out: [UInt8] = []
    var safe = facts
    safe.strings[BuiltinFields.complainantID] = nil
    renderer.append(decision, for: safe, to: &out)
    if out.last == 0x0A { out.removeLast() }
    return (
      "INSERT INTO decisions (case_id, event_id, decided_at, level, decision, rule_set) VALUES (?, ?, ?, ?, ?, ?)",
      [
        facts.id, eventID, at, rules.levels[decision.level].id, String(decoding: out, as: UTF8.self), rules.contentHash,
      ]
    )
  }

  /// Re-evaluates a stored case at `at` (time passing, or another case of its issue).
  func reevaluate(_ id: String, at: Millis, in db: any SQLExecutor) throws {
    guard let row = try db.fetchOne("SELECT * FROM cases WHERE id = ? \(db.forUpdate)", [id]) else { return }
    let text: String = row["snapshot"]
    let lifeText: String = row["lifecycle"]
    var lifecycle = (try? JSONSerialization.jsonObject(with: Data(lifeText.utf8)) as? [String: Any]) ?? [:]
    let complainant = try db.string("SELECT complainant_id FROM parties WHERE case_id = ?", [id])
    let facts = try self.facts(id, snapshotText: text, complainantID: complainant)
    let level: String = row["level"]
    let override: String? = row["override_level"]
    var decision = Decision()
    let history = StoreHistory(db: db, store: self, asOf: at)
    rules.evaluate(facts, at: at, history: history, floor: floor(level: level), into: &decision)
    try history.check()
    pin(&decision, override: override)
    applyExtensions(&decision, lifecycle)
    let newLevel = rules.levels[decision.level].id
    if newLevel != level { lifecycle["level_since"] = at }
    let since =
      (lifecycle["level_since"] as? Int64) ?? (lifecycle["level_since"] as? Int).map(Int64.init) ?? facts.receivedAt
    // While-open repeats (weekly progress reports of a major case): every occurrence since
    // the case entered its level, counted from receipt, up to now. Keys make each one once.
    let state: String = row["state"]
    if state == "open" {
      for (i, d) in (rules.ruleSet.duties[newLevel]?.whileOpen ?? []).enumerated() {
        guard let every = d.every else { continue }
        var t = every.added(to: facts.receivedAt, calendar: rules.calendar)
        var steps = 0
        while t <= at, steps < 10_000 {
          let next = every.added(to: t, calendar: rules.calendar)
          // After a pause in re-evaluation (a store that was down for weeks), only the latest
          // missed occurrence is sent: one current progress report, not a backlog of stale ones.
          if t > since, next > at {
            try enqueue(
              d,
              NoticeCause(
                on: "while_open", key: "\(id)/repeat/\(newLevel)/\(i)/\(t)", at: t,
                detail: "still open; the \(every) report is due"),
              caseID: id, level: decision.level, reasons: reasonList(decision), in: db)
          }
          t = next
          steps += 1
        }
      }
    }
    var nextReview = decision.nextReviewAt
    if let alertAt = try writeDeadlineAlerts(
      caseID: id, unresolved: facts.resolvedAt == nil && state == "open", decision: decision, at: at, in: db),
      alertAt < (nextReview ?? .max)
    {
      nextReview = alertAt
    }
    if newLevel != level || nextReview != row["next_review_at"] {
      try record(decision, facts: facts, eventID: nil, at: at, in: db)
      try writeOutbox(caseID: id, previous: level, decision: decision, closing: false, at: at, in: db)
      let life = StoreJSON.string(lifecycle)
      try db.execute(
        "UPDATE cases SET level = ?, next_review_at = ?, lifecycle = ?, version = version + 1 WHERE id = ?",
        [newLevel, nextReview, life, id])
    }
  }

  /// Re-evaluates every case whose next review is due at `at` — found by index, no scan of
  /// all cases. Returns how many were re-evaluated.
  @discardableResult
  public func runDue(at: Millis) throws -> Int {
    do {
      return try backend.write { db in
        let due = try db.strings(
          "SELECT id FROM cases WHERE next_review_at IS NOT NULL AND next_review_at <= ? ORDER BY next_review_at \(db.skipLocked)",
          [at])
        for id in due { try reevaluate(id, at: at, in: db) }
        return due.count
      }
    } catch let e as StoreError {
      throw e
    } catch {
      throw StoreError.database("\(error)")
    }
  }

  /// A case as stored: its snapshot (no identity unless asked), level, version, state.
  public struct StoredCase: Sendable {
    public var id: String
    public var version: Int
    public var state: String
    public var level: String
    public var nextReviewAt: Millis?
    public var snapshotJSON: String
    public var decisionJSON: String?
    /// The lifecycle stage (POLICY §6) and what it has gathered: approvals, extensions…
    public var stage: String
    public var lifecycleJSON: String
  }

  public func cases(includeConfidential: Bool = false) throws -> [StoredCase] {
    try backend.read { db in
      try db.fetchAll("SELECT * FROM cases ORDER BY received_at, id", []).map { row in
        let id: String = row["id"]
        var snapshot: String = row["snapshot"]
        if includeConfidential,
          let p = try db.fetchOne("SELECT * FROM parties WHERE case_id = ?", [id]),
          var obj = (try? JSONSerialization.jsonObject(with: Data(snapshot.utf8))) as? [String: Any]
        {
          for key in ["complainant_id", "contact", "respondent"] { if let v: String = p[key] { obj[key] = v } }
          snapshot = String(
            decoding: (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data(),
            as: UTF8.self)
        }
        let decision = try db.string("SELECT decision FROM decisions WHERE case_id = ? ORDER BY id DESC LIMIT 1", [id])
        return StoredCase(
          id: id, version: row["version"], state: row["state"], level: row["level"],
          nextReviewAt: row["next_review_at"],
          snapshotJSON: snapshot, decisionJSON: decision, stage: row["stage"], lifecycleJSON: row["lifecycle"])
      }
    }
  }

  /// Outbox rows, oldest first.
  public func outbox() throws -> [(key: String, caseID: String, kind: String, recipients: String, dueAt: Millis)] {
    try backend.read { db in
      try db.fetchAll("SELECT * FROM outbox ORDER BY due_at, id", []).map { row in
        (row["idempotency_key"], row["case_id"], row["kind"], row["recipients"], row["due_at"])
      }
    }
  }
}

/// Same-issue aggregates answered from the cases table (indexed by issue and time).
final class StoreHistory: CaseHistory, @unchecked Sendable {
  // @unchecked: used only inside one write transaction, on its thread.
  let db: any SQLExecutor
  let store: CaseStore
  let asOf: Millis
  var rules: CompiledRules { store.rules }
  /// The first database error while counting: the evaluation is void, the write fails.
  var failure: (any Error)?

  /// Throws what went wrong while the evaluator asked for aggregates.
  func check() throws {
    if let failure { throw StoreError.database("counting the cases of the same issue: \(failure)") }
  }

  init(db: any SQLExecutor, store: CaseStore, asOf: Millis) {
    self.db = db
    self.store = store
    self.asOf = asOf
  }

  func sameIssueComplainants(of facts: CaseFacts, window: RuleDuration, asOf: Millis) -> Int {
    let own = facts.strings[BuiltinFields.complainantID] == nil ? 0 : 1
    guard let key = facts.issueKey else { return own }
    let t = facts.receivedAt
    // Windows containing t start after t minus the window's longest length.
    let earliest = t - window.bounds.upperBound * 1000
    let latest = window.added(to: t, calendar: rules.calendar)
    let rows: [SQLRow]
    do {
      rows = try db.fetchAll(
        "SELECT id, received_at, complainant_key FROM cases WHERE issue_key = ? AND received_at >= ? AND received_at < ? AND received_at <= ? ORDER BY received_at",
        [key, earliest, latest, asOf])
    } catch {
      if failure == nil { failure = error }
      return own
    }
    var receipts: [(time: Millis, who: String?)] = rows.map { ($0["received_at"], $0["complainant_key"]) }
    // The case itself, as it is now (it may not be stored yet).
    let me = facts.complainantID.map(store.pseudonym)
    if !rows.contains(where: { ($0["id"] as String) == facts.id }) {
      receipts.append((t, me))
      receipts.sort { $0.time < $1.time }
    } else if let i = rows.firstIndex(where: { ($0["id"] as String) == facts.id }) {
      receipts[i].who = me
    }
    return max(own, SameIssue.count(receipts: receipts, at: t, window: window, calendar: rules.calendar))
  }
}

/// The name the first versions used.
public typealias SQLiteCaseStore = CaseStore
