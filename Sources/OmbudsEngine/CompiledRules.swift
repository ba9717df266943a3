import OmbudsRules
import OmbudsSyntax

/// A reason a level was chosen: the level and the index of the condition item that held.
public struct ReasonRef: Sendable, Hashable {
  public var level: Int32
  public var item: Int32
}

/// The outcome of evaluating one case. Indices refer to the compiled rule set.
public struct Decision: Sendable {
  /// Index into `CompiledRules.levels` (0 = highest).
  public var level: Int = 0
  public var reasons: [ReasonRef] = []
  /// Index into `CompiledRules.roles`, or nil for no approver.
  public var refundApprover: Int?
  /// Per deadline declaration, in order; nil = no deadline (yet).
  public var deadlines: [Millis?] = []
  /// The earliest instant the decision could change on its own; nil when none.
  public var nextReviewAt: Millis?

  public init() {}
}

/// The prepared, immutable evaluator. Build it once, evaluate many cases, from many threads.
public final class CompiledRules: Sendable {
  public let ruleSet: RuleSet
  public let levels: [LevelDecl]
  public let calendar: BusinessCalendar
  public let calendars: [String: BusinessCalendar]
  public let reader: SnapshotReader
  /// The windows `same_issue_complainants` is asked about.
  public let aggregateWindows: [RuleDuration]
  let refundSlot: Int?
  let levelConds: [[Cond]]
  let timeDependent: [[Bool]]

  public var contentHash: String { ruleSet.contentHash }

  public enum CompileError: Error, CustomStringConvertible {
    case noCalendar(String)
    public var description: String {
      switch self {
      case .noCalendar(let id): "calendar `\(id)` cannot be used (unknown time zone?)"
      }
    }
  }

  public init(_ ruleSet: RuleSet) throws {
    self.ruleSet = ruleSet
    self.levels = ruleSet.levels
    var cals: [String: BusinessCalendar] = [:]
    for decl in ruleSet.calendars {
      guard let c = BusinessCalendar(decl) else { throw CompileError.noCalendar(decl.id) }
      cals[decl.id] = c
    }
    if let c = cals[ruleSet.defaultCalendar] {
      self.calendar = c
    } else {
      // No calendar declared: weekends only, in the policy's zone.
      let plain = CalendarDecl(
        id: "weekends", label: nil, timeZone: ruleSet.timeZone, weekend: [5, 6], holidays: [:], workingDays: [],
        covers: [], location: SourceLocation(file: "", line: 1, column: 1, offset: 0))
      guard let c = BusinessCalendar(plain) else { throw CompileError.noCalendar(ruleSet.timeZone) }
      self.calendar = c
    }
    self.calendars = cals
    self.reader = SnapshotReader(rules: ruleSet)
    self.refundSlot = (ruleSet.field("compensation") ?? ruleSet.fields.first { $0.type == .money })?.slot
    self.levelConds = ruleSet.levels.map { $0.items.map(\.cond) }
    self.timeDependent = ruleSet.levels.map { $0.items.map { CompiledRules.dependsOnTime($0.cond) } }
    var windows = Set<RuleDuration>()
    func collect(_ c: Cond) {
      switch c {
      case .sameIssueComplainants(let w, _, _): windows.insert(w)
      case .and(let cs), .or(let cs): cs.forEach(collect)
      case .not(let x): collect(x)
      default: break
      }
    }
    for l in ruleSet.levels { l.items.forEach { collect($0.cond) } }
    for d in ruleSet.deadlines { d.rules.forEach { $0.when.map { collect($0.cond) } } }
    self.aggregateWindows = windows.sorted { $0.description < $1.description }
  }

  static func dependsOnTime(_ c: Cond) -> Bool {
    switch c {
    case .openFor: true
    case .and(let cs), .or(let cs): cs.contains(where: dependsOnTime)
    case .not(let x): dependsOnTime(x)
    default: false
    }
  }

  // MARK: evaluation

  /// Does `cond` hold for `facts` at `now`?
  func holds(_ cond: Cond, _ facts: CaseFacts, _ now: Millis, _ history: (any CaseHistory)?, _ level: Int) -> Bool {
    switch cond {
    case .constant(let b):
      return b
    case .flag(let slot):
      return facts.numbers[slot] == 1
    case .compare(let slot, let op, let k):
      let v = facts.numbers[slot]
      return v != CaseFacts.null && op.holds(v, k)
    case .isNull(let slot):
      return facts.numbers[slot] == CaseFacts.null
    case .oneOf(let slot, let mask):
      let v = facts.numbers[slot]
      return v >= 0 && v < 64 && mask & (1 << UInt64(v)) != 0
    case .stringEquals(let slot, let s):
      return facts.strings[slot] == s
    case .stringIsNull(let slot):
      return facts.strings[slot] == nil
    case .openFor(let op, let d):
      let start = facts.receivedAt
      let end = min(facts.resolvedAt ?? now, now)
      if let seconds = d.fixedSeconds {
        return op.holds(end - start, seconds * 1000)
      }
      return op.holds(end - start, d.added(to: start, calendar: calendar) - start)
    case .sameIssueComplainants(let w, let op, let k):
      let own = facts.complainantID == nil ? 0 : 1
      let n = facts.issueKey == nil ? own : (history?.sameIssueComplainants(of: facts, window: w, asOf: now) ?? own)
      return op.holds(Int64(n), k)
    case .level(let op, let rank):
      return op.holds(Int64(levels.count - 1 - level), Int64(rank))
    case .and(let cs):
      for c in cs where !holds(c, facts, now, history, level) { return false }
      return true
    case .or(let cs):
      for c in cs where holds(c, facts, now, history, level) { return true }
      return false
    case .not(let c):
      return !holds(c, facts, now, history, level)
    }
  }

