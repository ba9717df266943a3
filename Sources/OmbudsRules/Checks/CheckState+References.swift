import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Pass `references`: names used across sections (override role, tier approvers) are defined.
extension CheckState {
  mutating func checkReferences() {
    if let r = overrideBy { checkRole(r, as: "override role") }
    for tier in refund?.tiers ?? [] {
      if !roles.contains(where: { $0.id == tier.approver }) {
        reader.error(
          .undefinedRole, Messages.undefinedRole(as: "approver", tier.approver), at: tier.location,
          help: Suggest.didYouMean(for: tier.approver, in: roles.map(\.id), kind: .role)
            ?? Messages.defineUnder("roles"))
      }
    }
    if fields.contains(where: { $0.type == .money }), refund == nil {
      // Money facts work without tiers; nothing to say.
    }
  }
}
