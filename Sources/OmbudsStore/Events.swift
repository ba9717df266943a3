import Foundation
import OmbudsEngine

/// One event of a case's life, as `ombuds replay` reads it (one JSON object per line):
/// `event_id`, `case`, `type`, `at`, `actor`, and the fields of its type.
public struct CaseEvent: Sendable {
  public enum Kind: String, Sendable, CaseIterable {
    /// A new case: the fields of the case snapshot contract.
    case received
    /// Some facts changed: any snapshot fields.
    case updated
    /// Lifecycle moves (POLICY §6); see `Lifecycle.moves`.
    case register, accept, investigate, propose, reply, appeal
    /// Rejected as out of scope: `reason` (told to the complainant).
    case reject
    /// Assigned: `assignee` — never the person complained about (`respondent`).
    case assign
    /// The proposal failed review and goes back to investigation: `reason`.
    case returned = "return"
    /// The proposal is approved by `actor` (for compensation, the tier's approver).
    case approve
    case carryOut = "carry_out"
    case followUp = "follow_up"
    /// The customer-service center approves the reply to an online complaint.
    case approveReply = "approve_reply"
    /// Handling completed: `resolved_at` (default: `at`).
    case resolved
    /// Closed: `reports` handed in (`[{"report": id, "parts": [...]}]`).
    case closed
    /// A second complaint after handling completed (二次投诉).
    case reopened
    /// The customer-service center sets the level: `level`, `reason`.
    case override
    /// A deadline is extended: `deadline`, `until` (RFC 3339), `reason`; at most the rules' `max`.
    case extend
    /// Marked malicious or false: `reason`.
    case markMalicious = "mark_malicious"
    /// An approval is asked for: `approver`, a role id or `refund_approver` (the compensation
    /// tier's approver). The rules' `approval_requests` say who is told.
    case requestApproval = "request_approval"
  }

  public var eventID: String
  public var caseID: String
  public var kind: Kind
  public var at: Millis
  /// Who acted: a role id (`customer_service_center`…) or a person. `apply(_:by:)` sets it to
  /// the principal's role.
  public var actor: String
  /// The person who acted, when known: `apply(_:by:)` sets it to the principal's person; a
  /// JSON line may give `person`. Stored in `events.person`.
  public var person: String?
  /// The type's fields, as a JSON object.
  public var fields: [String: JSONValue]
  /// When set, the case must be at this version (optimistic concurrency).
  public var expectedVersion: Int?

  public init(
    eventID: String, caseID: String, kind: Kind, at: Millis, actor: String, fields: [String: JSONValue] = [:],
    expectedVersion: Int? = nil, person: String? = nil
  ) {
    self.eventID = eventID
    self.caseID = caseID
    self.kind = kind
    self.at = at
    self.actor = actor
    self.person = person
    self.fields = fields
    self.expectedVersion = expectedVersion
  }

  /// An event whose fields are built as a Swift dictionary of JSON-like values (strings,
  /// numbers, booleans, `nil`/`NSNull`, arrays, dictionaries): converted once, here.
  @_disfavoredOverload
  public init(
    eventID: String, caseID: String, kind: Kind, at: Millis, actor: String, fields: [String: Any],
    expectedVersion: Int? = nil, person: String? = nil
  ) {
    self.init(
      eventID: eventID, caseID: caseID, kind: kind, at: at, actor: actor,
      fields: fields.mapValues { JSONValue(any: $0) }, expectedVersion: expectedVersion, person: person)
  }

  /// A text field: nil when missing or not a string.
  func text(_ key: String) -> String? { fields[key]?.string }

