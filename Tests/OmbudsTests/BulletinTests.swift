import Foundation
import OmbudsEngine
import OmbudsReports
import OmbudsRules
import OmbudsStore
import Testing

/// The quality bulletin (质量简报) of November 2026 over a fixture of 60 cases through whole
/// lifecycles (and a few before and after the period), on SQLite and PostgreSQL, every number
/// worked out by hand below from the table of patterns.
@Suite(.serialized) struct BulletinTests {
  /// A pattern of cases: how many, their channel and unit, and what happened to them, in
  /// hours after receipt (each received at 09:00 +08:00 on its day).
  struct Pattern: Sendable {
    var name: String
    var count: Int
    var channel = "phone"
    var department: String?
    var fields: [String: JSONValue] = [:]
    /// Accepted (nil: not), or rejected, at this hour.
    var accept: Int?
    var reject: Int?
    /// Resolved at this hour (nil: not).
    var resolve: Int?
    var reply = false
    var satisfaction: String?
    var close = false
    var reports: [JSONValue] = []
    /// Reopened at this hour after the follow-up.
    var reopen: Int?
    /// Resolved at this instant instead (after the period).
    var resolveAt: String?
  }

  static let a = "市场管理部"
  static let b = "工程部"
  static let d = "审计部"

  /// November's cases (the period): 60 in all.
  static let november: [Pattern] = [
    // P1: answered in 2 h, resolved in 10 h (on time), 满意, closed.
    Pattern(
      name: "p1", count: 20, department: a, accept: 2, resolve: 10, reply: true, satisfaction: "satisfied",
      close: true),
    // P2: accepted late (30 h), resolved late (40 h), 不满意, closed.
    Pattern(
      name: "p2", count: 10, channel: "letter", department: b, accept: 30, resolve: 40, reply: true,
      satisfaction: "dissatisfied", close: true),
    // P3: rejected in 5 h.
    Pattern(name: "p3", count: 8, reject: 5),
    // P4: accepted in 3 h, still open (one of them resolved on 2 December, after the period).
    Pattern(name: "p4", count: 5, channel: "visit", department: a, accept: 3),
    Pattern(
      name: "p4x", count: 1, channel: "visit", department: a, accept: 3,
      resolveAt: "2026-12-02T10:00:00+08:00"),
    // P5: resolved in 20 h, 基本满意, then reopened (二次投诉 → 重要) three days later.
    Pattern(
      name: "p5", count: 5, department: b, accept: 1, resolve: 20, reply: true, satisfaction: "fairly_satisfied",
      reopen: 72),
    // P6: resolved in 8 h, replied, no follow-up yet.
    Pattern(name: "p6", count: 4, department: a, accept: 4, resolve: 8, reply: true),
    // P7: the single case of 审计部: resolved late (30 h), 满意, closed.
    Pattern(
      name: "p7", count: 1, department: d, accept: 2, resolve: 30, reply: true, satisfaction: "satisfied",
      close: true),
    // P8: 12 people (重大): resolved in 20 h, 满意, closed with its detailed special report.
    Pattern(
      name: "p8", count: 3, department: a, fields: ["collective_size": 12], accept: 1, resolve: 20, reply: true,
      satisfaction: "satisfied", close: true,
      reports: [["report": "detailed_special", "parts": ["course", "causes", "prevention"]] as JSONValue]),
    // P9: 4 people (热点): accepted, still open — its brief special report is owed.
    Pattern(name: "p9", count: 2, department: b, fields: ["collective_size": 4], accept: 1),
    // P10: received, never answered.
    Pattern(name: "p10", count: 1),
  ]

  /// October (the previous period, 2 – 31 October): 4 cases.
  static let october: [Pattern] = [
    Pattern(
      name: "o1", count: 3, department: a, accept: 2, resolve: 10, reply: true, satisfaction: "satisfied",
      close: true),
    Pattern(
      name: "o2", count: 1, channel: "letter", department: b, accept: 30, resolve: 40, reply: true,
      satisfaction: "dissatisfied", close: true),
  ]

  static let now = "2026-12-05T09:00:00+08:00"

