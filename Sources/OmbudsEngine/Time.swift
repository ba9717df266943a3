import Foundation
import OmbudsRules

/// Timestamps are milliseconds since 1970-01-01T00:00:00Z.
public typealias Millis = Int64

/// RFC 3339 timestamps: parsing (offset required) and formatting in a zone.
public enum RFC3339 {
  /// Parses `2025-10-01T09:30:00+08:00`, `…Z`, with optional fractional seconds (kept to ms).
  public static func parse(_ text: String) -> Millis? {
    var t = text
    return t.withUTF8 { parse(UnsafeBufferPointer(rebasing: $0[...])) }
  }

  public static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Millis? {
    let n = b.count
    guard n >= 20 else { return nil }
    func digits(_ i: Int, _ count: Int) -> Int? {
      var v = 0
      for k in i..<(i + count) {
        let c = b[k]
        guard c >= 0x30, c <= 0x39 else { return nil }
        v = v * 10 + Int(c - 0x30)
      }
      return v
    }
    guard let y = digits(0, 4), b[4] == UInt8(ascii: "-"), let mo = digits(5, 2), b[7] == UInt8(ascii: "-"),
      let d = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == 0x20,
      let h = digits(11, 2), b[13] == UInt8(ascii: ":"), let mi = digits(14, 2), b[16] == UInt8(ascii: ":"),
      let s = digits(17, 2)
    else { return nil }
    guard mo >= 1, mo <= 12, d >= 1, d <= CivilDate.daysIn(year: y, month: mo), h <= 23, mi <= 59, s <= 60 else {
      return nil
    }
    var i = 19
    var ms = 0
    if i < n, b[i] == UInt8(ascii: ".") {
      i += 1
      var scale = 100
      let start = i
      while i < n, b[i] >= 0x30, b[i] <= 0x39 {
        ms += Int(b[i] - 0x30) * scale
        scale /= 10
        i += 1
      }
      if i == start { return nil }
    }
    guard i < n else { return nil }
    var offset = 0
    if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
      i += 1
    } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
      guard i + 6 == n, let oh = digits(i + 1, 2), b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2),
        oh <= 23, om <= 59
      else { return nil }
      offset = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
      i += 6
    } else {
      return nil
    }
    guard i == n else { return nil }
    let days = CivilDate(year: y, month: mo, day: d).dayNumber
    let seconds = Int64(days) * 86_400 + Int64(h * 3600 + mi * 60 + min(s, 59)) - Int64(offset)
    return seconds * 1000 + Int64(ms)
  }

  /// The first and last local instants RFC 3339 can write: 0000-01-01T00:00:00 and
  /// 9999-12-31T23:59:59.999.
  static let firstLocal = Int64(CivilDate(year: 0, month: 1, day: 1).dayNumber) * 86_400_000
  static let lastLocal = Int64(CivilDate(year: 9999, month: 12, day: 31).dayNumber + 1) * 86_400_000 - 1

  /// `2025-10-16T23:59:59+08:00` (milliseconds shown only when not zero).
  /// Instants before 0000-01-01 or after 9999-12-31 (local), which RFC 3339 cannot write, are
  /// written as those bounds (a deadline past year 9999 is as good as never).
  public static func format(_ t: Millis, offsetSeconds: Int) -> String {
    let (shifted, overflow) = t.addingReportingOverflow(Int64(offsetSeconds) * 1000)
    let local = overflow ? (t < 0 ? firstLocal : lastLocal) : min(max(shifted, firstLocal), lastLocal)
    let seconds = local >= 0 ? local / 1000 : (local - 999) / 1000
    let ms = Int(local - seconds * 1000)
    let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
    let sod = Int(seconds - Int64(days) * 86_400)
    let date = CivilDate(dayNumber: days)
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    var out = "\(date)T\(two(sod / 3600)):\(two(sod / 60 % 60)):\(two(sod % 60))"
    if ms != 0 {
      let m = String(ms)
      out += "." + String(repeating: "0", count: 3 - m.count) + m
    }
    if offsetSeconds == 0 { return out + "Z" }
    let sign = offsetSeconds < 0 ? "-" : "+"
    let a = abs(offsetSeconds)
    return out + "\(sign)\(two(a / 3600)):\(two(a / 60 % 60))"
  }
}

/// Civil-time arithmetic in one time zone, with a fast path for zones without daylight saving.
public struct ZoneClock: Sendable {
  public let identifier: String
  let fixedOffset: Int?
  let zone: TimeZone

