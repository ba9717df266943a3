import OmbudsRules
import OmbudsScreening
import OmbudsSyntax

/// What the store and the notifier act on: the refund approver, deadlines, the next review.
extension CompiledRules {
  func refundApprover(_ facts: borrowing CaseFacts) -> Int? {
    refundTier(facts).flatMap { tiers[$0].role }
  }

  /// The refund tier (an index into the rules' tiers) the case's compensation falls in.
  public func refundTier(_ facts: borrowing CaseFacts) -> Int? {
    guard let slot = refundSlot else { return nil }
    let amount = facts.numbers[slot]
    if amount == CaseFacts.null { return nil }
    for (i, tier) in tiers.enumerated() where amount > tier.above && amount <= tier.upTo { return i }
    return nil
  }

  func evaluateDeadlines(
    _ facts: borrowing CaseFacts, _ now: Millis, _ history: (any CaseHistory)?, _ d: inout Decision
  ) {
    let count = tables.deadlineCount
    if d.deadlines.count != count {
      d.deadlines = [Millis?](repeating: nil, count: count)
      d.deadlineRules = [Int32](repeating: -1, count: count)
    }
    for i in 0..<count {
      d.deadlines[i] = nil
      d.deadlineRules[i] = -1
    }
    var decided = -1
    for rule in tables.deadlineRules {
      let i = Int(rule.deadline)
      if i == decided { continue }  // an earlier rule of this deadline already applied
      if rule.when >= 0, !holds(rule.when, facts, now, history, d.level) { continue }
      decided = i
      let base = facts.numbers[Int(rule.base)]
      if base != CaseFacts.null {
        let cal = rule.calendar < 0 ? calendar : tables.otherCalendars[Int(rule.calendar)]
        d.deadlines[i] = rule.add.added(to: base, calendar: cal)
        d.deadlineRules[i] = rule.rule
      }
    }
  }

  /// The earliest instant after `now` at which node `i` could change value as time passes.
  func nextChange(_ i: Int32, _ facts: borrowing CaseFacts, _ now: Millis, _ history: (any CaseHistory)?, _ level: Int)
    -> Millis?
  {
    let node = program.nodes[Int(i)]
    guard node.timeDependent else { return nil }
    switch node.kind {
    case .openForFixed, .openForCalendar:
      guard facts.resolvedAt == nil else { return nil }
      let t =
        node.kind == .openForFixed
        ? facts.receivedAt + node.k
        : threshold(Int(node.first), facts.receivedAt)
      let flip = node.op == .gt || node.op == .le ? t + 1 : t
      return flip > now ? flip : nil
    case .and, .or:
      var best: Millis?
      for c in 0..<Int(node.count) {
        let child = program.children[Int(node.first) + c]
        // In a conjunction, a false part that time cannot change keeps the whole false.
        if node.kind == .and, !program.nodes[Int(child)].timeDependent, !holds(child, facts, now, history, level) {
          return nil
        }
        if let t = nextChange(child, facts, now, history, level), best.map({ t < $0 }) ?? true { best = t }
      }
      return best
    case .not:
      return nextChange(program.children[Int(node.first)], facts, now, history, level)
    default:
      return nil
    }
  }

  func nextReview(_ facts: borrowing CaseFacts, _ now: Millis, _ history: (any CaseHistory)?, _ d: Decision) -> Millis?
  {
    // The clock stops at resolved_at; a resolved case without one still runs, but only an
    // open case has while-open duties.
    if facts.resolvedAt != nil { return nil }
    let open = facts.numbers[BuiltinFields.state] == 0
    var best = Millis.max
    for item in tables.timeItems {
      if Int(item.level) >= d.level { break }
      if let t = nextChange(item.root, facts, now, history, Int(item.level)), t > now, t < best { best = t }
    }
    for t in d.deadlines { if let t, t > now, t < best { best = t } }
    let range = tables.repeatRanges[d.level]
    for r in Int(range.start)..<Int(range.end) where open {
      let every = tables.repeatList[r]
      // The next repeat after now, counted from receipt.
      var t = facts.receivedAt
      if let seconds = every.fixedSeconds, seconds > 0 {
        let step = seconds * 1000
        if t <= now { t += ((now - t) / step + 1) * step }
      } else {
        var steps = 0
        while t <= now, steps < 100_000 {
          t = every.added(to: t, calendar: calendar)
          steps += 1
        }
      }
      if t > now, t < best { best = t }
    }
    return best == Millis.max ? nil : best
  }