  /// Applies every pattern, plus: a case received in the period's last second (nothing else
  /// happens to it), one in the first instant after it, and one an hour before `now`.
  static func load(_ store: CaseStore) async throws {
    var n = 0
    func apply(_ p: Pattern, firstDay: Int, month: String) async throws {
      for i in 0..<p.count {
        n += 1
        let id = "\(p.name)-\(i + 1)"
        // Received on the days firstDay, firstDay+1, … (at most 20 days on), at 09:00.
        let day = firstDay + (i % 20)
        let t0 = Support.time("2026-\(month)-\(day < 10 ? "0" : "")\(day)T09:00:00+08:00")
        func at(_ h: Int) -> String { RFC3339.format(t0 + Int64(h) * 3_600_000, offsetSeconds: 28_800) }
        var seq = 0
        func step(
          _ kind: CaseEvent.Kind, _ h: Int, _ fields: [String: JSONValue] = [:],
          actor: String = "customer_service_center"
        )
          async throws
        {
          seq += 1
          try await store.apply(
            CaseEvent(
              eventID: "\(id)-\(seq)", caseID: id, kind: kind, at: Support.time(at(h)), actor: actor, fields: fields))
        }
        var received = p.fields
        received["received_at"] = .string(at(0))
        received["channel"] = .string(p.channel)
        received["complainant_id"] = .string("c-\(id)")
        received["delay_cause"] = "ours"
        // Two cases of one issue (热点问题), one of another: never three complainants, so
        // the issue does not make them hot.
        if id == "p1-1" || id == "p1-2" { received["issue_key"] = "water-bill" }
        if id == "p2-1" { received["issue_key"] = "noise" }
        try await step(.received, 0, received, actor: "intake_staff")
        try await step(.register, 0, actor: "intake_staff")
        if let h = p.reject { try await step(.reject, h, ["reason": "不属于受理范围"]) }
        guard let accepted = p.accept else { continue }
        try await step(.accept, accepted)
        if let dept = p.department {
          try await step(.assign, accepted, ["assignee": .string("h-\(id)"), "department": .string(dept)])
        }
        if let later = p.resolveAt {
          seq += 1
          try await store.apply(
            CaseEvent(
              eventID: "\(id)-\(seq)", caseID: id, kind: .resolved, at: Support.time(later), actor: "handler"))
        }
        guard let r = p.resolve else { continue }
        try await step(.resolved, r, actor: "handler")
        if p.reply { try await step(.reply, r + 1, actor: "handler") }
        if let s = p.satisfaction { try await step(.followUp, r + 2, ["satisfaction": .string(s)]) }
        if p.close { try await step(.closed, r + 3, p.reports.isEmpty ? [:] : ["reports": .array(p.reports)]) }
        if let h = p.reopen { try await step(.reopened, h) }
      }
    }
    for p in november { try await apply(p, firstDay: 2, month: "11") }
    for p in october { try await apply(p, firstDay: 10, month: "10") }
    for (id, t) in [
      ("edge-last", "2026-11-30T23:59:59+08:00"), ("edge-after", "2026-12-01T00:00:00+08:00"),
      ("soon", "2026-12-05T08:00:00+08:00"),
    ] {
      try await store.apply(
        CaseEvent(
          eventID: "\(id)-1", caseID: id, kind: .received, at: Support.time(t), actor: "intake_staff",
          fields: ["received_at": .string(t), "channel": "phone", "complainant_id": .string("c-\(id)")]))
    }
    #expect(n == 64)
  }

  static func november(_ store: CaseStore, by: Bulletin.Grouping = .department) async throws -> Bulletin {
    try await store.bulletin(
      firstDay: try #require(CivilDate("2026-11-01")), lastDay: try #require(CivilDate("2026-11-30")), by: by,
      now: Support.time(now))
  }

  func ratio(_ b: Bulletin, _ id: String) -> String {
    guard let m = b.measures.first(where: { $0.id == id }) else { return "missing" }
    return
      "\(m.current.numerator)/\(m.current.denominator) \(m.current.text) prev \(m.previous.numerator)/\(m.previous.denominator) \(m.previous.text) \(BulletinFormat.points(m.change))"
  }

