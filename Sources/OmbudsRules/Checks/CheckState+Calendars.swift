import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Pass `calendars`: business calendars — zones, weekends, holidays, make-up days, office hours.
extension CheckState {
  mutating func checkCalendars() {
    let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    for pair in entries("calendars") {
      let context = Ctx.calendar(pair.key.value)
      guard
        let keys = reader.mapping(pair.value, context, shape: RuleShapes.calendar)
      else { continue }
      var tz = timeZone
      if let node = keys["time_zone"]?.value, let id = reader.string(node, context.key("time_zone")) {
        if TimeZone(identifier: id) == nil {
          reader.error(
            .unknownTimeZone, Messages.unknownTimeZone(id), at: node.location,
            length: id.unicodeScalars.count,
            help: Suggest.didYouMean(for: id, in: TimeZone.knownTimeZoneIdentifiers)
              ?? Messages.useIANAName)
        } else {
          tz = id
        }
      }
      var weekend: Set<Int> = [5, 6]
      if let node = keys["weekend"]?.value, let days = reader.identifiers(node, context.key("weekend")) {
        weekend = []
        for d in days {
          if let i = weekdays.firstIndex(of: d.value.lowercased()) {
            weekend.insert(i)
          } else {
            reader.error(
              .unknownValue, Messages.notAWeekday(d.value), at: d.location,
              length: d.value.unicodeScalars.count, help: Suggest.didYouMean(for: d.value, in: weekdays))
          }
        }
      }
      var covers: [Int] = []
      if let node = keys["covers"]?.value, let items = reader.list(node, context.key("covers")) {
        for item in items {
          guard let year = reader.integer(item, context.key("covers")) else { continue }
          guard (1900...2200).contains(year) else {
            reader.error(
              .dateRange, Messages.coversYear(context, year),
              at: item.location, length: item.scalarText?.unicodeScalars.count ?? 1)
            continue
          }
          covers.append(Int(year))
        }
      }
      var holidays: [CivilDate: String] = [:]
      var holidayLocations: [CivilDate: SourceLocation] = [:]
      var holidayEntries: [CivilDate: SourceLocation] = [:]
      for item in reader.list(keys["holidays"]?.value, context.key("holidays")) ?? [] {
        var dates: [(CivilDate, SourceLocation)] = []
        var name = ""
        if case .scalar = item {
          if let d = reader.date(item, context.part("holiday", "假日")) { dates.append((d, item.location)) }
        } else if let h = reader.mapping(item, context.part("holiday", "假日"), shape: RuleShapes.holiday) {
          name = reader.string(h["name"]?.value, Ctx.words("holiday name", "假日名称")) ?? ""
          for d in reader.list(h["dates"]?.value, Ctx.words("holiday dates", "假日日期")) ?? [] {
            if let date = reader.date(d, Ctx.words("holiday date", "假日日期")) { dates.append((date, d.location)) }
          }
          if let fromNode = h["from"]?.value {
            guard let toNode = h["to"]?.value else {
              reader.error(.missingKey, Messages.holidayNeeds(has: "from", needs: "to"), at: item.location)
              continue
            }
            if let from = reader.date(fromNode, Ctx.words("holiday from", "假日开始日期")),
              let to = reader.date(toNode, Ctx.words("holiday to", "假日结束日期"))
            {
              if to < from {
                reader.error(
                  .dateRange, Messages.holidayEndsBeforeStart(to: "\(to)", from: "\(from)"), at: toNode.location,
                  length: 10, related: [.init(Messages.startsHere, at: fromNode.location)])
              } else if to.dayNumber - from.dayNumber > 366 {
                reader.error(.dateRange, Messages.holidayTooLong, at: toNode.location, length: 10)
              } else {
                for n in from.dayNumber...to.dayNumber { dates.append((CivilDate(dayNumber: n), fromNode.location)) }
              }
            }
          } else if h["to"] != nil {
            reader.error(.missingKey, Messages.holidayNeeds(has: "to", needs: "from"), at: item.location)
          }
          if dates.isEmpty, h["from"] == nil {
            reader.error(.missingKey, Messages.holidayNeedsDates, at: item.location)
          }
        }
        for (d, loc) in dates {
          holidays[d] = name
          if holidayLocations[d] == nil { holidayLocations[d] = loc }
          if holidayEntries[d] == nil { holidayEntries[d] = item.location }
          if !covers.isEmpty, !covers.contains(d.year) {
            reader.warning(
              .calendarCoverage,
              Messages.holidayOutsideCovers("\(d)", covers: covers),
              at: loc, length: 10, help: Messages.addToCovers(d.year))
          }
        }
      }
      var working: Set<CivilDate> = []
      var workingLocations: [CivilDate: SourceLocation] = [:]
      for item in reader.list(keys["working_days"]?.value, context.key("working_days")) ?? [] {
        guard let d = reader.date(item, context.part("working day", "调休工作日")) else { continue }
        if let h = holidayLocations[d] {
          reader.error(
            .holidayConflict, Messages.holidayAndWorkingDay("\(d)"), at: item.location, length: 10,
            related: [.init(Messages.listedAsHoliday, at: h)])
          continue
        }
        if !weekend.contains(d.weekday) {
          reader.warning(
            .redundantWorkingDay, Messages.alreadyWorkingDay("\(d)", weekday: d.weekday),
            at: item.location, length: 10)
        }
        working.insert(d)
        if workingLocations[d] == nil { workingLocations[d] = item.location }
      }
      var office = 540..<1080
      if let node = keys["office_hours"]?.value, let hours = officeHours(node, context.key("office_hours")) {
        office = hours
      }
      var decl = CalendarDecl(
        id: pair.key.value, label: reader.string(keys["label"]?.value, context.key("label")), timeZone: tz,
        weekend: weekend, holidays: holidays, workingDays: working, covers: covers, location: pair.key.location,
        officeHours: office)
      decl.holidayEntries = holidayEntries
      decl.workingDayLocations = workingLocations
      calendars.append(decl)
    }
    if let c = defaultCalendar, !calendars.contains(where: { $0.id == c }),
      let node = sections["settings"]?.first?.value["calendar"]
    {
      reader.error(
        .undefinedCalendar, Messages.undefined(.calendar, c), at: node.location, length: c.unicodeScalars.count,
        help: Suggest.didYouMean(for: c, in: calendars.map(\.id), kind: .calendar) ?? Messages.defineUnder("calendars"))
    }
  }

  /// `office_hours: {from: "09:00", to: "18:00"}`, in minutes after midnight.
  mutating func officeHours(_ node: YAMLNode, _ context: Context) -> Range<Int>? {
    guard let keys = reader.mapping(node, context, shape: RuleShapes.officeHours) else {
      return nil
    }
    func minutes(_ n: YAMLNode?) -> Int? {
      guard let n, let text = n.scalarText else { return nil }
      let parts = text.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
        (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440
      else {
        reader.error(
          .invalidTime, Messages.invalidTime(context, text), at: n.location,
          length: text.unicodeScalars.count)
        return nil
      }
      return h * 60 + m
    }
    guard let from = minutes(keys["from"]?.value), let to = minutes(keys["to"]?.value) else { return nil }
    guard from < to else {
      reader.error(
        .dateRange, Messages.officeHoursReversed(context),
        at: keys["to"]?.value.location ?? node.location, length: 5)
      return nil
    }
    return from..<to
  }
}
