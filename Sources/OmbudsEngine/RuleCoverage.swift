import OmbudsRules
import OmbudsScreening
import OmbudsSyntax

/// What the rule tests exercised (`rules-check --test --coverage`): every condition item,
/// level, refund tier, deadline rule, duty, gate, keyword, exception phrase, holiday and
/// make-up working day of a rule set, with how many tests exercised it.
///
/// Exercised means, per kind (Documentation/RuleLanguage.md, "Coverage"):
/// - a condition item: it **held** for some test's case (every item of every level is
///   evaluated for every test, not only those of the level decided);
/// - a level: it was the rules' own verdict (before a ratchet) of some test;
/// - a refund tier: some test's compensation fell in it;
/// - a deadline rule: it gave some test's deadline;
/// - a duty: some test's decision reached its level (`on_enter`, `while_open`, `on_change`,
///   `on_close`), or a category marked `major` (`harmful_information`), or computed its
///   deadline (`deadline_alerts`), or met a gate that asks for an approval
///   (`approval_requests`);
/// - a gate: its `when` held for some test's case at the level decided;
/// - a keyword: it matched some test's text; an exception phrase: it suppressed a match;
/// - a holiday (an entry under `holidays:`): a working-day deadline of some test was counted
///   across one of its dates; a make-up working day: such a count counted it. A calendar on
///   which no deadline counts working days has none of these to cover.
public struct RuleCoverage: Sendable {
  public enum Kind: String, Sendable, CaseIterable {
    case condition
    case level
    case refundTier = "refund_tier"
    case deadlineRule = "deadline_rule"
    case duty
    case gate
    case keyword
    case exception
    case holiday
    case makeUpDay = "make_up_day"

    /// The kind in a sentence: `make-up day`.
    public var label: String {
      switch self {
      case .refundTier: "refund tier"
      case .deadlineRule: "deadline rule"
      case .makeUpDay: "make-up day"
      default: rawValue
      }
    }

    /// What a report says of an item never exercised.
    public var never: String {
      switch self {
      case .condition: "never held"
      case .level: "never decided"
      case .refundTier: "no compensation in this tier"
      case .deadlineRule: "never gave a deadline"
      case .duty: "never triggered"
      case .gate: "never applied"
      case .keyword: "never matched"
      case .exception: "never suppressed a match"
      case .holiday: "never crossed by a working-day deadline"
      case .makeUpDay: "never counted by a working-day deadline"
      }
    }
  }

  public struct Item: Sendable {
    public var kind: Kind
    /// The item as people know it: the condition's text, `major`, `above 500 CNY → general_manager`…
    public var what: String
    public var location: SourceLocation
    /// Tests that exercised it.
    public var hits: Int
  }

  public private(set) var items: [Item] = []
  // Where each rule-set element's item is.
  var conditionItems: [[Int]] = []
  var levelItems: [Int] = []
  var tierItems: [Int] = []
  var deadlineRuleItems: [[Int]] = []
  var levelDutyItems: [[Int]] = []
  var harmfulDutyItems: [Int] = []
  var alertDutyItems: [Int: [Int]] = [:]
  var approvalRequestItems: [Int] = []
  var gateItems: [Int] = []
  /// Per screening pattern (keywords then exceptions of each category, as compiled).
  var patternItems: [Int] = []
  /// Per calendar id: holiday day number → item; make-up day number → item.
  var holidayItems: [String: [Int: Int]] = [:]
  var makeUpItems: [String: [Int: Int]] = [:]