  @Test(arguments: StoreKind.allCases)
  func everyMeasureOfNovemberAsWorkedOutByHand(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { f in
      try await Self.load(f.store)
      let b = try await Self.november(f.store)
      #expect(b.period.firstDay == "2026-11-01" && b.period.lastDay == "2026-11-30")
      #expect(b.previousPeriod.firstDay == "2026-10-02" && b.previousPeriod.lastDay == "2026-10-31")
      // 60 patterned cases and the one received in the period's last second; not the one after.
      #expect(b.received == 61)
      #expect(b.previousReceived == 4)
      // 受理率: accepted (P1 20 + P2 10 + P4 6 + P5 5 + P6 4 + P7 1 + P8 3 + P9 2 = 51) of
      // accepted or rejected (51 + P3 8 = 59). October: 4 of 4.
      #expect(ratio(b, "acceptance_rate") == "51/59 86.4% prev 4/4 100% -13.6")
      // 按时反馈率: first answer within 24 h — all but P2 (30 h): 49 of 59. October: 3 of 4.
      #expect(ratio(b, "on_time_feedback_rate") == "49/59 83.1% prev 3/4 75% +8.1")
      // 办结率: resolved by 30 November (P1 20 + P2 10 + P5 5 + P6 4 + P7 1 + P8 3 = 43; P4x
      // only in December) of accepted (51).
      #expect(ratio(b, "handling_rate") == "43/51 84.3% prev 4/4 100% -15.7")
      // 按时办结率: resolved within resolve_by (24 h): P1 20 + P5 5 + P6 4 + P8 3 = 32 of 43.
      #expect(ratio(b, "on_time_resolution_rate") == "32/43 74.4% prev 3/4 75% -0.6")
      // 回访率: resolved with a follow-up: P1 20 + P2 10 + P5 5 + P7 1 + P8 3 = 39 of 43.
      #expect(ratio(b, "follow_up_rate") == "39/43 90.7% prev 4/4 100% -9.3")
      // 满意度: the current round's answer — P5 was reopened after its follow-up, so it has
      // none: 满意 P1 20 + P7 1 + P8 3 = 24 of answered 24 + P2 10 = 34.
      #expect(ratio(b, "satisfaction_rate") == "24/34 70.6% prev 3/4 75% -4.4")
      // 重复投诉率: reopened (P5 5) of resolved (43). October: none of 4.
      #expect(ratio(b, "repeat_rate") == "5/43 11.6% prev 0/4 0% +11.6")

      // Units: 市场管理部 33 (P1, P4, P4x, P6, P8), 工程部 17 (P2, P5, P9), 审计部 1 (P7),
      // unassigned 10 (P3, P10, the last-second case).
      #expect(b.groups.map { "\($0.key)=\($0.received)" } == ["市场管理部=33", "工程部=17", "=10", "审计部=1"])
      let engineering = try #require(b.groups.first { $0.key == Self.b })
      // 工程部: feedback P5 5 + P9 2 of 17 (41.2%); on time P5 5 of 15 (33.3%); 满意 0 of 10.
      #expect(
        engineering.belowFloor == ["on_time_feedback_rate", "on_time_resolution_rate", "satisfaction_rate"])
      let audit = try #require(b.groups.first { $0.key == Self.d })
      // 审计部's single case was resolved late: 0 of 1 on time; answered on time; 满意.
      #expect(audit.belowFloor == ["on_time_resolution_rate"])
      #expect(audit.values.map(\.text) == ["100%", "100%", "100%", "0%", "100%", "100%", "0%"])
      let market = try #require(b.groups.first { $0.key == Self.a })
      #expect(market.belowFloor.isEmpty)
      // The unassigned are never named, whatever their values.
      #expect(try #require(b.groups.first { $0.key == "" }).belowFloor.isEmpty)
      // Named below each floor, lowest first.
      #expect(b.measures.first { $0.id == "on_time_resolution_rate" }?.belowFloor == [Self.d, Self.b])
      #expect(b.measures.first { $0.id == "on_time_feedback_rate" }?.belowFloor == [Self.b])
      #expect(b.measures.first { $0.id == "satisfaction_rate" }?.belowFloor == [Self.b])
      #expect(b.measures.first { $0.id == "acceptance_rate" }?.belowFloor == [])

      // Levels as of 30 November: 重要 P5 5, 热点 P9 2, 重大 P8 3, the rest 一般 (51; P4x became
      // hot only when resolved on 2 December). October: all 4 ordinary.
      #expect(
        b.byLevel.map { "\($0.key) \($0.label) \($0.count) \($0.previous)" } == [
          "major 重大投诉 3 0", "hot 热点投诉 2 0", "important 重要投诉 5 0", "ordinary 一般投诉 51 4",
        ])
      #expect(
        b.byChannel.map { "\($0.key) \($0.count) \($0.previous)" } == ["phone 45 3", "letter 10 1", "visit 6 0"])
      #expect(b.topIssues.map { "\($0.key) \($0.count)" } == ["water-bill 2", "noise 1"])
      // No harmful information in any text.
      #expect(b.byCategory.allSatisfy { $0.count == 0 })
      #expect(b.byCategory.count == 9)

      // 一般投诉 (51): resolved P1 20 + P2 10 + P6 4 + P7 1 = 35; rejected P3 8; open P4 5 +
      // P4x 1 + P10 1 + the last-second case = 8 (P4x resolved only after the period); closed
      // P1 20 + P2 10 + P7 1 = 31.
      #expect(b.ordinary == Bulletin.Summary(received: 51, resolved: 35, rejected: 8, open: 8, closed: 31))

      // Important cases, each its own item: P5, reopened.
      #expect(b.important.map(\.id) == ["p5-1", "p5-2", "p5-3", "p5-4", "p5-5"])
      #expect(b.important[0].handling == "受理 11-02 → 承办 工程部 → 办结 11-03 → 二次投诉 11-05 → 办理中（已受理）")
      // Hot and major with their special reports: P8 handed in on closing, P9 overdue (its
      // resolve_by, 24 h after receipt, has passed).
      #expect(
        b.special.map { "\($0.id) \($0.level) \($0.report ?? "-") \($0.reportState ?? "-")" } == [
          "p8-1 major detailed_special handed_in", "p9-1 hot brief_special overdue",
          "p8-2 major detailed_special handed_in", "p9-2 hot brief_special overdue",
          "p8-3 major detailed_special handed_in",
        ])
      #expect(
        b.special.first?.reportHandedInAt == Support.time("2026-11-03T08:00:00+08:00"))

      // Open past a deadline on 5 December: P4 5, P5 5 (reopened), P9 2, P10, the last-second
      // case and the one after the period = 15; due within 24 h: the case received an hour ago.
      #expect(b.overdueTotal == 15 && b.overdue.count == 15)
      #expect(b.dueSoonTotal == 1 && b.dueSoon.map(\.id) == ["soon"])

      // Weeks from Monday: 26 Oct (clipped to 1 Nov), 2, 9, 16, 23, 30 Nov. Received on days
      // 2…21 (i % 20): P1 days 2–21; others from day 2 on.
      #expect(
        b.weeks.map(\.firstDay) == ["2026-11-01", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"])
      #expect(b.weeks.map(\.received).reduce(0, +) == 61)
      #expect(b.weeks[0].received == 0 && b.weeks[5].received == 1)
      var expectedWeeks = [0, 0, 0, 0, 0, 1]
      var resolvedWeeks = [0, 0, 0, 0, 0, 0]
      for p in Self.november {
        for i in 0..<p.count {
          let day = 2 + (i % 20)
          expectedWeeks[(day - 2) / 7 + 1] += 1
          // Resolved the same day or the next (9:00 + ≤ 40 h), the first resolution only.
          if let r = p.resolve {
            let resolvedDay = day + (9 + r) / 24
            resolvedWeeks[(resolvedDay - 2) / 7 + 1] += 1
          }
        }
      }
      #expect(b.weeks.map(\.received) == expectedWeeks)
      #expect(b.weeks.map(\.resolved) == resolvedWeeks)
    }
  }

  @Test(arguments: StoreKind.allCases)
  func anEmptyPeriodHasNoValuesNotZeros(_ kind: StoreKind) async throws {
    try await StoreFixture.run(kind) { f in
      try await Self.load(f.store)
      let b = try await f.store.bulletin(
        firstDay: try #require(CivilDate("2030-01-01")), lastDay: try #require(CivilDate("2030-01-31")),
        now: Support.time(Self.now))
      #expect(b.received == 0 && b.groups.isEmpty && b.important.isEmpty && b.special.isEmpty)
      #expect(b.measures.count == 7)
      #expect(b.measures.allSatisfy { $0.current.text == "—" && $0.previous.text == "—" && $0.change == nil })
      #expect(b.measures.allSatisfy { $0.belowFloor.isEmpty })
      #expect(b.weeks.count == 5 && b.weeks.allSatisfy { $0.received == 0 && $0.resolved == 0 })
      let markdown = BulletinMarkdown.render(b)
      #expect(markdown.contains("| 受理率 | — | 0/0 | — | — | — |  |"))
    }
  }

  @Test func aPeriodWithoutFollowUpsShowsNoSatisfaction() async throws {
    try await StoreFixture.run(.sqlite) { f in
      try await Self.load(f.store)
      // 20–21 November: P1's days 20 and 21 (its cases 19, 20) were followed up; the 4 P6
      // cases and others were received from day 2 to 5 only. Take 1 December … 5 December:
      // the case received after the period only, never answered.
      let b = try await f.store.bulletin(
        firstDay: try #require(CivilDate("2026-12-01")), lastDay: try #require(CivilDate("2026-12-05")),
        now: Support.time(Self.now))
      #expect(b.received == 2)
      #expect(ratio(b, "satisfaction_rate").hasPrefix("0/0 —"))
      #expect(ratio(b, "follow_up_rate").hasPrefix("0/0 —"))
      #expect(ratio(b, "acceptance_rate").hasPrefix("0/0 —"))
    }
  }

  @Test func aRejectedHotCaseOwesNoSpecialReport() async throws {
    try await StoreFixture.run(.sqlite) { f in
      let t = "2026-11-02T09:00:00+08:00"
      for (i, kind) in [CaseEvent.Kind.received, .register, .reject].enumerated() {
        var fields: [String: JSONValue] = [:]
        if kind == .received { fields = ["received_at": .string(t), "collective_size": 4, "channel": "phone"] }
        if kind == .reject { fields = ["reason": "不属于受理范围"] }
        try await f.store.apply(
          CaseEvent(
            eventID: "h-\(i)", caseID: "H-1", kind: kind, at: Support.time(t) + Int64(i) * 3_600_000,
            actor: "customer_service_center", fields: fields))
      }
      let b = try await Self.november(f.store)
      #expect(b.special.map { "\($0.id) \($0.level) \($0.reportState ?? "-")" } == ["H-1 hot not_required"])
      #expect(b.special.first?.handling == "不予受理")
      #expect(BulletinMarkdown.render(b).contains("简要专题报告：不予受理，无需报告"))
    }
  }

  @Test func aPeriodEndingBeforeItStartsOrTooLongIsRefused() async throws {
    try await StoreFixture.run(.sqlite) { f in
      await #expect(throws: StoreError.self) {
        try await f.store.bulletin(
          firstDay: try #require(CivilDate("2026-11-30")), lastDay: try #require(CivilDate("2026-11-01")), now: 0)
      }
      await #expect(throws: StoreError.self) {
        try await f.store.bulletin(
          firstDay: try #require(CivilDate("2000-01-01")), lastDay: try #require(CivilDate("2026-11-01")), now: 0)
      }
    }
  }

  @Test func groupedByLevelChannelAndCategoryTheGroupsAddUp() async throws {
    try await StoreFixture.run(.sqlite) { f in
      try await Self.load(f.store)
      let byLevel = try await Self.november(f.store, by: .level)
      #expect(byLevel.groups.map { "\($0.key)=\($0.received)" } == ["major=3", "hot=2", "important=5", "ordinary=51"])
      let byChannel = try await Self.november(f.store, by: .channel)
      #expect(byChannel.groups.map(\.received).reduce(0, +) == 61)
      for (i, m) in byChannel.measures.enumerated() {
        #expect(byChannel.groups.map { $0.values[i].denominator }.reduce(0, +) == m.current.denominator)
        #expect(byChannel.groups.map { $0.values[i].numerator }.reduce(0, +) == m.current.numerator)
      }
      let byCategory = try await Self.november(f.store, by: .category)
      #expect(byCategory.groups.map { "\($0.key)=\($0.received)" } == ["=61"])
    }
  }
}

