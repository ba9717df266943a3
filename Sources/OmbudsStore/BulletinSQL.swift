import OmbudsRules

/// The SQL of a bulletin, for one backend: SQLite's JSON1 and date functions or PostgreSQL's
/// `jsonb` and `timestamptz`. Every value from outside is a bound argument.
struct BulletinSQL {
  let sqlite: Bool

  /// The text at `path` in the JSON text of `column` (NULL when missing).
  func jsonText(_ column: String, _ path: [String]) -> String {
    sqlite
      ? "json_extract(\(column), '$.\(path.joined(separator: "."))')"
      : "(\(column)::jsonb #>> '{\(path.joined(separator: ","))}')"
  }

  /// An RFC 3339 text as milliseconds since the epoch (NULL stays NULL).
  func millis(_ expression: String) -> String {
    sqlite
      ? "(CAST(strftime('%s', \(expression)) AS INTEGER) * 1000 + CAST(substr(strftime('%f', \(expression)), 4, 3) AS INTEGER))"
      : "(EXTRACT(EPOCH FROM (\(expression))::timestamptz) * 1000)::bigint"
  }

  /// The rows of the cases' harmful-information categories: `FROM x <categories(x.cats)>`
  /// gives a column `j.value` (NULL for a case with none), from the JSON array text `column`.
  func categories(of column: String) -> String {
    sqlite
      ? "LEFT JOIN json_each(\(column)) j"
      : "LEFT JOIN LATERAL jsonb_array_elements_text(\(column)::jsonb) AS j(value) ON true"
  }

  /// Whether the JSON array text `column` holds the string bound to the next `?` (an id of
  /// the rules: letters, digits and `_`, so its quoted form cannot occur otherwise).
  func containsString(_ column: String) -> String {
    sqlite ? "instr(\(column), '\"' || ? || '\"') > 0" : "position('\"' || ? || '\"' in \(column)) > 0"
  }
}

/// The per-case facts a period's measures read, as SQL over `cases`, `events` and
/// `decisions`: one row per case of the cohort, as of the period's end.
struct BulletinFacts {
  let sql: BulletinSQL
  let measures: [MeasureDecl]
  /// The distinct event sets the measures name; column `ev<i>` is the first such event's time.
  let eventSets: [[String]]
  /// The deadline ids the measures name; column `dl<i>` is that deadline in ms.
  let deadlines: [String]
  let usesSatisfaction: Bool
  /// Calendar-dependent `within` durations (months, working days): not computable in SQL.
  let calendarWithins: Bool

  init(measures: [MeasureDecl], sqlite: Bool, deadlines extra: [String] = []) {
    self.sql = BulletinSQL(sqlite: sqlite)
    self.measures = measures
    var sets: [[String]] = []
    var deadlines: [String] = extra
    var satisfaction = false
    var calendar = false
    for m in measures {
      for c in [m.numerator, m.denominator] {
        if !c.events.isEmpty, !sets.contains(c.events) { sets.append(c.events) }
        if !c.satisfaction.isEmpty { satisfaction = true }
        switch c.deadline {
        case .deadline(let id)?: if !deadlines.contains(id) { deadlines.append(id) }
        case .within(let d)?: if d.fixedSeconds == nil { calendar = true }
        case nil: break
        }
      }
    }
    eventSets = sets
    self.deadlines = deadlines
    usesSatisfaction = satisfaction
    calendarWithins = calendar
  }

  /// The resolution events (RuleLanguage §18: `resolved: true`).
  static let resolutionTypes = ["carry_out", "resolved"]

