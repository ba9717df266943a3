import Foundation
import OmbudsEngine
import OmbudsRules

extension CaseStore {
  /// What `draftRules` would do to every stored case at `at`, compared with this store's rules
  /// (`ombuds impact`). Reads only: nothing is written. `listLimit` cuts the list of changed
  /// cases (their total is counted all the same); nil lists all.
  public func impact(of draftRules: CompiledRules, at: Millis, listLimit: Int? = nil, batch: Int = 2000)
    async throws -> Impact
  {
    let draft = try await CaseStore(backend: backend, rules: draftRules)
    var impact = Impact(
      current: .init(ruleSet: rules.contentHash, levels: rules.levels.map(\.id)),
      draft: .init(ruleSet: draftRules.contentHash, levels: draftRules.levels.map(\.id)), at: at)
    // Every receipt by `at`, by issue: the same-issue counts of both sides come from them.
    let receipts = try await reading { db in
      try await db.fetchAll(
        "SELECT id, issue_key, received_at, complainant_key FROM cases WHERE issue_key IS NOT NULL AND received_at <= ? ORDER BY issue_key, received_at, id",
        [at])
    }
    var byIssue: [String: [(id: String, time: Millis, who: String?)]] = [:]
    for r in receipts {
      byIssue[r["issue_key"] as String, default: []].append((r["id"], r["received_at"], r["complainant_key"]))
    }
    let issues = byIssue

    var tally = ImpactTally()
    var after = ""
    while true {
      let from = after
      let compared = try await reading { db -> [CaseComparison] in
        let rows = try await db.fetchAll(
          Self.caseRows("c.id > ? ORDER BY c.id LIMIT \(max(1, batch))", lock: ""), [from])
        var out: [CaseComparison] = []
        out.reserveCapacity(rows.count)
        for row in rows {
          out.append(try await self.compare(row, with: draft, at: at, issues: issues, in: db))
        }
        return out
      }
      guard let last = compared.last else { break }
      for c in compared { tally.add(c, listLimit: listLimit) }
      after = last.id
    }
    tally.finish(into: &impact)
    return impact
  }

  /// One side's decision on a stored case, reduced to what `impact` compares.
  struct SideOutcome: Sendable {
    var level: String
    var ruleLevel: String
    var approver: String?
    var deadlines: [String: Millis] = [:]
    var notices: Set<String> = []
    var gates: Set<String> = []
    var json: String = ""
  }

  struct CaseComparison: Sendable {
    var id: String
    var state: String
    var storedLevel: String
    var current: SideOutcome
    /// nil: the draft cannot read the case (`draftError` says why).
    var draft: SideOutcome?
    var draftError: String?
    var changes: [String]
  }

  /// Decides the case of `row` under this store's rules and under `draft`'s, and compares.
  func compare(
    _ row: SQLRow, with draft: CaseStore, at: Millis, issues: [String: [(id: String, time: Millis, who: String?)]],
    in db: any SQLExecutor
  ) async throws -> CaseComparison {
    let id: String = row["id"]
    let state: String = row["state"]
    let stored: String = row["level"]
    let current = try await outcome(row, at: at, issues: issues, in: db)
    var comparison = CaseComparison(
      id: id, state: state, storedLevel: stored, current: current, draft: nil, draftError: nil, changes: [])
    do {
      comparison.draft = try await draft.outcome(row, at: at, issues: issues, in: db)
    } catch let StoreError.invalidCase(_, message) {
      comparison.draftError = message
    }
    comparison.changes = differences(comparison)
    if comparison.changes.isEmpty {
      comparison.current.json = ""
      comparison.draft?.json = ""
    }
    return comparison
  }

