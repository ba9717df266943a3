import Foundation
import OmbudsEngine
import OmbudsSyntax

/// Which cases to list, in which order, from where: the filters of `GET /v1/cases`.
public struct CaseQuery: Sendable, Equatable {
  /// The orders a list can take; each is completed by the case id, so that pages never skip
  /// or repeat a case.
  public enum Sort: String, Sendable, CaseIterable {
    /// By receipt time.
    case received = "received_at"
    /// By the earliest deadline (cases with none last).
    case due = "due_at"
  }

  /// Only cases at one of these levels (any when empty).
  public var levels: [String] = []
  /// Only cases at one of these lifecycle stages (any when empty).
  public var stages: [String] = []
  /// Only cases in one of these states: open, resolved, closed (any when empty).
  public var states: [String] = []
  /// true: only cases whose earliest deadline has passed at `now`; false: only those whose
  /// has not (or that have none).
  public var overdue: Bool?
  /// The instant `overdue` is judged at.
  public var now: Millis = 0
  /// Only open cases with a deadline before this instant.
  public var dueBefore: Millis?
  /// Only cases of this issue (`issue_key`).
  public var issue: String?
  /// Only cases received at or after / before these instants.
  public var receivedFrom: Millis?
  public var receivedBefore: Millis?
  public var sort: Sort = .received
  public var descending = false
  /// At most this many cases (1…1000).
  public var limit = 50
  /// The cursor of the previous page's last case (from `CasePage.next`).
  public var after: String?

  public init() {}
}

/// One page of a case list.
public struct CasePage: Sendable {
  public struct Item: Sendable, Equatable {
    public var id: String
    public var version: Int
    public var level: String
    public var stage: String
    public var state: String
    public var receivedAt: Millis
    /// The earliest deadline, while the case is open and unresolved.
    public var dueAt: Millis?
    public var nextReviewAt: Millis?
    public var issue: String?
  }

  public var items: [Item]
  /// The cursor for the next page; nil on the last page.
  public var next: String?
}

/// A case's history, oldest first: its events and the decisions they (and re-evaluations) made.
public struct TimelineEntry: Sendable, Equatable {
  public enum Kind: String, Sendable { case event, decision }
  public var kind: Kind
  public var at: Millis
  /// The event id (for a decision: the event that caused it; nil for a re-evaluation).
  public var eventID: String?
  /// Event: its type. Decision: nil.
  public var type: String?
  /// Event: the version it made. Decision: nil.
  public var version: Int?
  /// Event: the role it was applied as. Decision: nil.
  public var actor: String?
  /// Event: its fields (identity redacted). Decision: the decision's JSON.
  public var body: String
  /// Decision: its level and the rule set's content hash.
  public var level: String?
  public var ruleSet: String?
  /// Decision: when made because the rules changed (`reevaluateOpen`), the rule set of the
  /// case's decision before it.
  public var previousRuleSet: String? = nil
}

/// What an event applied before answered: for a repeated `event_id`.
public struct AppliedEvent: Sendable, Equatable {
  public var caseID: String
  public var type: String
  public var version: Int
  public var level: String?
  public var decisionJSON: String?
}

extension CaseStore {
  /// The largest page `cases(matching:)` returns.
  public static let maxPageSize = 1000

