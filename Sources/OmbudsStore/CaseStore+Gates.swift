import Foundation
import OmbudsEngine
import OmbudsRules

/// What a gate of the rules asks of a transition, for one case as it stands.
public struct GateDemand: Sendable, Hashable {
  public enum Kind: Sendable, Hashable {
    /// A report handed in with the transition (`closed` with `reports`).
    case report(String)
    /// An approval recorded before (`approve` events); `compensation` when it is the refund
    /// approver's.
    case approval(String, compensation: Bool)
    /// The reply's approval (`approve_reply` events).
    case replyApproval(String)
  }
  public var transition: String
  public var kind: Kind

  /// One line, as `ombuds impact` lists it.
  public var description: String {
    switch kind {
    case .report(let r): "`\(transition)` needs the `\(r)` report"
    case .approval(let role, let compensation):
      "`\(transition)` needs the approval of `\(role)`\(compensation ? " for the compensation" : "")"
    case .replyApproval(let role): "`\(transition)` needs the approval of the reply by `\(role)`"
    }
  }
}

extension CaseStore {
  /// What the rules' gates ask of `transition` (every transition when nil) for a case at
  /// level index `level` at `at`, in rule order.
  func gateDemands(_ transition: String?, facts: CaseFacts, at: Millis, level: Int) -> [GateDemand] {
    var out: [GateDemand] = []
    for (i, gate) in rules.ruleSet.gates.enumerated() where transition == nil || gate.transition == transition {
      guard rules.gateApplies(i, facts, at: at, level: level) else { continue }
      if let report = gate.requireReport { out.append(GateDemand(transition: gate.transition, kind: .report(report))) }
      if let approver = gate.requireApproval {
        if approver == "refund_approver" {
          var d = Decision()
          rules.classify(facts, at: at, into: &d)
          if let role = d.refundApprover.map({ rules.ruleSet.roles[$0].id }) {
            out.append(GateDemand(transition: gate.transition, kind: .approval(role, compensation: true)))
          }
        } else if gate.transition == "reply" {
          out.append(GateDemand(transition: gate.transition, kind: .replyApproval(approver)))
        } else {
          out.append(GateDemand(transition: gate.transition, kind: .approval(approver, compensation: false)))
        }
      }
    }
    return out
  }

  /// Whether `lifecycle` already satisfies an approval `demand` (a report never is: it comes
  /// with the transition).
  static func satisfied(_ demand: GateDemand, by lifecycle: CaseLifecycle) -> Bool {
    switch demand.kind {
    case .report: false
    case .approval(let role, _): (lifecycle.approvals ?? []).contains(role)
    case .replyApproval(let role): (lifecycle.replyApprovedBy ?? []).contains(role)
    }
  }

  /// The gates the rules put on a transition: approvals and reports that must exist first.
  func checkGates(
    _ transition: String, _ event: CaseEvent, facts: CaseFacts, level: String?, lifecycle: CaseLifecycle
  ) throws {
    let levelIndex = level.flatMap { id in rules.levels.firstIndex { $0.id == id } } ?? (rules.levels.count - 1)
    // A list holding anything but objects is no list of reports.
    let given = event.fields["reports"]?.array ?? []
    let objects = given.compactMap(\.object)
    let reports = objects.count == given.count ? objects : []
    let handed = Set(reports.compactMap { $0["report"]?.string })
    let parts = Dictionary(
      reports.compactMap { r -> (String, Set<String>)? in
        guard let id = r["report"]?.string else { return nil }
        // A list holding anything but text is no list of parts.
        let list = r["parts"]?.array ?? []
        let names = list.compactMap(\.string)
        return (id, Set(names.count == list.count ? names : []))
      }, uniquingKeysWith: { a, b in a.union(b) })
    for demand in gateDemands(transition, facts: facts, at: event.at, level: levelIndex) {
      switch demand.kind {
      case .report(let report):
        guard handed.contains(report) else {
          throw StoreError.gate(
            case: event.caseID, transition: transition,
            missing: "the `\(report)` report (required at level \(rules.levels[levelIndex].id))")
        }
        if let decl = rules.ruleSet.reports.first(where: { $0.id == report }) {
          let missing = decl.parts.map(\.id).filter { !(parts[report] ?? []).contains($0) }
          if !missing.isEmpty {
            throw StoreError.gate(
              case: event.caseID, transition: transition,
              missing: "parts \(missing.joined(separator: ", ")) of the `\(report)` report")
          }
        }
      case .approval(let role, let compensation):
        if !Self.satisfied(demand, by: lifecycle) {
          throw StoreError.gate(
            case: event.caseID, transition: transition,
            missing: compensation ? "the approval of `\(role)` for the compensation" : "the approval of `\(role)`")
        }
      case .replyApproval(let role):
        if !Self.satisfied(demand, by: lifecycle) {
          throw StoreError.gate(
            case: event.caseID, transition: transition,
            missing: "the approval of the reply by `\(role)` (approve_reply)")
        }
      }
    }
  }
}