  /// The case of `row` as this store would decide it at `at`.
  func outcome(
    _ row: SQLRow, at: Millis, issues: [String: [(id: String, time: Millis, who: String?)]], in db: any SQLExecutor
  ) async throws -> SideOutcome {
    let id: String = row["id"]
    let facts = try self.facts(id, snapshotText: row["snapshot"], complainantID: row["party_complainant_id"])
    let lifecycle = CaseLifecycle.read(row["lifecycle"])
    let stored: String = row["level"]
    let history = StoreHistory(store: self, asOf: at)
    if let key = facts.issueKey {
      history.install(issue: key, from: Millis.min / 4, to: Millis.max / 4, rows: issues[key] ?? [])
    }
    let decision = try await decide(
      facts, at: at, level: stored, override: row["override_level"], lifecycle: lifecycle, history: history, in: db)
    let level = rules.levels[decision.level].id
    var side = SideOutcome(
      level: level, ruleLevel: rules.levels[decision.reasonLevel].id,
      approver: decision.refundApprover.map { rules.ruleSet.roles[$0].id })
    var line: [UInt8] = []
    renderer.append(decision, for: facts, to: &line)
    if line.last == 0x0A { line.removeLast() }
    side.json = String(decoding: line, as: UTF8.self)
    guard (row["state"] as String) == "open" else { return side }
    if facts.resolvedAt == nil {
      for (i, d) in rules.ruleSet.deadlines.enumerated() where i < decision.deadlines.count {
        if let t = decision.deadlines[i] { side.deadlines[d.id] = t }
      }
    }
    side.notices = dutiesOwed(decision, entering: level != stored)
    side.gates = Set(
      gateDemands(nil, facts: facts, at: at, level: decision.level).filter { !Self.satisfied($0, by: lifecycle) }
        .map(\.description))
    return side
  }

  /// The notices and reports an open case at `decision`'s level is owed from now on, one line
  /// per duty: on entering the level (when it is entered now), while open, on a significant
  /// change, on closing, and for harmful information.
  func dutiesOwed(_ decision: Decision, entering: Bool) -> Set<String> {
    let level = rules.levels[decision.level].id
    let duties = rules.ruleSet.duties[level] ?? LevelDuties()
    func to(_ d: Duty) -> String { d.summary }
    var out: Set<String> = []
    if entering { for d in duties.onEnter { out.insert("on entering `\(level)`: \(to(d)) (\(d.at.decisionName))") } }
    for d in duties.whileOpen { out.insert("while open at `\(level)`: \(to(d))") }
    for d in duties.onChange {
      let fields = d.fields.isEmpty ? "" : " of \(d.fields.joined(separator: ", "))"
      out.insert("on a change\(fields) at `\(level)`: \(to(d))")
    }
    for d in duties.onClose { out.insert("on closing at `\(level)`: \(to(d))") }
    if rules.hasMajorCategory(decision) {
      for d in rules.ruleSet.harmfulMajorDuties { out.insert("harmful information: \(to(d))") }
    }
    return out
  }

  /// What differs between the two sides of `c`, one line each.
  func differences(_ c: CaseComparison) -> [String] {
    guard let draft = c.draft else { return ["the draft rules refuse the case: \(c.draftError ?? "")"] }
    let current = c.current
    var out: [String] = []
    if current.level != draft.level { out.append("level `\(current.level)` → `\(draft.level)`") }
    if current.approver != draft.approver {
      out.append(
        "refund approver \(current.approver.map { "`\($0)`" } ?? "none") → \(draft.approver.map { "`\($0)`" } ?? "none")"
      )
    }
    for id in Set(current.deadlines.keys).union(draft.deadlines.keys).sorted() {
      let a = current.deadlines[id]
      let b = draft.deadlines[id]
      guard a != b else { continue }
      let shift = a.flatMap { a in b.map { Self.spell(shift: $0 &- a) } }.map { " (\($0))" } ?? ""
      out.append("deadline `\(id)` \(a.map(localTime) ?? "none") → \(b.map(localTime) ?? "none")\(shift)")
    }
    for n in draft.notices.subtracting(current.notices).sorted() { out.append("+ \(n)") }
    for n in current.notices.subtracting(draft.notices).sorted() { out.append("− \(n)") }
    for g in draft.gates.subtracting(current.gates).sorted() { out.append("+ gate: \(g)") }
    for g in current.gates.subtracting(draft.gates).sorted() { out.append("− gate: \(g)") }
    return out
  }

  /// A move in time as `+2d 3h`, `-45m`.
  public static func spell(shift ms: Millis) -> String {
    let sign = ms < 0 ? "-" : "+"
    var minutes = ms.magnitude / 60_000
    let days = minutes / 1440
    minutes %= 1440
    let hours = minutes / 60
    minutes %= 60
    var parts: [String] = []
    if days > 0 { parts.append("\(days)d") }
    if hours > 0 { parts.append("\(hours)h") }
    if minutes > 0 || parts.isEmpty { parts.append("\(minutes)m") }
    return sign + parts.joined(separator: " ")
  }
}

