import Foundation
import OmbudsEngine
import OmbudsRules

extension CaseStore {
  /// Re-evaluates every case whose next review is due at `at` — found by index, no scan of
  /// all cases — in one transaction. Returns how many were re-evaluated. On PostgreSQL, cases
  /// another instance is re-evaluating are skipped (`FOR UPDATE SKIP LOCKED`).
  @discardableResult
  public func runDue(at: Millis) async throws -> Int {
    try await writing { db in
      let due = try await db.strings(
        "SELECT id FROM cases WHERE next_review_at IS NOT NULL AND next_review_at <= ? ORDER BY next_review_at \(db.skipLocked)",
        [at])
      for id in due { try await self.reevaluate(id, at: at, in: db) }
      return due.count
    }
  }

  /// A case's row, locked, with its complainant (`party_complainant_id`).
  static func caseRows(_ condition: String, lock: String, columns: String = "") -> String {
    """
    SELECT c.*, (SELECT p.complainant_id FROM parties p WHERE p.case_id = c.id) AS party_complainant_id\(columns)
    FROM cases c WHERE \(condition) \(lock)
    """
  }

  /// What a change reads of its issue, in one trip: the receipts the same-issue counts need,
  /// and (for a new or changed case) the other open cases to re-evaluate, locked.
  struct IssueRead {
    var history: StoreHistory
    var others: [SQLRow]
  }

  /// Reads issue `facts.issueKey` at `at`: the receipts around the case's receipt and, when
  /// `others` is set, the other open cases that an aggregate can still move (a case already at
  /// or above the highest level an aggregate can give stays there), their rows locked, with
  /// the receipts around theirs. One trip to the database.
  func readIssue(of facts: CaseFacts, at: Millis, others: Bool, in db: any SQLExecutor) async throws -> IssueRead? {
    guard let key = facts.issueKey else { return nil }
    let history = StoreHistory(store: self, asOf: at)
    let reach = rules.aggregateWindows.map { $0.bounds.upperBound * 1000 }.max()
    guard others || reach != nil else { return IssueRead(history: history, others: []) }
    let ceiling = rules.highestAggregateLevel ?? -1
    let settled = rules.levels.prefix(max(0, ceiling + 1)).map(\.id)
    let notSettled = settled.isEmpty ? "" : "AND c.level NOT IN (\(settled.map { _ in "?" }.joined(separator: ", ")))"
    let condition = "c.issue_key = ? AND c.id != ? AND c.state = 'open' \(notSettled)"
    let conditionArguments: [any SQLArgument] = [key, facts.id] + settled.map { $0 as any SQLArgument }
    let t = facts.receivedAt
    if others, let reach {
      // Both in one statement (one round trip on PostgreSQL): the other cases, locked, in a
      // `WITH` clause (a locking clause may not stand beside UNION), then the receipts from
      // `reach` before the earliest of them (and of this case) to `reach` after the latest:
      // every window containing one of them lies inside. The bounds are computed once by the
      // database (scalar subqueries), so that the issue's index is scanned over one range.
      let sql = """
        WITH o AS (\(Self.caseRows(condition, lock: db.forUpdate)))
        SELECT 1 AS part, o.id, o.received_at, o.complainant_key, o.snapshot, o.lifecycle, o.level, o.override_level,
          o.state, o.next_review_at, o.party_complainant_id FROM o
        UNION ALL
        SELECT 2, id, received_at, complainant_key, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM cases
        WHERE issue_key = ? AND received_at <= ?
          AND received_at >= (SELECT MIN(t) FROM (SELECT CAST(? AS BIGINT) AS t UNION ALL SELECT received_at FROM o) AS s) - ?
          AND received_at < (SELECT MAX(t) FROM (SELECT CAST(? AS BIGINT) AS t UNION ALL SELECT received_at FROM o) AS s) + ?
        ORDER BY part, received_at
        """
      let found = try await db.fetchAll(SQLStatement(sql, conditionArguments + [key, at, t, reach, t, reach]))
      let rows = found.filter { ($0["part"] as Int) == 1 }
      let times = rows.map { $0["received_at"] as Millis } + [t]
      history.install(
        issue: key, from: (times.min() ?? t) - reach, to: (times.max() ?? t) + reach,
        rows: found.filter { ($0["part"] as Int) == 2 }.map { ($0["id"], $0["received_at"], $0["complainant_key"]) })
      return IssueRead(history: history, others: rows)
    }
    var statements: [SQLStatement] = []
    if others { statements.append(SQLStatement(Self.caseRows(condition, lock: db.forUpdate), conditionArguments)) }
    if let reach {
      // The receipts every window around the case's receipt can reach.
      statements.append(
        SQLStatement(
          "SELECT id, received_at, complainant_key FROM cases WHERE issue_key = ? AND received_at <= ? AND received_at >= ? AND received_at < ? ORDER BY received_at",
          [key, at, t - reach, t + reach]))
    }
    let found = try await db.fetchEach(statements)
    let rows = others ? found[0] : []
    if let reach, let receipts = found.last {
      let times = rows.map { $0["received_at"] as Millis } + [t]
      history.install(
        issue: key, from: (times.min() ?? t) - reach, to: (times.max() ?? t) + reach,
        rows: receipts.map { ($0["id"], $0["received_at"], $0["complainant_key"]) })
    }
    return IssueRead(history: history, others: rows)
  }

