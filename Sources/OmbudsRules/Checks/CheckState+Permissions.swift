import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Pass `permissions`: who may post which event types, who sees the complainant's identity
/// (POLICY §8). After `references`: the roles, `settings.override_by`, the gates and the tiers
/// are known.
extension CheckState {

  mutating func checkPermissions() {
    guard let def = sections["permissions"]?.first else { return }
    let sectionLocation = def.key.location
    var policy = PermissionPolicy(
      roles: [:], rolesLocation: sectionLocation, assignee: nil, approver: nil, protectIdentity: nil,
      respondentLocation: sectionLocation, location: sectionLocation)
    // `permissions:` with nothing under it grants nothing.
    if def.value.isNull {
      permissions = policy
      return
    }
    guard let keys = reader.mapping(def.value, Ctx.code("permissions"), shape: RuleShapes.permissions) else { return }
    if let pair = keys["roles"] {
      policy.rolesLocation = pair.key.location
      if !pair.value.isNull {
        if let entries = pair.value.pairs {
          for entry in entries {
            let role = entry.key
            guard roles.contains(where: { $0.id == role.value }) else {
              checkRole(role, as: "role")
              continue
            }
            if let grant = permissionGrant(entry, holder: .role(role.value)) { policy.roles[role.value] = grant }
          }
        } else {
          reader.typeError(
            pair.value, expected: Expected.words("a mapping of role ids", "以角色 id 为键的映射"),
            in: Ctx.code("permissions").part("roles", "角色"))
        }
      }
    }
    if let pair = keys["assignee"] { policy.assignee = permissionGrant(pair, holder: .assignee) }
    if let pair = keys["approver"] { policy.approver = permissionGrant(pair, holder: .approver) }
    if let pair = keys["respondent"] {
      policy.respondentLocation = pair.key.location
      if let value = reader.string(pair.value, Ctx.code("permissions").key("respondent")), value != "never" {
        reader.error(
          .unknownValue,
          LocalizedText(
            en: "`respondent` is `never`: the person complained about never acts on their own case",
            zh: "`respondent` 只能是 `never`：被投诉人永远不能处理针对自己的案件"),
          at: pair.value.location, length: value.unicodeScalars.count,
          help: LocalizedText(
            en: "write `respondent: never`, or leave the key out (the rule holds either way)",
            zh: "请写 `respondent: never`，或者省略这个键（两种写法规则都成立）"))
      }
    }
    if let pair = keys["protect_identity"] { policy.protectIdentity = identityProtection(pair) }
    permissions = policy
  }

  enum PermissionHolder {
    case role(String)
    case assignee
    case approver

    var name: String {
      switch self {
      case .role(let id): "role `\(id)`"
      case .assignee: "the assignee"
      case .approver: "the approver"
      }
    }

    var text: LocalizedText {
      switch self {
      case .role(let id): Ctx.role(id)
      case .assignee: LocalizedText(en: name, zh: "承办人")
      case .approver: LocalizedText(en: name, zh: "审批人")
      }
    }
  }

  /// One entry: `{events: [type, …], identity: always | unless_protected | never}`, or nothing.
  mutating func permissionGrant(_ pair: YAMLNode.Pair, holder: PermissionHolder) -> PermissionGrant? {
    var grant = PermissionGrant(location: pair.key.location)
    if pair.value.isNull { return grant }
    let context = Context(en: "permissions of \(holder.name)", zh: "\(holder.text) 的权限")
    var shape = RuleShapes.grant
    if case .role = holder { shape = RuleShapes.roleGrant }
    guard let keys = reader.mapping(pair.value, context, shape: shape) else { return nil }
    if let views = keys["views"] {
      grant.viewsLocation = views.key.location
      grant.views = listed(
        views.value, context.key("views"), known: PermissionViews.all, holder: holder, unknown: .unknownValue,
        noun: "view", listName: "views", named: true
      ).map(\.value)
    }
    let events = listed(
      keys["events"]?.value, context.key("events"), known: EventTypes.all, holder: holder, unknown: .unknownEventType,
      noun: "event type", listName: "event types")
    for type in events {
      if type.value == "override" { checkOverrideGrant(type, holder: holder) }
      grant.events.append(type.value)
      grant.eventLocations[type.value] = type.location
    }
    if let node = keys["identity"]?.value, let text = reader.string(node, context.key("identity")) {
      if let access = IdentityAccess(rawValue: text) {
        grant.identity = access
      } else {
        let values = IdentityAccess.allCases.map(\.rawValue)
        reader.error(
          .unknownValue,
          LocalizedText(
            en: "`identity` is `always`, `unless_protected` or `never`, not `\(text)`",
            zh: "`identity` 只能是 `always`、`unless_protected` 或 `never`，不能是 `\(text)`"),
          at: node.location, length: max(1, text.unicodeScalars.count),
          help: Suggest.didYouMean(for: text, in: values)
            ?? LocalizedText(
              en: "`always`: even when the identity is protected; `unless_protected`: unless `protect_identity` holds",
              zh: "`always`：即使身份受保护也可见；`unless_protected`：`protect_identity` 成立时不可见"))
      }
    }
    return grant
  }