  public init?(identifier: String) {
    guard let zone = TimeZone(identifier: identifier) else { return nil }
    self.identifier = identifier
    self.zone = zone
    // Zones with no transition since 2000 use one offset (Asia/Shanghai has had none since 1991).
    let y2000 = Date(timeIntervalSince1970: 946_684_800)
    if zone.nextDaylightSavingTimeTransition(after: y2000) == nil {
      fixedOffset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: 1_735_689_600))
    } else {
      fixedOffset = nil
    }
  }

  /// Seconds east of UTC at instant `t`.
  public func offset(at t: Millis) -> Int {
    if let f = fixedOffset { return f }
    return zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t) / 1000))
  }

  /// Local day number and milliseconds into that day.
  public func local(_ t: Millis) -> (day: Int, msOfDay: Int64) {
    let l = t + Int64(offset(at: t)) * 1000
    let day = l >= 0 ? l / 86_400_000 : (l - 86_399_999) / 86_400_000
    return (Int(day), l - day * 86_400_000)
  }

  /// The instant of local day `day` at `msOfDay`.
  public func instant(day: Int, msOfDay: Int64) -> Millis {
    let l = Int64(day) * 86_400_000 + msOfDay
    if let f = fixedOffset { return l - Int64(f) * 1000 }
    var guess = l - Int64(offset(at: l)) * 1000
    guess = l - Int64(offset(at: guess)) * 1000
    return guess
  }

  /// `t` plus `months` calendar months, the day clamped to the month's end (Jan 31 + 1 month = Feb 28).
  public func adding(months: Int, to t: Millis) -> Millis {
    let (day, ms) = local(t)
    let d = CivilDate(dayNumber: day)
    let total = d.year * 12 + (d.month - 1) + months
    let y = total >= 0 ? total / 12 : (total - 11) / 12
    let m = total - y * 12 + 1
    let dd = min(d.day, CivilDate.daysIn(year: y, month: m))
    return instant(day: CivilDate(year: y, month: m, day: dd).dayNumber, msOfDay: ms)
  }

  /// `t` plus `days` local calendar days at the same local time.
  public func adding(days: Int, to t: Millis) -> Millis {
    if fixedOffset != nil { return t + Int64(days) * 86_400_000 }
    let (day, ms) = local(t)
    return instant(day: day + days, msOfDay: ms)
  }
}

/// A compiled business calendar: weekends, holidays, make-up working days, in a zone.
public final class BusinessCalendar: Sendable {
  public let id: String
  public let clock: ZoneClock
  let weekend: [Bool]
  let holidays: Set<Int>
  /// Each holiday's name as the calendar file gives it (`国庆节、中秋节 2025`).
  let holidayNames: [Int: String]
  let workingDays: Set<Int>
  public let covers: [Int]
  /// Office hours on a working day, in minutes after local midnight.
  public let officeHours: Range<Int>
  /// A precomputed span of days: `prefix[i]` counts working days in [tableStart, tableStart + i),
  /// `workingList[k]` is the offset of the k-th working day in the span.
  let tableStart: Int
  let prefix: [Int32]
  let workingList: [Int32]

  public init?(_ decl: CalendarDecl) {
    guard let clock = ZoneClock(identifier: decl.timeZone) else { return nil }
    self.id = decl.id
    self.clock = clock
    self.weekend = (0..<7).map { decl.weekend.contains($0) }
    self.holidays = Set(decl.holidays.keys.map(\.dayNumber))
    self.holidayNames = Dictionary(decl.holidays.map { ($0.key.dayNumber, $0.value) }, uniquingKeysWith: { a, _ in a })
    self.workingDays = Set(decl.workingDays.map(\.dayNumber))
    self.covers = decl.covers
    self.officeHours = decl.officeHours
    // The table spans the calendar's years and one year either side (2000–2100 when empty).
    let years = decl.covers + decl.holidays.keys.map(\.year) + decl.workingDays.map(\.year)
    let first = CivilDate(year: (years.min() ?? 2001) - 1, month: 1, day: 1).dayNumber
    let last = CivilDate(year: (years.max() ?? 2099) + 2, month: 1, day: 1).dayNumber
    var prefix: [Int32] = [0]
    var list: [Int32] = []
    prefix.reserveCapacity(last - first + 1)
    let weekend = self.weekend
    let holidays = self.holidays
    let working = self.workingDays
    for day in first..<last {
      let isWorking = working.contains(day) || (!holidays.contains(day) && !weekend[((day % 7) + 7 + 3) % 7])
      if isWorking { list.append(Int32(day - first)) }
      prefix.append(Int32(list.count))
    }
    self.tableStart = first
    self.prefix = prefix
    self.workingList = list
  }

  /// Is local day `day` (a day number) a working day?
  public func isWorkingDay(_ day: Int) -> Bool {
    if workingDays.contains(day) { return true }
    if holidays.contains(day) { return false }
    return !weekend[((day % 7) + 7 + 3) % 7]
  }

  /// What local day `day` is on this calendar: a working day (a make-up one, 调休上班, or
  /// not), a weekend day, or a named holiday.
  public func kind(ofDay day: Int) -> CalendarDay.Kind {
    if workingDays.contains(day) { return .makeUpWorkingDay }
    if holidays.contains(day) { return .holiday(holidayNames[day] ?? "") }
    return weekend[((day % 7) + 7 + 3) % 7] ? .weekend : .workingDay
  }