  // MARK: the plan: what the store and the notifier act on

  /// The conditions that made a decision, in rule order: the level, the condition's text as
  /// written and where it is written.
  public func reasonPlans(_ decision: Decision) -> [ReasonPlan] {
    decision.reasons.compactMap { r in
      let level = Int(r.level)
      let item = Int(r.item)
      guard level >= 0, level < levels.count, item >= 0, item < levels[level].items.count else { return nil }
      let it = levels[level].items[item]
      return ReasonPlan(level: levels[level].id, condition: it.text, source: it.location)
    }
  }

  /// Each deadline a decision has, with the rule and calendar that made it and how far it may
  /// be extended. Deadlines a case does not have (yet) are left out.
  public func deadlinePlans(_ decision: Decision, _ facts: borrowing CaseFacts) -> [DeadlinePlan] {
    var plans: [DeadlinePlan] = []
    for (i, decl) in ruleSet.deadlines.enumerated() where i < decision.deadlines.count {
      guard let due = decision.deadlines[i], i < decision.deadlineRules.count else { continue }
      let r = Int(decision.deadlineRules[i])
      guard r >= 0, r < decl.rules.count else { continue }
      let rule = decl.rules[r]
      let base = facts.numbers[rule.baseSlot]
      guard base != CaseFacts.null else { continue }
      let calendar = deadlineCalendars[i]
      plans.append(
        DeadlinePlan(
          deadline: i, id: decl.id, due: due, rule: r, source: rule.location, base: base, baseField: rule.baseName,
          calendar: calendar.id, extensionLimit: decl.maximum.map { $0.added(to: base, calendar: calendar) }))
    }
    return plans
  }

  /// How far deadline `index` may be extended: the plan's limit (the timestamp of the rule
  /// that set it plus the deadline's `max`), or, while the deadline is not set yet, receipt
  /// plus `max`; nil when the rules set no `max`.
  public func extensionLimit(deadline index: Int, _ decision: Decision, _ facts: borrowing CaseFacts) -> Millis? {
    guard index >= 0, index < ruleSet.deadlines.count, let cap = ruleSet.deadlines[index].maximum else { return nil }
    if let plan = deadlinePlans(decision, facts).first(where: { $0.deadline == index }) { return plan.extensionLimit }
    return cap.added(to: facts.receivedAt, calendar: calendar(ofDeadline: index))
  }

  /// The calendar deadline `index` counts on.
  public func calendar(ofDeadline index: Int) -> BusinessCalendar {
    index < deadlineCalendars.count ? deadlineCalendars[index] : calendar
  }

  /// When deadline alert `index` (of `RuleSet.deadlineAlerts`) falls for a deadline at
  /// `deadline`: hours, minutes and seconds exactly; days, weeks and months at the same local
  /// time; working days at the same local time that many working days earlier or later, on
  /// the deadline's calendar.
  public func alertTime(_ index: Int, deadline: Millis) -> Millis {
    let alert = ruleSet.deadlineAlerts[index]
    let calendar = calendar(ofDeadline: alert.deadlineIndex)
    switch alert.offset {
    case .breach: return deadline
    case .after(let d): return d.added(to: deadline, calendar: calendar)
    case .before(let d):
      switch d.unit {
      case .seconds: return deadline - Int64(d.amount) * 1000
      case .minutes: return deadline - Int64(d.amount) * 60_000
      case .hours: return deadline - Int64(d.amount) * 3_600_000
      case .days: return calendar.clock.adding(days: -d.amount, to: deadline)
      case .weeks: return calendar.clock.adding(days: -7 * d.amount, to: deadline)
      case .months: return calendar.clock.adding(months: -d.amount, to: deadline)
      case .workingDays:
        // The same local time, `amount` working days earlier.
        let (day, ms) = calendar.clock.local(deadline)
        var d0 = day
        var left = d.amount
        var steps = 0
        while left > 0, steps < 3660 {
          d0 -= 1
          steps += 1
          if calendar.isWorkingDay(d0) { left -= 1 }
        }
        return calendar.clock.instant(day: d0, msOfDay: ms)
      }
    }
  }

