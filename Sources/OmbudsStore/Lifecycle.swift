/// The stages every regulation shares (POLICY §6), and which event moves a case between them.
public enum Stage: String, Sendable, CaseIterable {
  case received, registered, accepted, rejected, assigned, investigating, proposed, approved
  case carriedOut = "carried_out"
  case replied
  case followUp = "follow_up"
  case closed, appealed

  /// The stage in Chinese, for people (bulletins).
  public var label: String {
    switch self {
    case .received: "已接收"
    case .registered: "已登记"
    case .accepted: "已受理"
    case .rejected: "不予受理"
    case .assigned: "已分派"
    case .investigating: "调查中"
    case .proposed: "已提出处理方案"
    case .approved: "方案已批准"
    case .carriedOut: "已办结"
    case .replied: "已答复"
    case .followUp: "已回访"
    case .closed: "已结案"
    case .appealed: "申诉中"
    }
  }

  /// The snapshot's `state` (the classify contract): open, resolved or closed.
  var snapshotState: String {
    switch self {
    case .carriedOut, .replied, .followUp: "resolved"
    case .closed, .rejected: "closed"
    default: "open"
    }
  }
}

/// The legal moves: event type → the stages it may start from, and where it leads.
/// `updated`, `override`, `extend`, `approve_reply` and `mark_malicious` do not move a case.
enum Lifecycle {
  static let open: Set<Stage> = [
    .received, .registered, .accepted, .assigned, .investigating, .proposed, .approved, .appealed,
  ]

  static let moves: [CaseEvent.Kind: (from: Set<Stage>, to: Stage)] = [
    .register: ([.received], .registered),
    .accept: ([.registered], .accepted),
    .reject: ([.received, .registered], .rejected),
    .assign: ([.accepted, .assigned, .investigating, .proposed, .appealed], .assigned),
    .investigate: ([.assigned, .appealed], .investigating),
    .propose: ([.investigating], .proposed),
    .returned: ([.proposed], .investigating),
    .approve: ([.proposed, .approved], .approved),  // several approvers may sign
    .carryOut: ([.approved], .carriedOut),
    .reply: ([.carriedOut], .replied),
    .followUp: ([.replied], .followUp),
    // Simple flows may skip the intermediate stages: handling completed from any open stage.
    .resolved: (open, .carriedOut),
    .closed: ([.carriedOut, .replied, .followUp, .rejected], .closed),
    .reopened: ([.carriedOut, .replied, .followUp, .closed], .accepted),
    .appeal: ([.closed, .rejected], .appealed),
  ]

  /// The gate transition name in the rules for an event.
  static func gateName(_ kind: CaseEvent.Kind) -> String? {
    switch kind {
    case .carryOut, .resolved: "carry_out"
    case .reply: "reply"
    case .closed: "close"
    case .approve: "approve"
    case .register: "register"
    case .accept: "accept"
    case .reject: "reject"
    case .assign: "assign"
    case .investigate: "investigate"
    case .propose: "propose"
    case .followUp: "follow_up"
    case .reopened: "reopen"
    case .appeal: "appeal"
    case .extend: "extend"
    default: nil
    }
  }
}
