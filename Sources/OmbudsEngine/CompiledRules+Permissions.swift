import OmbudsRules
import OmbudsSyntax

/// Someone acting on cases: a person holding a role defined in the rules (what a bearer token
/// says; a Swift caller passes it explicitly).
public struct Principal: Sendable, Hashable, CustomStringConvertible {
  /// Who: a staff id, as the case's `assignee` and `respondent` name people.
  public var person: String
  /// A role id of the rules (`customer_service_center`, `handler`…).
  public var role: String

  public init(person: String, role: String) {
    self.person = person
    self.role = role
  }

  public var description: String { "`\(person)` (role `\(role)`)" }
}

/// What a case's parties are, for permissions: the person it is assigned to, the person
/// complained about, and the roles asked to approve it.
public struct CaseParties: Sendable, Equatable {
  /// The `assignee` of the case's last `assign` event.
  public var assignee: String?
  /// The person complained about (被投诉人).
  public var respondent: String?
  /// The roles asked to approve the case: the approvers its gates require now (the
  /// compensation tier's for `refund_approver`), the tier's approver, and the roles named by
  /// its `request_approval` events (`CompiledRules.approvers(_:at:level:asked:)`).
  public var approvers: Set<String>

  public init(assignee: String? = nil, respondent: String? = nil, approvers: Set<String> = []) {
    self.assignee = assignee
    self.respondent = respondent
    self.approvers = approvers
  }
}

/// Whether the rules let a principal post an event type on a case.
public enum PermissionVerdict: Sendable, Equatable {
  case allowed
  /// Refused: a sentence naming the person, the role, the event type and why; and the rule
  /// that refused, `path:line:column` (the entry of `permissions` that does not list the
  /// type, or the section), nil when no rule of the section applies (a role the rules do not
  /// define).
  case denied(message: String, rule: String?)

  public var isAllowed: Bool { self == .allowed }
}

extension CompiledRules {
  /// Whether a role may look at `view` (`PermissionViews.all`): `.allowed`, or a refusal
  /// naming the entry of `permissions` that does not list it. Without a `permissions`
  /// section, or when no role entry of it has `views`, every role sees everything; once some
  /// do, a role sees what its entry lists, and a role without `views` the case lists only.
  public func mayView(_ view: String, role: String) -> PermissionVerdict {
    guard let policy = ruleSet.permissions, policy.roles.values.contains(where: { $0.views != nil }) else {
      return .allowed
    }
    guard ruleSet.roles.contains(where: { $0.id == role }) else {
      return .denied(message: "role `\(role)` is not defined in the rules", rule: nil)
    }
    let grant = policy.roles[role]
    let views = grant?.views ?? PermissionViews.unlisted
    if views.contains(view) { return .allowed }
    let at = grant?.viewsLocation ?? grant?.location ?? policy.rolesLocation
    return .denied(
      message:
        "role `\(role)` may not view \(view) (its `views`: \(views.isEmpty ? "none" : views.joined(separator: ", ")))",
      rule: at.description)
  }

  /// Whether the rules have a `permissions` section. Without one, every role the rules define
  /// may post every event type, and no principal is shown the complainant's identity.
  public var hasPermissions: Bool { ruleSet.permissions != nil }