  /// The deadline alerts of a decision, each with its time, in rule order; alerts of
  /// deadlines the case does not have are left out.
  public func alertPlans(_ decision: Decision) -> [AlertPlan] {
    var plans: [AlertPlan] = []
    for (i, alert) in ruleSet.deadlineAlerts.enumerated() {
      guard alert.deadlineIndex < decision.deadlines.count, let deadline = decision.deadlines[alert.deadlineIndex]
      else { continue }
      plans.append(
        AlertPlan(alert: i, deadline: alert.deadlineIndex, deadlineAt: deadline, at: alertTime(i, deadline: deadline)))
    }
    return plans
  }

  /// The while-open repeats (a major case's weekly progress report) of `level` due at `now`:
  /// for each repeating duty, the latest occurrence — counted from receipt — that falls after
  /// `since` (when the case entered its level) and at or before `now`. After a pause in
  /// re-evaluation only that latest one is due, not a backlog of stale ones.
  public func dueRepeats(level: Int, receivedAt: Millis, since: Millis, at now: Millis) -> [RepeatPlan] {
    guard level >= 0, level < levels.count else { return [] }
    var plans: [RepeatPlan] = []
    for (i, duty) in (ruleSet.duties[levels[level].id]?.whileOpen ?? []).enumerated() {
      guard let every = duty.every else { continue }
      var t = every.added(to: receivedAt, calendar: calendar)
      var steps = 0
      while t <= now, steps < 10_000 {
        let next = every.added(to: t, calendar: calendar)
        if t > since, next > now { plans.append(RepeatPlan(duty: i, every: every, at: t)) }
        t = next
        steps += 1
      }
    }
    return plans
  }
}

/// One deadline of a decision and what made it (`CompiledRules.deadlinePlans`).
public struct DeadlinePlan: Sendable, Hashable {
  /// The deadline's index in `RuleSet.deadlines`, and its id.
  public var deadline: Int
  public var id: String
  public var due: Millis
  /// Which of the deadline's rules applied, and where it is written.
  public var rule: Int
  public var source: SourceLocation
  /// The timestamp the rule counted from, and the field that holds it.
  public var base: Millis
  public var baseField: String
  /// The id of the calendar working days were counted on.
  public var calendar: String
  /// The latest an extension may move the deadline to (the rule's timestamp plus the
  /// deadline's `max`); nil when the rules set no `max`.
  public var extensionLimit: Millis?
}

/// One deadline alert of a decision (`CompiledRules.alertPlans`).
public struct AlertPlan: Sendable, Hashable {
  /// The alert's index in `RuleSet.deadlineAlerts`, and its deadline's in `RuleSet.deadlines`.
  public var alert: Int
  public var deadline: Int
  public var deadlineAt: Millis
  /// When the alert falls.
  public var at: Millis
}

/// One while-open repeat that is due (`CompiledRules.dueRepeats`).
public struct RepeatPlan: Sendable, Hashable {
  /// The duty's index in the level's `while_open` list.
  public var duty: Int
  public var every: RuleDuration
  public var at: Millis
}

/// One condition that made a decision (`CompiledRules.reasonPlans`).
public struct ReasonPlan: Sendable, Hashable {
  /// The id of the level whose condition held.
  public var level: String
  /// The condition as written in the rules, and where.
  public var condition: String
  public var source: SourceLocation
}
