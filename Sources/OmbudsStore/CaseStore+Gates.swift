import Foundation
import OmbudsEngine
import OmbudsRules

extension CaseStore {
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
    let approvals = Set(lifecycle.approvals ?? [])
    for (i, gate) in rules.ruleSet.gates.enumerated() where gate.transition == transition {
      guard rules.gateApplies(i, facts, at: event.at, level: levelIndex) else { continue }
      if let report = gate.requireReport {
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
      }
      if let approver = gate.requireApproval {
        if approver == "refund_approver" {
          var d = Decision()
          rules.classify(facts, at: event.at, into: &d)
          if let role = d.refundApprover.map({ rules.ruleSet.roles[$0].id }), !approvals.contains(role) {
            throw StoreError.gate(
              case: event.caseID, transition: transition, missing: "the approval of `\(role)` for the compensation")
          }
        } else if transition == "reply" {
          if !(lifecycle.replyApprovedBy ?? []).contains(approver) {
            throw StoreError.gate(
              case: event.caseID, transition: transition,
              missing: "the approval of the reply by `\(approver)` (approve_reply)")
          }
        } else if !approvals.contains(approver) {
          throw StoreError.gate(case: event.caseID, transition: transition, missing: "the approval of `\(approver)`")
        }
      }
    }
  }
}
