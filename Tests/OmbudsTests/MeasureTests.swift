import Foundation
import GRDB
import OmbudsEngine
import OmbudsRules
import OmbudsStore
import OmbudsSyntax
import Testing

/// What the measures of the quality bulletin need (POLICY §7): the rules' `measures` and
/// `satisfaction` sections, and the follow-up's answer and the handling unit in the store.
@Suite(.serialized) struct MeasureTests {
  /// A case taken to a reply, assigned to `department`, ready for its follow-up.
  func replied(_ store: CaseStore, _ id: String, department: String? = "市场管理部") async throws {
    let t = "2025-10-01T09:00:00+08:00"
    try await store.apply(event("\(id)-r", id, .received, t, ["received_at": t]))
    var assign: [String: Any] = ["assignee": "h-1"]
    if let department { assign["department"] = department }
    for (i, step) in [CaseEvent.Kind.register, .accept, .assign, .investigate, .propose, .approve, .carryOut, .reply]
      .enumerated()
    {
      try await store.apply(event("\(id)-\(i)", id, step, t, step == .assign ? assign : [:]))
    }
  }

  func lifecycle(_ store: CaseStore, _ id: String) async throws -> CaseLifecycle {
    try #require(try await store.cases().first { $0.id == id }).lifecycle
  }

