import Foundation

/// A case's facts as the store keeps them: the snapshot fields of the classify contract
/// ([Decisions.md §2]), its `id` and `state`, never the complainant's identity. The fields
/// are the rules' to define, so they are kept as JSON values by name; the few the store itself
/// reads and writes have typed accessors. Stored as one JSON object with sorted keys.
public struct CaseSnapshot: Sendable, Equatable, Codable {
  public var fields: [String: JSONValue]

  public init(_ fields: [String: JSONValue] = [:]) { self.fields = fields }

  public subscript(_ key: String) -> JSONValue? {
    get { fields[key] }
    set { fields[key] = newValue }
  }

  /// `resolved_at` is set (not missing and not null).
  public var isResolved: Bool { !(fields["resolved_at"] ?? .null).isNull }

  public init(from decoder: any Decoder) throws {
    fields = try [String: JSONValue](from: decoder)
  }

  public func encode(to encoder: any Encoder) throws { try fields.encode(to: encoder) }

  /// The stored text.
  var json: String { StoreJSON.string(.object(fields)) }

  /// Reads stored text; text that is not an object reads as no fields.
  static func read(_ text: String) -> CaseSnapshot {
    (try? StoreJSON.decode(CaseSnapshot.self, from: text)) ?? CaseSnapshot()
  }
}

/// What a case's lifecycle has gathered (POLICY §6): approvals, extensions, the assignee…
/// Stored as the `lifecycle` column, a JSON object with sorted keys, absent members left out.
public struct CaseLifecycle: Sendable, Equatable, Codable {
  /// An extension of one deadline.
  public struct Extension: Sendable, Equatable, Codable {
    /// RFC 3339, as the `extend` event gave it.
    public var until: String
    public var reason: String
  }

  /// One follow-up visit (回访): its round, when, the answer (a satisfaction id; nil: no
  /// answer) and the complainant's comment.
  public struct FollowUp: Sendable, Equatable, Codable {
    public var round: Int
    /// RFC 3339, in the calendar's offset.
    public var at: String
    public var satisfaction: String?
    public var comment: String?

    public init(round: Int, at: String, satisfaction: String? = nil, comment: String? = nil) {
      self.round = round
      self.at = at
      self.satisfaction = satisfaction
      self.comment = comment
    }
  }

  public var approvals: [String]?
  /// The roles asked to approve by `request_approval` events (`refund_approver` resolved to
  /// the tier's approver): approvers of the case for `permissions.approver`.
  public var approvalsRequested: [String]?
  public var assignee: String?
  /// The handling unit (承办单位) of the last `assign`; nil when it named none.
  public var department: String?
  /// Extensions by deadline id.
  public var extensions: [String: Extension]?
  /// When the case entered its current level.
  public var levelSince: Int64?
  public var malicious: String?
  public var rejectedReason: String?
  public var replyApprovedBy: [String]?
  /// The handling round: 1, then one more for every `reopened`.
  public var round: Int?
  /// The answer of the current round's last follow-up (a satisfaction id); nil before one, or
  /// when it got no answer.
  public var satisfaction: String?
  /// The comment of the current round's last follow-up.
  public var satisfactionComment: String?
  /// Every follow-up, of every round, in order.
  public var followUps: [FollowUp]?
  /// Members this version does not use (written by an earlier one): kept as they are.
  public var others: [String: JSONValue] = [:]

