import Foundation
import OmbudsEngine

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

extension CaseStore {
  /// Claims up to `limit` rows ready at `now` for `lease` milliseconds: pending rows whose
  /// time has come, and rows whose earlier claim ran out (a dispatcher that died). On
  /// PostgreSQL, rows another instance holds are skipped (`FOR UPDATE SKIP LOCKED`).
  public func claimOutbox(now: Millis, limit: Int, lease: Millis, owner: String) async throws -> [OutboxItem] {
    try await writing { db in
      let rows = try await db.fetchAll(
        "SELECT * FROM outbox WHERE status IN ('pending', 'sending') AND ready_at <= ? ORDER BY ready_at, id LIMIT ? \(db.skipLocked)",
        [now, limit])
      guard !rows.isEmpty else { return [] }
      let claimed = rows.map { row in
        var item = OutboxItem(row)
        item.status = .sending
        item.readyAt = now + lease
        item.attempts += 1
        return item
      }
      let marks = Array(repeating: "?", count: claimed.count).joined(separator: ", ")
      let arguments: [any SQLArgument] = [now + lease, owner] + claimed.map { $0.id as any SQLArgument }
      try await db.execute(
        "UPDATE outbox SET status = 'sending', ready_at = ?, claimed_by = ?, attempts = attempts + 1 WHERE id IN (\(marks))",
        arguments)
      return claimed
    }
  }

  /// Marks a claimed row delivered.
  public func markDelivered(_ id: Int64, at: Millis) async throws {
    try await writing { db in
      try await db.execute(
        "UPDATE outbox SET status = 'delivered', delivered_at = ?, last_error = NULL WHERE id = ?", [at, id])
    }
  }

  /// Records a failed attempt: the row waits until `retryAt`, or is dead when that is nil.
  public func markFailed(_ id: Int64, error: String, retryAt: Millis?) async throws {
    try await writing { db in
      if let retryAt {
        try await db.execute(
          "UPDATE outbox SET status = 'pending', ready_at = ?, last_error = ? WHERE id = ?", [retryAt, error, id])
      } else {
        try await db.execute("UPDATE outbox SET status = 'dead', last_error = ? WHERE id = ?", [error, id])
      }
    }
  }

  /// Requeues a dead (or any undelivered) row: pending at once, attempts counted from zero.
  public func requeue(_ id: Int64, at: Millis) async throws {
    try await writing { db in
      guard let row = try await db.fetchOne("SELECT status FROM outbox WHERE id = ?", [id]) else {
        throw StoreError.notFound("no outbox row \(id)")
      }
      let status: String = row["status"]
      guard status != "delivered" else {
        throw StoreError.forbidden("outbox row \(id) was delivered; nothing to retry")
      }
      try await db.execute(
        "UPDATE outbox SET status = 'pending', ready_at = ?, attempts = 0, claimed_by = NULL WHERE id = ?", [at, id])
    }
  }

  /// Outbox rows, by due time; only those of `status` when given.
  public func outboxItems(status: OutboxItem.Status? = nil) async throws -> [OutboxItem] {
    try await reading { db in
      if let status {
        return try await db.fetchAll("SELECT * FROM outbox WHERE status = ? ORDER BY due_at, id", [status.rawValue])
          .map(OutboxItem.init)
      }
      return try await db.fetchAll("SELECT * FROM outbox ORDER BY due_at, id").map(OutboxItem.init)
    }
  }
}
