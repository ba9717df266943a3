import Foundation
import OmbudsEngine
import OmbudsRules

/// A case as an event finds it and leaves it: what `apply` reads, changes and writes back.
struct CaseState: Sendable {
  var snapshot = CaseSnapshot()
  var version = 0
  var state = "open"
  var stage = Stage.received
  var lifecycle = CaseLifecycle()
  /// The stored level; nil for a new case.
  var level: String?
  var override: String?
  var party = Party()

  init() {}

  /// The case as stored, with its party's identity.
  init(row: SQLRow, party: SQLRow?) {
    version = row["version"]
    state = row["state"]
    stage = Stage(rawValue: row["stage"]) ?? .received
    lifecycle = CaseLifecycle.read(row["lifecycle"])
    level = row["level"]
    override = row["override_level"]
    snapshot = CaseSnapshot.read(row["snapshot"])
    if let party { self.party = Party(party) }
  }
}

/// What a transition asks of the rest of `apply`.
struct TransitionEffects {
  /// The snapshot before the event's fields were merged (for significant changes).
  var factsBefore: CaseSnapshot
  /// The approver an approval request names (`request_approval`).
  var approvalAsked: String?
}

extension CaseStore {
  /// The event's effect on the stage, the facts and the lifecycle: the legal move, the
  /// event's own fields, and what its type records. Throws what the event may not do.
  func transition(_ event: CaseEvent, _ c: inout CaseState) throws -> TransitionEffects {
    if let move = Lifecycle.moves[event.kind] {
      guard move.from.contains(c.stage) else {
        throw StoreError.illegalTransition(case: event.caseID, state: c.stage.rawValue, event: event.kind.rawValue)
      }
      c.stage = move.to
    }
    if c.stage == .closed, [.override, .extend, .approveReply, .requestApproval].contains(event.kind) {
      throw StoreError.illegalTransition(case: event.caseID, state: c.stage.rawValue, event: event.kind.rawValue)
    }
    var effects = TransitionEffects(factsBefore: c.snapshot)
    switch event.kind {
    case .requestApproval:
      guard let who = event.text("approver"), !who.isEmpty else {
        throw StoreError.invalidEvent("`request_approval` needs an `approver` (a role id or `refund_approver`)")
      }
      guard who == "refund_approver" || rules.ruleSet.roles.contains(where: { $0.id == who }) else {
        throw StoreError.invalidEvent(
          "`request_approval`: unknown approver `\(who)` (roles: \(rules.ruleSet.roles.map(\.id).joined(separator: ", ")))"
        )
      }
      effects.approvalAsked = who
    case .received, .updated:
      if event.kind == .updated, c.stage == .closed {
        throw StoreError.illegalTransition(case: event.caseID, state: c.stage.rawValue, event: "updated")
      }
      for (k, v) in event.fields {
        if Self.confidential.contains(k) { c.party[k] = v.string } else { c.snapshot[k] = v }
      }
    case .reject, .returned, .markMalicious:
      guard let reason = event.text("reason"), !reason.isEmpty else {
        throw StoreError.invalidEvent("`\(event.kind.rawValue)` needs a `reason`")
      }
      if event.kind == .reject {
        c.lifecycle.rejectedReason = reason
        // Rejected is final: the clock stops, the level no longer moves with time.
        if !c.snapshot.isResolved { c.snapshot["resolved_at"] = .string(localTime(event.at)) }
      }
      if event.kind == .markMalicious { c.lifecycle.malicious = reason }
    case .assign:
      guard let assignee = event.text("assignee"), !assignee.isEmpty else {
        throw StoreError.invalidEvent("`assign` needs an `assignee`")
      }
      // 被投诉人应当回避: the person complained about cannot handle the case.
      if let respondent = c.party.respondent, respondent == assignee {
        throw StoreError.forbidden(
          "case `\(event.caseID)`: the assignee is the person complained about and must recuse (回避)")
      }
      c.lifecycle.assignee = assignee
      // 承办单位: each assignment says which unit handles the case now (none when left out).
      if let department = event.fields["department"], !department.isNull {
        guard let text = department.string, !text.isEmpty else {
          throw StoreError.invalidEvent("`assign`: `department` is the handling unit's id or name (text)")
        }
        c.lifecycle.department = text
      } else {
        c.lifecycle.department = nil
      }
    case .followUp:
      try followUp(event, &c.lifecycle)
    case .approve:
      c.lifecycle.approvals = (c.lifecycle.approvals ?? []) + [event.actor]
    case .approveReply:
      // Who approves replies is what the rules' `reply` gates require.
      let approvers = Set(rules.ruleSet.gates.filter { $0.transition == "reply" }.compactMap(\.requireApproval))
      guard approvers.contains(event.actor) else {
        throw StoreError.forbidden(
          "case `\(event.caseID)`: replies are approved by \(approvers.sorted().map { "`\($0)`" }.joined(separator: ", ")), not `\(event.actor)`"
        )
      }
      c.lifecycle.replyApprovedBy = (c.lifecycle.replyApprovedBy ?? []) + [event.actor]
    case .extend:
      try extend(event, snapshot: c.snapshot, party: c.party, lifecycle: &c.lifecycle)
    case .resolved, .carryOut:
      if !c.snapshot.isResolved {
        c.snapshot["resolved_at"] = .string(event.text("resolved_at") ?? localTime(event.at))
      }
    case .closed:
      if !c.snapshot.isResolved { c.snapshot["resolved_at"] = .string(localTime(event.at)) }
    case .appeal:
      // 复核申诉: the case is open again for review; earlier approvals no longer count.
      c.snapshot["resolved_at"] = .null
      c.lifecycle.approvals = nil
      c.lifecycle.approvalsRequested = nil
      c.lifecycle.replyApprovedBy = nil
    case .reopened:
      c.snapshot["resolved_at"] = .null
      c.snapshot["reopened_after_resolution"] = .bool(true)
      c.lifecycle.round = (c.lifecycle.round ?? 1) + 1
      // The new round has had no follow-up yet; the earlier rounds' stay in `followUps`.
      c.lifecycle.satisfaction = nil
      c.lifecycle.satisfactionComment = nil
      c.lifecycle.replyApprovedBy = nil
      c.lifecycle.approvals = nil
      c.lifecycle.approvalsRequested = nil
      c.override = nil
    case .override:
      guard let role = rules.ruleSet.overrideRole else {
        throw StoreError.forbidden(
          "case `\(event.caseID)`: these rules name no role that may set a level (settings.override_by)")
      }
      guard event.actor == role else {
        throw StoreError.forbidden(
          "case `\(event.caseID)`: only `\(role)` may set a level (actor is `\(event.actor)`)")
      }
      guard let to = event.text("level"), rules.levels.contains(where: { $0.id == to }) else {
        throw StoreError.invalidEvent(
          "override needs `level`, one of \(rules.levels.map(\.id).joined(separator: ", "))")
      }
      guard let reason = event.text("reason"), !reason.isEmpty else {
        throw StoreError.invalidEvent("override needs a `reason`")
      }
      c.override = to
    default:
      break
    }
    c.state = c.stage.snapshotState
    c.snapshot["state"] = .string(c.state)
    c.snapshot["id"] = .string(event.caseID)
    return effects
  }

