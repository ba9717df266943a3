import Foundation
import OmbudsEngine
import OmbudsRules

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
  /// More fields for the body: what this kind of notice adds.
  var extra = NoticeExtra()
}

/// What some notices add to the body: the level left, the categories of harmful information,
/// the facts that changed, the approver asked, the deadline alerted.
struct NoticeExtra: Sendable {
  var previousLevel: String?
  var categories: [String]?
  var changed: [String]?
  var approver: String?
  var deadline: String?
  var deadlineAt: String?
}

/// A notification's body as the outbox stores it and channels send it: a JSON object with
/// sorted keys, absent members left out. No identity, except `complainant`, which the
/// dispatcher adds at delivery where the route allows it.
public struct NotificationBody: Sendable, Equatable, Codable {
  public struct Reason: Sendable, Equatable, Codable {
    public var level: String
    public var condition: String
    public var source: String
  }

  public var caseID: String
  public var level: String
  public var levelLabel: String
  /// `enter`, `while_open`, `change`, `close`, `deadline`, `approval_request`, `harmful_information`.
  public var on: String
  /// `notify` or `report`.
  public var kind: String
  public var causedAt: String
  public var dueAt: String
  public var when: String
  public var ruleSet: String
  public var reasons: [Reason]
  public var report: String?
  public var reportLabel: String?
  public var parts: [String]?
  public var summary: String
  public var key: String
  public var recipient: String
  public var recipientLabel: String
  public var previousLevel: String?
  public var categories: [String]?
  public var changed: [String]?
  public var approver: String?
  public var deadline: String?
  public var deadlineAt: String?
  /// The complainant's identity: only added at delivery, where the route allows it.
  public var complainant: [String: String]?

  enum CodingKeys: String, CodingKey {
    case caseID = "case"
    case level
    case levelLabel = "level_label"
    case on, kind
    case causedAt = "caused_at"
    case dueAt = "due_at"
    case when
    case ruleSet = "rule_set"
    case reasons, report
    case reportLabel = "report_label"
    case parts, summary, key, recipient
    case recipientLabel = "recipient_label"
    case previousLevel = "previous_level"
    case categories, changed, approver, deadline
    case deadlineAt = "deadline_at"
    case complainant
  }

