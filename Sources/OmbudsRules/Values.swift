import OmbudsSyntax

/// An exact decimal amount of money: minor units at a fixed scale of 10⁻⁴ and a currency code.
public struct Money: Sendable, Hashable, CustomStringConvertible {
  /// Digits after the decimal point that amounts keep exactly.
  public static let scaleDigits = 4
  /// 10⁴.
  public static let scale: Int64 = 10_000

  /// The amount × 10⁴.
  public var units: Int64
  /// ISO 4217 code, e.g. `CNY`.
  public var currency: String

  public init(units: Int64, currency: String) {
    self.units = units
    self.currency = currency
  }

  /// Parses an exact decimal such as `650`, `650.5`, `-0.01` into units of 10⁻⁴.
  /// Nil for anything else, or for more than four decimal places, or out of range.
  public static func parseUnits(_ text: Substring) -> Int64? {
    parseUnits(Array(text.utf8)[...])
  }

  /// Byte-level form of `parseUnits`.
  public static func parseUnits(_ bytes: ArraySlice<UInt8>) -> Int64? {
    var i = bytes.startIndex
    let end = bytes.endIndex
    var negative = false
    if i < end, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
      negative = bytes[i] == UInt8(ascii: "-")
      i += 1
    }
    var whole: Int64 = 0
    var digits = 0
    while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
      let (m, o1) = whole.multipliedReportingOverflow(by: 10)
      let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 0x30))
      if o1 || o2 { return nil }
      whole = a
      digits += 1
      i += 1
    }
    var fraction: Int64 = 0
    var fractionDigits = 0
    if i < end, bytes[i] == UInt8(ascii: ".") {
      i += 1
      while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
        if fractionDigits == scaleDigits {
          if bytes[i] != 0x30 { return nil }  // more precision than kept: refuse, never round
        } else {
          fraction = fraction * 10 + Int64(bytes[i] - 0x30)
          fractionDigits += 1
        }
        i += 1
        digits += 1
      }
    }
    if i != end || digits == 0 { return nil }
    while fractionDigits < scaleDigits {
      fraction *= 10
      fractionDigits += 1
    }
    let (m, o1) = whole.multipliedReportingOverflow(by: scale)
    let (v, o2) = m.addingReportingOverflow(fraction)
    if o1 || o2 { return nil }
    return negative ? -v : v
  }

  /// `650.00 CNY`, with at least two decimals.
  public var description: String { "\(Money.format(units: units)) \(currency)" }

  /// Formats units of 10⁻⁴ as a decimal with at least two places.
  public static func format(units: Int64) -> String {
    let negative = units < 0
    let magnitude = units.magnitude
    let whole = magnitude / UInt64(scale)
    var fraction = String(magnitude % UInt64(scale))
    while fraction.count < scaleDigits { fraction = "0" + fraction }
    while fraction.count > 2, fraction.hasSuffix("0") { fraction.removeLast() }
    return "\(negative ? "-" : "")\(whole).\(fraction)"
  }
}

/// A length of time as the rules write it. Calendar units (months, working days) are not a
/// fixed number of seconds: they are added to a timestamp on a calendar.
public struct RuleDuration: Sendable, Hashable, CustomStringConvertible {
  public enum Unit: String, Sendable, Hashable, CaseIterable {
    case seconds, minutes, hours, days, weeks, months
    case workingDays = "working days"
  }
  public var amount: Int
  public var unit: Unit
  /// The most units a duration counts (999,999 weeks is about 19,000 years): every
  /// arithmetic on durations stays far inside Int64 milliseconds.
  public static let maximumAmount = 999_999

  public init(_ amount: Int, _ unit: Unit) {
    self.amount = amount
    self.unit = unit
  }

  /// Seconds, for units of fixed length; nil for months and working days.
  public var fixedSeconds: Int64? {
    switch unit {
    case .seconds: Int64(amount)
    case .minutes: Int64(amount) * 60
    case .hours: Int64(amount) * 3600
    case .days: Int64(amount) * 86_400
    case .weeks: Int64(amount) * 604_800
    case .months, .workingDays: nil
    }
  }

  /// Shortest and longest possible length in seconds (for comparing thresholds).
  public var bounds: ClosedRange<Int64> {
    if let s = fixedSeconds { return s...s }
    switch unit {
    case .months: return Int64(amount) * 28 * 86_400...Int64(amount) * 31 * 86_400
    default:
      // A working day is at least a day; holidays can stretch it (Spring Festival: 9 days).
      return Int64(amount) * 86_400...Int64(amount) * 86_400 * 14
    }
  }

  public var description: String {
    switch unit {
    case .seconds: "\(amount) second\(amount == 1 ? "" : "s")"
    case .minutes: "\(amount) minute\(amount == 1 ? "" : "s")"
    case .hours: "\(amount) hour\(amount == 1 ? "" : "s")"
    case .days: "\(amount) day\(amount == 1 ? "" : "s")"
    case .weeks: "\(amount) week\(amount == 1 ? "" : "s")"
    case .months: "\(amount) month\(amount == 1 ? "" : "s")"
    case .workingDays: "\(amount) working day\(amount == 1 ? "" : "s")"
    }
  }
}

/// A civil date (no time zone).
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var year: Int
  public var month: Int
  public var day: Int

  public init(year: Int, month: Int, day: Int) {
    self.year = year
    self.month = month
    self.day = day
  }

  /// Parses `YYYY-MM-DD`; nil unless it is a real date.
  public init?(_ text: String) {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
      let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
    else { return nil }
    guard m >= 1, m <= 12, d >= 1, d <= CivilDate.daysIn(year: y, month: m) else { return nil }
    self.init(year: y, month: m, day: d)
  }

  public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

  public static func daysIn(year: Int, month: Int) -> Int {
    switch month {
    case 2: isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  /// Days since 1970-01-01 (proleptic Gregorian).
  public var dayNumber: Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  public init(dayNumber z0: Int) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    self.init(year: m <= 2 ? y + 1 : y, month: m, day: d)
  }

  /// 0 = Monday … 6 = Sunday.
  public var weekday: Int { ((dayNumber % 7) + 7 + 3) % 7 }

  public var description: String {
    // RFC 3339 years have four digits.
    let y =
      (0...999).contains(year) ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
    let m = month < 10 ? "0\(month)" : "\(month)"
    let d = day < 10 ? "0\(day)" : "\(day)"
    return "\(y)-\(m)-\(d)"
  }

  public static func < (a: CivilDate, b: CivilDate) -> Bool {
    (a.year, a.month, a.day) < (b.year, b.month, b.day)
  }
}
