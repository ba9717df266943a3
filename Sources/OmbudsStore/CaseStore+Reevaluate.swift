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
      for id in due { try await reevaluate(id, at: at, in: db) }
      return due.count
    }
  }

  /// Re-evaluates the open cases of issue `key` other than `caseID`: a new or changed case may
  /// have changed their same-issue count.
  func reevaluateIssue(_ key: String, except caseID: String, at: Millis, in db: any SQLExecutor) async throws {
    let others = try await db.fetchAll(
      "SELECT id, level FROM cases WHERE issue_key = ? AND id != ? AND state = 'open'", [key, caseID])
    let ceiling = rules.highestAggregateLevel ?? -1
    for other in others {
      // A case already at or above the highest level an aggregate can give stays there.
      let index = rules.levels.firstIndex { $0.id == (other["level"] as String) } ?? Int.max
      if index > ceiling { try await reevaluate(other["id"], at: at, in: db) }
    }
  }

  /// Re-evaluates a stored case at `at` (time passing, or another case of its issue).
  func reevaluate(_ id: String, at: Millis, in db: any SQLExecutor) async throws {
    let found = try await db.fetchEach([
      SQLStatement("SELECT * FROM cases WHERE id = ? \(db.forUpdate)", [id]),
      SQLStatement("SELECT complainant_id FROM parties WHERE case_id = ?", [id]),
    ])
    guard let row = found[0].first else { return }
    let text: String = row["snapshot"]
    var lifecycle = CaseLifecycle.read(row["lifecycle"])
    let complainant: String? = found[1].first?["complainant_id"]
    let facts = try self.facts(id, snapshotText: text, complainantID: complainant)
    let level: String = row["level"]
    let decision = try await decide(
      facts, at: at, level: level, override: row["override_level"], lifecycle: lifecycle, in: db)
    let newLevel = rules.levels[decision.level].id
    if newLevel != level { lifecycle.levelSince = at }
    let since = lifecycle.levelSince ?? facts.receivedAt
    // While-open repeats (weekly progress reports of a major case): every occurrence since
    // the case entered its level, counted from receipt, up to now. Keys make each one once.
    let state: String = row["state"]
    if state == "open" {
      for (i, d) in (rules.ruleSet.duties[newLevel]?.whileOpen ?? []).enumerated() {
        guard let every = d.every else { continue }
        var t = every.added(to: facts.receivedAt, calendar: rules.calendar)
        var steps = 0
        while t <= at, steps < 10_000 {
          let next = every.added(to: t, calendar: rules.calendar)
          // After a pause in re-evaluation (a store that was down for weeks), only the latest
          // missed occurrence is sent: one current progress report, not a backlog of stale ones.
          if t > since, next > at {
            try await enqueue(
              d,
              NoticeCause(
                on: "while_open", key: "\(id)/repeat/\(newLevel)/\(i)/\(t)", at: t,
                detail: "still open; the \(every) report is due"),
              caseID: id, level: decision.level, reasons: reasonList(decision), in: db)
          }
          t = next
          steps += 1
        }
      }
    }
    var nextReview = decision.nextReviewAt
    if let alertAt = try await writeDeadlineAlerts(
      caseID: id, unresolved: facts.resolvedAt == nil && state == "open", decision: decision, at: at, in: db),
      alertAt < (nextReview ?? .max)
    {
      nextReview = alertAt
    }
    if newLevel != level || nextReview != row["next_review_at"] {
      try await db.execute(decisionInsert(decision, facts: facts, eventID: nil, at: at))
      try await writeOutbox(caseID: id, previous: level, decision: decision, closing: false, at: at, in: db)
      try await db.execute(
        "UPDATE cases SET level = ?, next_review_at = ?, lifecycle = ?, version = version + 1 WHERE id = ?",
        [newLevel, nextReview, lifecycle.json, id])
    }
  }
}