  /// Reads one JSON line.
  /// What the JSON decoder found wrong, in one line (a number out of range, bad syntax).
  public static func reason(_ error: any Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    switch e {
    case .dataCorrupted(let c):
      let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
      return underlying ?? c.debugDescription
    case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c): return c.debugDescription
    @unknown default: return "\(e)"
    }
  }

  public static func parse(_ line: [UInt8]) throws(StoreError) -> CaseEvent {
    let fields: [String: JSONValue]
    do {
      fields = try StoreJSON.decode([String: JSONValue].self, from: line)
    } catch {
      throw .invalidEvent("not a JSON object: \(Self.reason(error))")
    }
    return try parse(object: fields)
  }

  /// Reads one event from its JSON object (`event_id`, `case`, `type`, `at`, `actor`, and
  /// the fields of its type).
  public static func parse(object: [String: JSONValue]) throws(StoreError) -> CaseEvent {
    var fields = object
    func text(_ key: String) throws(StoreError) -> String {
      guard let v = fields.removeValue(forKey: key)?.string, !v.isEmpty else {
        throw .invalidEvent("field `\(key)` is required (a string)")
      }
      return v
    }
    let eventID = try text("event_id")
    let caseID = try text("case")
    let typeName = try text("type")
    guard let kind = Kind(rawValue: typeName) else {
      throw .invalidEvent(
        "unknown event type `\(typeName)` (known: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    let atText = try text("at")
    guard let at = RFC3339.parse(atText) else {
      throw .invalidEvent("field `at`: `\(atText)` is not an RFC 3339 timestamp")
    }
    let actor = try text("actor")
    var person: String?
    if let v = fields.removeValue(forKey: "person"), !v.isNull {
      guard let p = v.string, !p.isEmpty else { throw .invalidEvent("field `person` must be a non-empty string") }
      person = p
    }
    var expected: Int?
    if let v = fields.removeValue(forKey: "expected_version") {
      // Versions count from 1 (the `received` event); nothing else can match a case.
      guard case .int(let n) = v, let whole = Int(exactly: n), whole >= 1 else {
        throw .invalidEvent("field `expected_version` must be a whole number ≥ 1")
      }
      expected = whole
    }
    return CaseEvent(
      eventID: eventID, caseID: caseID, kind: kind, at: at, actor: actor, fields: fields, expectedVersion: expected,
      person: person)
  }
}

/// What went wrong in the store: each names the case, event or field concerned.
public enum StoreError: Error, Sendable, CustomStringConvertible, Equatable {
  case invalidEvent(String)
  case unknownCase(String)
  case caseExists(String)
  case invalidCase(String, String)
  case conflict(case: String, expected: Int, actual: Int)
  case illegalTransition(case: String, state: String, event: String)
  case gate(case: String, transition: String, missing: String)
  case forbidden(String)
  /// A request to the store (not an event) names something wrong: a role, a limit, a cursor.
  case invalidArgument(String)
  /// What a request names does not exist: an outbox row, a token.
  case notFound(String)
  case database(String)
  /// Another instance wrote the same rows at the same moment; `apply` retries by itself.
  case retry(String)
  /// The rules' `permissions` do not let the principal post this event on this case: the
  /// message names the person, the role, the event type and why; `rule` is the position of
  /// the entry that refused (`rules/permissions.yaml:12:5`), nil when none applies.
  case notPermitted(case: String, message: String, rule: String?)

  public var description: String {
    switch self {
    case .invalidEvent(let m): "invalid event: \(m)"
    case .unknownCase(let id): "unknown case `\(id)`"
    case .caseExists(let id): "case `\(id)` already exists"
    case .invalidCase(let id, let m): "case `\(id)`: \(m)"
    case .conflict(let id, let e, let a):
      "case `\(id)` is at version \(a), not \(e): it changed in the meantime (reload and retry)"
    case .illegalTransition(let id, let state, let event): "case `\(id)` is \(state): `\(event)` is not allowed"
    case .gate(let id, let transition, let missing): "case `\(id)` cannot \(transition): \(missing) is missing"
    case .forbidden(let m): m
    case .notPermitted(_, let m, _): m
    case .invalidArgument(let m): m
    case .notFound(let m): m
    case .database(let m): "database: \(m)"
    case .retry(let m): "database: a concurrent write by another instance (\(m)); try again"
    }
  }
}