  /// The stored text (the hot path's writer: the same text as `StoreJSON.encode(self)`).
  public var json: String {
    var out: [UInt8] = []
    out.reserveCapacity(768)
    write(to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Appends the stored text to `out`: the members in sorted key order, absent ones left
  /// out, as `StoreJSON.encode(self)` writes them, without building a dictionary to sort
  /// (every outbox row of a state change is written here). `reasons`: the `reasons` member's
  /// value already written (the same for every recipient of a notice), or nil to write it.
  func write(to out: inout [UInt8], reasons written: [UInt8]? = nil) {
    var first = true
    func key(_ k: StaticString) {
      out.append(first ? 0x7B : 0x2C)
      first = false
      out.append(0x22)
      out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
      out.append(0x22)
      out.append(0x3A)
    }
    func string(_ k: StaticString, _ v: String?) {
      guard let v else { return }
      key(k)
      JSONText.appendString(v, to: &out)
    }
    func strings(_ k: StaticString, _ v: [String]?) {
      guard let v else { return }
      key(k)
      out.append(0x5B)
      for (i, s) in v.enumerated() {
        if i > 0 { out.append(0x2C) }
        JSONText.appendString(s, to: &out)
      }
      out.append(0x5D)
    }
    string("approver", approver)
    string("case", caseID)
    strings("categories", categories)
    string("caused_at", causedAt)
    strings("changed", changed)
    if let complainant {
      key("complainant")
      out.append(0x7B)
      for (i, k) in complainant.keys.sorted().enumerated() {
        if i > 0 { out.append(0x2C) }
        JSONText.appendString(k, to: &out)
        out.append(0x3A)
        JSONText.appendString(complainant[k] ?? "", to: &out)
      }
      out.append(0x7D)
    }
    string("deadline", deadline)
    string("deadline_at", deadlineAt)
    string("due_at", dueAt)
    string("key", self.key)
    string("kind", kind)
    string("level", level)
    string("level_label", levelLabel)
    string("on", on)
    strings("parts", parts)
    string("previous_level", previousLevel)
    key("reasons")
    if let written {
      out.append(contentsOf: written)
    } else {
      Self.write(reasons, to: &out)
    }
    string("recipient", recipient)
    string("recipient_label", recipientLabel)
    string("report", report)
    string("report_label", reportLabel)
    string("rule_set", ruleSet)
    string("summary", summary)
    string("when", when)
    out.append(0x7D)
  }

  /// `reasons` as the body's `reasons` member holds them.
  static func write(_ reasons: [Reason], to out: inout [UInt8]) {
    out.append(0x5B)
    for (i, r) in reasons.enumerated() {
      if i > 0 { out.append(0x2C) }
      out.append(contentsOf: #"{"condition":"#.utf8)
      JSONText.appendString(r.condition, to: &out)
      out.append(contentsOf: #","level":"#.utf8)
      JSONText.appendString(r.level, to: &out)
      out.append(contentsOf: #","source":"#.utf8)
      JSONText.appendString(r.source, to: &out)
      out.append(0x7D)
    }
    out.append(0x5D)
  }

  /// Reads a stored body.
  public static func read(_ text: String) throws -> NotificationBody {
    try StoreJSON.decode(NotificationBody.self, from: text)
  }
}

extension CaseStore {
  /// Writes one row per recipient and channel of `duty`, unless its key is already there.
  func enqueue(
    _ duty: Duty, _ cause: NoticeCause, caseID: String, level: Int, reasons: [NotificationBody.Reason],
    recipients: [String]? = nil, in db: any SQLExecutor
  ) async throws {
    let levelDecl = rules.levels[level]
    let due = rules.calendar.noticeTime(cause.at, duty.at)
    var summary = "\(levelDecl.label ?? levelDecl.id) \(caseID): \(cause.detail)"
    var body = NotificationBody(
      caseID: caseID, level: levelDecl.id, levelLabel: levelDecl.label ?? levelDecl.id, on: cause.on,
      kind: cause.kind, causedAt: localTime(cause.at), dueAt: localTime(due), when: duty.at.decisionName,
      ruleSet: rules.contentHash, reasons: reasons, summary: "", key: "", recipient: "", recipientLabel: "")
    if let r = duty.report {
      let decl = rules.ruleSet.reports.first { $0.id == r }
      body.report = r
      body.reportLabel = decl?.label ?? r
      if let parts = decl?.parts, !parts.isEmpty { body.parts = parts.map(\.id) }
      summary += " — \(decl?.label ?? r)"
    }
    body.previousLevel = cause.extra.previousLevel
    body.categories = cause.extra.categories
    body.changed = cause.extra.changed
    body.approver = cause.extra.approver
    body.deadline = cause.extra.deadline
    body.deadlineAt = cause.extra.deadlineAt
    body.summary = summary
    // Every recipient and channel in one statement (one round trip on PostgreSQL).
    var values: [any SQLArgument] = []
    var tuples = 0
    var reasonsJSON: [UInt8] = []
    NotificationBody.write(reasons, to: &reasonsJSON)
    var text: [UInt8] = []
    for recipient in recipients ?? duty.notify {
      guard let role = rules.ruleSet.roles.first(where: { $0.id == recipient }) else { continue }
      for channel in role.channels {
        let key = "\(cause.key)/\(recipient)/\(channel)"
        var one = body
        one.key = key
        one.recipient = recipient
        one.recipientLabel = role.label ?? recipient
        text.removeAll(keepingCapacity: true)
        one.write(to: &text, reasons: reasonsJSON)
        values += [
          key, caseID, cause.kind, "[\(JSONText.quoted(recipient))]", String(decoding: text, as: UTF8.self), due,
          recipient, channel, due,
          duty.includeIdentity ? 1 : 0,
        ]
        tuples += 1
      }
    }
    guard tuples > 0 else { return }
    let tuple = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    try await db.execute(
      """
      INSERT INTO outbox (idempotency_key, case_id, kind, recipients, payload, due_at, recipient, channel, ready_at, identity)
      VALUES \(Array(repeating: tuple, count: tuples).joined(separator: ", ")) ON CONFLICT(idempotency_key) DO NOTHING
      """, values)
  }

  /// The decision's reasons as the notification body carries them.
  func reasonList(_ decision: Decision) -> [NotificationBody.Reason] {
    rules.reasonPlans(decision).map {
      NotificationBody.Reason(level: $0.level, condition: $0.condition, source: $0.source.description)
    }
  }

  /// Outbox rows for what a decision triggers: entering a level, closing, harmful information.
  func writeOutbox(
    caseID: String, previous: String?, decision: Decision, closing: Bool, at: Millis, round: Int = 1,
    in db: any SQLExecutor
  ) async throws {
    let level = rules.levels[decision.level].id
    let duties = rules.ruleSet.duties[level] ?? LevelDuties()
    let reasons = reasonList(decision)
    if previous != level {
      let from = previous.map { " (from \($0))" } ?? ""
      for (i, d) in duties.onEnter.enumerated() {
        try await enqueue(
          d,
          NoticeCause(
            on: "enter", key: "\(caseID)/enter/\(level)/\(i)", at: at, detail: "entered level \(level)\(from)",
            extra: NoticeExtra(previousLevel: previous)),
          caseID: caseID, level: decision.level, reasons: reasons, in: db)
      }
    }
    if closing {
      for (i, d) in duties.onClose.enumerated() {
        try await enqueue(
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
        try await enqueue(
          d,
          NoticeCause(
            on: "harmful_information", key: "\(caseID)/harmful/\(i)", at: at,
            detail: "harmful information (\(categories.joined(separator: ", ")))",
            extra: NoticeExtra(categories: categories)),
          caseID: caseID, level: decision.level, reasons: reasons, in: db)
      }
    }
  }

  /// A significant change (快报): an `updated` event that changed a fact the level's
  /// `on_change` duties watch.
  func writeChangeNotices(
    caseID: String, eventID: String, before: CaseSnapshot, after: CaseSnapshot, decision: Decision, at: Millis,
    in db: any SQLExecutor
  ) async throws {
    let level = rules.levels[decision.level].id
    let duties = rules.ruleSet.duties[level]?.onChange ?? []
    guard !duties.isEmpty else { return }
    // Missing and null are one; numbers compare by value.
    func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool { (a ?? .null).sameValue(as: b ?? .null) }
    let changed = Set(before.fields.keys).union(after.fields.keys).filter { k in
      !["state", "id"].contains(k) && !Self.confidential.contains(k) && !same(before[k], after[k])
    }.sorted()
    guard !changed.isEmpty else { return }
    for (i, d) in duties.enumerated() {
      let hit = d.fields.isEmpty ? changed : changed.filter { d.fields.contains($0) }
      guard !hit.isEmpty else { continue }
      try await enqueue(
        d,
        NoticeCause(
          on: "change", key: "\(caseID)/change/\(eventID)/\(i)", at: at,
          detail: "significant change: \(hit.joined(separator: ", "))", extra: NoticeExtra(changed: hit)),
        caseID: caseID, level: decision.level, reasons: reasonList(decision), in: db)
    }
  }

  /// Asks for an approval: the rules' `approval_requests` duties, `approver` standing for
  /// the role asked (a role id, or `refund_approver` for the compensation tier's approver).
  func writeApprovalRequest(
    caseID: String, eventID: String, approver: String, decision: Decision, at: Millis, in db: any SQLExecutor
  ) async throws {
    for (i, d) in rules.ruleSet.approvalRequests.enumerated() {
      let recipients = d.notify.map { $0 == "approver" ? approver : $0 }
      try await enqueue(
        d,
        NoticeCause(
          on: "approval_request", key: "\(caseID)/approval/\(eventID)/\(i)", at: at,
          detail: "approval requested from \(approver)", extra: NoticeExtra(approver: approver)),
        caseID: caseID, level: decision.level, reasons: reasonList(decision), recipients: recipients, in: db)
    }
  }

  /// Deadline alerts that have fallen due by `at` while the case is unresolved, written once
  /// each; returns the next alert time after `at`, if any.
  func writeDeadlineAlerts(
    caseID: String, unresolved: Bool, decision: Decision, at: Millis, in db: any SQLExecutor
  ) async throws -> Millis? {
    guard unresolved else { return nil }
    var next: Millis?
    for plan in rules.alertPlans(decision) {
      let i = plan.alert
      let alert = rules.ruleSet.deadlineAlerts[i]
      let deadline = plan.deadlineAt
      let t = plan.at
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
      try await enqueue(
        alert.duty,
        NoticeCause(
          on: "deadline", key: "\(caseID)/deadline/\(alert.deadline)/\(i)/\(deadline)", at: t, detail: detail,
          extra: NoticeExtra(deadline: alert.deadline, deadlineAt: due)),
        caseID: caseID, level: decision.level, reasons: reasonList(decision), in: db)
    }
    return next
  }
}