  /// Evaluates one case at `now` into `decision`, reusing its storage (no allocation once warm).
  ///
  /// - Parameter floor: the lowest level index the case may take (the ratchet: a case's
  ///   current level from the store); nil in stateless classification.
  public func evaluate(
    _ facts: CaseFacts, at now: Millis, history: (any CaseHistory)? = nil, floor: Int? = nil,
    into decision: inout Decision
  ) {
    decision.reasons.removeAll(keepingCapacity: true)
    var chosen = levels.count - 1
    search: for (li, conds) in levelConds.enumerated() {
      let mode = levels[li].mode
      switch mode {
      case .otherwise:
        decision.reasons.append(ReasonRef(level: Int32(li), item: 0))
        chosen = li
        break search
      case .any:
        for (ii, c) in conds.enumerated() where holds(c, facts, now, history, li) {
          decision.reasons.append(ReasonRef(level: Int32(li), item: Int32(ii)))
        }
      case .all:
        if conds.allSatisfy({ holds($0, facts, now, history, li) }) {
          for ii in conds.indices { decision.reasons.append(ReasonRef(level: Int32(li), item: Int32(ii))) }
        }
      }
      if !decision.reasons.isEmpty {
        chosen = li
        break search
      }
    }
    if let floor, floor < chosen { chosen = floor }
    decision.level = chosen
    decision.refundApprover = refundApprover(facts)
    evaluateDeadlines(facts, now, history, &decision)
    decision.nextReviewAt = nextReview(facts, now, history, decision)
  }

  /// Convenience form of `evaluate(_:at:history:floor:into:)`.
  public func evaluate(
    _ facts: CaseFacts, at now: Millis, history: (any CaseHistory)? = nil, floor: Int? = nil
  ) -> Decision {
    var d = Decision()
    evaluate(facts, at: now, history: history, floor: floor, into: &d)
    return d
  }

  func refundApprover(_ facts: CaseFacts) -> Int? {
    guard let slot = refundSlot, let policy = ruleSet.refund else { return nil }
    let amount = facts.numbers[slot]
    if amount == CaseFacts.null { return nil }
    for tier in policy.tiers where amount > tier.above && (tier.upTo.map { amount <= $0 } ?? true) {
      return ruleSet.roles.firstIndex { $0.id == tier.approver }
    }
    return nil
  }

  func evaluateDeadlines(_ facts: CaseFacts, _ now: Millis, _ history: (any CaseHistory)?, _ d: inout Decision) {
    let decls = ruleSet.deadlines
    if d.deadlines.count != decls.count { d.deadlines = [Millis?](repeating: nil, count: decls.count) }
    for (i, decl) in decls.enumerated() {
      d.deadlines[i] = nil
      let cal = calendars[decl.calendar] ?? calendar
      for rule in decl.rules {
        if let w = rule.when, !holds(w.cond, facts, now, history, d.level) { continue }
        let base = facts.numbers[rule.baseSlot]
        if base != CaseFacts.null { d.deadlines[i] = rule.add.added(to: base, calendar: cal) }
        break
      }
    }
  }

  /// The earliest instant after `now` at which `cond` could change value on its own (time passing).
  func nextChange(_ cond: Cond, _ facts: CaseFacts, _ now: Millis, _ history: (any CaseHistory)?, _ level: Int)
    -> Millis?
  {
    switch cond {
    case .openFor(let op, let d):
      guard facts.resolvedAt == nil else { return nil }
      let t = d.added(to: facts.receivedAt, calendar: calendar)
      let flip = op == .gt || op == .le ? t + 1 : t
      return flip > now ? flip : nil
    case .and(let cs):
      // A false part that time cannot change keeps the whole false.
      if cs.contains(where: { !CompiledRules.dependsOnTime($0) && !holds($0, facts, now, history, level) }) {
        return nil
      }
      return cs.compactMap { nextChange($0, facts, now, history, level) }.min()
    case .or(let cs):
      return cs.compactMap { nextChange($0, facts, now, history, level) }.min()
    case .not(let c):
      return nextChange(c, facts, now, history, level)
    default:
      return nil
    }
  }

  func nextReview(_ facts: CaseFacts, _ now: Millis, _ history: (any CaseHistory)?, _ d: Decision) -> Millis? {
    if facts.numbers[BuiltinFields.state] != 0 { return nil }  // only open cases change on their own
    var best: Millis?
    func consider(_ t: Millis?) {
      if let t, t > now, best.map({ t < $0 }) ?? true { best = t }
    }
    for li in 0..<d.level where levels[li].mode != .otherwise {
      for (ii, c) in levelConds[li].enumerated() where timeDependent[li][ii] {
        consider(nextChange(c, facts, now, history, li))
      }
    }
    for t in d.deadlines { consider(t) }
    if let duties = ruleSet.duties[levels[d.level].id] {
      for w in duties.whileOpen {
        guard let every = w.every else { continue }
        var t = facts.receivedAt
        var guardSteps = 0
        while t <= now, guardSteps < 10_000 {
          t = every.added(to: t, calendar: calendar)
          guardSteps += 1
        }
        consider(t)
      }
    }
    return best
  }
}