/// The bulletin through `ombuds report` and `ombuds serve` (the real processes).
@Suite(.serialized) struct BulletinServiceTests {
  /// A SQLite store with the November fixture.
  static func fixtureStore() async throws -> String {
    let path = try Support.temporaryDirectory().appendingPathComponent("bulletin.sqlite").path
    let store = try await CaseStore(path: path, rules: try Support.defaultRules())
    try await BulletinTests.load(store)
    return path
  }

  @Test func theCommandWritesTheStoresBulletinInEveryFormat() async throws {
    let path = try await Self.fixtureStore()
    let period = [
      "--store", path, "--rules", Support.rulesDir, "--from", "2026-11-01", "--to", "2026-11-30", "--now",
      BulletinTests.now,
    ]
    let json = try Support.run("ombuds", ["report"] + period + ["--format", "json"])
    #expect(json.status == 0, "\(json.stderr)")
    let store = try await CaseStore(path: path, rules: try Support.defaultRules())
    let expected = BulletinJSON.render(try await BulletinTests.november(store))
    #expect(json.stdout == expected)
    let markdown = try Support.run("ombuds", ["report"] + period + ["--format", "md"])
    #expect(markdown.stdout.contains("| 按时反馈率 | 83.1% | 49/59 | 75% | +8.1 | 85% | 工程部 |"))
    #expect(markdown.stdout.contains("- **p5-1**（重要投诉，2026-11-02 09:00）：受理 11-02 → 承办 工程部 → 办结 11-03"))
    let csv = try Support.run("ombuds", ["report"] + period + ["--format", "csv", "--by", "level"])
    #expect(csv.stdout.hasPrefix("\u{FEFF}section,key,label,"))
    #expect(csv.stdout.contains("\r\nmeasure,satisfaction_rate,满意度,24,34,70.6%,75%,-4.4,80%,工程部\r\n"))
    #expect(csv.stdout.contains("\r\nlevel:major,acceptance_rate,重大投诉,3,3,100%,,,,\r\n"))
    // --out writes the file, nothing on standard output.
    let file = try Support.temporaryDirectory().appendingPathComponent("bulletin.html").path
    let html = try Support.run("ombuds", ["report"] + period + ["--out", file])
    #expect(html.status == 0 && html.stdout.isEmpty)
    #expect(try String(contentsOfFile: file, encoding: .utf8).lowercased().hasPrefix("<!doctype html"))
    // A special file is written in place, never replaced by a regular one (as root, an atomic
    // rename over /dev/null would replace the device).
    let fifo = try Support.temporaryDirectory().appendingPathComponent("out.fifo").path
    #expect(mkfifo(fifo, 0o600) == 0)
    // Open for reading without waiting for a writer; the Markdown fits the pipe's buffer.
    let fd = open(fifo, O_RDONLY | O_NONBLOCK)
    #expect(fd >= 0)
    defer { close(fd) }
    let piped = try Support.run("ombuds", ["report"] + period + ["--format", "md", "--out", fifo])
    #expect(piped.status == 0, "\(piped.stderr)")
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    let n = read(fd, &buffer, buffer.count)
    #expect(n > 0 && String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self).hasPrefix("# 质量简报 2026-11-01"))
    var info = stat()
    #expect(stat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
  }

