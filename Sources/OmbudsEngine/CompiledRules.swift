import OmbudsRules
import OmbudsScreening
import OmbudsSyntax

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
      /// Its position among its deadline's rules.
      var rule: Int32
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
    /// The refund tiers as (above, up to, role index or -1), for `classify`.
    let refundTiers: UnsafeMutableBufferPointer<(above: Int64, upTo: Int64, role: Int)>

    init(
      deadlines: [DeadlineRule], deadlineCount: Int, timeItems: [(level: Int32, root: Int32)],
      repeats: [[RuleDuration]], otherCalendars: [BusinessCalendar], tiers: [(above: Int64, upTo: Int64, role: Int?)]
    ) {
      self.refundTiers = makeBuffer(tiers.map { ($0.above, $0.upTo, $0.role ?? -1) })
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
      refundTiers.deallocate()
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
  /// The program root of `permissions.protect_identity`'s `when`, when there is one.
  let protectRoot: Int32?
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
      for k in category.keywords {
        patterns.append(Pattern(text: k.value, category: Int32(i), isException: false, modes: category.modes))
      }
      for e in category.exceptions {
        patterns.append(Pattern(text: e.value, category: Int32(i), isException: true, modes: category.modes))
      }
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
    let protectWhen = ruleSet.permissions?.protectIdentity?.when
    if let protectWhen { conds.append(protectWhen.cond) }
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
    self.protectRoot = protectWhen == nil ? nil : roots[next]
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
      for (k, r) in rules.enumerated() {
        flatDeadlines.append(
          Tables.DeadlineRule(
            deadline: Int32(i), rule: Int32(k), when: r.when, base: Int32(r.base), calendar: calendarIndex,
            add: r.add))
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
      otherCalendars: others, tiers: tiers)
  }
}
