import Foundation
import OmbudsEngine
import OmbudsRules

/// One notification in the outbox: a duty of the rules, for one recipient on one channel.
///
/// Rows are written in the transaction of the state change that caused them and delivered
/// later by the notifier. `key` is stable: a re-run import, a re-evaluation or a restarted
/// dispatcher never makes a second row for the same duty, and a receiver that sees the same
/// `Idempotency-Key` twice has seen the same notification twice.
public struct OutboxItem: Sendable, Equatable {
  public enum Status: String, Sendable, CaseIterable {
    /// Waiting for `readyAt` (its due time, or the next retry).
    case pending
    /// Claimed by a dispatcher until `readyAt`; a dispatcher that dies leaves it to be
    /// claimed again when that lease runs out.
    case sending
    case delivered
    /// Gave up after the maximum number of attempts; `ombuds outbox --retry ID` requeues it.
    case dead
  }

  public var id: Int64
  /// The idempotency key: the same for every attempt and every duplicate.
  public var key: String
  public var caseID: String
  /// `notify` or `report`.
  public var kind: String
  public var recipient: String
  /// `log`, `file` or `webhook`.
  public var channel: String
  /// The notification body (a JSON object): case id, level, reasons, summary — no identity.
  public var payload: String
  /// When the duty falls due (night and holiday timing applied).
  public var dueAt: Millis
  public var status: Status
  public var attempts: Int
  /// When the row may next be claimed.
  public var readyAt: Millis
  public var lastError: String?
  public var deliveredAt: Millis?
  /// The route allows the complainant's identity to be added at delivery.
  public var includeIdentity: Bool

  init(_ row: SQLRow) {
    id = row["id"]
    key = row["idempotency_key"]
    caseID = row["case_id"]
    kind = row["kind"]
    let r: String? = row["recipient"]
    recipient = r ?? ""
    let c: String? = row["channel"]
    channel = c ?? "log"
    payload = row["payload"]
    dueAt = row["due_at"]
    status = Status(rawValue: row["status"]) ?? .pending
    attempts = row["attempts"]
    let ready: Millis? = row["ready_at"]
    readyAt = ready ?? dueAt
    lastError = row["last_error"]
    deliveredAt = row["delivered_at"]
    includeIdentity = (row["identity"] as Int) != 0
  }
}

/// What a duty was triggered by, for the notification's body.
struct NoticeCause {
  /// `enter`, `while_open`, `change`, `close`, `deadline`, `approval_request`, `harmful_information`.
  var on: String
  /// The key's stem, unique per duty and occurrence: `CASE/enter/LEVEL/I`, …
  var key: String
  var kind = "notify"
  /// When it happened; the due time is this with the duty's timing applied.
  var at: Millis
  /// A line for people, added to the summary.
  var detail: String
  /// More fields for the body: text, or lists of text.
  var extra: [String: Any] = [:]
}

extension CaseStore {
  /// Writes one row per recipient and channel of `duty`, unless its key is already there.
  func enqueue(
    _ duty: Duty, _ cause: NoticeCause, caseID: String, level: Int, reasons: [[String: String]],
    recipients: [String]? = nil, in db: any SQLExecutor
  ) throws {
    let levelDecl = rules.levels[level]
    let due = rules.calendar.noticeTime(cause.at, duty.at)
    var summary = "\(levelDecl.label ?? levelDecl.id) \(caseID): \(cause.detail)"
    var body: [String: Any] = [
      "case": caseID, "level": levelDecl.id, "level_label": levelDecl.label ?? levelDecl.id, "on": cause.on,
      "kind": cause.kind, "caused_at": localTime(cause.at), "due_at": localTime(due), "when": duty.at.decisionName,
      "rule_set": rules.contentHash, "reasons": reasons,
    ]
    if let r = duty.report {
      let decl = rules.ruleSet.reports.first { $0.id == r }
      body["report"] = r
      body["report_label"] = decl?.label ?? r
      if let parts = decl?.parts, !parts.isEmpty { body["parts"] = parts.map(\.id) }
      summary += " — \(decl?.label ?? r)"
    }
    for (k, v) in cause.extra { body[k] = v }
    body["summary"] = summary
    // Every recipient and channel in one statement (one round trip on PostgreSQL).
    var values: [Any?] = []
    var tuples = 0
    for recipient in recipients ?? duty.notify {
      guard let role = rules.ruleSet.roles.first(where: { $0.id == recipient }) else { continue }
      for channel in role.channels {
        let key = "\(cause.key)/\(recipient)/\(channel)"
        var one = body
        one["key"] = key
        one["recipient"] = recipient
        one["recipient_label"] = role.label ?? recipient
        let text = StoreJSON.string(one)
        values += [
          key, caseID, cause.kind, "[\(JSONText.quoted(recipient))]", text, due, recipient, channel, due,
          duty.includeIdentity ? 1 : 0,
        ]
        tuples += 1
      }
    }
    guard tuples > 0 else { return }
    let tuple = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    try db.execute(
      """
      INSERT INTO outbox (idempotency_key, case_id, kind, recipients, payload, due_at, recipient, channel, ready_at, identity)
      VALUES \(Array(repeating: tuple, count: tuples).joined(separator: ", ")) ON CONFLICT(idempotency_key) DO NOTHING
      """, values)
  }

