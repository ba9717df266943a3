import Foundation
import OmbudsEngine

extension CaseStore {
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
    /// Whether `snapshotJSON` holds the complainant's identity and contact details (those
    /// the case has): set by the readers for a principal when the rules' permissions show
    /// them, and by `includeConfidential`.
    public var identityIncluded = false

    /// The snapshot, read.
    public var snapshot: CaseSnapshot { CaseSnapshot.read(snapshotJSON) }
    /// The lifecycle, read.
    public var lifecycle: CaseLifecycle { CaseLifecycle.read(lifecycleJSON) }
  }

  /// The columns of a stored case, with its party and its latest decision: one query.
  static let caseQuery = """
    SELECT c.id, c.version, c.state, c.level, c.next_review_at, c.snapshot, c.stage, c.lifecycle, c.received_at,
      p.complainant_id, p.contact, p.respondent,
      (SELECT d.decision FROM decisions d WHERE d.case_id = c.id ORDER BY d.id DESC LIMIT 1) AS decision
    FROM cases c LEFT JOIN parties p ON p.case_id = c.id
    """

  func storedCase(_ row: SQLRow, includeConfidential: Bool) -> StoredCase {
    var snapshot: String = row["snapshot"]
    var included = false
    if includeConfidential {
      included = true
      let party = Party(row)
      if party != Party() {
        var s = CaseSnapshot.read(snapshot)
        for key in ["complainant_id", "contact", "respondent"] { if let v = party[key] { s[key] = .string(v) } }
        snapshot = s.json
      }
    }
    return StoredCase(
      id: row["id"], version: row["version"], state: row["state"], level: row["level"],
      nextReviewAt: row["next_review_at"], snapshotJSON: snapshot, decisionJSON: row["decision"], stage: row["stage"],
      lifecycleJSON: row["lifecycle"], identityIncluded: included)
  }

  /// Every stored case, by receipt time and id. The complainant's identity is in the
  /// snapshots only when `includeConfidential` is set.
  public func cases(includeConfidential: Bool = false) async throws -> [StoredCase] {
    try await reading { db in
      try await db.fetchAll("\(Self.caseQuery) ORDER BY c.received_at, c.id").map {
        storedCase($0, includeConfidential: includeConfidential)
      }
    }
  }

  /// One stored case, or nil when there is none with this id.
  public func storedCase(_ id: String, includeConfidential: Bool = false) async throws -> StoredCase? {
    try await reading { db in
      try await db.fetchAll("\(Self.caseQuery) WHERE c.id = ?", [id]).first.map {
        storedCase($0, includeConfidential: includeConfidential)
      }
    }
  }

  /// An outbox row as `outbox()` lists it.
  public typealias OutboxEntry = (key: String, caseID: String, kind: String, recipients: String, dueAt: Millis)

  /// Outbox rows, oldest first.
  public func outbox() async throws -> [OutboxEntry] {
    try await reading { db in
      try await db.fetchAll("SELECT idempotency_key, case_id, kind, recipients, due_at FROM outbox ORDER BY due_at, id")
        .map { row in (row["idempotency_key"], row["case_id"], row["kind"], row["recipients"], row["due_at"]) }
    }
  }

  /// The complainant's identity and contact details, for a route that may carry them.
  public func identity(of caseID: String) async throws -> [String: String] {
    try await reading { db in
      guard let p = try await db.fetchOne("SELECT complainant_id, contact FROM parties WHERE case_id = ?", [caseID])
      else { return [:] }
      var out: [String: String] = [:]
      if let c: String = p["complainant_id"] { out["complainant_id"] = c }
      if let c: String = p["contact"] { out["contact"] = c }
      return out
    }
  }
}