  /// The ids of a list of `known` words (event types, views), each once: an unknown one is
  /// the error `unknown` ("unknown \(noun) `x`", with "did you mean"), a repeated one the
  /// warning `rules.duplicate-permission` (its message naming the noun when `named`).
  mutating func listed(
    _ node: YAMLNode?, _ context: Context, known: [String], holder: PermissionHolder, unknown: DiagnosticCode,
    noun: String, listName: String, named: Bool = false
  ) -> [Located<String>] {
    var seen: [String: SourceLocation] = [:]
    var list: [Located<String>] = []
    for id in reader.identifiers(node, context) ?? [] {
      guard known.contains(id.value) else {
        reader.error(
          unknown, Messages.unknownListed(noun, id.value), at: id.location, length: id.value.unicodeScalars.count,
          help: Suggest.didYouMean(for: id.value, in: known) ?? Messages.listedWords(listName, known))
        continue
      }
      if let first = seen[id.value] {
        reader.warning(
          .duplicatePermission, Messages.listedTwice(named ? noun : nil, id.value, for: holder.text),
          at: id.location,
          length: id.value.unicodeScalars.count, related: [.init(Messages.firstListedHere, at: first)])
        continue
      }
      seen[id.value] = id.location
      list.append(id)
    }
    return list
  }

  /// `override` may be granted only to the role `settings.override_by` names.
  mutating func checkOverrideGrant(_ type: Located<String>, holder: PermissionHolder) {
    if case .role(let id) = holder, id == overrideBy?.value { return }
    let related =
      overrideBy.map {
        [
          Diagnostic.Related(
            LocalizedText(en: "`settings.override_by` is here", zh: "`settings.override_by` 在此"), at: $0.location)
        ]
      } ?? []
    if let role = overrideBy?.value {
      reader.error(
        .overridePermission,
        LocalizedText(
          en: "`override` may be granted only to `\(role)` (settings.override_by), not to \(holder.name)",
          zh: "`override` 只能授予 `settings.override_by` 指定的 \(.role, role)，不能授予\(holder.text)"),
        at: type.location, length: type.value.unicodeScalars.count, related: related,
        help: LocalizedText(
          en: "remove `override` here; list it under `roles: {\(role): …}`",
          zh: "请删去此处的 `override`，改列在 `roles: {\(role): …}` 下"))
    } else {
      reader.error(
        .overridePermission,
        LocalizedText(
          en:
            "`override` is granted to \(holder.name), but `settings.override_by` names no role: nobody may set a level by hand",
          zh: "`override` 授予了\(holder.text)，但 `settings.override_by` 没有指定角色：谁都不能人工定级"),
        at: type.location, length: type.value.unicodeScalars.count,
        help: LocalizedText(
          en: "set `settings.override_by: \(holderRole(holder) ?? "ROLE")`, or remove `override` here",
          zh: "请设置 `settings.override_by: \(holderRole(holder) ?? "ROLE")`，或删去此处的 `override`"))
    }
  }

  func holderRole(_ holder: PermissionHolder) -> String? {
    if case .role(let id) = holder { return id }
    return nil
  }

  /// `protect_identity: CONDITION`, or `{major_harmful_information: true, when: CONDITION}`.
  mutating func identityProtection(_ pair: YAMLNode.Pair) -> IdentityProtection? {
    var protection = IdentityProtection(majorHarmfulInformation: false, when: nil, location: pair.key.location)
    let node = pair.value
    let context = Ctx.code("protect_identity")
    let isCondition: Bool
    switch node {
    case .scalar: isCondition = !node.isNull
    case .mapping(let pairs, _):
      isCondition =
        pairs.first.map { ["any", "all", "not"].contains($0.key.value) || $0.key.value.contains("(") } ?? false
    case .sequence: isCondition = false
    }
    if isCondition {
      protection.when = protectionCondition(node)
      return protection
    }
    guard let keys = reader.mapping(node, context, shape: RuleShapes.protection)
    else { return nil }
    protection.majorHarmfulInformation =
      reader.bool(keys["major_harmful_information"]?.value, context.key("major_harmful_information")) ?? false
    if let when = keys["when"]?.value { protection.when = protectionCondition(when) }
    if keys["major_harmful_information"] == nil, keys["when"] == nil {
      reader.error(
        .missingKey,
        LocalizedText(
          en: "\(context.en) needs `when` (a condition) or `major_harmful_information: true`",
          zh: "\(context) 需要 `when`（条件）或 `major_harmful_information: true`"),
        at: node.location)
    }
    return protection
  }

  /// A condition of `protect_identity`: like a gate's (it may mention `level`), but it sees the
  /// case alone, so the aggregate, which counts other cases, is refused.
  mutating func protectionCondition(_ node: YAMLNode) -> ConditionItem? {
    guard let item = item(node, .general) else { return nil }
    if Self.usesAggregate(item.cond) {
      reader.error(
        .typeMismatch,
        LocalizedText(
          en: "`same_issue_complainants` cannot be used in `protect_identity`: it sees the case alone",
          zh: "`protect_identity` 中不能用 `same_issue_complainants`：这里只看得到案件本身"),
        at: item.location, length: item.length,
        help: LocalizedText(en: "protect the identity by facts of the case itself", zh: "请用案件本身的事实来保护身份"))
      return nil
    }
    return item
  }

  static func usesAggregate(_ c: Cond) -> Bool {
    switch c {
    case .sameIssueComplainants: true
    case .and(let cs), .or(let cs): cs.contains(where: usesAggregate)
    case .not(let x): usesAggregate(x)
    default: false
    }
  }
}