  /// The decision's reasons as the notification body carries them.
  func reasonList(_ decision: Decision) -> [[String: String]] {
    decision.reasons.compactMap { r in
      let level = Int(r.level)
      let item = Int(r.item)
      guard level < rules.levels.count, item < rules.levels[level].items.count else { return nil }
      let it = rules.levels[level].items[item]
      return ["level": rules.levels[level].id, "condition": it.text, "source": it.location.description]
    }
  }

  /// Outbox rows for what a decision triggers: entering a level, closing, harmful information.
  func writeOutbox(
    caseID: String, previous: String?, decision: Decision, closing: Bool, at: Millis, round: Int = 1,
    in db: any SQLExecutor
  ) throws {
    let level = rules.levels[decision.level].id
    let duties = rules.ruleSet.duties[level] ?? LevelDuties()
    let reasons = reasonList(decision)
    if previous != level {
      let from = previous.map { " (from \($0))" } ?? ""
      for (i, d) in duties.onEnter.enumerated() {
        try enqueue(
          d,
          NoticeCause(
            on: "enter", key: "\(caseID)/enter/\(level)/\(i)", at: at, detail: "entered level \(level)\(from)",
            extra: previous.map { ["previous_level": $0] } ?? [:]),
          caseID: caseID, level: decision.level, reasons: reasons, in: db)
      }
    }
    if closing {
      for (i, d) in duties.onClose.enumerated() {
        try enqueue(
          d,
          NoticeCause(
            on: "close", key: "\(caseID)/close/\(level)/\(i)/\(round)", kind: "report", at: at,
            detail: "closed; the report is due"),
          caseID: caseID, level: decision.level, reasons: reasons, in: db)
      }
    }
    if rules.hasMajorCategory(decision) {
      let categories = rules.ruleSet.categories.indices.filter {
        $0 < 64 && decision.categoryBits & (1 << UInt64($0)) != 0
      }.map { rules.ruleSet.categories[$0].id }.sorted()
      for (i, d) in rules.ruleSet.harmfulMajorDuties.enumerated() {
        try enqueue(
          d,
          NoticeCause(
            on: "harmful_information", key: "\(caseID)/harmful/\(i)", at: at,
            detail: "harmful information (\(categories.joined(separator: ", ")))",
            extra: ["categories": categories]),
          caseID: caseID, level: decision.level, reasons: reasons, in: db)
      }
    }
  }