  /// Applies the rules in force to every open case at `at` — a rule change reaching the cases
  /// in flight by decision, not by accident: one recorded decision each, naming the rule set
  /// of the case's decision before it (`TimelineEntry.previousRuleSet`); levels still never
  /// fall on their own; notices the new decisions trigger go to the outbox as usual. In
  /// transactions of `batch` cases, by case id, so a large store is never locked long and a
  /// killed run can be run again.
  public func reevaluateOpen(at: Millis, batch: Int = 500) async throws -> RuleChangeReevaluation {
    var summary = RuleChangeReevaluation(ruleSet: rules.contentHash)
    var after = ""
    while true {
      let from = after
      let (done, last) = try await writing { db -> ([(String, String, String, String?)], String?) in
        // Each case with the rule set of its latest decision, read with it.
        let rows = try await db.fetchAll(
          Self.caseRows(
            "c.state = 'open' AND c.id > ? ORDER BY c.id LIMIT \(max(1, batch))", lock: db.forUpdate,
            columns:
              ", (SELECT d.rule_set FROM decisions d WHERE d.case_id = c.id ORDER BY d.id DESC LIMIT 1) AS last_rule_set"
          ),
          [from])
        var done: [(String, String, String, String?)] = []
        for row in rows {
          let id: String = row["id"]
          let before: String? = row["last_rule_set"]
          let (from, to) = try await self.reevaluate(
            row, complainant: row["party_complainant_id"], at: at, history: nil, rulesChanged: true,
            previousRuleSet: before, in: db)
          done.append((id, from, to, before))
        }
        return (done, rows.last?["id"])
      }
      for (id, from, to, before) in done {
        summary.cases += 1
        if from != to { summary.levelChanges.append(.init(caseID: id, from: from, to: to)) }
        summary.previousRuleSets[before ?? "", default: 0] += 1
      }
      guard let last else { break }
      after = last
    }
    return summary
  }

  /// Re-evaluates a stored case at `at` (time passing).
  func reevaluate(_ id: String, at: Millis, in db: any SQLExecutor) async throws {
    guard let row = try await db.fetchAll(Self.caseRows("c.id = ?", lock: db.forUpdate), [id]).first else { return }
    try await reevaluate(row, complainant: row["party_complainant_id"], at: at, history: nil, in: db)
  }

  /// Re-evaluates the case of `row` at `at`; `history` holds receipts of its issue already read.
  /// `rulesChanged`: a decision is recorded even when nothing changed, naming
  /// `previousRuleSet`, the rule set of the case's decision before it. Returns the level
  /// before and after.
  @discardableResult
  func reevaluate(
    _ row: SQLRow, complainant: String?, at: Millis, history: StoreHistory?, rulesChanged: Bool = false,
    previousRuleSet: String? = nil, in db: any SQLExecutor
  ) async throws -> (from: String, to: String) {
    let id: String = row["id"]
    let text: String = row["snapshot"]
    var lifecycle = CaseLifecycle.read(row["lifecycle"])
    let facts = try self.facts(id, snapshotText: text, complainantID: complainant)
    let level: String = row["level"]
    let decision = try await decide(
      facts, at: at, level: level, override: row["override_level"], lifecycle: lifecycle, history: history, in: db)
    let newLevel = rules.levels[decision.level].id
    if newLevel != level { lifecycle.levelSince = at }
    let since = lifecycle.levelSince ?? facts.receivedAt
    // While-open repeats (weekly progress reports of a major case): the evaluator says which
    // occurrence is due — after a pause only the latest one. Keys make each one once.
    let state: String = row["state"]
    if state == "open" {
      let duties = rules.ruleSet.duties[newLevel]?.whileOpen ?? []
      for due in rules.dueRepeats(level: decision.level, receivedAt: facts.receivedAt, since: since, at: at)
      where due.duty < duties.count {
        try await enqueue(
          duties[due.duty],
          NoticeCause(
            on: "while_open", key: "\(id)/repeat/\(newLevel)/\(due.duty)/\(due.at)", at: due.at,
            detail: "still open; the \(due.every) report is due"),
          caseID: id, level: decision.level, reasons: reasonList(decision), in: db)
      }
    }
    var nextReview = decision.nextReviewAt
    if let alertAt = try await writeDeadlineAlerts(
      caseID: id, unresolved: facts.resolvedAt == nil && state == "open", decision: decision, at: at, in: db),
      alertAt < (nextReview ?? .max)
    {
      nextReview = alertAt
    }
    if newLevel != level || nextReview != row["next_review_at"] || rulesChanged {
      try await db.execute(
        decisionInsert(
          decision, facts: facts, eventID: nil, at: at, previousRuleSet: rulesChanged ? previousRuleSet : nil))
      try await writeOutbox(caseID: id, previous: level, decision: decision, closing: false, at: at, in: db)
      try await db.execute(
        "UPDATE cases SET level = ?, next_review_at = ?, lifecycle = ?, due_at = ?, version = version + 1 WHERE id = ?",
        [
          newLevel, nextReview, lifecycle.json,
          Self.dueAt(decision, unresolved: facts.resolvedAt == nil && state == "open"), id,
        ])
    }
    return (level, newLevel)
  }
}

/// What `CaseStore.reevaluateOpen(at:)` did.
public struct RuleChangeReevaluation: Sendable, Equatable {
  public struct LevelChange: Sendable, Equatable {
    public var caseID: String
    public var from: String
    public var to: String

    public init(caseID: String, from: String, to: String) {
      self.caseID = caseID
      self.from = from
      self.to = to
    }
  }
  /// The rule set applied (its content hash).
  public var ruleSet: String
  /// Open cases re-evaluated (one decision recorded each).
  public var cases = 0
  /// The cases whose level changed (upwards: levels never fall on their own), by case id.
  public var levelChanges: [LevelChange] = []
  /// How many of them were last decided under each rule set (`""`: never decided).
  public var previousRuleSets: [String: Int] = [:]

  public init(ruleSet: String) { self.ruleSet = ruleSet }
}