  /// 23:59:59 local time of the `n`th working day after the local date of `t` (that date never counts).
  public func adding(workingDays n: Int, to t: Millis) -> Millis {
    var none: [CalendarDay]? = nil
    return adding(workingDays: n, to: t, walk: &none)
  }

  /// `adding(workingDays:to:)`, and when `walk` is not nil, every day it stepped over appended
  /// to it (the days counted and the days skipped, in order): what an explanation shows.
  /// Without a walk to record, the precomputed table answers without stepping day by day.
  public func adding(workingDays n: Int, to t: Millis, walk: inout [CalendarDay]?) -> Millis {
    var day = clock.local(t).day
    var limit = 3660
    // Inside the table: the n-th working day after `day` by index, no day-by-day walk (a walk
    // to record goes as far as the table's answer, however far that is).
    let offset = day + 1 - tableStart
    if n > 0, offset >= 0, offset < prefix.count {
      let k = Int(prefix[offset]) + n - 1
      if k < workingList.count {
        let target = tableStart + Int(workingList[k])
        if walk == nil { return clock.instant(day: target, msOfDay: 86_399_000) }
        limit = max(limit, target - day)
      }
    }
    var left = n
    var guardDays = 0
    while left > 0, guardDays < limit {
      day += 1
      guardDays += 1
      let kind = kind(ofDay: day)
      walk?.append(CalendarDay(day: day, kind: kind))
      if kind.isWorking { left -= 1 }
    }
    return clock.instant(day: day, msOfDay: 86_399_000)
  }

  /// The first working day after local day `day`.
  public func nextWorkingDay(after day: Int) -> Int {
    clock.local(adding(workingDays: 1, to: clock.instant(day: day, msOfDay: 0))).day
  }

  /// When a notice caused at `t` goes out (POLICY §3): `once` at `t`; `office_hours` at `t`
  /// when it falls within office hours of a working day, otherwise when the next office hours
  /// start; `next_working_day` when office hours start on the next working day.
  public func noticeTime(_ t: Millis, _ when: Duty.When) -> Millis {
    let start = Int64(officeHours.lowerBound) * 60_000
    let end = Int64(officeHours.upperBound) * 60_000
    let (day, ms) = clock.local(t)
    switch when {
    case .once:
      return t
    case .officeHours:
      if isWorkingDay(day) {
        if ms < start { return clock.instant(day: day, msOfDay: start) }
        if ms < end { return t }
      }
      return clock.instant(day: nextWorkingDay(after: day), msOfDay: start)
    case .nextWorkingDay:
      return clock.instant(day: nextWorkingDay(after: day), msOfDay: start)
    }
  }

  /// Whether a local day lies in the years this calendar lists holidays for.
  public func covers(day: Int) -> Bool {
    covers.isEmpty || covers.contains(CivilDate(dayNumber: day).year)
  }

}

/// One local day a working-day count stepped over, and what it was.
public struct CalendarDay: Sendable, Hashable {
  public enum Kind: Sendable, Hashable {
    case workingDay
    /// A weekend day worked in exchange for a holiday (调休上班): it counts.
    case makeUpWorkingDay
    case weekend
    /// A public holiday, with its name from the calendar file.
    case holiday(String)

    public var isWorking: Bool {
      switch self {
      case .workingDay, .makeUpWorkingDay: true
      case .weekend, .holiday: false
      }
    }
  }
  /// The local day number (`CivilDate(dayNumber:)`).
  public var day: Int
  public var kind: Kind

  public init(day: Int, kind: Kind) {
    self.day = day
    self.kind = kind
  }
}

extension RuleDuration {
  /// `t + self` on the calendar.
  public func added(to t: Millis, calendar: BusinessCalendar) -> Millis {
    var none: [CalendarDay]? = nil
    return added(to: t, calendar: calendar, walk: &none)
  }

  /// `t + self` on the calendar; for working days, the days stepped over are appended to
  /// `walk` when it is not nil (see `BusinessCalendar.adding(workingDays:to:walk:)`).
  public func added(to t: Millis, calendar: BusinessCalendar, walk: inout [CalendarDay]?) -> Millis {
    switch unit {
    case .seconds: t + Int64(amount) * 1000
    case .minutes: t + Int64(amount) * 60_000
    case .hours: t + Int64(amount) * 3_600_000
    case .days: calendar.clock.adding(days: amount, to: t)
    case .weeks: calendar.clock.adding(days: amount * 7, to: t)
    case .months: calendar.clock.adding(months: amount, to: t)
    case .workingDays: calendar.adding(workingDays: amount, to: t, walk: &walk)
    }
  }
}
