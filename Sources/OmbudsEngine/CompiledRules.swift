import OmbudsRules
import OmbudsScreening
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
  /// The level whose conditions held (the decided level, unless a ratchet floor kept a higher one).
  public var reasonLevel: Int = 0
  /// Bit i set: condition item i of `reasonLevel` held (a level has at most 64 items).
  public var reasonItems: UInt64 = 0

  /// The conditions that made the decision, in rule order.
  public var reasons: [ReasonRef] {
    var out: [ReasonRef] = []
    var bits = reasonItems
    while bits != 0 {
      out.append(ReasonRef(level: Int32(reasonLevel), item: Int32(bits.trailingZeroBitCount)))
      bits &= bits - 1
    }
    return out
  }
  /// Index into `CompiledRules.roles`, or nil for no approver.
  public var refundApprover: Int?
  /// Per deadline declaration, in order; nil = no deadline (yet).
  public var deadlines: [Millis?] = []
  /// The earliest instant the decision could change on its own; nil when none.
  public var nextReviewAt: Millis?
  /// Harmful-content matches in the case's text (keywords, exceptions applied), in text order.
  public var matches: [Match] = []
  /// Bit i set: category i matched.
  public var categoryBits: UInt64 = 0

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
  /// The highest level (lowest index) whose conditions use an aggregate; nil when none do.
  /// A case already at or above it cannot be raised by other cases arriving.
  public let highestAggregateLevel: Int?

  let program: Program
  let fast: FastLevels
  let tables: Tables
  /// All keywords and exception phrases of all categories, or nil when there are none.
  public let screening: KeywordAutomaton?
  /// Whether any matched category triggers the major harmful-information duties.
  let majorCategoryBits: UInt64

  /// Deadline rules, time-dependent items and repeats, flattened for the hot path.
  final class Tables: @unchecked Sendable {
    // @unchecked: written only in init, freed in deinit, read-only in between.
    struct DeadlineRule {
      var deadline: Int32
      var when: Int32
      var base: Int32
      var calendar: Int32  // -1: the rule set's calendar
      var add: RuleDuration
    }
    let deadlineRules: UnsafeMutableBufferPointer<DeadlineRule>
    let deadlineCount: Int
    /// (level, program root) of every time-dependent level item, in level order.
    let timeItems: UnsafeMutableBufferPointer<(level: Int32, root: Int32)>
    /// Per level: range into `repeatList`.
    let repeatRanges: UnsafeMutableBufferPointer<(start: Int32, end: Int32)>
    let repeatList: UnsafeMutableBufferPointer<RuleDuration>
    let otherCalendars: [BusinessCalendar]

    init(
      deadlines: [DeadlineRule], deadlineCount: Int, timeItems: [(level: Int32, root: Int32)],
      repeats: [[RuleDuration]], otherCalendars: [BusinessCalendar]
    ) {
      self.deadlineRules = makeBuffer(deadlines)
      self.deadlineCount = deadlineCount
      self.timeItems = makeBuffer(timeItems)
      var ranges: [(start: Int32, end: Int32)] = []
      var list: [RuleDuration] = []
      for r in repeats {
        ranges.append((Int32(list.count), Int32(list.count + r.count)))
        list += r
      }
      self.repeatRanges = makeBuffer(ranges)
      self.repeatList = makeBuffer(list)
      self.otherCalendars = otherCalendars
    }

    deinit {
      deadlineRules.deallocate()
      timeItems.deallocate()
      repeatRanges.deallocate()
      repeatList.deallocate()
    }
  }
  let refundSlot: Int?
  /// Per level: how it decides, and the program roots of its items.
  let levelModes: [LevelDecl.Mode]
  let levelRoots: [[Int32]]
  let levelTimeDependent: [[Bool]]
  /// Refund tiers as (above, up to, role index).
  let tiers: [(above: Int64, upTo: Int64, role: Int?)]
  /// Per deadline: its calendar and its rules as (when root or -1, base slot, duration).
  let deadlineCalendars: [BusinessCalendar]
  let deadlineRules: [[(when: Int32, base: Int, add: RuleDuration)]]
  /// Per gate: the program root of its `when`.
  let gateRoots: [Int32]
  /// Per level: the repeat intervals of its while-open duties.
  let repeats: [[RuleDuration]]

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
    let main: BusinessCalendar
    if let c = cals[ruleSet.defaultCalendar] {
      main = c
    } else {
      // No calendar declared: weekends only, in the policy's zone.
      let plain = CalendarDecl(
        id: "weekends", label: nil, timeZone: ruleSet.timeZone, weekend: [5, 6], holidays: [:], workingDays: [],
        covers: [], location: SourceLocation(file: "", line: 1, column: 1, offset: 0))
      guard let c = BusinessCalendar(plain) else { throw CompileError.noCalendar(ruleSet.timeZone) }
      main = c
    }
    self.calendar = main
    self.calendars = cals
    var snapshotReader = SnapshotReader(rules: ruleSet)
    var patterns: [Pattern] = []
    var major: UInt64 = 0
    for (i, category) in ruleSet.categories.enumerated() {
      for k in category.keywords { patterns.append(Pattern(text: k.value, category: Int32(i), isException: false)) }
      for e in category.exceptions { patterns.append(Pattern(text: e.value, category: Int32(i), isException: true)) }
      if category.major, i < 64 { major |= 1 << UInt64(i) }
    }
    self.screening = patterns.isEmpty ? nil : KeywordAutomaton(patterns: patterns)
    self.majorCategoryBits = major
    // The text is read only when there is something to screen it for.
    snapshotReader.keepText = !patterns.isEmpty
    self.reader = snapshotReader
    self.refundSlot = (ruleSet.field("compensation") ?? ruleSet.fields.first { $0.type == .money })?.slot

    var windows = Set<RuleDuration>()
    func collect(_ c: Cond) {
      switch c {
      case .sameIssueComplainants(let w, _, _): windows.insert(w)
      case .and(let cs), .or(let cs): cs.forEach(collect)
      case .not(let x): collect(x)
      default: break
      }
    }
    for level in ruleSet.levels {
      for item in level.items { collect(item.cond) }
    }
    for deadline in ruleSet.deadlines {
      for rule in deadline.rules { if let when = rule.when { collect(when.cond) } }
    }
    let windowList = windows.sorted { $0.description < $1.description }
    func usesAggregate(_ c: Cond) -> Bool {
      switch c {
      case .sameIssueComplainants: true
      case .and(let cs), .or(let cs): cs.contains(where: usesAggregate)
      case .not(let x): usesAggregate(x)
      default: false
      }
    }
    self.highestAggregateLevel = ruleSet.levels.firstIndex { $0.items.contains { usesAggregate($0.cond) } }
    self.aggregateWindows = windowList

    // Flatten every condition into one program: level items first, then deadline whens.
    var conds: [Cond] = []
    for l in ruleSet.levels { conds += l.items.map(\.cond) }
    for d in ruleSet.deadlines { for r in d.rules { if let w = r.when { conds.append(w.cond) } } }
    for g in ruleSet.gates { conds.append(g.when?.cond ?? .constant(true)) }
    var roots: [Int32] = []
    let program = Program(conds, windows: windowList, roots: &roots)
    self.program = program
    var next = 0
    var levelRoots: [[Int32]] = []
    for l in ruleSet.levels {
      levelRoots.append(Array(roots[next..<(next + l.items.count)]))
      next += l.items.count
    }
    self.levelRoots = levelRoots
    self.fast = FastLevels(levels: ruleSet.levels, roots: levelRoots, windows: windowList)
    self.levelModes = ruleSet.levels.map(\.mode)
    self.levelTimeDependent = levelRoots.map { $0.map { program.nodes[Int($0)].timeDependent } }
    var deadlineRules: [[(when: Int32, base: Int, add: RuleDuration)]] = []
    for d in ruleSet.deadlines {
      var rs: [(when: Int32, base: Int, add: RuleDuration)] = []
      for r in d.rules {
        var when: Int32 = -1
        if r.when != nil {
          when = roots[next]
          next += 1
        }
        rs.append((when, r.baseSlot, r.add))
      }
      deadlineRules.append(rs)
    }
    self.deadlineRules = deadlineRules
    self.gateRoots = ruleSet.gates.map { _ in
      defer { next += 1 }
      return roots[next]
    }
    self.deadlineCalendars = ruleSet.deadlines.map { cals[$0.calendar] ?? main }
    self.tiers = (ruleSet.refund?.tiers ?? []).map { tier in
      (tier.above, tier.upTo ?? Int64.max, ruleSet.roles.firstIndex { $0.id == tier.approver })
    }
    self.repeats = ruleSet.levels.map { level in
      (ruleSet.duties[level.id]?.whileOpen ?? []).compactMap(\.every)
    }
    var flatDeadlines: [Tables.DeadlineRule] = []
    var others: [BusinessCalendar] = []
    for (i, rules) in deadlineRules.enumerated() {
      var calendarIndex: Int32 = -1
      let cal = deadlineCalendars[i]
      if cal !== main {
        calendarIndex = Int32(others.count)
        others.append(cal)
      }
      for r in rules {
        flatDeadlines.append(
          Tables.DeadlineRule(
            deadline: Int32(i), when: r.when, base: Int32(r.base), calendar: calendarIndex, add: r.add))
      }
    }
    var timeItems: [(level: Int32, root: Int32)] = []
    for (li, roots) in levelRoots.enumerated() where ruleSet.levels[li].mode != .otherwise {
      for (ii, root) in roots.enumerated() where program.nodes[Int(root)].timeDependent {
        _ = ii
        timeItems.append((Int32(li), root))
      }
    }
    self.tables = Tables(
      deadlines: flatDeadlines, deadlineCount: ruleSet.deadlines.count, timeItems: timeItems, repeats: repeats,
      otherCalendars: others)
  }

  // MARK: evaluation

  /// `start + durations[index]` on the calendar. Calendar arithmetic (months, working days)
  /// is the costliest leaf; the last answer per duration is remembered per thread.
  @inline(__always)
  func threshold(_ index: Int, _ start: Millis) -> Millis {
    program.durations[index].added(to: start, calendar: calendar)
  }

  /// Does node `i` hold for `facts` at `now`? Leaves are evaluated in line; only nested
  /// `and`/`or`/`not` recurse.
  @inline(__always)
  func holds(
    _ i: Int32, _ facts: borrowing CaseFacts, _ now: Millis, _ history: borrowing (any CaseHistory)?, _ level: Int
  )
    -> Bool
  {
    let node = program.nodes[Int(i)]
    switch node.kind {
    case .and, .or, .not:
      return branch(node, facts, now, history, level)
    default:
      return leaf(node, facts, now, history, level)
    }
  }

  @inline(never)
  func branch(
    _ node: Node, _ facts: borrowing CaseFacts, _ now: Millis, _ history: borrowing (any CaseHistory)?, _ level: Int
  )
    -> Bool
  {
    let first = Int(node.first)
    switch node.kind {
    case .and:
      for c in first..<(first + Int(node.count)) where !holds(program.children[c], facts, now, history, level) {
        return false
      }
      return true
    case .or:
      for c in first..<(first + Int(node.count)) where holds(program.children[c], facts, now, history, level) {
        return true
      }
      return false
    default:
      return !holds(program.children[first], facts, now, history, level)
    }
  }

  @inline(__always)
  func leaf(
    _ node: Node, _ facts: borrowing CaseFacts, _ now: Millis, _ history: borrowing (any CaseHistory)?, _ level: Int
  )
    -> Bool
  {
    switch node.kind {
    case .compare:
      let v = facts.numbers[Int(node.slot)]
      return v != CaseFacts.null && node.op.holds(v, node.k)
    case .flag:
      return facts.numbers[Int(node.slot)] == 1
    case .constant:
      return node.k != 0
    case .isNull:
      return facts.numbers[Int(node.slot)] == CaseFacts.null
    case .oneOf:
      let v = facts.numbers[Int(node.slot)]
      return v >= 0 && v < 64 && UInt64(bitPattern: node.k) & (1 << UInt64(v)) != 0
    case .openForFixed:
      let start = facts.receivedAt
      return node.op.holds(min(facts.resolvedAt ?? now, now) - start, node.k)
    case .openForCalendar:
      let start = facts.receivedAt
      let end = min(facts.resolvedAt ?? now, now)
      return node.op.holds(end - start, threshold(Int(node.first), start) - start)
    case .level:
      return node.op.holds(Int64(levelModes.count - 1 - level), node.k)
    default:
      return rareLeaf(node, facts, now, history)
    }
  }

  @inline(never)
  func rareLeaf(_ node: Node, _ facts: borrowing CaseFacts, _ now: Millis, _ history: (any CaseHistory)?) -> Bool {
    switch node.kind {
    case .stringEquals:
      return facts.strings[Int(node.slot)] == program.strings[Int(node.first)]
    case .stringIsNull:
      return facts.strings[Int(node.slot)] == nil
    case .sameIssue:
      let own = facts.strings[BuiltinFields.complainantID] == nil ? 0 : 1
      let n: Int
      if facts.strings[BuiltinFields.issueKey] == nil {
        n = own
      } else {
        n = history?.sameIssueComplainants(of: facts, window: program.windows[Int(node.first)], asOf: now) ?? own
      }
      return node.op.holds(Int64(n), node.k)
    default:
      return false
    }
  }

  /// Evaluates one case at `now` into `decision`, reusing its storage (no allocation once warm):
  /// level, reasons, refund approver, deadlines and the next review time.
  ///
  /// - Parameter floor: the lowest level index the case may take (the ratchet: a case's
  ///   current level from the store); nil in stateless classification.
  public func evaluate(
    _ facts: borrowing CaseFacts, at now: Millis, history: (any CaseHistory)? = nil, floor: Int? = nil,
    into decision: inout Decision
  ) {
    classify(facts, at: now, history: history, floor: floor, into: &decision)
    screen(facts, &decision)
    evaluateDeadlines(facts, now, history, &decision)
    decision.nextReviewAt = nextReview(facts, now, history, decision)
  }

  /// Values the uniform leaves read besides the slots, computed at most once per evaluation.
  struct Derived {
    var elapsed: Int64
    var end: Millis
    var now: Millis
    var sameIssue: Int64
    var calendar: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)
    var haveCalendar: UInt8 = 0
  }

  @inline(__always)
  func value(_ source: Int32, _ facts: borrowing CaseFacts, _ d: inout Derived) -> Int64 {
    if source >= 0 { return facts.numbers[Int(source)] }
    if source == UniformLeaf.elapsed { return d.elapsed }
    if source == UniformLeaf.sameIssue { return d.sameIssue }
    let j = Int(UniformLeaf.calendarBase - source)
    let bit = UInt8(1) << UInt8(j)
    if d.haveCalendar & bit == 0 {
      d.haveCalendar |= bit
      // Only the sign of `time open − duration` matters to the leaf (it compares with 0): a
      // case open for less than the duration's shortest possible length, or more than its
      // longest, needs no calendar arithmetic (a DST hour and a day of margin kept).
      let duration = fast.calendarDurations[j]
      let elapsed = d.end - facts.receivedAt
      let bounds = duration.bounds
      let shortest = (bounds.lowerBound - 3_600) * 1000
      let longest = (bounds.upperBound + 86_400) * 1000
      let v =
        elapsed < shortest
        ? elapsed - shortest
        : elapsed > longest ? elapsed - longest : d.end - duration.added(to: facts.receivedAt, calendar: calendar)
      switch j {
      case 0: d.calendar.0 = v
      case 1: d.calendar.1 = v
      case 2: d.calendar.2 = v
      default: d.calendar.3 = v
      }
    }
    switch j {
    case 0: return d.calendar.0
    case 1: return d.calendar.1
    case 2: return d.calendar.2
    default: return d.calendar.3
    }
  }

  /// Every non-calendar leaf at once, as a bit mask (the bitmask layout only).
  @inline(__always)
  func leafMask(_ facts: borrowing CaseFacts, _ d: Derived) -> UInt64 {
    var mask: UInt64 = 0
    let leaves = fast.leaves
    facts.numbers.withUnsafeBufferPointer { numbers in
      for l in 0..<fast.slotLeaves {
        let leaf = leaves[l]
        mask |= leaf.bit(numbers[Int(leaf.source)]) << UInt64(l)
      }
    }
    for l in fast.slotLeaves..<fast.timeLeaves {
      let leaf = leaves[l]
      mask |= leaf.bit(leaf.source == UniformLeaf.elapsed ? d.elapsed : d.sameIssue) << UInt64(l)
    }
    return mask
  }

  /// Does item `index` hold, given the leaf mask? One-term items without calendar leaves are
  /// a single mask test; the rest go the longer way.
  @inline(__always)
  func itemByMask(
    _ index: Int, _ level: Int, _ facts: borrowing CaseFacts, _ d: inout Derived, _ mask: inout UInt64,
    _ history: borrowing (any CaseHistory)?
  ) -> Bool {
    let m = fast.itemMask[index]
    if fast.itemSimple[index] { return mask & m == m }
    if fast.itemSingleTerm[index], mask & m != m { return false }
    return itemByMaskSlow(index, level, facts, &d, &mask, history)
  }

  /// Calendar leaves are computed only for terms whose other leaves all hold.
  @inline(never)
  func itemByMaskSlow(
    _ index: Int, _ level: Int, _ facts: borrowing CaseFacts, _ d: inout Derived, _ mask: inout UInt64,
    _ history: borrowing (any CaseHistory)?
  ) -> Bool {
    let it = fast.items[index]
    if it.start < 0 { return complexItem(it.root, level, facts, d, history) }
    for t in Int(it.start)..<Int(it.end) {
      let cheap = fast.termCheap[t]
      guard mask & cheap == cheap else { continue }
      let cal = fast.termCalendar[t]
      if cal == 0 { return true }
      var bits = cal
      var all = true
      while bits != 0, all {
        all = leafHolds(bits.trailingZeroBitCount, facts, &d)
        bits &= bits - 1
      }
      if all { return true }
    }
    return false
  }

  /// Does uniform leaf `l` hold (its value read, derived values computed on first use)?
  @inline(__always)
  func leafHolds(_ l: Int, _ facts: borrowing CaseFacts, _ d: inout Derived) -> Bool {
    let leaf = fast.leaves[l]
    return leaf.test(value(leaf.source, facts, &d))
  }

  /// Does item `index` (over all levels) hold?
  @inline(__always)
  func item(
    _ index: Int, _ level: Int, _ facts: borrowing CaseFacts, _ d: inout Derived,
    _ history: borrowing (any CaseHistory)?
  ) -> Bool {
    let it = fast.items[index]
    if it.start < 0 { return complexItem(it.root, level, facts, d, history) }
    for t in Int(it.start)..<Int(it.end) {
      let term = fast.terms[t]
      var all = true
      var l = Int(term.start)
      while l < Int(term.end), all {
        all = leafHolds(l, facts, &d)
        l += 1
      }
      if all { return true }
    }
    return false
  }

  @inline(never)
  func complexItem(
    _ root: Int32, _ level: Int, _ facts: borrowing CaseFacts, _ d: Derived, _ history: (any CaseHistory)?
  )
    -> Bool
  {
    holds(root, facts, d.now, history, level)
  }

  /// The level, its reasons and the refund approver only (no deadlines, no next review):
  /// what a caller needs that only asks "how serious is it, and who approves?".
  public func classify(
    _ facts: borrowing CaseFacts, at now: Millis, history: (any CaseHistory)? = nil, floor: Int? = nil,
    into decision: inout Decision
  ) {
    var found: UInt64 = 0
    let end = min(facts.resolvedAt ?? now, now)
    var sameIssue: Int64 = 0
    if fast.usesSameIssue {
      if let history {
        sameIssue = Int64(history.sameIssueComplainants(of: facts, window: aggregateWindows[0], asOf: now))
      } else {
        sameIssue = facts.strings[BuiltinFields.complainantID] == nil ? 0 : 1
      }
    }
    var derived = Derived(elapsed: end - facts.receivedAt, end: end, now: now, sameIssue: sameIssue)
    var chosen = fast.levelCount - 1
    var mask: UInt64 = fast.bitmask ? leafMask(facts, derived) : 0
    search: for li in 0..<fast.levelCount {
      let level = fast.levels[li]
      let first = Int(level.start)
      switch level.mode {
      case 2:
        found = 1
        chosen = li
        break search
      case 0:
        if fast.bitmask {
          for i in first..<Int(level.end) where itemByMask(i, li, facts, &derived, &mask, history) {
            found |= 1 << UInt64(i - first)
          }
        } else {
          for i in first..<Int(level.end) where item(i, li, facts, &derived, history) {
            found |= 1 << UInt64(i - first)
          }
        }
      default:
        var all = level.end > level.start
        for i in first..<Int(level.end)
        where
          !(fast.bitmask ? itemByMask(i, li, facts, &derived, &mask, history) : item(i, li, facts, &derived, history))
        {
          all = false
          break
        }
        if all {
          found = level.end - level.start >= 64 ? .max : (1 << UInt64(level.end - level.start)) - 1
        }
      }
      if found != 0 {
        chosen = li
        break search
      }
    }
    decision.reasonLevel = chosen
    decision.reasonItems = found
    if let floor, floor < chosen { chosen = floor }
    decision.level = chosen
    decision.refundApprover = refundApprover(facts)
  }

  /// Screens the case's text for harmful content.
  func screen(_ facts: borrowing CaseFacts, _ decision: inout Decision) {
    if !decision.matches.isEmpty { decision.matches.removeAll(keepingCapacity: true) }
    decision.categoryBits = 0
    guard let screening, let text = facts.strings[BuiltinFields.text], !text.isEmpty else { return }
    decision.matches = screening.matches(in: text)
    for m in decision.matches {
      let c = screening.patterns[Int(m.pattern)].category
      if c < 64 { decision.categoryBits |= 1 << UInt64(c) }
    }
  }

  /// Whether gate `index`'s `when` holds for a case at `level` (an index into `levels`).
  public func gateApplies(_ index: Int, _ facts: borrowing CaseFacts, at now: Millis, level: Int) -> Bool {
    holds(gateRoots[index], facts, now, nil, level)
  }

  /// Whether the decision's categories include one marked `major`.
  public func hasMajorCategory(_ decision: Decision) -> Bool { decision.categoryBits & majorCategoryBits != 0 }

  /// Convenience form of `evaluate(_:at:history:floor:into:)`.
  public func evaluate(
    _ facts: borrowing CaseFacts, at now: Millis, history: (any CaseHistory)? = nil, floor: Int? = nil
  ) -> Decision {
    var d = Decision()
    evaluate(facts, at: now, history: history, floor: floor, into: &d)
    return d
  }

  func refundApprover(_ facts: borrowing CaseFacts) -> Int? {
    guard let slot = refundSlot else { return nil }
    let amount = facts.numbers[slot]
    if amount == CaseFacts.null { return nil }
    for tier in tiers where amount > tier.above && amount <= tier.upTo { return tier.role }
    return nil
  }

  func evaluateDeadlines(
    _ facts: borrowing CaseFacts, _ now: Millis, _ history: (any CaseHistory)?, _ d: inout Decision
  ) {
    let count = tables.deadlineCount
    if d.deadlines.count != count { d.deadlines = [Millis?](repeating: nil, count: count) }
    for i in 0..<count { d.deadlines[i] = nil }
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

}