  /// A page of cases matching `query`, in its order.
  public func cases(matching query: CaseQuery) async throws -> CasePage {
    guard (1...Self.maxPageSize).contains(query.limit) else {
      throw StoreError.invalidArgument("`limit` must be from 1 to \(Self.maxPageSize), not \(query.limit)")
    }
    var conditions: [String] = []
    var arguments: [any SQLArgument] = []
    func oneOf(_ column: String, _ values: [String]) {
      guard !values.isEmpty else { return }
      conditions.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))")
      arguments += values.map { $0 as any SQLArgument }
    }
    oneOf("level", query.levels)
    oneOf("stage", query.stages)
    oneOf("state", query.states)
    switch query.overdue {
    case true?:
      conditions.append("due_at < ?")
      arguments.append(query.now)
    case false?:
      conditions.append("(due_at IS NULL OR due_at >= ?)")
      arguments.append(query.now)
    case nil: break
    }
    /// A condition with one argument, when the filter is set.
    func add(_ condition: String, _ value: (any SQLArgument)?) {
      guard let value else { return }
      conditions.append(condition)
      arguments.append(value)
    }
    add("due_at < ?", query.dueBefore)
    add("issue_key = ?", query.issue)
    add("received_at >= ?", query.receivedFrom)
    add("received_at < ?", query.receivedBefore)
    // Cases without a deadline sort after every date.
    let key = query.sort == .due ? "COALESCE(due_at, \(Int64.max))" : "received_at"
    let direction = query.descending ? "DESC" : "ASC"
    if let cursor = query.after {
      guard let (sort, value, id) = Self.readCursor(cursor), sort == query.sort.rawValue else {
        throw StoreError.invalidArgument("`after`: not a cursor of this list's order (start again without it)")
      }
      conditions.append("(\(key), id) \(query.descending ? "<" : ">") (?, ?)")
      arguments += [value, id]
    }
    let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    let sql = """
      SELECT id, version, level, stage, state, received_at, due_at, next_review_at, issue_key, \(key) AS sort_key
      FROM cases \(whereClause) ORDER BY \(key) \(direction), id \(direction) LIMIT ?
      """
    let limit = query.limit
    arguments.append(limit + 1)
    let finalArguments = arguments
    let rows = try await reading { db in try await db.fetchAll(sql, finalArguments) }
    let items = rows.prefix(limit).map { row in
      CasePage.Item(
        id: row["id"], version: row["version"], level: row["level"], stage: row["stage"], state: row["state"],
        receivedAt: row["received_at"], dueAt: row["due_at"], nextReviewAt: row["next_review_at"],
        issue: row["issue_key"])
    }
    var next: String?
    if rows.count > limit, let last = rows.prefix(limit).last {
      next = Self.cursor(sort: query.sort.rawValue, value: last["sort_key"], id: last["id"])
    }
    return CasePage(items: Array(items), next: next)
  }

  /// An opaque cursor: the order, the last sort key and case id, base64url-encoded.
  static func cursor(sort: String, value: Int64, id: String) -> String {
    let raw = Data("\(sort)\n\(value)\n\(id)".utf8).base64EncodedString()
    return raw.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }

  static func readCursor(_ text: String) -> (String, Int64, String)? {
    guard text.count <= 2048 else { return nil }
    var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while b64.count % 4 != 0 { b64 += "=" }
    guard let data = Data(base64Encoded: b64), let s = String(data: data, encoding: .utf8) else { return nil }
    let parts = s.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3, let value = Int64(parts[1]) else { return nil }
    return (String(parts[0]), value, String(parts[2]))
  }

  /// A case's events and decisions, oldest first (a decision right after the event that made it).
  public func timeline(of caseID: String) async throws -> [TimelineEntry] {
    let (events, decisions) = try await reading { db in
      let found = try await db.fetchEach([
        SQLStatement(
          "SELECT event_id, seq, type, actor, at, payload FROM events WHERE case_id = ? ORDER BY seq", [caseID]),
        SQLStatement(
          "SELECT id, event_id, decided_at, level, decision, rule_set, previous_rule_set FROM decisions WHERE case_id = ? ORDER BY id",
          [caseID]),
      ])
      return (found[0], found[1])
    }
    var entries: [(at: Millis, order: Int, entry: TimelineEntry)] = []
    for (i, row) in events.enumerated() {
      entries.append(
        (
          row["at"], 2 * i,
          TimelineEntry(
            kind: .event, at: row["at"], eventID: row["event_id"], type: row["type"], version: row["seq"],
            actor: row["actor"], body: row["payload"])
        ))
    }
    let eventOrder = Dictionary(
      events.enumerated().map { ($0.element["event_id"] as String, 2 * $0.offset) }, uniquingKeysWith: { a, _ in a })
    var lastOrder = 0
    for row in decisions {
      let eventID: String? = row["event_id"]
      // A decision follows its event; a re-evaluation follows what came before it in time.
      let order = eventID.flatMap { eventOrder[$0] }.map { $0 + 1 } ?? lastOrder
      lastOrder = order
      entries.append(
        (
          row["decided_at"], order,
          TimelineEntry(
            kind: .decision, at: row["decided_at"], eventID: eventID, type: nil, version: nil, actor: nil,
            body: row["decision"], level: row["level"], ruleSet: row["rule_set"],
            previousRuleSet: row["previous_rule_set"])
        ))
    }
    return entries.enumerated().sorted { a, b in
      (a.element.at, a.element.order, a.offset) < (b.element.at, b.element.order, b.offset)
    }.map(\.element.entry)
  }

  /// A case's notifications and reports, by due time, with their delivery state.
  public func outboxItems(caseID: String) async throws -> [OutboxItem] {
    try await reading { db in
      try await db.fetchAll("SELECT * FROM outbox WHERE case_id = ? ORDER BY due_at, id", [caseID]).map(
        OutboxItem.init)
    }
  }

  /// One outbox row, or nil.
  public func outboxItem(_ id: Int64) async throws -> OutboxItem? {
    try await reading { db in try await db.fetchOne("SELECT * FROM outbox WHERE id = ?", [id]).map(OutboxItem.init) }
  }

  /// What the event with this id answered when it was applied, or nil when it never was.
  public func appliedEvent(_ eventID: String) async throws -> AppliedEvent? {
    try await reading { db in try await self.appliedEvent(eventID, in: db) }
  }

  func appliedEvent(_ eventID: String, in db: any SQLExecutor) async throws -> AppliedEvent? {
    let found = try await db.fetchEach([
      SQLStatement("SELECT case_id, type, seq FROM events WHERE event_id = ?", [eventID]),
      SQLStatement("SELECT level, decision FROM decisions WHERE event_id = ? ORDER BY id DESC LIMIT 1", [eventID]),
    ])
    guard let e = found[0].first else { return nil }
    let d = found[1].first
    return AppliedEvent(
      caseID: e["case_id"], type: e["type"], version: e["seq"], level: d?["level"], decisionJSON: d?["decision"])
  }

}

