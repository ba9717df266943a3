import Foundation
import OmbudsEngine
import OmbudsRules
import Testing

/// The compiled plan: what the store and the notifier act on comes out of the evaluator —
/// each deadline with the rule, timestamp and calendar that made it and its extension limit,
/// the deadline alerts with their times, the while-open repeats that are due.
@Suite struct PlanTests {
  @Test func deadlinesCarryTheRuleTheTimestampAndTheCalendarThatMadeThem() throws {
    let rules = try Support.defaultRules()
    let facts = try Support.facts(
      rules,
      #"{"id":"P1","received_at":"2025-09-26T10:00:00+08:00","compensation":{"amount":"650.00","currency":"CNY"},"materials_complete_at":"2025-09-29T15:00:00+08:00"}"#
    )
    let d = rules.evaluate(facts, at: Support.time("2025-09-30T10:00:00+08:00"))
    let plans = rules.deadlinePlans(d, facts)
    #expect(plans.count == 1)
    let p = try #require(plans.first)
    #expect(p.id == "resolve_by")
    #expect(p.rule == 1)  // the compensation rule: 10 working days after the materials
    #expect(p.baseField == "materials_complete_at")
    #expect(Support.format(p.base) == "2025-09-29T15:00:00+08:00")
    #expect(p.calendar == "cn_mainland")
    // 10 working days after 29 September, skipping 1–8 October and counting Saturday 11 October.
    #expect(Support.format(p.due) == "2025-10-20T23:59:59+08:00")
    #expect(p.source.file.hasSuffix("refunds.yaml") && p.source.line == 18)
    #expect(p.extensionLimit == nil)  // the default policy sets no `max`

    // Without compensation: the first rule, 24 clock hours after receipt.
    let plain = try Support.facts(rules, #"{"id":"P2","received_at":"2025-10-09T10:00:00+08:00"}"#)
    let q = try #require(rules.deadlinePlans(rules.evaluate(plain, at: plain.receivedAt), plain).first)
    #expect(q.rule == 0 && q.baseField == "received_at")
    #expect(Support.format(q.due) == "2025-10-10T10:00:00+08:00")

    // Materials not in yet: no deadline, so no plan.
    let waiting = try Support.facts(
      rules,
      #"{"id":"P3","received_at":"2025-10-09T10:00:00+08:00","compensation":{"amount":"80","currency":"CNY"}}"#)
    #expect(rules.deadlinePlans(rules.evaluate(waiting, at: waiting.receivedAt), waiting).isEmpty)
  }

  @Test func anExtensionLimitCountsFromTheRulesOwnTimestamp() throws {
    let dir = Support.rulesDir + "/examples/passenger_transport"
    let loaded = RuleSetLoader.load(paths: [dir])
    let rules = try CompiledRules(try #require(loaded.ruleSet))
    let facts = try Support.facts(rules, #"{"id":"T1","received_at":"2025-10-01T09:00:00+08:00"}"#)
    let plans = rules.deadlinePlans(rules.evaluate(facts, at: facts.receivedAt), facts)
    let reply = try #require(plans.first { $0.id == "reply_by" })
    #expect(Support.format(reply.due) == "2025-10-31T09:00:00+08:00")
    #expect(Support.format(reply.extensionLimit) == "2025-11-30T09:00:00+08:00")
    #expect(plans.first { $0.id == "accept_decision_by" }?.extensionLimit == nil)
    let d = rules.evaluate(facts, at: facts.receivedAt)
    #expect(rules.extensionLimit(deadline: reply.deadline, d, facts) == reply.extensionLimit)
    let accept = try #require(plans.first { $0.id == "accept_decision_by" })
    #expect(rules.extensionLimit(deadline: accept.deadline, d, facts) == nil)
  }

  @Test func alertsFallWhereRuleLanguageSection10Point4SaysTheyDo() throws {
    let rules = try Support.defaultRules()
    // Thursday 2025-10-09 10:00, no compensation: resolve_by Friday 10-10 10:00.
    let facts = try Support.facts(rules, #"{"id":"A1","received_at":"2025-10-09T10:00:00+08:00"}"#)
    let alerts = rules.alertPlans(rules.evaluate(facts, at: facts.receivedAt))
    #expect(
      alerts.map { Support.format($0.at) ?? "" } == [
        "2025-10-10T06:00:00+08:00",  // before: 4h
        "2025-10-10T10:00:00+08:00",  // on_breach
        "2025-10-11T23:59:59+08:00",  // after: 1 working day (Saturday 11 October is a make-up day)
      ])
    #expect(alerts.allSatisfy { Support.format($0.deadlineAt) == "2025-10-10T10:00:00+08:00" })
  }

  @Test func onlyTheLatestMissedWeeklyReportIsDue() throws {
    let rules = try Support.defaultRules()
    let major = try #require(rules.levels.firstIndex { $0.id == "major" })
    let received = Support.time("2025-10-01T09:00:00+08:00")
    // A week and a day later: the first weekly report.
    let first = rules.dueRepeats(
      level: major, receivedAt: received, since: received, at: Support.time("2025-10-09T09:00:00+08:00"))
    #expect(first.map { Support.format($0.at) } == ["2025-10-08T09:00:00+08:00"])
    // Nobody looked for a month: only the latest report, not four stale ones.
    let late = rules.dueRepeats(
      level: major, receivedAt: received, since: received, at: Support.time("2025-11-01T09:00:00+08:00"))
    #expect(late.map { Support.format($0.at) } == ["2025-10-29T09:00:00+08:00"])
    // Entered the level after that occurrence: nothing due yet.
    #expect(
      rules.dueRepeats(
        level: major, receivedAt: received, since: Support.time("2025-10-30T00:00:00+08:00"),
        at: Support.time("2025-11-01T09:00:00+08:00")
      ).isEmpty)
    let ordinary = try #require(rules.levels.firstIndex { $0.id == "ordinary" })
    #expect(
      rules.dueRepeats(level: ordinary, receivedAt: received, since: received, at: received + 86_400_000 * 30)
        .isEmpty)
  }

  @Test func reasonsCarryTheirTextAndSource() throws {
    let rules = try Support.defaultRules()
    let facts = try Support.facts(
      rules, #"{"id":"R1","received_at":"2025-10-01T09:00:00+08:00","collective_size":12,"media":"exposed"}"#)
    let reasons = rules.reasonPlans(rules.evaluate(facts, at: facts.receivedAt))
    #expect(reasons.map(\.condition) == ["media == exposed", "collective_size >= 10"])
    #expect(reasons.allSatisfy { $0.level == "major" && $0.source.file.hasSuffix("severity.yaml") })
    #expect(reasons.map(\.source.line) == [8, 9])
  }
}