  @Test func badPeriodsAreUsageErrorsNamingTheOption() throws {
    for (arguments, message) in [
      (["--from", "2026-13-01", "--to", "2026-11-30"], "--from `2026-13-01` is not a date"),
      (["--from", "2026-11-01", "--to", "30.11.2026"], "--to `30.11.2026` is not a date"),
      (["--from", "2026-11-01", "--to", "2026-11-30", "--by", "unit"], "unit"),
    ] {
      let run = try Support.run("ombuds", ["report", "--store", ":memory:"] + arguments)
      #expect(run.status == 2, "\(arguments)")
      #expect(run.stderr.contains(message), "\(run.stderr)")
    }
    let backwards = try Support.run(
      "ombuds",
      [
        "report", "--store", try Support.temporaryDirectory().appendingPathComponent("s.sqlite").path, "--from",
        "2026-11-30", "--to", "2026-11-01",
      ])
    #expect(backwards.status != 0)
    #expect(backwards.stderr.contains("the period ends (2026-11-01) before it starts (2026-11-30)"))
  }

  @Test func theServerShowsTheSameBulletinBehindTheTokens() async throws {
    let path = try await Self.fixtureStore()
    let s = try await LiveServer(store: path)
    let token = try s.token(role: "complaint_office", name: "李明")
    let data = try await s.call(.GET, "/v1/reports?from=2026-11-01&to=2026-11-30", token: token)
    #expect(data.status == 200, "\(data.text)")
    let measures = try #require(data.json?["measures"] as? [[String: Any]])
    let feedback = try #require(measures.first { $0["id"] as? String == "on_time_feedback_rate" })
    let value = try #require(feedback["value"] as? [String: Any])
    #expect(value["numerator"] as? Int == 49 && value["denominator"] as? Int == 59)
    #expect(value["percent"] as? Double == 83.1)
    #expect(feedback["below_floor"] as? [String] == ["工程部"])
    // The same measures as the command's (the lists of overdue cases depend on the clock).
    let store = try await CaseStore(path: path, rules: try Support.defaultRules())
    guard case .object(let expected) = BulletinJSON.value(try await BulletinTests.november(store)) else {
      Issue.record("the bulletin's JSON is an object")
      return
    }
    #expect(data.text.contains(StoreJSON.string(expected["measures"] ?? .null)))
    let byLevel = try await s.call(.GET, "/v1/reports?from=2026-11-01&to=2026-11-30&by=level", token: token)
    // (The server re-evaluates the overdue cases when it starts, at today's date: levels as of
    // the period's end may have risen since the fixture was written; the groups still add up.)
    let levels = try #require(byLevel.json?["groups"] as? [[String: Any]])
    #expect(levels.allSatisfy { ["major", "hot", "important", "ordinary"].contains($0["key"] as? String ?? "") })
    #expect(levels.compactMap { $0["received"] as? Int }.reduce(0, +) == 61)

    // The page: for a browser, the token also as a Basic password.
    let noToken = try await s.call(.GET, "/reports/bulletin?from=2026-11-01&to=2026-11-30")
    #expect(noToken.status == 401)
    #expect(noToken.headers.first(name: "WWW-Authenticate") == "Basic realm=\"ombuds\", charset=\"UTF-8\"")
    let basic = "Basic " + Data("office:\(token)".utf8).base64EncodedString()
    let page = try await s.call(
      .GET, "/reports/bulletin?from=2026-11-01&to=2026-11-30", headers: [("Authorization", basic)])
    #expect(page.status == 200)
    #expect(page.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
    #expect(page.headers.first(name: "Content-Security-Policy")?.hasPrefix("default-src 'none'") == true)
    #expect(page.text.contains("p5-1"))
    // The API itself takes Bearer only.
    #expect(
      try await s.call(.GET, "/v1/reports?from=2026-11-01&to=2026-11-30", headers: [("Authorization", basic)]).status
        == 401)

    // Bad requests name the parameter.
    for (query, field) in [
      ("to=2026-11-30", "from"), ("from=2026-11-01&to=2026-02-30", "to"),
      ("from=2026-11-01&to=2026-11-30&by=unit", "by"),
      ("from=2026-11-30&to=2026-11-01", "to"), ("from=2026-11-01&to=2026-11-30&format=pdf", "format"),
    ] {
      let bad = try await s.call(.GET, "/v1/reports?\(query)", token: token)
      #expect(bad.status == 400, "\(query)")
      #expect(bad.code == "invalid_parameter")
      #expect((bad.json?["error"] as? [String: Any])?["field"] as? String == field, "\(query): \(bad.text)")
    }

    // The current month's measures on /metrics.
    let metrics = try await s.call(.GET, "/metrics", token: token)
    for id in ["acceptance_rate", "on_time_feedback_rate", "satisfaction_rate"] {
      #expect(metrics.text.contains("ombuds_measure_denominator{measure=\"\(id)\"}"), "\(id)")
      #expect(metrics.text.contains("ombuds_measure_ratio{measure=\"\(id)\"}"), "\(id)")
    }
    await s.stop()
  }
}