  /// A significant change (快报): an `updated` event that changed a fact the level's
  /// `on_change` duties watch.
  func writeChangeNotices(
    caseID: String, eventID: String, before: [String: Any], after: [String: Any], decision: Decision, at: Millis,
    in db: any SQLExecutor
  ) throws {
    let level = rules.levels[decision.level].id
    let duties = rules.ruleSet.duties[level]?.onChange ?? []
    guard !duties.isEmpty else { return }
    func same(_ a: Any?, _ b: Any?) -> Bool {
      let x = a.map { $0 is NSNull ? nil : $0 } ?? nil
      let y = b.map { $0 is NSNull ? nil : $0 } ?? nil
      switch (x, y) {
      case (nil, nil): return true
      case (nil, _), (_, nil): return false
      case (let x?, let y?):
        if let xs = x as? NSObject, let ys = y as? NSObject { return xs.isEqual(ys) }
        return "\(x)" == "\(y)"
      }
    }
    let changed = Set(before.keys).union(after.keys).filter { k in
      !["state", "id"].contains(k) && !Self.confidential.contains(k) && !same(before[k], after[k])
    }.sorted()
    guard !changed.isEmpty else { return }
    for (i, d) in duties.enumerated() {
      let hit = d.fields.isEmpty ? changed : changed.filter { d.fields.contains($0) }
      guard !hit.isEmpty else { continue }
      try enqueue(
        d,
        NoticeCause(
          on: "change", key: "\(caseID)/change/\(eventID)/\(i)", at: at,
          detail: "significant change: \(hit.joined(separator: ", "))", extra: ["changed": hit]),
        caseID: caseID, level: decision.level, reasons: reasonList(decision), in: db)
    }
  }

  /// Asks for an approval: the rules' `approval_requests` duties, `approver` standing for
  /// the role asked (a role id, or `refund_approver` for the compensation tier's approver).
  func writeApprovalRequest(
    caseID: String, eventID: String, approver: String, decision: Decision, at: Millis, in db: any SQLExecutor
  ) throws {
    for (i, d) in rules.ruleSet.approvalRequests.enumerated() {
      let recipients = d.notify.map { $0 == "approver" ? approver : $0 }
      try enqueue(
        d,
        NoticeCause(
          on: "approval_request", key: "\(caseID)/approval/\(eventID)/\(i)", at: at,
          detail: "approval requested from \(approver)", extra: ["approver": approver]),
        caseID: caseID, level: decision.level, reasons: reasonList(decision), recipients: recipients, in: db)
    }
  }

  /// When alert `alert` of the rules falls for a deadline at `deadline`.
  func alertTime(_ alert: DeadlineAlert, deadline: Millis) -> Millis {
    let decl = rules.ruleSet.deadlines[alert.deadlineIndex]
    let calendar = rules.calendars[decl.calendar] ?? rules.calendar
    switch alert.offset {
    case .breach: return deadline
    case .after(let d): return d.added(to: deadline, calendar: calendar)
    case .before(let d):
      switch d.unit {
      case .seconds: return deadline - Int64(d.amount) * 1000
      case .minutes: return deadline - Int64(d.amount) * 60_000
      case .hours: return deadline - Int64(d.amount) * 3_600_000
      case .days: return calendar.clock.adding(days: -d.amount, to: deadline)
      case .weeks: return calendar.clock.adding(days: -7 * d.amount, to: deadline)
      case .months: return calendar.clock.adding(months: -d.amount, to: deadline)
      case .workingDays:
        // The same local time, `amount` working days earlier.
        let (day, ms) = calendar.clock.local(deadline)
        var d0 = day
        var left = d.amount
        var steps = 0
        while left > 0, steps < 3660 {
          d0 -= 1
          steps += 1
          if calendar.isWorkingDay(d0) { left -= 1 }
        }
        return calendar.clock.instant(day: d0, msOfDay: ms)
      }
    }
  }

  /// Deadline alerts that have fallen due by `at` while the case is unresolved, written once
  /// each; returns the next alert time after `at`, if any.
  func writeDeadlineAlerts(
    caseID: String, unresolved: Bool, decision: Decision, at: Millis, in db: any SQLExecutor
  ) throws -> Millis? {
    guard unresolved else { return nil }
    var next: Millis?
    for (i, alert) in rules.ruleSet.deadlineAlerts.enumerated() {
      guard alert.deadlineIndex < decision.deadlines.count, let deadline = decision.deadlines[alert.deadlineIndex]
      else { continue }
      let t = alertTime(alert, deadline: deadline)
      if t > at {
        if next.map({ t < $0 }) ?? true { next = t }
        continue
      }
      let due = localTime(deadline)
      let detail: String
      switch alert.offset {
      case .before(let d): detail = "`\(alert.deadline)` falls due at \(due), in \(d)"
      case .breach: detail = "`\(alert.deadline)` was breached at \(due)"
      case .after(let d): detail = "`\(alert.deadline)` has been breached for \(d) (since \(due))"
      }
      try enqueue(
        alert.duty,
        NoticeCause(
          on: "deadline", key: "\(caseID)/deadline/\(alert.deadline)/\(i)/\(deadline)", at: t, detail: detail,
          extra: ["deadline": alert.deadline, "deadline_at": due]),
        caseID: caseID, level: decision.level, reasons: reasonList(decision), in: db)
    }
    return next
  }

