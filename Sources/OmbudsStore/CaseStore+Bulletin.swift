import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax

/// One row of a grouped count: the key columns and the sums.
private struct SumRow {
  var keys: [String]
  var received: Int
  var resolved: Int
  var rejected: Int
  var closed: Int
  var open: Int
  var ratios: [Bulletin.Ratio]
  /// Per category of the rules (when asked for): the cases whose decision found it.
  var categories: [Int] = []
}

extension CaseStore {
  /// The longest period a bulletin covers (about ten years).
  public static let maxBulletinDays = 3_660

  /// The quality bulletin of the local days `firstDay…lastDay` (inclusive; `2026-11-01`), in
  /// the rules' time zone, as of `now`. Computed by aggregate queries in the database: the
  /// cases are never loaded one by one, except the important, hot and major ones listed as
  /// their own items and the overdue ones listed (at most `Bulletin.listLimit`).
  public func bulletin(
    firstDay: CivilDate, lastDay: CivilDate, by grouping: Bulletin.Grouping = .department, now: Millis
  ) async throws -> Bulletin {
    let first = firstDay.dayNumber
    let last = lastDay.dayNumber
    guard last >= first else {
      throw StoreError.invalidArgument("the period ends (\(lastDay)) before it starts (\(firstDay))")
    }
    let days = last - first + 1
    guard days <= Self.maxBulletinDays else {
      throw StoreError.invalidArgument(
        "the period is \(days) days long; a bulletin covers at most \(Self.maxBulletinDays)")
    }
    let clock = rules.calendar.clock
    let period = Self.period(first, last, clock)
    let previous = Self.period(first - days, first - 1, clock)
    let facts = BulletinFacts(
      measures: rules.ruleSet.measures, sqlite: backend is SQLiteBackend)
    let ruleSet = rules
    let listLimit = Bulletin.listLimit
    return try await backend.read { db in
      // Levels, channels, units and the measures: one grouped query per period.
      let current = try await Self.sums(facts, period, db, ruleSet: ruleSet)
      let before = try await Self.sums(facts, previous, db, ruleSet: ruleSet)
      // Grouped by harmful-information category (a case may count under several) or none.
      let categories =
        grouping == .category ? try await Self.categorySums(facts, period, db, ruleSet: ruleSet) : []
      var bulletin = Bulletin(
        period: period, previousPeriod: previous, generatedAt: now, timeZone: clock.identifier,
        offsetSeconds: clock.offset(at: period.from), ruleSet: ruleSet.contentHash, grouping: grouping,
        received: current.reduce(0) { $0 + $1.received }, previousReceived: before.reduce(0) { $0 + $1.received },
        byLevel: [], byChannel: [], byDepartment: [], byCategory: [], topIssues: [], weeks: [], measures: [],
        groups: [],
        ordinary: .init(received: 0, resolved: 0, rejected: 0, open: 0, closed: 0),
        important: [], special: [], overdue: [], overdueTotal: 0, dueSoon: [], dueSoonTotal: 0)
      let levelLabel = Self.levelLabels(ruleSet)
      // Counts by key (0: level, 1: channel, 2: department).
      func counts(_ index: Int, order: [String]?, label: (String) -> String) -> [Bulletin.Count] {
        var now: [String: Int] = [:]
        var then: [String: Int] = [:]
        for r in current { now[r.keys[index], default: 0] += r.received }
        for r in before { then[r.keys[index], default: 0] += r.received }
        let keys: [String] =
          order ?? Set(now.keys).union(then.keys).sorted { (now[$0] ?? 0, $1) > (now[$1] ?? 0, $0) }
        return keys.map { Bulletin.Count(key: $0, label: label($0), count: now[$0] ?? 0, previous: then[$0] ?? 0) }
      }
      bulletin.byLevel = counts(0, order: ruleSet.levels.map(\.id)) { levelLabel[$0] ?? $0 }
      bulletin.byChannel = counts(1, order: nil) { $0.isEmpty ? "—" : $0 }
      bulletin.byDepartment = counts(2, order: nil) { $0.isEmpty ? Self.unassigned : $0 }
      let categoryLabel = Dictionary(
        ruleSet.ruleSet.categories.map { ($0.id, $0.label ?? $0.id) }, uniquingKeysWith: { a, _ in a })
      bulletin.byCategory = ruleSet.ruleSet.categories.enumerated().map { i, c in
        Bulletin.Count(
          key: c.id, label: c.label ?? c.id,
          count: current.reduce(0) { $0 + ($1.categories.count > i ? $1.categories[i] : 0) },
          previous: before.reduce(0) { $0 + ($1.categories.count > i ? $1.categories[i] : 0) })
      }
      // The lowest level is summarised.
      let lowest = ruleSet.levels.last?.id ?? ""
      for r in current where r.keys[0] == lowest {
        bulletin.ordinary.received += r.received
        bulletin.ordinary.resolved += r.resolved
        bulletin.ordinary.rejected += r.rejected
        bulletin.ordinary.closed += r.closed
        bulletin.ordinary.open += r.open
      }
      // Measures: the period, the one before, per unit (for the floors) and per group.
      let measures = ruleSet.ruleSet.measures
      func total(_ rows: [SumRow], _ i: Int) -> Bulletin.Ratio {
        rows.reduce(into: Bulletin.Ratio(numerator: 0, denominator: 0)) {
          $0.numerator += $1.ratios[i].numerator
          $0.denominator += $1.ratios[i].denominator
        }
      }
      func grouped(_ rows: [SumRow], _ index: Int, label: (String) -> String) -> [Bulletin.GroupRow] {
        var order: [String] = []
        var by: [String: SumRow] = [:]
        for r in rows {
          let key = r.keys[index]
          if var g = by[key] {
            g.received += r.received
            for i in g.ratios.indices {
              g.ratios[i].numerator += r.ratios[i].numerator
              g.ratios[i].denominator += r.ratios[i].denominator
            }
            by[key] = g
          } else {
            order.append(key)
            by[key] = r
          }
        }
        return order.map { key in
          let g = by[key]!
          let below = measures.indices.filter {
            !key.isEmpty
              && measures[$0].isBelowFloor(
                numerator: Int64(g.ratios[$0].numerator), denominator: Int64(g.ratios[$0].denominator))
          }.map { measures[$0].id }
          return Bulletin.GroupRow(
            key: key, label: label(key), received: g.received, values: g.ratios, belowFloor: below)
        }.sorted { ($0.received, $1.key) > ($1.received, $0.key) }
      }
      let units = grouped(current, 2) { $0.isEmpty ? Self.unassigned : $0 }
      bulletin.measures = measures.indices.map { i in
        let m = measures[i]
        let below = units.filter { $0.belowFloor.contains(m.id) }.sorted {
          ($0.values[i].percent ?? 0, $0.key) < ($1.values[i].percent ?? 0, $1.key)
        }.map(\.key)
        return Bulletin.Measure(
          id: m.id, label: m.label, source: "\(m.location.file):\(m.location.line)", floor: m.floorPercent,
          current: total(current, i), previous: total(before, i), belowFloor: below)
      }
      switch grouping {
      case .department: bulletin.groups = units
      case .level:
        let rank = Dictionary(
          ruleSet.levels.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        bulletin.groups = grouped(current, 0) { levelLabel[$0] ?? $0 }.sorted { a, b in
          (rank[a.key] ?? .max) < (rank[b.key] ?? .max)
        }
      case .channel: bulletin.groups = grouped(current, 1) { $0.isEmpty ? "—" : $0 }
      case .category:
        bulletin.groups = grouped(categories, 0) { $0.isEmpty ? Self.noCategory : categoryLabel[$0] ?? $0 }
      }
      bulletin.topIssues = try await Self.topIssues(period, previous, db)
      bulletin.weeks = try await Self.weeks(period, clock, db)
      // The cases listed one by one.
      let items = try await Self.items(facts, period, db, ruleSet: ruleSet, lowest: lowest, clock: clock)
      bulletin.important = items.filter { $0.report == nil }
      bulletin.special = items.filter { $0.report != nil }.map {
        var item = $0
        if item.reportState == nil {
          let due = item.resolveBy.map { $0 <= min(now, period.to) } ?? false
          item.reportState = due || item.resolvedAt != nil ? "overdue" : "pending"
        }
        return item
      }
      (bulletin.overdue, bulletin.overdueTotal) = try await Self.dueList(
        "due_at < ?", [now], db, levelLabel: levelLabel, limit: listLimit)
      (bulletin.dueSoon, bulletin.dueSoonTotal) = try await Self.dueList(
        "due_at >= ? AND due_at < ?", [now, now &+ 86_400_000], db, levelLabel: levelLabel, limit: listLimit)
      return bulletin
    }
  }

  /// The measures alone over the local days `firstDay…lastDay` (for `/metrics`): one grouped
  /// query, no lists, no previous period. Per measure: its value and how many units are
  /// below its floor.
  public func measureValues(firstDay: CivilDate, lastDay: CivilDate) async throws -> [(
    measure: MeasureDecl, value: Bulletin.Ratio, unitsBelowFloor: Int
  )] {
    let clock = rules.calendar.clock
    let period = Self.period(firstDay.dayNumber, max(firstDay.dayNumber, lastDay.dayNumber), clock)
    let facts = BulletinFacts(measures: rules.ruleSet.measures, sqlite: backend is SQLiteBackend)
    let ruleSet = rules
    let rows = try await backend.read { db in try await Self.sums(facts, period, db, ruleSet: ruleSet) }
    let measures = ruleSet.ruleSet.measures
    return measures.indices.map { i in
      var total = Bulletin.Ratio(numerator: 0, denominator: 0)
      var units: [String: Bulletin.Ratio] = [:]
      for r in rows {
        total.numerator += r.ratios[i].numerator
        total.denominator += r.ratios[i].denominator
        guard !r.keys[2].isEmpty else { continue }
        units[r.keys[2], default: Bulletin.Ratio(numerator: 0, denominator: 0)].numerator += r.ratios[i].numerator
        units[r.keys[2], default: Bulletin.Ratio(numerator: 0, denominator: 0)].denominator += r.ratios[i].denominator
      }
      let below = units.values.filter {
        measures[i].isBelowFloor(numerator: Int64($0.numerator), denominator: Int64($0.denominator))
      }.count
      return (measures[i], total, below)
    }
  }

  /// Cases without a handling unit, and cases without a harmful-information category, as groups.
  static let unassigned = "未分派"
  static let noCategory = "无有害信息"

  static func levelLabels(_ rules: CompiledRules) -> [String: String] {
    Dictionary(rules.levels.map { ($0.id, $0.label ?? $0.id) }, uniquingKeysWith: { a, _ in a })
  }

  static func period(_ first: Int, _ last: Int, _ clock: ZoneClock) -> Bulletin.Period {
    Bulletin.Period(
      from: clock.instant(day: first, msOfDay: 0), to: clock.instant(day: last + 1, msOfDay: 0),
      firstDay: CivilDate(dayNumber: first).description, lastDay: CivilDate(dayNumber: last).description)
  }

  /// The measures' sums and the case counts of a period, grouped by level (as of the period's
  /// end), channel and department.
  private static func sums(
    _ facts: BulletinFacts, _ period: Bulletin.Period, _ db: any SQLExecutor, ruleSet: CompiledRules
  ) async throws -> [SumRow] {
    try await bothCohorts(
      facts, period, db, ruleSet: ruleSet,
      keys: ["COALESCE(f2.level_end, f2.level_now)", "COALESCE(f2.channel, '')", "COALESCE(f2.department, '')"],
      from: "f2", categories: ruleSet.ruleSet.categories.map(\.id))
  }

  /// The same per harmful-information category (`''`: none).
  private static func categorySums(
    _ facts: BulletinFacts, _ period: Bulletin.Period, _ db: any SQLExecutor, ruleSet: CompiledRules
  ) async throws -> [SumRow] {
    try await bothCohorts(
      facts, period, db, ruleSet: ruleSet, keys: ["COALESCE(j.value, '')"],
      from: "f2 \(facts.sql.categories(of: "f2.cats"))")
  }

  /// The cases received in the period; a measure of the `resolved` cohort counts those
  /// resolved in it instead (a second query, only when the rules have such a measure).
  private static func bothCohorts(
    _ facts: BulletinFacts, _ period: Bulletin.Period, _ db: any SQLExecutor, ruleSet: CompiledRules,
    keys: [String], from: String, categories: [String] = []
  ) async throws -> [SumRow] {
    var rows = try await groupedSums(
      facts, period, db, ruleSet: ruleSet, keys: keys, from: from, cohort: .received, categories: categories)
    let resolvedCohort = facts.measures.indices.filter { facts.measures[$0].cohort == .resolved }
    guard !resolvedCohort.isEmpty else { return rows }
    let other = try await groupedSums(
      facts, period, db, ruleSet: ruleSet, keys: keys, from: from, cohort: .resolved)
    for i in rows.indices {
      for m in resolvedCohort { rows[i].ratios[m] = Bulletin.Ratio(numerator: 0, denominator: 0) }
    }
    for r in other {
      let index: Int
      if let found = rows.firstIndex(where: { $0.keys == r.keys }) {
        index = found
      } else {
        rows.append(
          SumRow(
            keys: r.keys, received: 0, resolved: 0, rejected: 0, closed: 0, open: 0,
            ratios: Array(repeating: Bulletin.Ratio(numerator: 0, denominator: 0), count: facts.measures.count)))
        index = rows.count - 1
      }
      for m in resolvedCohort { rows[index].ratios[m] = r.ratios[m] }
    }
    return rows
  }

  private static func groupedSums(
    _ facts: BulletinFacts, _ period: Bulletin.Period, _ db: any SQLExecutor, ruleSet: CompiledRules,
    keys: [String], from: String, cohort: MeasureCohort, categories: [String] = []
  ) async throws -> [SumRow] {
    let (select, selectArguments) = facts.select(cohort: cohort)
    var arguments: [any SQLArgument] = selectArguments
    // The inner select's bounds: the decision before `to`, the events before `to`, the cohort.
    arguments.insert(period.to, at: 0)
    arguments += [period.to, period.from, period.to]
    var columns = keys.enumerated().map { "\($1) AS k\($0)" }
    columns += [
      "COUNT(*) AS n",
      "SUM(CASE WHEN f2.res IS NOT NULL THEN 1 ELSE 0 END) AS resolved",
      "SUM(CASE WHEN f2.rejected = 1 THEN 1 ELSE 0 END) AS rejected",
      "SUM(CASE WHEN f2.closed_at IS NOT NULL THEN 1 ELSE 0 END) AS closed",
      "SUM(CASE WHEN f2.res IS NULL AND f2.rejected = 0 THEN 1 ELSE 0 END) AS still_open",
    ]
    var conditionArguments: [any SQLArgument] = []
    for (i, m) in facts.measures.enumerated() {
      let den = facts.condition(m.denominator, row: "f2", arguments: &conditionArguments)
      columns.append("SUM(CASE WHEN \(den) THEN 1 ELSE 0 END) AS d\(i)")
      let den2 = facts.condition(m.denominator, row: "f2", arguments: &conditionArguments)
      let num = facts.condition(m.numerator, row: "f2", arguments: &conditionArguments)
      columns.append("SUM(CASE WHEN \(den2) AND \(num) THEN 1 ELSE 0 END) AS n\(i)")
    }
    // The facts' arguments come first in the text (the WITH clause), then the conditions'.
    // MATERIALIZED: each case's facts are computed once, not once per reference (PostgreSQL
    // parsed a decision's JSON again for every category column otherwise).
    // How many cases each harmful-information category has (a case may have several).
    for (i, id) in categories.enumerated() {
      columns.append("SUM(CASE WHEN \(facts.sql.containsString("f2.cats")) THEN 1 ELSE 0 END) AS c\(i)")
      conditionArguments.append(id)
    }
    // The `resolved` cohort: the cases whose last resolution by the period's end is in it.
    var whereArguments: [any SQLArgument] = []
    var filter = ""
    if cohort == .resolved {
      filter = "WHERE f2.res >= ? AND f2.res < ?"
      whereArguments = [period.from, period.to]
    }
    let sql = """
      WITH f2 AS MATERIALIZED (\(select))
      SELECT \(columns.joined(separator: ", ")) FROM \(from) \(filter)
      GROUP BY \(keys.indices.map { "k\($0)" }.joined(separator: ", "))
      """
    let rows = try await db.fetchAll(SQLStatement(sql, arguments + conditionArguments + whereArguments))
    var out: [SumRow] = rows.map { r in
      SumRow(
        keys: keys.indices.map { r["k\($0)"] }, received: r["n"], resolved: r["resolved"], rejected: r["rejected"],
        closed: r["closed"], open: r["still_open"],
        ratios: facts.measures.indices.map { Bulletin.Ratio(numerator: r["n\($0)"], denominator: r["d\($0)"]) },
        categories: categories.indices.map { r["c\($0)"] })
    }
    if facts.calendarWithins {
      out = try await calendarCorrection(
        facts, period, db, ruleSet: ruleSet, keys: keys, from: from, cohort: cohort, rows: out)
    }
    return out
  }

  /// Measures whose `within` counts months or working days: the SQL above counted every case
  /// with the moment; the cases over the duration are taken off here, case by case (only
  /// those cases are read).
  private static func calendarCorrection(
    _ facts: BulletinFacts, _ period: Bulletin.Period, _ db: any SQLExecutor, ruleSet: CompiledRules,
    keys: [String], from: String, cohort: MeasureCohort, rows: [SumRow]
  ) async throws -> [SumRow] {
    var rows = rows
    let (select, selectArguments) = facts.select(cohort: cohort)
    var arguments: [any SQLArgument] = selectArguments
    arguments.insert(period.to, at: 0)
    arguments += [period.to, period.from, period.to]
    /// The moment a condition times, and its calendar duration (nil: none to check here).
    func timing(_ c: MeasureCondition) -> (moment: String, duration: RuleDuration)? {
      guard case .within(let d)? = c.deadline, d.fixedSeconds == nil else { return nil }
      if !c.events.isEmpty, let e = facts.eventSets.firstIndex(of: c.events) { return ("f2.ev\(e)", d) }
      return ("f2.res", d)
    }
    for (i, m) in facts.measures.enumerated() where m.cohort == cohort {
      let denTiming = timing(m.denominator)
      let numTiming = timing(m.numerator)
      guard denTiming != nil || numTiming != nil else { continue }
      var conditionArguments: [any SQLArgument] = []
      // The cases the SQL counted in the denominator (a calendar `within` read as true there).
      let den = facts.condition(m.denominator, row: "f2", arguments: &conditionArguments)
      var columns = keys.enumerated().map { "\($1) AS k\($0)" } + ["f2.received_at AS received_at"]
      var numArguments: [any SQLArgument] = []
      let num = facts.condition(m.numerator, row: "f2", arguments: &numArguments)
      columns.append("CASE WHEN \(num) THEN 1 ELSE 0 END AS met")
      columns.append("\(denTiming?.moment ?? "NULL") AS den_moment")
      columns.append("\(numTiming?.moment ?? "NULL") AS num_moment")
      let bounds: [any SQLArgument] = cohort == .resolved ? [period.from, period.to] : []
      let sql = """
        WITH f2 AS MATERIALIZED (\(select))
        SELECT \(columns.joined(separator: ", "))
        FROM \(from) WHERE \(den)\(cohort == .resolved ? " AND f2.res >= ? AND f2.res < ?" : "")
        """
      // Placeholders in text order: the WITH clause, the select list (`met`), the WHERE clause.
      for r in try await db.fetchAll(SQLStatement(sql, arguments + numArguments + conditionArguments + bounds)) {
        let received: Millis = r["received_at"]
        func holds(_ t: (moment: String, duration: RuleDuration)?, _ column: String) -> Bool {
          guard let t else { return true }
          guard let at: Millis = r[column] else { return false }
          return at <= t.duration.added(to: received, calendar: ruleSet.calendar)
        }
        let met = (r["met"] as Int) == 1
        let inDenominator = holds(denTiming, "den_moment")
        let inNumerator = met && inDenominator && holds(numTiming, "num_moment")
        guard !inDenominator || met != inNumerator else { continue }
        let key: [String] = keys.indices.map { r["k\($0)"] }
        guard let index = rows.firstIndex(where: { $0.keys == key }) else { continue }
        if !inDenominator { rows[index].ratios[i].denominator -= 1 }
        if met && !inNumerator { rows[index].ratios[i].numerator -= 1 }
      }
    }
    return rows
  }

  private static func topIssues(
    _ period: Bulletin.Period, _ previous: Bulletin.Period, _ db: any SQLExecutor
  ) async throws -> [Bulletin.Count] {
    let rows = try await db.fetchAll(
      SQLStatement(
        """
        SELECT issue_key, COUNT(*) AS n FROM cases
        WHERE received_at >= ? AND received_at < ? AND issue_key IS NOT NULL AND issue_key <> ''
        GROUP BY issue_key ORDER BY n DESC, issue_key LIMIT \(Bulletin.topIssueCount)
        """, [period.from, period.to]))
    guard !rows.isEmpty else { return [] }
    let keys: [String] = rows.map { $0["issue_key"] }
    let before = try await db.fetchAll(
      SQLStatement(
        """
        SELECT issue_key, COUNT(*) AS n FROM cases
        WHERE received_at >= ? AND received_at < ? AND issue_key IN (\(keys.map { _ in "?" }.joined(separator: ", ")))
        GROUP BY issue_key
        """, [previous.from, previous.to] + keys.map { $0 as any SQLArgument }))
    var then: [String: Int] = [:]
    for r in before { then[r["issue_key"]] = r["n"] }
    return rows.map { r in
      let key: String = r["issue_key"]
      return Bulletin.Count(key: key, label: key, count: r["n"], previous: then[key] ?? 0)
    }
  }

  /// Received and resolved per week (Monday to Sunday, local time), clipped to the period.
  private static func weeks(_ period: Bulletin.Period, _ clock: ZoneClock, _ db: any SQLExecutor) async throws
    -> [Bulletin.Week]
  {
    let firstDay = clock.local(period.from).day
    let monday = firstDay - CivilDate(dayNumber: firstDay).weekday
    let origin = clock.instant(day: monday, msOfDay: 0)
    let lastDay = clock.local(period.to - 1).day
    let count = (lastDay - monday) / 7 + 1
    let week: Int64 = 604_800_000
    let received = try await db.fetchAll(
      SQLStatement(
        "SELECT (received_at - ?) / ? AS w, COUNT(*) AS n FROM cases WHERE received_at >= ? AND received_at < ? GROUP BY w",
        [origin, week, period.from, period.to]))
    let resolved = try await db.fetchAll(
      SQLStatement(
        """
        SELECT (first_at - ?) / ? AS w, COUNT(*) AS n FROM (
          SELECT case_id, MIN(at) AS first_at FROM events WHERE type IN ('carry_out', 'resolved') GROUP BY case_id
        ) r WHERE first_at >= ? AND first_at < ? GROUP BY w
        """, [origin, week, period.from, period.to]))
    var weeks = (0..<count).map { i -> Bulletin.Week in
      let day = max(monday + 7 * i, firstDay)
      return Bulletin.Week(
        from: clock.instant(day: day, msOfDay: 0), firstDay: CivilDate(dayNumber: day).description, received: 0,
        resolved: 0)
    }
    for r in received {
      let w: Int = r["w"]
      if weeks.indices.contains(w) { weeks[w].received = r["n"] }
    }
    for r in resolved {
      let w: Int = r["w"]
      if weeks.indices.contains(w) { weeks[w].resolved = r["n"] }
    }
    return weeks
  }
}
