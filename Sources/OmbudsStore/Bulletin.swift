import OmbudsEngine

/// A period's quality bulletin (质量简报, POLICY §7), computed from the store by aggregate
/// queries (`CaseStore.bulletin(_:)`): what `ombuds report`, `/reports/bulletin` and
/// `/v1/reports` show. Every count is of cases; times are instants (ms since the epoch),
/// shown in the rules' time zone (`offsetSeconds`).
public struct Bulletin: Sendable, Equatable {
  /// A half-open interval of time, `[from, to)`, with the inclusive local dates it spans.
  public struct Period: Sendable, Equatable {
    public var from: Millis
    public var to: Millis
    /// The first and last local day (`2026-11-01`, `2026-11-30`).
    public var firstDay: String
    public var lastDay: String
  }

  /// A share: `numerator` of `denominator` cases. No denominator: no value ("—").
  public struct Ratio: Sendable, Equatable {
    public var numerator: Int
    public var denominator: Int
    public init(numerator: Int, denominator: Int) {
      self.numerator = numerator
      self.denominator = denominator
    }
    /// The share in percent, or nil without a denominator.
    public var percent: Double? {
      denominator > 0 ? Double(numerator) * 100 / Double(denominator) : nil
    }
    /// `87.5%`, one decimal; `—` without a denominator.
    public var text: String {
      guard let p = percent else { return "—" }
      return Self.format(p) + "%"
    }
    /// One decimal, rounded half away from zero, without a trailing `.0`.
    public static func format(_ value: Double) -> String {
      let tenths = (value * 10).rounded(.toNearestOrAwayFromZero)
      let whole = Int64(tenths / 10)
      let rest = Int64(abs(tenths.truncatingRemainder(dividingBy: 10)))
      let sign = tenths < 0 && whole == 0 ? "-" : ""
      return rest == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(rest)"
    }
  }

  /// A count of cases under one key (a level, a channel, a unit, a category, an issue), this
  /// period and the one before.
  public struct Count: Sendable, Equatable {
    public var key: String
    public var label: String
    public var count: Int
    public var previous: Int
  }

  /// One week of the period (Monday to Sunday in the rules' time zone, clipped to the period).
  public struct Week: Sendable, Equatable {
    public var from: Millis
    /// The week's Monday (`2026-11-02`), or the period's first day for a week clipped by it.
    public var firstDay: String
    /// Cases received in the week.
    public var received: Int
    /// Cases of any period resolved in the week (their first resolution).
    public var resolved: Int
  }

  /// A measure of the rules (`measures:`) over the period, over the one before, and per group.
  public struct Measure: Sendable, Equatable {
    public var id: String
    public var label: String
    /// Where the rules define it (`rules/measures.yaml:23`).
    public var source: String
    /// The floor in percent as written (`85`), if any.
    public var floor: String?
    public var current: Ratio
    public var previous: Ratio
    /// The change since the previous period, in percentage points (nil when either has no value).
    public var change: Double? {
      guard let now = current.percent, let before = previous.percent else { return nil }
      return now - before
    }
    /// The handling units (承办单位) below the floor this period, lowest first.
    public var belowFloor: [String]
  }

  /// The measures of one group of cases (a unit, a level, a channel, a category).
  public struct GroupRow: Sendable, Equatable {
    public var key: String
    public var label: String
    /// Cases of the group received in the period.
    public var received: Int
    /// One per measure, in `measures` order.
    public var values: [Ratio]
    /// The ids of the measures this group is below the floor of.
    public var belowFloor: [String]
  }

  /// What the bulletin groups the measures by (`--by`).
  public enum Grouping: String, Sendable, CaseIterable {
    case department, level, channel, category
  }

  /// The ordinary cases (一般投诉) of the period, summarised (POLICY §2).
  public struct Summary: Sendable, Equatable {
    public var received: Int
    /// Resolved by the end of the period (handling completed), rejected, still open.
    public var resolved: Int
    public var rejected: Int
    public var open: Int
    /// Closed by the end of the period.
    public var closed: Int

    public init(received: Int, resolved: Int, rejected: Int, open: Int, closed: Int) {
      self.received = received
      self.resolved = resolved
      self.rejected = rejected
      self.open = open
      self.closed = closed
    }
  }

  /// One case listed as its own item (important cases; hot and major ones with their reports).
  public struct CaseItem: Sendable, Equatable {
    public var id: String
    public var level: String
    public var levelLabel: String
    public var receivedAt: Millis
    public var channel: String?
    public var department: String?
    public var stage: String
    /// The course of its handling in one line (受理 11-02 → 分派 市场部 → 办结 11-10 → 回访 满意).
    public var handling: String
    public var resolvedAt: Millis?
    /// The special report its level requires on closing (`detailed_special`), if any.
    public var report: String?
    public var reportLabel: String?
    /// `handed_in`, `pending` (not yet due), `overdue` (missing, the case past its
    /// `resolve_by`, or resolved, unreported, at the end of the period) or `not_required`
    /// (the case was rejected, 不予受理, and never handled); nil without a report.
    public var reportState: String?
    public var reportHandedInAt: Millis?
    /// The case's `resolve_by` as its latest decision states it.
    public var resolveBy: Millis?
  }

  /// An open case past a deadline, or with one in the next 24 hours.
  public struct DueItem: Sendable, Equatable {
    public var id: String
    public var level: String
    public var levelLabel: String
    public var stage: String
    public var department: String?
    public var dueAt: Millis
  }

  public var period: Period
  public var previousPeriod: Period
  /// When the bulletin was computed: "overdue" and "due soon" are as of this instant.
  public var generatedAt: Millis
  /// The rules' time zone and its offset at the period's start (for showing times).
  public var timeZone: String
  public var offsetSeconds: Int
  /// The rule set's content hash (`sha256:…`).
  public var ruleSet: String
  public var grouping: Grouping

  /// Cases received in the period and in the previous one.
  public var received: Int
  public var previousReceived: Int
  /// By level (as of the period's end), channel, handling unit, harmful-information category
  /// (cases whose decision found it), and the most frequent issues (热点问题).
  public var byLevel: [Count]
  public var byChannel: [Count]
  public var byDepartment: [Count]
  public var byCategory: [Count]
  public var topIssues: [Count]
  public var weeks: [Week]
  public var measures: [Measure]
  /// The measures per group of `grouping`.
  public var groups: [GroupRow]
  public var ordinary: Summary
  /// Important cases (重要投诉), each its own item.
  public var important: [CaseItem]
  /// Hot and major cases (热点、重大投诉) with their special reports.
  public var special: [CaseItem]
  /// Open cases past their earliest deadline at `generatedAt` (at most `listLimit`, oldest
  /// deadline first), and how many there are in all.
  public var overdue: [DueItem]
  public var overdueTotal: Int
  /// Open cases whose earliest deadline falls within 24 hours of `generatedAt`.
  public var dueSoon: [DueItem]
  public var dueSoonTotal: Int

  /// The most overdue and due-soon cases a bulletin lists (the totals count them all).
  public static let listLimit = 200
  /// The most frequent issues a bulletin names.
  public static let topIssueCount = 10
}