  // MARK: the dispatcher's side

  func outboxWrite<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
    do {
      return try backend.write(body)
    } catch let e as StoreError {
      throw e
    } catch {
      throw StoreError.database("\(error)")
    }
  }

  /// Claims up to `limit` rows ready at `now` for `lease` milliseconds: pending rows whose
  /// time has come, and rows whose earlier claim ran out (a dispatcher that died). On
  /// PostgreSQL, rows another instance holds are skipped (`FOR UPDATE SKIP LOCKED`).
  public func claimOutbox(now: Millis, limit: Int, lease: Millis, owner: String) throws -> [OutboxItem] {
    try outboxWrite { db in
      let rows = try db.fetchAll(
        "SELECT * FROM outbox WHERE status IN ('pending', 'sending') AND ready_at <= ? ORDER BY ready_at, id LIMIT ? \(db.skipLocked)",
        [now, limit])
      var claimed: [OutboxItem] = []
      for row in rows {
        var item = OutboxItem(row)
        try db.execute(
          "UPDATE outbox SET status = 'sending', ready_at = ?, claimed_by = ?, attempts = attempts + 1 WHERE id = ?",
          [now + lease, owner, item.id])
        item.status = .sending
        item.readyAt = now + lease
        item.attempts += 1
        claimed.append(item)
      }
      return claimed
    }
  }

  /// Marks a claimed row delivered.
  public func markDelivered(_ id: Int64, at: Millis) throws {
    try outboxWrite { db in
      try db.execute(
        "UPDATE outbox SET status = 'delivered', delivered_at = ?, last_error = NULL WHERE id = ?", [at, id])
    }
  }

  /// Records a failed attempt: the row waits until `retryAt`, or is dead when that is nil.
  public func markFailed(_ id: Int64, error: String, retryAt: Millis?) throws {
    try outboxWrite { db in
      if let retryAt {
        try db.execute(
          "UPDATE outbox SET status = 'pending', ready_at = ?, last_error = ? WHERE id = ?", [retryAt, error, id])
      } else {
        try db.execute("UPDATE outbox SET status = 'dead', last_error = ? WHERE id = ?", [error, id])
      }
    }
  }

  /// Requeues a dead (or any undelivered) row: pending at once, attempts counted from zero.
  public func requeue(_ id: Int64, at: Millis) throws {
    try outboxWrite { db in
      guard let row = try db.fetchOne("SELECT status FROM outbox WHERE id = ?", [id]) else {
        throw StoreError.invalidEvent("no outbox row \(id)")
      }
      let status: String = row["status"]
      guard status != "delivered" else {
        throw StoreError.forbidden("outbox row \(id) was delivered; nothing to retry")
      }
      try db.execute(
        "UPDATE outbox SET status = 'pending', ready_at = ?, attempts = 0, claimed_by = NULL WHERE id = ?", [at, id])
    }
  }

  /// Outbox rows, by due time; only those of `status` when given.
  public func outboxItems(status: OutboxItem.Status? = nil) throws -> [OutboxItem] {
    try backend.read { db in
      if let status {
        return try db.fetchAll("SELECT * FROM outbox WHERE status = ? ORDER BY due_at, id", [status.rawValue]).map(
          OutboxItem.init)
      }
      return try db.fetchAll("SELECT * FROM outbox ORDER BY due_at, id", []).map(OutboxItem.init)
    }
  }

  /// The complainant's identity and contact details, for a route that may carry them.
  public func identity(of caseID: String) throws -> [String: String] {
    try backend.read { db in
      guard let p = try db.fetchOne("SELECT complainant_id, contact FROM parties WHERE case_id = ?", [caseID]) else {
        return [:]
      }
      var out: [String: String] = [:]
      if let c: String = p["complainant_id"] { out["complainant_id"] = c }
      if let c: String = p["contact"] { out["contact"] = c }
      return out
    }
  }
}
