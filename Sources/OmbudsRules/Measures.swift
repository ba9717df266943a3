import OmbudsSyntax

/// One answer a follow-up visit (回访) may record: an id the `follow_up` event names, with its
/// label (满意 / 基本满意 / 不满意 in the default rules). RuleLanguage.md §18.
public struct SatisfactionLevel: Sendable, Equatable {
  public var id: String
  public var label: String
  public var location: SourceLocation
}

/// Which cases a measure counts in a period.
public enum MeasureCohort: String, Sendable, CaseIterable {
  /// The cases received in the period (`received_at` in it).
  case received
  /// The cases resolved in the period (their last resolution, `resolved_at`, in it).
  case resolved
}

/// The deadline a condition's moment must meet.
public enum MeasureDeadline: Sendable, Equatable {
  /// A deadline of the rules (`resolve_by`), as the case's latest decision by the period's end states it,
  /// extensions included. A case without that deadline does not meet it.
  case deadline(String)
  /// A duration after the case's `received_at` (working days on the default calendar).
  case within(RuleDuration)
}

/// What a case of the cohort must show, as of the end of the period. Every part given must
/// hold; a condition has at least one of `events`, `resolved` and `satisfaction`.
public struct MeasureCondition: Sendable, Equatable {
  /// The case has an event of one of these types (`EventTypes.all`); empty: no such part.
  public var events: [String]
  /// The case was resolved in handling: it has a `carry_out` or `resolved` event, or a
  /// `closed` event while not rejected. Its moment is its last `resolved_at`.
  public var resolved: Bool
  /// The case's latest follow-up answered one of these satisfaction ids; empty: no such part.
  public var satisfaction: [String]
  /// The condition's moment — the first of `events` if given, else the resolution — came at
  /// or before this deadline.
  public var deadline: MeasureDeadline?
  /// The mapping (for a report's citation).
  public var location: SourceLocation

  public init(
    events: [String] = [], resolved: Bool = false, satisfaction: [String] = [], deadline: MeasureDeadline? = nil,
    location: SourceLocation
  ) {
    self.events = events
    self.resolved = resolved
    self.satisfaction = satisfaction
    self.deadline = deadline
    self.location = location
  }
}

/// One measure of the quality bulletin (质量简报, POLICY §7): among the cases of the cohort
/// meeting the denominator, the share that also meet the numerator. With no such case in the
/// period the value is "—", never 0 % or 100 %.
public struct MeasureDecl: Sendable, Equatable {
  public var id: String
  /// The Chinese name (受理率).
  public var label: String
  public var cohort: MeasureCohort
  public var numerator: MeasureCondition
  public var denominator: MeasureCondition
  /// The floor in percent, in units of 10⁻⁴ (85 % is 850_000), 0…100 %: a handling unit
  /// below it is named in the bulletin. Nil: nobody is named.
  public var floorUnits: Int64?
  public var description: String?
  public var location: SourceLocation

  /// The floor as written in percent (`85`, `92.5`).
  public var floorPercent: String? {
    guard let floorUnits else { return nil }
    var text = Substring(Money.format(units: floorUnits))
    if text.contains(".") {
      while text.last == "0" { text = text.dropLast() }
      if text.last == "." { text = text.dropLast() }
    }
    return String(text)
  }

  /// True when `numerator ÷ denominator` is below the floor, computed exactly (no division).
  /// False without a floor or a denominator.
  public func isBelowFloor(numerator: Int64, denominator: Int64) -> Bool {
    guard let floorUnits, denominator > 0, numerator >= 0 else { return false }
    // numerator / denominator < floor / 10⁶  ⇔  numerator · 10⁶ < floor · denominator
    let (left, o1) = numerator.multipliedReportingOverflow(by: 1_000_000)
    let (right, o2) = floorUnits.multipliedReportingOverflow(by: denominator)
    if o1 || o2 {
      return Double(numerator) / Double(denominator) * 1_000_000 < Double(floorUnits)
    }
    return left < right
  }
}