  /// Every coverable element of `rules`, none exercised yet.
  public init(rules: CompiledRules) {
    let set = rules.ruleSet
    func add(_ kind: Kind, _ what: String, _ location: SourceLocation) -> Int {
      items.append(Item(kind: kind, what: what, location: location, hits: 0))
      return items.count - 1
    }
    for level in set.levels {
      levelItems.append(add(.level, "`\(level.id)`", level.location))
      conditionItems.append(level.items.map { add(.condition, $0.text, $0.location) })
    }
    for tier in set.refund?.tiers ?? [] {
      let currency = set.refund?.currency ?? set.currency
      let upTo = tier.upTo.map { " up to \(Money.format(units: $0)) \(currency)" } ?? ""
      tierItems.append(
        add(
          .refundTier, "above \(Money.format(units: tier.above)) \(currency)\(upTo) → \(tier.approver)", tier.location))
    }
    for d in set.deadlines {
      deadlineRuleItems.append(
        d.rules.map { rule in
          add(
            .deadlineRule, "`\(d.id)`: \(rule.when.map { "when \($0.text), " } ?? "")\(rule.baseName) + \(rule.add)",
            rule.location)
        })
    }
    func describe(_ duty: Duty) -> String { duty.summary }
    for level in set.levels {
      let duties = set.duties[level.id] ?? LevelDuties()
      var list: [Int] = []
      for (on, group) in [
        ("on_enter", duties.onEnter), ("while_open", duties.whileOpen), ("on_change", duties.onChange),
        ("on_close", duties.onClose),
      ] {
        for d in group { list.append(add(.duty, "`\(level.id)` \(on): \(describe(d))", d.location)) }
      }
      levelDutyItems.append(list)
    }
    harmfulDutyItems = set.harmfulMajorDuties.map {
      add(.duty, "harmful_information on_major: \(describe($0))", $0.location)
    }
    for alert in set.deadlineAlerts {
      alertDutyItems[alert.deadlineIndex, default: []].append(
        add(.duty, "deadline alert of `\(alert.deadline)`: \(describe(alert.duty))", alert.duty.location))
    }
    approvalRequestItems = set.approvalRequests.map { add(.duty, "approval_requests: \(describe($0))", $0.location) }
    gateItems = set.gates.map { gate in
      add(.gate, "`\(gate.transition)`\(gate.when.map { " when \($0.text)" } ?? "")", gate.location)
    }
    for category in set.categories {
      for k in category.keywords { patternItems.append(add(.keyword, "`\(category.id)`: \(k.value)", k.location)) }
      for e in category.exceptions {
        patternItems.append(add(.exception, "`\(category.id)`: \(e.value)", e.location))
      }
    }
    // Holidays and make-up days count only where a deadline counts working days on their
    // calendar: elsewhere (notice timing, clock-hour deadlines) no rule test can see them.
    var counted = Set<String>()
    for (d, decl) in set.deadlines.enumerated() where d < rules.deadlineCalendars.count {
      if decl.rules.contains(where: { $0.add.unit == .workingDays }) { counted.insert(rules.deadlineCalendars[d].id) }
    }
    for calendar in set.calendars where counted.contains(calendar.id) {
      var byEntry: [SourceLocation: Int] = [:]
      var holidays: [Int: Int] = [:]
      for (date, name) in calendar.holidays.sorted(by: { $0.key < $1.key }) {
        let location = calendar.holidayEntries[date] ?? calendar.location
        let item =
          byEntry[location]
          ?? {
            let i = add(.holiday, "`\(calendar.id)`: \(name.isEmpty ? date.description : name)", location)
            byEntry[location] = i
            return i
          }()
        holidays[date.dayNumber] = item
      }
      holidayItems[calendar.id] = holidays
      var makeUp: [Int: Int] = [:]
      for date in calendar.workingDays.sorted() {
        makeUp[date.dayNumber] = add(
          .makeUpDay, "`\(calendar.id)`: \(date)", calendar.workingDayLocations[date] ?? calendar.location)
      }
      makeUpItems[calendar.id] = makeUp
    }
  }

