import OmbudsSyntax

/// The event types of a case's life, as the case store names them (`CaseEvent.Kind` in
/// `OmbudsStore`, whose raw values are these, in this order: a test holds the two equal).
/// The rules name them in `permissions` (RuleLanguage.md §17).
public enum EventTypes {
  public static let all: [String] = [
    "received", "updated", "register", "accept", "investigate", "propose", "reply", "appeal", "reject", "assign",
    "return", "approve", "carry_out", "follow_up", "approve_reply", "resolved", "closed", "reopened", "override",
    "extend", "mark_malicious", "request_approval",
  ]
}

/// What a role may look at besides posting events (RuleLanguage.md §17): the case lists and
/// cases, the notification outbox (and requeueing it), the quality bulletin, the service's
/// metrics. The rule set itself (`GET /v1/rules`), classification and screening are open to
/// every authenticated caller.
public enum PermissionViews {
  public static let all: [String] = ["cases", "outbox", "reports", "metrics"]
  /// What a role sees when the rules list `views` for some roles but not for it.
  public static let unlisted: [String] = ["cases"]
}

/// Who may see the complainant's identity and contact details (POLICY §8).
public enum IdentityAccess: String, Sendable, CaseIterable {
  /// Never (the default).
  case never
  /// Unless the case's identity is protected (`protect_identity`).
  case unlessProtected = "unless_protected"
  /// Always, even when the case's identity is protected.
  case always
}

/// What the holders of one entry of `permissions` may do: the event types they may post, and
/// whether they see the complainant's identity.
public struct PermissionGrant: Sendable {
  /// The event types, as written (each once).
  public var events: [String]
  /// Where each event type is listed (for a refusal's position).
  public var eventLocations: [String: SourceLocation]
  public var identity: IdentityAccess
  /// What the role may look at (`PermissionViews.all`), as written; nil when the entry has
  /// no `views` (roles only).
  public var views: [String]? = nil
  /// Where `views` is written (or the entry's key).
  public var viewsLocation: SourceLocation? = nil
  /// The entry's key (`intake_staff:`, `assignee:`, `approver:`): a refusal cites it.
  public var location: SourceLocation

  public init(
    events: [String] = [], eventLocations: [String: SourceLocation] = [:], identity: IdentityAccess = .never,
    location: SourceLocation
  ) {
    self.events = events
    self.eventLocations = eventLocations
    self.identity = identity
    self.location = location
  }

  public func allows(_ eventType: String) -> Bool { events.contains(eventType) }
}

/// When the complainant's identity is protected: seen only by roles with `identity: always`.
public struct IdentityProtection: Sendable {
  /// The case's text falls in a harmful-information category marked `major` (the reporter of
  /// a relatively major harmful-information event, POLICY §3 and §8).
  public var majorHarmfulInformation: Bool
  /// A condition on the case (may mention `level`): the complainant asked for it, say.
  public var when: ConditionItem?
  public var location: SourceLocation
}

/// The `permissions` section (POLICY §8): who may post which event types, who sees the
/// complainant's identity. Without it, every role may post every event type and nobody is
/// shown the identity through a principal.
public struct PermissionPolicy: Sendable {
  /// Role id → what holders of that role may do. A role not listed may post nothing.
  public var roles: [String: PermissionGrant]
  /// The position of `roles:` (or of the section when it has none): cited when a role has no entry.
  public var rolesLocation: SourceLocation
  /// The case's assignee, whatever their role.
  public var assignee: PermissionGrant?
  /// A role asked to approve the case (a gate's `require_approval`, the compensation tier's
  /// approver, a `request_approval`).
  public var approver: PermissionGrant?
  public var protectIdentity: IdentityProtection?
  /// The person complained about never acts on their own case: always in force; this is where
  /// the rules say so (`respondent: never`), or the section's key.
  public var respondentLocation: SourceLocation
  /// The `permissions:` key.
  public var location: SourceLocation
}
