import OmbudsEngine
import OmbudsRules

/// Same-issue aggregates answered from the cases table (indexed by issue and time).
///
/// The evaluator asks synchronously, while the database is reached asynchronously: the
/// receipts of the issue that the rules' windows can reach are read first (`load`), and the
/// evaluator's questions are answered from them. A question outside what was read is noted
/// in `missing`; `CaseStore.decide` then reads that range too and evaluates again.
final class StoreHistory: CaseHistory, @unchecked Sendable {
  // @unchecked: used by one task, inside one transaction; never shared.
  let store: CaseStore
  let asOf: Millis
  var rules: CompiledRules { store.rules }
  /// The issue read, and the range of receipt times read for it: `[from, to)`.
  var issueKey: String?
  var from: Millis = 0
  var to: Millis = 0
  var receipts: [(id: String, time: Millis, who: String?)] = []
  /// A range the evaluator asked about that was not read.
  var missing: (from: Millis, to: Millis)?

  init(store: CaseStore, asOf: Millis) {
    self.store = store
    self.asOf = asOf
  }

  /// The receipt times a window of `window` containing `t` can reach: `[earliest, latest)`.
  func range(_ window: RuleDuration, around t: Millis) -> (from: Millis, to: Millis) {
    // Windows containing t start after t minus the window's longest length.
    (t - window.bounds.upperBound * 1000, window.added(to: t, calendar: rules.calendar))
  }

  /// Reads the receipts every one of `windows` can reach around the case's receipt.
  func load(for facts: CaseFacts, windows: [RuleDuration], in db: any SQLExecutor) async throws {
    guard facts.issueKey != nil, !windows.isEmpty else { return }
    let ranges = windows.map { range($0, around: facts.receivedAt) }
    let lo = ranges.map(\.from).min() ?? 0
    let hi = ranges.map(\.to).max() ?? 0
    try await load(for: facts, range: (lo, hi), in: db)
  }

  /// Reads the receipts in `range`, together with those read before.
  func load(for facts: CaseFacts, range wanted: (from: Millis, to: Millis), in db: any SQLExecutor) async throws {
    guard let key = facts.issueKey else { return }
    try await load(issue: key, range: wanted, in: db)
  }

  /// Reads the receipts of issue `key` in `range`, together with those read before.
  func load(issue key: String, range wanted: (from: Millis, to: Millis), in db: any SQLExecutor) async throws {
    var lo = wanted.from
    var hi = wanted.to
    if issueKey == key, to > from {
      lo = min(lo, from)
      hi = max(hi, to)
    }
    let rows: [SQLRow]
    do {
      rows = try await db.fetchAll(
        "SELECT id, received_at, complainant_key FROM cases WHERE issue_key = ? AND received_at >= ? AND received_at < ? AND received_at <= ? ORDER BY received_at",
        [key, lo, hi, asOf])
    } catch let e as StoreError {
      throw e
    } catch {
      throw StoreError.database("counting the cases of the same issue: \(error)")
    }
    issueKey = key
    from = lo
    to = hi
    receipts = rows.map { ($0["id"], $0["received_at"], $0["complainant_key"]) }
    missing = nil
  }

  /// Takes receipts read elsewhere: those of issue `key` in `[from, to)`, received by `asOf`.
  func install(issue key: String, from: Millis, to: Millis, rows: [(id: String, time: Millis, who: String?)]) {
    issueKey = key
    self.from = from
    self.to = to
    receipts = rows
    missing = nil
  }

  /// Puts a case's receipt as it is now written in this transaction: what reading it again
  /// would return.
  func update(id: String, issue key: String?, time: Millis, who: String?) {
    guard issueKey != nil else { return }
    receipts.removeAll { $0.id == id }
    guard key == issueKey, time >= from, time < to, time <= asOf else { return }
    let at = receipts.firstIndex { $0.time > time } ?? receipts.count
    receipts.insert((id, time, who), at: at)
  }

  func sameIssueComplainants(of facts: CaseFacts, window: RuleDuration, asOf: Millis) -> Int {
    let own = facts.strings[BuiltinFields.complainantID] == nil ? 0 : 1
    guard let key = facts.issueKey else { return own }
    let t = facts.receivedAt
    let (earliest, latest) = range(window, around: t)
    guard key == issueKey, asOf <= self.asOf, earliest >= from, latest <= to else {
      missing = (min(earliest, missing?.from ?? earliest), max(latest, missing?.to ?? latest))
      return own
    }
    let rows = receipts.filter { $0.time >= earliest && $0.time < latest && $0.time <= asOf }
    var list: [(time: Millis, who: String?)] = rows.map { ($0.time, $0.who) }
    // The case itself, as it is now (it may not be stored yet).
    let me = facts.complainantID.map(store.pseudonym)
    if let i = rows.firstIndex(where: { $0.id == facts.id }) {
      list[i].who = me
    } else {
      list.append((t, me))
      list.sort { $0.time < $1.time }
    }
    return max(own, SameIssue.count(receipts: list, at: t, window: window, calendar: rules.calendar))
  }
}