  /// Whether `principal` may post an event of `eventType` (a `CaseEvent.Kind` raw value) on a
  /// case with these parties (POLICY §8):
  ///
  /// 1. the role must be defined in the rules;
  /// 2. the person complained about never acts on their own case;
  /// 3. the role's entry under `permissions.roles` lists the type, or the principal is the
  ///    case's assignee and `permissions.assignee` lists it, or the role is one of the case's
  ///    approvers and `permissions.approver` lists it.
  public func permission(for eventType: String, by principal: Principal, parties: CaseParties) -> PermissionVerdict {
    guard ruleSet.roles.contains(where: { $0.id == principal.role }) else {
      return .denied(
        message: "\(principal) may not post `\(eventType)`: the rules define no role `\(principal.role)`", rule: nil)
    }
    guard let policy = ruleSet.permissions else { return .allowed }
    if let respondent = parties.respondent, respondent == principal.person {
      return .denied(
        message:
          "\(principal) may not post `\(eventType)`: they are the person complained about, who never acts on their own case (被投诉人回避)",
        rule: policy.respondentLocation.description)
    }
    let entry = policy.roles[principal.role]
    if entry?.allows(eventType) == true { return .allowed }
    let isAssignee = parties.assignee != nil && parties.assignee == principal.person
    if isAssignee, policy.assignee?.allows(eventType) == true { return .allowed }
    let isApprover = parties.approvers.contains(principal.role)
    if isApprover, policy.approver?.allows(eventType) == true { return .allowed }
    var why: [String] = []
    if entry != nil {
      why.append("role `\(principal.role)` is not granted it")
    } else {
      why.append("role `\(principal.role)` has no entry under `permissions.roles`")
    }
    if policy.assignee?.allows(eventType) == true {
      if let assignee = parties.assignee {
        why.append("the assignee may, and the case is assigned to `\(assignee)`")
      } else {
        why.append("the assignee may, and the case is not assigned yet")
      }
    }
    if policy.approver?.allows(eventType) == true {
      if parties.approvers.isEmpty {
        why.append("an approver of the case may, and the case asks for no approval")
      } else {
        let names = parties.approvers.sorted().map { "`\($0)`" }.joined(separator: ", ")
        why.append("an approver of the case may, and its approvers are \(names)")
      }
    }
    return .denied(
      message: "\(principal) may not post `\(eventType)`: \(why.joined(separator: "; "))",
      rule: (entry?.location ?? policy.rolesLocation).description)
  }

  /// Whether `principal` is shown the complainant's identity and contact details on a case
  /// with these parties: never the person complained about; a role whose entry says
  /// `identity: always`; or `identity: unless_protected` (on the role's entry, or on the
  /// assignee's for the case's assignee, or the approver's for its approvers) when the
  /// case's identity is not protected. Without a `permissions` section, nobody.
  public func seesIdentity(_ principal: Principal, parties: CaseParties, protected: Bool) -> Bool {
    guard let policy = ruleSet.permissions, ruleSet.roles.contains(where: { $0.id == principal.role }) else {
      return false
    }
    if let respondent = parties.respondent, respondent == principal.person { return false }
    var grants: [IdentityAccess] = [policy.roles[principal.role]?.identity ?? .never]
    if parties.assignee != nil, parties.assignee == principal.person, let a = policy.assignee {
      grants.append(a.identity)
    }
    if parties.approvers.contains(principal.role), let a = policy.approver { grants.append(a.identity) }
    return grants.contains { $0 == .always || ($0 == .unlessProtected && !protected) }
  }

  /// Whether the case's identity is protected (`permissions.protect_identity`): its text falls
  /// in a harmful-information category marked `major` (with `major_harmful_information:
  /// true`), or the `when` condition holds at `now` (`level` is the case's level index,
  /// 0 = highest; nil: the lowest). False without the section or the key.
  public func identityProtected(_ facts: borrowing CaseFacts, at now: Millis, level: Int?) -> Bool {
    guard let protection = ruleSet.permissions?.protectIdentity else { return false }
    if protection.majorHarmfulInformation, majorCategoryBits != 0 {
      var d = Decision()
      screen(facts, &d)
      if d.categoryBits & majorCategoryBits != 0 { return true }
    }
    guard protection.when != nil, let root = protectRoot else { return false }
    let index = level.map { min(max($0, 0), levels.count - 1) } ?? (levels.count - 1)
    return holds(root, facts, now, nil, index)
  }

  /// The roles asked to approve a case at `now`: those its applicable gates require (the
  /// compensation tier's approver for `refund_approver`), its tier's approver, and `asked`
  /// (the roles its `request_approval` events named).
  public func approvers(
    _ facts: borrowing CaseFacts, at now: Millis, level: Int?, asked: [String] = []
  ) -> Set<String> {
    var result = Set(asked)
    var d = Decision()
    classify(facts, at: now, into: &d)
    let tierApprover = d.refundApprover.map { ruleSet.roles[$0].id }
    if let tierApprover { result.insert(tierApprover) }
    let index = level.map { min(max($0, 0), levels.count - 1) } ?? (levels.count - 1)
    for (i, gate) in ruleSet.gates.enumerated() {
      guard let role = gate.requireApproval, gateApplies(i, facts, at: now, level: index) else { continue }
      if role == "refund_approver" {
        if let tierApprover { result.insert(tierApprover) }
      } else {
        result.insert(role)
      }
    }
    return result
  }

  /// Whether `principal` may read cases: any role the rules define (without the identity
  /// unless `seesIdentity` says so).
  public func mayRead(_ principal: Principal) -> Bool {
    ruleSet.roles.contains { $0.id == principal.role }
  }
}