  @Test func theDefaultRulesDefineThePolicysMeasuresAndFloors() throws {
    let rules = try Support.defaultRules().ruleSet
    #expect(
      rules.satisfaction.map { "\($0.id) \($0.label)" } == [
        "satisfied 满意", "fairly_satisfied 基本满意", "dissatisfied 不满意",
      ])
    #expect(
      rules.measures.map { "\($0.id) \($0.label) \($0.floorPercent ?? "-")" } == [
        "acceptance_rate 受理率 -", "on_time_feedback_rate 按时反馈率 85", "handling_rate 办结率 -",
        "on_time_resolution_rate 按时办结率 85", "follow_up_rate 回访率 -", "satisfaction_rate 满意度 80",
        "repeat_rate 重复投诉率 -",
      ])
    let onTime = try #require(rules.measures.first { $0.id == "on_time_resolution_rate" })
    #expect(onTime.cohort == .received)
    #expect(onTime.numerator.resolved && onTime.numerator.deadline == .deadline("resolve_by"))
    #expect(onTime.denominator.resolved && onTime.denominator.deadline == nil)
    let feedback = try #require(rules.measures.first { $0.id == "on_time_feedback_rate" })
    #expect(feedback.numerator.events == ["accept", "reject", "reply"])
    #expect(feedback.numerator.deadline == .within(RuleDuration(24, .hours)))
    let satisfaction = try #require(rules.measures.first { $0.id == "satisfaction_rate" })
    #expect(satisfaction.numerator.satisfaction == ["satisfied", "fairly_satisfied"])
  }

  /// Against the 85 % floor: below when numerator ÷ denominator < 0.85, never without a denominator.
  @Test(
    arguments: [
      (0, 1, true), (84, 100, true), (85, 100, false), (17, 20, false), (169, 200, true), (1, 0, false),
      (Int64.max, Int64.max, false), (Int64.max / 2, Int64.max, true),
    ] as [(Int64, Int64, Bool)])
  func aFloorIsComparedExactly(_ numerator: Int64, _ denominator: Int64, _ below: Bool) throws {
    let rules = try Support.defaultRules().ruleSet
    let measure = try #require(rules.measures.first { $0.id == "on_time_resolution_rate" })
    #expect(measure.isBelowFloor(numerator: numerator, denominator: denominator) == below)
  }

  /// Findings no single golden file can show: an id defined in two files, an answer named
  /// without a `satisfaction` section.
  @Test func measuresAcrossFilesAndWithoutAScale() throws {
    let levels = "levels:\n  ordinary:\n    otherwise: true\n"
    let measure = """
      measures:
        satisfaction_rate:
          label: 满意度
          cohort: resolved
          numerator: {satisfaction: satisfied}
          denominator: {event: follow_up}

      """
    let result = RuleSetLoader.check(sources: [
      SourceFile(path: "a.yaml", text: levels + measure), SourceFile(path: "b.yaml", text: measure),
    ])
    #expect(
      result.diagnostics.map { "\($0.location.file):\($0.location.line) \($0.code) \($0.message)" } == [
        "a.yaml:8 rules.undefined-satisfaction undefined satisfaction `satisfied`",
        "b.yaml:2 rules.duplicate-definition `satisfaction_rate` is already defined in `measures`",
      ])
    #expect(
      result.diagnostics.first?.help == "define the answers in a `satisfaction:` section (satisfied: 满意, …)")
  }

  @Test func aRuleSetWithoutMeasuresStaysValid() throws {
    let rules = try Support.compile("levels:\n  ordinary:\n    otherwise: true\n")
    #expect(rules.ruleSet.measures.isEmpty && rules.ruleSet.satisfaction.isEmpty)
  }

  @Test(arguments: StoreKind.allCases) func aFollowUpRecordsEachSatisfactionAndItsComment(_ kind: StoreKind)
    async throws
  {
    try await StoreFixture.run(kind) { (f) async throws in
      let table: [(String?, String?)] = [
        ("satisfied", "处理及时"), ("fairly_satisfied", nil), ("dissatisfied", "态度不好"), (nil, nil),
      ]
      for (i, (answer, comment)) in table.enumerated() {
        let id = "C\(i)"
        try await replied(f.store, id)
        var fields: [String: Any] = [:]
        if let answer { fields["satisfaction"] = answer }
        if let comment { fields["comment"] = comment }
        try await f.store.apply(event("\(id)-f", id, .followUp, "2025-10-02T09:00:00+08:00", fields))
        let l = try await lifecycle(f.store, id)
        #expect(l.satisfaction == answer && l.satisfactionComment == comment)
        #expect(
          l.followUps == [
            .init(round: 1, at: "2025-10-02T09:00:00+08:00", satisfaction: answer, comment: comment)
          ])
      }
    }
  }

  @Test(arguments: StoreKind.allCases) func anUnknownSatisfactionIsAnInvalidEventNamingTheKnownOnes(
    _ kind: StoreKind
  ) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      try await replied(f.store, "C")
      let t = "2025-10-02T09:00:00+08:00"
      await #expect(
        throws: StoreError.invalidEvent(
          "`follow_up`: unknown `satisfaction` `happy` (satisfaction: satisfied, fairly_satisfied, dissatisfied)")
      ) {
        try await f.store.apply(event("f1", "C", .followUp, t, ["satisfaction": "happy"]))
      }
      await #expect(
        throws: StoreError.invalidEvent(
          "`follow_up`: unknown `satisfaction` that is not text (satisfaction: satisfied, fairly_satisfied, dissatisfied)"
        )
      ) {
        try await f.store.apply(event("f2", "C", .followUp, t, ["satisfaction": 5]))
      }
      await #expect(throws: StoreError.invalidEvent("`follow_up`: `comment` is text")) {
        try await f.store.apply(event("f3", "C", .followUp, t, ["satisfaction": "satisfied", "comment": 1]))
      }
      #expect(try await lifecycle(f.store, "C").followUps == nil)
    }
  }

  @Test func rulesWithoutASatisfactionScaleRefuseAnAnswer() async throws {
    let rules = try Support.compile("levels:\n  ordinary:\n    otherwise: true\n")
    try await StoreFixture.run(.sqlite, rules: rules) { (f) async throws in
      let t = "2025-10-01T09:00:00+08:00"
      try await f.store.apply(event("r", "C", .received, t, ["received_at": t]))
      for (i, step) in [CaseEvent.Kind.register, .accept, .assign, .investigate, .propose, .approve, .carryOut, .reply]
        .enumerated()
      {
        try await f.store.apply(event("s\(i)", "C", step, t, step == .assign ? ["assignee": "h"] : [:]))
      }
      await #expect(
        throws: StoreError.invalidEvent(
          "`follow_up`: unknown `satisfaction` `satisfied`: these rules define no satisfaction answers")
      ) {
        try await f.store.apply(event("f", "C", .followUp, t, ["satisfaction": "satisfied"]))
      }
      try await f.store.apply(event("f", "C", .followUp, t))
    }
  }

  @Test(arguments: StoreKind.allCases) func eachRoundKeepsItsFollowUpAndTheDepartmentFollowsTheLastAssign(
    _ kind: StoreKind
  ) async throws {
    try await StoreFixture.run(kind) { (f) async throws in
      let store = f.store
      try await replied(store, "C", department: "客服中心")
      #expect(try await lifecycle(store, "C").department == "客服中心")
      try await store.apply(
        event("f1", "C", .followUp, "2025-10-02T09:00:00+08:00", ["satisfaction": "dissatisfied", "comment": "没解决"]))
      // 二次投诉: the new round has no answer yet; the first round's is kept.
      try await store.apply(event("o", "C", .reopened, "2025-10-03T09:00:00+08:00"))
      var l = try await lifecycle(store, "C")
      #expect(l.satisfaction == nil && l.satisfactionComment == nil && l.round == 2)
      #expect(l.followUps?.map(\.satisfaction) == ["dissatisfied"])
      #expect(l.department == "客服中心")
      // Reassigned to another unit, then to a person without one.
      try await store.apply(
        event("a2", "C", .assign, "2025-10-03T10:00:00+08:00", ["assignee": "h-2", "department": "市场管理部"]))
      #expect(try await lifecycle(store, "C").department == "市场管理部")
      if f.kind == .sqlite {
        #expect(try await departmentColumn(f, "C") == "市场管理部")
      }
      for (i, step) in [CaseEvent.Kind.investigate, .propose, .approve, .carryOut, .reply].enumerated() {
        try await store.apply(event("b\(i)", "C", step, "2025-10-04T09:00:00+08:00"))
      }
      try await store.apply(
        event("f2", "C", .followUp, "2025-10-05T09:00:00+08:00", ["satisfaction": "satisfied"]))
      l = try await lifecycle(store, "C")
      #expect(l.satisfaction == "satisfied" && l.followUps?.map(\.round) == [1, 2])
      try await store.apply(event("o2", "C", .reopened, "2025-10-06T09:00:00+08:00"))
      try await store.apply(event("a3", "C", .assign, "2025-10-06T10:00:00+08:00", ["assignee": "h-3"]))
      #expect(try await lifecycle(store, "C").department == nil)
      if f.kind == .sqlite {
        #expect(try await departmentColumn(f, "C") == nil)
      }
      await #expect(
        throws: StoreError.invalidEvent("`assign`: `department` is the handling unit's id or name (text)")
      ) {
        try await store.apply(
          event("a4", "C", .assign, "2025-10-06T11:00:00+08:00", ["assignee": "h", "department": ""]))
      }
    }
  }

  /// The `cases.department` column of the SQLite store of `f`.
  func departmentColumn(_ f: StoreFixture, _ id: String) async throws -> String? {
    let queue = try DatabaseQueue(path: f.dir.appendingPathComponent("test.sqlite").path)
    return try await queue.read { db in
      try String.fetchOne(db, sql: "SELECT department FROM cases WHERE id = ?", arguments: [id])
    }
  }
}