  /// Records what one test exercised: its case, evaluated at `now` with `history` into
  /// `decision` (by `CompiledRules.evaluate`).
  public mutating func observe(
    _ facts: borrowing CaseFacts, at now: Millis, history: (any CaseHistory)?, decision: Decision,
    rules: CompiledRules
  ) {
    var hit = Set<Int>()
    let set = rules.ruleSet
    for (l, level) in conditionItems.enumerated() {
      for (i, item) in level.enumerated()
      where rules.conditionItemHolds(level: l, item: i, facts, at: now, history: history) {
        hit.insert(item)
      }
    }
    if decision.reasonLevel < levelItems.count { hit.insert(levelItems[decision.reasonLevel]) }
    if let tier = rules.refundTier(facts), tier < tierItems.count { hit.insert(tierItems[tier]) }
    for (d, rule) in decision.deadlineRules.enumerated() where rule >= 0 && d < deadlineRuleItems.count {
      if Int(rule) < deadlineRuleItems[d].count { hit.insert(deadlineRuleItems[d][Int(rule)]) }
      for item in alertDutyItems[d] ?? [] { hit.insert(item) }
      // The holidays and make-up days a working-day count crossed: local days after the
      // clock's start, up to the deadline's day.
      let decl = set.deadlines[d]
      guard Int(rule) < decl.rules.count, decl.rules[Int(rule)].add.unit == .workingDays,
        let due = decision.deadlines[d], d < rules.deadlineCalendars.count
      else { continue }
      let calendar = rules.deadlineCalendars[d]
      let start = facts.numbers[decl.rules[Int(rule)].baseSlot]
      guard start != CaseFacts.null else { continue }
      let first = calendar.clock.local(start).day + 1
      let last = calendar.clock.local(due).day
      guard first <= last, last - first < 3660 else { continue }
      for day in first...last {
        if let item = holidayItems[calendar.id]?[day] { hit.insert(item) }
        if let item = makeUpItems[calendar.id]?[day] { hit.insert(item) }
      }
    }
    if decision.level < levelDutyItems.count { hit.formUnion(levelDutyItems[decision.level]) }
    if rules.hasMajorCategory(decision) { hit.formUnion(harmfulDutyItems) }
    for (g, item) in gateItems.enumerated() where rules.gateApplies(g, facts, at: now, level: decision.level) {
      hit.insert(item)
      if set.gates[g].requireApproval != nil { hit.formUnion(approvalRequestItems) }
    }
    for m in decision.matches where Int(m.pattern) < patternItems.count { hit.insert(patternItems[Int(m.pattern)]) }
    if let screening = rules.screening, screening.hasExceptions, let text = facts.strings[BuiltinFields.text] {
      for e in Self.suppressing(screening, text) where e < patternItems.count { hit.insert(patternItems[e]) }
    }
    for i in hit { items[i].hits += 1 }
  }

  /// The exception phrases (pattern indices) that suppress a keyword match in `text`.
  static func suppressing(_ screening: KeywordAutomaton, _ text: String) -> Set<Int> {
    var t = text
    let raw = t.withUTF8 { screening.rawMatches(in: $0) }
    return Set(screening.suppressingExceptions(raw).map(Int.init))
  }

  /// Per file, in the order first seen: items exercised and items in all.
  public var files: [(file: String, covered: Int, total: Int)] {
    var order: [String] = []
    var counts: [String: (Int, Int)] = [:]
    for item in items {
      if counts[item.location.file] == nil { order.append(item.location.file) }
      var c = counts[item.location.file] ?? (0, 0)
      c.1 += 1
      if item.hits > 0 { c.0 += 1 }
      counts[item.location.file] = c
    }
    return order.map { ($0, counts[$0]?.0 ?? 0, counts[$0]?.1 ?? 0) }
  }

  /// Items exercised, and in all.
  public var covered: Int { items.count { $0.hits > 0 } }
  public var total: Int { items.count }

  /// The share exercised, in percent (100 when there is nothing to exercise).
  public var percent: Double { total == 0 ? 100 : Double(covered) * 100 / Double(total) }

  /// The items never exercised, by file and position.
  public var uncovered: [Item] {
    items.filter { $0.hits == 0 }.sorted {
      ($0.location.file, $0.location.line, $0.location.column) < (
        $1.location.file, $1.location.line, $1.location.column
      )
    }
  }
}

extension CompiledRules {
  /// Whether condition item `item` of level `level` holds for `facts` at `now` (the level's
  /// other items aside).
  public func conditionItemHolds(
    level: Int, item: Int, _ facts: borrowing CaseFacts, at now: Millis, history: (any CaseHistory)?
  ) -> Bool {
    guard level < levelRoots.count, item < levelRoots[level].count else { return false }
    return holds(levelRoots[level][item], facts, now, history, level)
  }
}