/// The running sums of `CaseStore.impact`.
struct ImpactTally {
  struct Pair: Hashable {
    var from: String?
    var to: String?
  }
  var cases = 0
  var open = 0
  var refused = 0
  var levels: [Pair: Int] = [:]
  var ruleLevels: [Pair: Int] = [:]
  var held = 0
  var approvers: [Pair: Int] = [:]
  var deadlines: [String: Impact.DeadlineShift] = [:]
  var noticesAdded: [String: Int] = [:]
  var noticesRemoved: [String: Int] = [:]
  var gatesAdded: [String: Int] = [:]
  var gatesRemoved: [String: Int] = [:]
  var changed: [Impact.ChangedCase] = []
  var changedTotal = 0

  mutating func add(_ c: CaseStore.CaseComparison, listLimit: Int?) {
    cases += 1
    if c.state == "open" { open += 1 }
    if !c.changes.isEmpty {
      changedTotal += 1
      if listLimit.map({ changed.count < $0 }) ?? true {
        changed.append(
          Impact.ChangedCase(
            id: c.id, state: c.state, storedLevel: c.storedLevel, currentJSON: c.current.json,
            draftJSON: c.draft?.json ?? "null", changes: c.changes))
      }
    }
    guard let d = c.draft else {
      refused += 1
      levels[Pair(from: c.current.level, to: nil), default: 0] += 1
      ruleLevels[Pair(from: c.current.ruleLevel, to: nil), default: 0] += 1
      return
    }
    levels[Pair(from: c.current.level, to: d.level), default: 0] += 1
    ruleLevels[Pair(from: c.current.ruleLevel, to: d.ruleLevel), default: 0] += 1
    if d.ruleLevel != d.level { held += 1 }
    if c.current.approver != d.approver { approvers[Pair(from: c.current.approver, to: d.approver), default: 0] += 1 }
    for id in Set(c.current.deadlines.keys).union(d.deadlines.keys) {
      var s = deadlines[id] ?? Impact.DeadlineShift(deadline: id)
      switch (c.current.deadlines[id], d.deadlines[id]) {
      case (nil, nil): break
      case (nil, .some): s.added += 1
      case (.some, nil): s.removed += 1
      case (.some(let a), .some(let b)):
        guard a != b else { break }
        let move = b &- a
        if move < 0 { s.earlier += 1 } else { s.later += 1 }
        s.smallest = min(s.smallest ?? move, move)
        s.largest = max(s.largest ?? move, move)
      }
      deadlines[id] = s
    }
    for n in d.notices.subtracting(c.current.notices) { noticesAdded[n, default: 0] += 1 }
    for n in c.current.notices.subtracting(d.notices) { noticesRemoved[n, default: 0] += 1 }
    for g in d.gates.subtracting(c.current.gates) { gatesAdded[g, default: 0] += 1 }
    for g in c.current.gates.subtracting(d.gates) { gatesRemoved[g, default: 0] += 1 }
  }

  func finish(into impact: inout Impact) {
    func transitions(_ cells: [Pair: Int]) -> [Impact.Transition] {
      cells.map { Impact.Transition(from: $0.key.from, to: $0.key.to, cases: $0.value) }.sorted()
    }
    func counts(_ m: [String: Int]) -> [Impact.Count] {
      m.map { Impact.Count(what: $0.key, cases: $0.value) }.sorted { ($1.cases, $0.what) < ($0.cases, $1.what) }
    }
    impact.cases = cases
    impact.openCases = open
    impact.refusedByDraft = refused
    impact.levels = transitions(levels)
    impact.ruleLevels = transitions(ruleLevels)
    impact.heldByRatchet = held
    impact.approvers = transitions(approvers)
    impact.deadlines = deadlines.values.filter { $0.moved + $0.added + $0.removed > 0 }.sorted {
      $0.deadline < $1.deadline
    }
    impact.noticesAdded = counts(noticesAdded)
    impact.noticesRemoved = counts(noticesRemoved)
    impact.gatesAdded = counts(gatesAdded)
    impact.gatesRemoved = counts(gatesRemoved)
    impact.changed = changed
    impact.changedTotal = changedTotal
  }
}