  /// Records a follow-up visit (回访): the complainant's `satisfaction` (an id of the rules'
  /// `satisfaction`, or none when the visit got no answer) and an optional `comment`.
  func followUp(_ event: CaseEvent, _ lifecycle: inout CaseLifecycle) throws {
    let known = rules.ruleSet.satisfaction.map(\.id)
    var answer: String?
    if let value = event.fields["satisfaction"], !value.isNull {
      guard let text = value.string, known.contains(text) else {
        let given = value.string.map { "`\($0)`" } ?? "that is not text"
        throw StoreError.invalidEvent(
          known.isEmpty
            ? "`follow_up`: unknown `satisfaction` \(given): these rules define no satisfaction answers"
            : "`follow_up`: unknown `satisfaction` \(given) (satisfaction: \(known.joined(separator: ", ")))")
      }
      answer = text
    }
    var comment: String?
    if let value = event.fields["comment"], !value.isNull {
      guard let text = value.string else {
        throw StoreError.invalidEvent("`follow_up`: `comment` is text")
      }
      comment = text.isEmpty ? nil : text
    }
    lifecycle.satisfaction = answer
    lifecycle.satisfactionComment = comment
    lifecycle.followUps =
      (lifecycle.followUps ?? []) + [
        CaseLifecycle.FollowUp(
          round: lifecycle.round ?? 1, at: localTime(event.at),
          satisfaction: answer, comment: comment)
      ]
  }

  /// Records a deadline extension: with a reason, and never past the rules' cap.
  func extend(_ event: CaseEvent, snapshot: CaseSnapshot, party: Party, lifecycle: inout CaseLifecycle) throws {
    guard let name = event.text("deadline"),
      let index = rules.ruleSet.deadlines.firstIndex(where: { $0.id == name })
    else {
      throw StoreError.invalidEvent(
        "`extend` needs `deadline`, one of \(rules.ruleSet.deadlines.map(\.id).joined(separator: ", "))")
    }
    guard let untilText = event.text("until"), let until = RFC3339.parse(untilText) else {
      throw StoreError.invalidEvent("`extend` needs `until`, an RFC 3339 timestamp")
    }
    guard let reason = event.text("reason"), !reason.isEmpty else {
      throw StoreError.invalidEvent("`extend` needs a `reason` (told to the complainant)")
    }
    let decl = rules.ruleSet.deadlines[index]
    guard let cap = decl.maximum else {
      throw StoreError.forbidden(
        "case `\(event.caseID)`: deadline `\(name)` cannot be extended (the rules set no `max`)")
    }
    let facts = try self.facts(event.caseID, snapshot, party)
    var d = Decision()
    rules.evaluate(facts, at: event.at, into: &d)
    // The cap counts from the timestamp of the rule the evaluator says set the deadline.
    let current = rules.deadlinePlans(d, facts).first { $0.deadline == index }?.due
    // An extension moves a deadline later, never earlier.
    let inForce = lifecycle.extensions?[name].flatMap { RFC3339.parse($0.until) } ?? current
    if let inForce, until <= inForce {
      throw StoreError.invalidEvent(
        "`extend`: `until` must be later than the deadline in force (\(localTime(inForce)))")
    }
    guard let limit = rules.extensionLimit(deadline: index, d, facts) else {
      throw StoreError.forbidden("case `\(event.caseID)`: deadline `\(name)` cannot be extended")
    }
    guard until <= limit else {
      throw StoreError.forbidden(
        "case `\(event.caseID)`: `\(name)` can be extended to \(RFC3339.format(limit, offsetSeconds: rules.calendar.clock.offset(at: limit))) at most (\(cap))"
      )
    }
    var extensions = lifecycle.extensions ?? [:]
    extensions[name] = CaseLifecycle.Extension(until: untilText, reason: reason)
    lifecycle.extensions = extensions
  }
}