extension CaseStore {
  /// The outbox in numbers: rows by status, and undelivered rows whose last attempt failed.
  public func outboxCounts() async throws -> (byStatus: [String: Int], failing: Int) {
    try await reading { db in
      let found = try await db.fetchEach([
        SQLStatement("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status"),
        SQLStatement("SELECT COUNT(*) AS n FROM outbox WHERE status <> 'delivered' AND last_error IS NOT NULL"),
      ])
      var byStatus: [String: Int] = [:]
      for row in found[0] { byStatus[row["status"]] = row["n"] }
      let failing: Int = found[1].first?["n"] ?? 0
      return (byStatus, failing)
    }
  }

  /// Outbox rows by due time: of `status` (nil: every status), or only those not yet
  /// delivered; of one case when `caseID` is set; at most `limit` (the database stops there).
  public func outboxItems(
    status: OutboxItem.Status?, undeliveredOnly: Bool, caseID: String?, limit: Int
  ) async throws -> [OutboxItem] {
    var conditions: [String] = []
    var arguments: [any SQLArgument] = []
    if let status {
      conditions.append("status = ?")
      arguments.append(status.rawValue)
    } else if undeliveredOnly {
      conditions.append("status <> 'delivered'")
    }
    if let caseID {
      conditions.append("case_id = ?")
      arguments.append(caseID)
    }
    arguments.append(limit)
    let sql =
      "SELECT * FROM outbox \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) ORDER BY due_at, id LIMIT ?"
    let finalArguments = arguments
    return try await reading { db in try await db.fetchAll(sql, finalArguments).map(OutboxItem.init) }
  }
}