  /// `SELECT` of one row per case of the cohort of `[from, to)`, with the columns `id`,
  /// `received_at`, `department`, `channel`, `stage`, `state`, `level_end`, `dec` (the latest
  /// decision's JSON before `to`), `ev<i>`, `res` (the last resolution's time, by `to`),
  /// `first_res`, `closed_at`, `rejected`, `accepted_at`, `sat`, `dl<i>`, `closed_payload`.
  /// `cohort` `resolved`: the cases whose last resolution by `to` is in the period.
  /// `narrow`: one more condition on the case row `c` (its arguments bound after the cohort's).
  func select(cohort: MeasureCohort, extra: Bool = false, narrow: String? = nil) -> (
    sql: String, arguments: [any SQLArgument]
  ) {
    var arguments: [any SQLArgument] = []
    var eventColumns: [String] = []
    for (i, set) in eventSets.enumerated() {
      eventColumns.append(
        "MIN(CASE WHEN e.type IN (\(set.map { _ in "?" }.joined(separator: ", "))) THEN e.at END) AS ev\(i)")
      arguments += set.map { $0 as any SQLArgument }
    }
    let resolution = Self.resolutionTypes.map { "'\($0)'" }.joined(separator: ", ")
    // The period's end bounds the events (bound twice: the decision's and the events').
    let inner = """
      SELECT c.id AS id, c.received_at AS received_at, c.department AS department, c.stage AS stage,
        c.state AS state, c.level AS level_now, \(sql.jsonText("c.snapshot", ["channel"])) AS channel,
        (SELECT d.id FROM decisions d WHERE d.case_id = c.id AND d.decided_at < ? ORDER BY d.id DESC LIMIT 1) AS dec_id,
        \((eventColumns + [
          "MAX(CASE WHEN e.type IN (\(resolution)) THEN e.at END) AS res_at",
          "MIN(CASE WHEN e.type IN (\(resolution)) THEN e.at END) AS first_res_at",
          "MAX(CASE WHEN e.type = 'closed' THEN e.at END) AS closed_at",
          "MAX(CASE WHEN e.type = 'closed' THEN e.seq END) AS closed_seq",
          "MAX(CASE WHEN e.type = 'reject' THEN 1 ELSE 0 END) AS rejected",
          "MIN(CASE WHEN e.type = 'accept' THEN e.at END) AS accepted_at",
          "MAX(CASE WHEN e.type = 'follow_up' THEN e.seq END) AS fu_seq",
          "MAX(CASE WHEN e.type = 'reopened' THEN e.seq END) AS ro_seq",
          "MAX(CASE WHEN e.type = 'reopened' THEN e.at END) AS reopened_at",
        ]).joined(separator: ",\n    "))
      FROM cases c LEFT JOIN events e ON e.case_id = c.id AND e.at < ?
      WHERE \(cohort == .received ? "c.received_at >= ? AND c.received_at < ?" : "EXISTS (SELECT 1 FROM events r WHERE r.case_id = c.id AND r.type IN (\(resolution), 'closed') AND r.at >= ? AND r.at < ?)")\(narrow.map { " AND " + $0 } ?? "")
      GROUP BY c.id
      """
    var columns = [
      "f.*", "dd.level AS level_end", "\(sql.jsonText("dd.decision", ["categories"])) AS cats",
      "COALESCE(f.res_at, CASE WHEN f.rejected = 0 THEN f.closed_at END) AS res",
      "COALESCE(f.first_res_at, CASE WHEN f.rejected = 0 THEN f.closed_at END) AS first_res",
    ]
    if usesSatisfaction || extra {
      columns.append(
        """
        CASE WHEN f.fu_seq IS NOT NULL AND (f.ro_seq IS NULL OR f.fu_seq > f.ro_seq) THEN
          (SELECT \(sql.jsonText("x.payload", ["satisfaction"])) FROM events x WHERE x.case_id = f.id AND x.seq = f.fu_seq)
        END AS sat
        """)
    }
    // A deadline as the latest decision by the period's end states it (extensions included).
    for (i, id) in deadlines.enumerated() {
      columns.append("\(sql.millis(sql.jsonText("dd.decision", ["deadlines", id]))) AS dl\(i)")
    }
    if extra {
      columns.append(
        "(SELECT x.payload FROM events x WHERE x.case_id = f.id AND x.seq = f.closed_seq) AS closed_payload")
    }
    return (
      """
      SELECT \(columns.joined(separator: ", "))
      FROM (\(inner)) f LEFT JOIN decisions dd ON dd.id = f.dec_id
      """, arguments
    )
  }

  /// The SQL condition for a measure's condition over a facts row `f2` (with the `within`
  /// of a fixed length; a calendar one is left to Swift and reads as true here).
  func condition(_ c: MeasureCondition, row: String, arguments: inout [any SQLArgument]) -> String {
    var parts: [String] = []
    var moment: String? = nil
    if !c.events.isEmpty, let i = eventSets.firstIndex(of: c.events) {
      parts.append("\(row).ev\(i) IS NOT NULL")
      moment = "\(row).ev\(i)"
    }
    if c.resolved {
      parts.append("\(row).res IS NOT NULL")
      if moment == nil { moment = "\(row).res" }
    }
    if !c.satisfaction.isEmpty {
      parts.append("\(row).sat IN (\(c.satisfaction.map { _ in "?" }.joined(separator: ", ")))")
      arguments += c.satisfaction.map { $0 as any SQLArgument }
    }
    if let moment {
      switch c.deadline {
      case .deadline(let id)?:
        if let i = deadlines.firstIndex(of: id) {
          parts.append("\(row).dl\(i) IS NOT NULL AND \(moment) <= \(row).dl\(i)")
        }
      case .within(let d)?:
        if let s = d.fixedSeconds {
          parts.append("\(moment) <= \(row).received_at + ?")
          arguments.append(s * 1000)
        }
      case nil: break
      }
    }
    return parts.isEmpty ? "1 = 1" : "(" + parts.joined(separator: " AND ") + ")"
  }
}
