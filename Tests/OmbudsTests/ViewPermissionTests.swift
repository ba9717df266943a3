import Foundation
import OmbudsEngine
import OmbudsStore
import Testing

/// `views` in the rules' permissions: what a role may look at through the service (the case
/// lists, the outbox, the bulletin, the metrics), refused with 403 naming the rule.
@Suite(.serialized) struct ViewPermissionTests {
  @Test func withoutViewsEveryRoleSeesEverythingAsBefore() throws {
    let rules = try Support.compile(
      """
      levels:
        ordinary: {otherwise: true}
      roles:
        clerk: {label: 职员}
        boss: {label: 领导}
      permissions:
        roles:
          clerk: {events: [received]}
      """)
    for view in ["cases", "outbox", "reports", "metrics"] {
      #expect(rules.mayView(view, role: "clerk") == .allowed)
      #expect(rules.mayView(view, role: "boss") == .allowed)
    }
  }

  @Test func onceSomeRoleHasViewsEachSeesItsOwnAndTheOthersTheCases() throws {
    let rules = try Support.compile(
      """
      levels:
        ordinary: {otherwise: true}
      roles:
        clerk: {label: 职员}
        boss: {label: 领导}
        guest: {label: 访客}
      permissions:
        roles:
          clerk: {events: [received]}
          boss: {events: [], views: [cases, reports]}
          guest: {views: []}
      """)
    #expect(rules.mayView("reports", role: "boss") == .allowed)
    #expect(
      rules.mayView("outbox", role: "boss")
        == .denied(message: "role `boss` may not view outbox (its `views`: cases, reports)", rule: "test.yaml:10:24"))
    // A role without `views` sees the cases only; one with `views: []` nothing.
    #expect(rules.mayView("cases", role: "clerk") == .allowed)
    #expect(
      rules.mayView("metrics", role: "clerk")
        == .denied(message: "role `clerk` may not view metrics (its `views`: cases)", rule: "test.yaml:9:5"))
    #expect(
      rules.mayView("cases", role: "guest")
        == .denied(message: "role `guest` may not view cases (its `views`: none)", rule: "test.yaml:11:13"))
    #expect(
      rules.mayView("cases", role: "nobody")
        == .denied(message: "role `nobody` is not defined in the rules", rule: nil))
  }

  @Test func theServiceRefusesWhatTheShippedRulesDoNotGrant() async throws {
    let s = try await LiveServer()
    let handler = try s.token(role: "handler", name: "李强")
    let office = try s.token(role: "complaint_office", name: "李明")
    let center = try s.token(role: "customer_service_center", name: "王芳")
    let period = "from=2026-11-01&to=2026-11-30"
    // A handler sees the cases, not the outbox, the bulletin or the metrics.
    #expect(try await s.call(.GET, "/v1/cases", token: handler).status == 200)
    for path in ["/v1/outbox", "/v1/reports?\(period)", "/reports/bulletin?\(period)", "/metrics"] {
      let refused = try await s.call(.GET, path, token: handler)
      #expect(refused.status == 403, "\(path)")
      #expect(refused.code == "forbidden", "\(path)")
      #expect(
        (refused.json?["error"] as? [String: Any])?["rule"] as? String
          == Support.rulesDir + "/permissions.yaml:51:7", "\(path): \(refused.text)")
    }
    let retry = try await s.call(.POST, "/v1/outbox/1/retry", token: handler)
    #expect(retry.status == 403)
    #expect(retry.message?.contains("role `handler` may not view outbox (its `views`: cases)") == true)
    // The complaint office reads the bulletin and the metrics, not the outbox.
    #expect(try await s.call(.GET, "/v1/reports?\(period)", token: office).status == 200)
    #expect(try await s.call(.GET, "/metrics", token: office).status == 200)
    #expect(try await s.call(.GET, "/v1/outbox", token: office).status == 403)
    // The customer-service center runs the service: everything.
    for path in ["/v1/cases", "/v1/outbox", "/v1/reports?\(period)", "/metrics"] {
      #expect(try await s.call(.GET, path, token: center).status == 200, "\(path)")
    }
    await s.stop()
  }
}
