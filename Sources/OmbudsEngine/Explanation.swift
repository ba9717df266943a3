import OmbudsRules
import OmbudsSyntax

/// Why a decision came out as it did, with the case's values: the conditions that held, why
/// the next level up did not, each deadline's calendar walk, the refund tier, the screening
/// matches. Built by `CompiledRules.explain(_:decision:at:history:identityVisible:)` (pure,
/// no I/O); rendered by `ExplanationText` and `ExplanationJSON`.
public struct Explanation: Sendable {
  public var caseID: String
  /// The evaluation time.
  public var at: Millis
  /// The decided level's id.
  public var level: String
  /// The statements, in this order: the level (held conditions, or `otherwise`, and a note
  /// when a floor kept the level above its conditions), the next level up (nearest miss
  /// first, or a note that the level is the top one), the deadlines, the refund, screening.
  public var items: [Item]

  public enum Item: Sendable {
    /// A condition item of the decided level (or, under a floor, of the level the conditions
    /// gave) that held.
    case held(ConditionExplanation)
    /// The decided level is the catch-all one: no higher level's conditions held.
    case otherwise(level: String)
    /// The level was kept above what the conditions give (levels ratchet; or an override).
    case kept(level: String, conditionsGive: String)
    /// The decided level is the highest: there is no next level up.
    case top(level: String)
    /// A condition item of the next level up that did not hold, with its failing facts;
    /// nearest miss first (`ConditionExplanation.rank`).
    case missed(ConditionExplanation)
    case deadline(DeadlineExplanation)
    case refund(RefundExplanation)
    case screening(ScreeningExplanation)
  }
}

/// One condition item and the facts that decided it.
public struct ConditionExplanation: Sendable {
  /// The level's id and the item's index in it.
  public var level: String
  public var item: Int
  /// The condition as written, and where.
  public var condition: String
  public var source: SourceLocation
  /// For a held item, the facts that made it hold; for a missed one, the facts that failed.
  public var facts: [FactCheck]
  /// Missed items: 1-based rank, nearest miss first. Held items: 0.
  public var rank: Int = 0
  /// Missed items: how many facts would have to change for it to hold (the fewest over its
  /// `or` branches), and the sum of their relative gaps (see Documentation/Decisions.md).
  public var failing: Int = 0
  public var gap: Double = 0
}

/// One comparison of a condition with the case's value.
public struct FactCheck: Sendable, Hashable {
  public enum Kind: String, Sendable {
    case compare, flag, empty, oneOf, text
    case openFor = "open_for"
    case sameIssue = "same_issue"
    case level, constant
  }
  /// A value as shown.
  public enum Value: Sendable, Hashable {
    /// A number as written (`12`, `650.00 CNY`, `2.5`).
    case number(String)
    /// An enum value, a level id, a text.
    case name(String)
    case bool(Bool)
    case empty
    /// Withheld: the reader may not see the complainant's identity.
    case hidden
    /// A length of time in milliseconds (`open_for`).
    case elapsed(Int64)
    /// A duration as the rules write it, and the instant it is reached for this case.
    case duration(RuleDuration, reachedAt: Millis)
    /// Several allowed values (`in [a, b]`).
    case names([String])
  }
  public var kind: Kind
  /// The fact's id (`collective_size`, `open_for`, `same_issue_complainants(within: 1 month)`).
  public var fact: String
  /// Its Chinese label from the rules, when there is one.
  public var label: String?
  public var value: Value
  /// The comparison as it must hold (a `not` is folded in: `not x >= 3` reads `x < 3`).
  public var op: CompareOp
  public var expected: Value
  /// Whether this comparison holds for the case.
  public var holds: Bool
  /// For a failing ordered comparison, how far the value is from holding (`9`, or a time).
  public var gap: Value? = nil
  /// The value and the threshold in slot units, for the nearest-miss metric.
  var valueUnits: Int64? = nil
  var thresholdUnits: Int64? = nil
}

/// How a deadline came out: the rule, its start, and for working days the calendar walk.
public struct DeadlineExplanation: Sendable {
  public var deadline: String
  public var label: String?
  /// The rule's index among the deadline's rules, its `when` as written, and where the rule is.
  public var rule: Int
  public var when: String?
  public var source: SourceLocation
  /// The timestamp field the clock starts from, its label, and its value (nil: not known yet).
  public var base: String
  public var baseLabel: String?
  public var start: Millis?
  public var add: RuleDuration
  /// The calendar's id and label.
  public var calendar: String
  public var calendarLabel: String?
  /// The end the rule gives, and the decision's deadline (they differ only after an extension).
  public var end: Millis?
  public var due: Millis?
  /// For working days: every day stepped over after the start day, in order.
  public var walk: [CalendarDay]
  /// Years the walk reached that the calendar lists no holidays for (only weekends skipped).
  public var uncoveredYears: [Int] = []
}

/// The refund approver: the amount (converted when given in another currency) and the tier.
public struct RefundExplanation: Sendable {
  public var field: String
  public var label: String?
  /// The amount as given, and in the policy's currency (nil: no compensation).
  public var given: Money?
  public var converted: Money?
  /// Units of the policy currency one unit of the given currency is worth (× 10⁴), when converted.
  public var rate: Int64?
  /// The tier that applied: its index, bounds and where it is written (nil: none applies).
  public var tier: Int?
  public var above: Money?
  public var upTo: Money?
  public var source: SourceLocation?
  public var approver: String?
  public var approverLabel: String?
}

/// One screening match: the keyword, its category, the span of the text and what it read as.
public struct ScreeningExplanation: Sendable {
  public var keyword: String
  public var category: String
  public var categoryLabel: String?
  /// Where the keyword is written in the rules (nil for a keyword from a bulk list without one).
  public var source: SourceLocation?
  /// The span in Unicode scalars of the case's text, `[start, end)`, and its original text.
  public var start: Int
  public var end: Int
  public var original: String
  /// The span after normalization (spaces and punctuation dropped, traditional to simplified…).
  public var normalized: String
  /// The disguise undone, by name (`pinyin`, `homophone`) — set when screening reports one.
  public var disguise: String?
  /// Set when the keyword was found but not reported: the exception phrase of its category
  /// that contains it (`暴力分拣`), and where that phrase is written.
  public var suppressedBy: String? = nil
  public var exceptionSource: SourceLocation? = nil
}
