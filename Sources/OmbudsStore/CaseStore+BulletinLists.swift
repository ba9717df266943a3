import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax

/// The cases a bulletin lists one by one: important, hot and major items, overdue and due soon.
extension CaseStore {
  /// The cases of the period above the lowest level (as of the period's end), each with the
  /// course of its handling and, for a level whose close needs a report (a `close` gate's
  /// `require_report`), that report's state.
  static func items(
    _ facts: BulletinFacts, _ period: Bulletin.Period, _ db: any SQLExecutor, ruleSet: CompiledRules,
    lowest: String, clock: ZoneClock
  ) async throws -> [Bulletin.CaseItem] {
    let withResolveBy = BulletinFacts(measures: facts.measures, sqlite: facts.sql.sqlite, deadlines: ["resolve_by"])
    // Levels never fall on their own: a case at the lowest level now, never set by hand,
    // was at the lowest level at the period's end too.
    let (select, selectArguments) = withResolveBy.select(
      cohort: .received, extra: true, narrow: "(c.level <> ? OR c.override_level IS NOT NULL)")
    var arguments: [any SQLArgument] = selectArguments
    arguments.insert(period.to, at: 0)
    arguments += [period.to, period.from, period.to, lowest]
    let dl = withResolveBy.deadlines.firstIndex(of: "resolve_by") ?? 0
    let rows = try await db.fetchAll(
      SQLStatement(
        """
        WITH f2 AS MATERIALIZED (\(select))
        SELECT * FROM f2 WHERE COALESCE(f2.level_end, f2.level_now) <> ?
        ORDER BY f2.received_at, f2.id
        """, arguments + [lowest]))
    let levelLabel = levelLabels(ruleSet)
    let required = Set(ruleSet.ruleSet.gates.filter { $0.transition == "close" }.compactMap(\.requireReport))
    let reportLabel = Dictionary(
      ruleSet.ruleSet.reports.map { ($0.id, $0.label ?? $0.id) }, uniquingKeysWith: { a, _ in a })
    let satisfactionLabel = Dictionary(
      ruleSet.ruleSet.satisfaction.map { ($0.id, $0.label) }, uniquingKeysWith: { a, _ in a })
    func day(_ t: Millis) -> String {
      let d = CivilDate(dayNumber: clock.local(t).day).description
      return String(d.dropFirst(5))
    }
    return rows.map { r in
      let level: String = r["level_end"] ?? r["level_now"]
      let report = ruleSet.ruleSet.duties[level]?.onClose.compactMap(\.report).first { required.contains($0) }
      var steps: [String] = []
      if let t: Millis = r["accepted_at"] { steps.append("受理 \(day(t))") }
      if (r["rejected"] as Int) == 1 { steps.append("不予受理") }
      if let d: String = r["department"] { steps.append("承办 \(d)") }
      if let t: Millis = r["res"] { steps.append("办结 \(day(t))") }
      if let s: String = r["sat"] { steps.append("回访 \(satisfactionLabel[s] ?? s)") }
      if let t: Millis = r["closed_at"] { steps.append("结案 \(day(t))") }
      if let t: Millis = r["reopened_at"] { steps.append("二次投诉 \(day(t))") }
      if (r["state"] as String) == "open" {
        let stage: String = r["stage"]
        steps.append("办理中（\(Stage(rawValue: stage)?.label ?? stage)）")
      }
      var item = Bulletin.CaseItem(
        id: r["id"], level: level, levelLabel: levelLabel[level] ?? level, receivedAt: r["received_at"],
        channel: r["channel"], department: r["department"], stage: r["stage"],
        handling: steps.joined(separator: " → "), resolvedAt: r["res"], report: report,
        reportLabel: report.map { reportLabel[$0] ?? $0 }, reportState: nil, reportHandedInAt: nil,
        resolveBy: r["dl\(dl)"])
      // Rejected (不予受理): never handled, so no special report is owed.
      if report != nil, (r["rejected"] as Int) == 1 { item.reportState = "not_required" }
      if let report, let payload: String = r["closed_payload"], let closedAt: Millis = r["closed_at"],
        Self.reportsHandedIn(payload).contains(report)
      {
        item.reportState = "handed_in"
        item.reportHandedInAt = closedAt
      }
      return item
    }
  }

  /// The report ids a `closed` event's payload hands in.
  static func reportsHandedIn(_ payload: String) -> Set<String> {
    guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8)),
      case .array(let reports)? = object["reports"]
    else { return [] }
    var ids: Set<String> = []
    for r in reports {
      if case .object(let o) = r, let id = o["report"]?.string { ids.insert(id) }
      if let id = r.string { ids.insert(id) }
    }
    return ids
  }

  static func dueList(
    _ condition: String, _ arguments: [any SQLArgument], _ db: any SQLExecutor, levelLabel: [String: String],
    limit: Int
  ) async throws -> ([Bulletin.DueItem], Int) {
    let total = try await db.fetchAll(
      SQLStatement("SELECT COUNT(*) AS n FROM cases WHERE state = 'open' AND \(condition)", arguments))
    let rows = try await db.fetchAll(
      SQLStatement(
        "SELECT id, level, stage, department, due_at FROM cases WHERE state = 'open' AND \(condition) ORDER BY due_at, id LIMIT \(limit)",
        arguments))
    return (
      rows.map { r in
        let level: String = r["level"]
        return Bulletin.DueItem(
          id: r["id"], level: level, levelLabel: levelLabel[level] ?? level, stage: r["stage"],
          department: r["department"], dueAt: r["due_at"])
      }, total.first?["n"] ?? 0
    )
  }
}