  public init() {}

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: JSONValue.AnyKey.self)
    for key in c.allKeys {
      // A member of an unexpected type is kept as it is, not dropped.
      func typed<T: Decodable>(_ type: T.Type) -> T? {
        if let v = try? c.decode(T.self, forKey: key) { return v }
        others[key.stringValue] = try? c.decode(JSONValue.self, forKey: key)
        return nil
      }
      switch key.stringValue {
      case "approvals": approvals = typed([String].self)
      case "approvals_requested": approvalsRequested = typed([String].self)
      case "assignee": assignee = typed(String.self)
      case "extensions": extensions = typed([String: Extension].self)
      case "level_since": levelSince = typed(Int64.self)
      case "malicious": malicious = typed(String.self)
      case "rejected_reason": rejectedReason = typed(String.self)
      case "reply_approved_by": replyApprovedBy = typed([String].self)
      case "round": round = typed(Int.self)
      case "department": department = typed(String.self)
      case "satisfaction": satisfaction = typed(String.self)
      case "satisfaction_comment": satisfactionComment = typed(String.self)
      case "follow_ups": followUps = typed([FollowUp].self)
      default: others[key.stringValue] = try c.decode(JSONValue.self, forKey: key)
      }
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: JSONValue.AnyKey.self)
    for (k, v) in others { try c.encode(v, forKey: .init(k)) }
    try c.encodeIfPresent(approvals, forKey: .init("approvals"))
    try c.encodeIfPresent(approvalsRequested, forKey: .init("approvals_requested"))
    try c.encodeIfPresent(assignee, forKey: .init("assignee"))
    try c.encodeIfPresent(extensions, forKey: .init("extensions"))
    try c.encodeIfPresent(levelSince, forKey: .init("level_since"))
    try c.encodeIfPresent(malicious, forKey: .init("malicious"))
    try c.encodeIfPresent(rejectedReason, forKey: .init("rejected_reason"))
    try c.encodeIfPresent(replyApprovedBy, forKey: .init("reply_approved_by"))
    try c.encodeIfPresent(round, forKey: .init("round"))
    try c.encodeIfPresent(department, forKey: .init("department"))
    try c.encodeIfPresent(satisfaction, forKey: .init("satisfaction"))
    try c.encodeIfPresent(satisfactionComment, forKey: .init("satisfaction_comment"))
    try c.encodeIfPresent(followUps, forKey: .init("follow_ups"))
  }

  /// The lifecycle as a JSON value: what `encode(to:)` writes.
  var jsonValue: JSONValue {
    var o = others
    func put(_ key: String, _ v: JSONValue?) { if let v { o[key] = v } }
    put("approvals", approvals.map { .array($0.map(JSONValue.string)) })
    put("approvals_requested", approvalsRequested.map { .array($0.map(JSONValue.string)) })
    put("assignee", assignee.map(JSONValue.string))
    put(
      "extensions",
      extensions.map { .object($0.mapValues { .object(["until": .string($0.until), "reason": .string($0.reason)]) }) })
    put("level_since", levelSince.map(JSONValue.int))
    put("malicious", malicious.map(JSONValue.string))
    put("rejected_reason", rejectedReason.map(JSONValue.string))
    put("reply_approved_by", replyApprovedBy.map { .array($0.map(JSONValue.string)) })
    put("round", round.map { .int(Int64($0)) })
    put("department", department.map(JSONValue.string))
    put("satisfaction", satisfaction.map(JSONValue.string))
    put("satisfaction_comment", satisfactionComment.map(JSONValue.string))
    put(
      "follow_ups",
      followUps.map { list in
        .array(
          list.map { f in
            var o: [String: JSONValue] = ["round": .int(Int64(f.round)), "at": .string(f.at)]
            if let v = f.satisfaction { o["satisfaction"] = .string(v) }
            if let v = f.comment { o["comment"] = .string(v) }
            return .object(o)
          })
      })
    return .object(o)
  }

  /// The stored text (the hot path's writer: the same text as `StoreJSON.encode(self)`).
  var json: String { StoreJSON.string(jsonValue) }

  /// Reads stored text; text that is not a lifecycle object reads as an empty one.
  static func read(_ text: String) -> CaseLifecycle {
    (try? StoreJSON.decode(CaseLifecycle.self, from: text)) ?? CaseLifecycle()
  }
}

/// Who the case is about, kept in the `parties` table only (保密).
struct Party: Sendable, Equatable {
  var complainantID: String?
  var contact: String?
  var respondent: String?

  subscript(_ key: String) -> String? {
    get {
      switch key {
      case "complainant_id": complainantID
      case "contact": contact
      case "respondent": respondent
      default: nil
      }
    }
    set {
      switch key {
      case "complainant_id": complainantID = newValue
      case "contact": contact = newValue
      case "respondent": respondent = newValue
      default: break
      }
    }
  }

  init(complainantID: String? = nil, contact: String? = nil, respondent: String? = nil) {
    self.complainantID = complainantID
    self.contact = contact
    self.respondent = respondent
  }

  init(_ row: SQLRow, prefix: String = "") {
    complainantID = row[prefix + "complainant_id"]
    contact = row[prefix + "contact"]
    respondent = row[prefix + "respondent"]
  }
}
