import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Pass `deadlines`: which rule gives each deadline, on which calendar, and its extension cap.
extension CheckState {
  mutating func checkDeadlines() {
    for pair in entries("deadlines") {
      let context = Ctx.deadline(pair.key.value)
      var rulesNode: YAMLNode?
      var label: String?
      var calendar = defaultCalendar ?? calendars.first?.id ?? ""
      var maximum: RuleDuration?
      if pair.value.items != nil {
        rulesNode = pair.value
      } else if let keys = reader.mapping(pair.value, context, shape: RuleShapes.deadline) {
        rulesNode = keys["rules"]?.value
        label = reader.string(keys["label"]?.value, context.key("label"))
        if let c = reader.identifier(keys["calendar"]?.value, context.key("calendar")) {
          if calendars.contains(where: { $0.id == c.value }) {
            calendar = c.value
          } else {
            reader.error(
              .undefinedCalendar, Messages.undefined(.calendar, c.value), at: c.location,
              length: c.value.unicodeScalars.count,
              help: Suggest.didYouMean(for: c.value, in: calendars.map(\.id), kind: .calendar))
          }
        }
        maximum = reader.duration(keys["max"]?.value, context.key("max"))
      }
      var rules: [DeadlineRule] = []
      for node in reader.list(rulesNode, context.key("rules")) ?? [] {
        guard let r = reader.mapping(node, context.part("rule", "规则"), shape: RuleShapes.deadlineRule) else {
          continue
        }
        let when = r["when"].flatMap { item($0.value, .general) }
        guard let dueNode = r["due"]?.value, let due = reader.expression(dueNode, context.key("due")) else { continue }
        guard case .plus(.name(let baseName, let bspan), .duration(let d, let dspan), _) = due else {
          reader.error(
            .typeMismatch, LocalizedText(en: "a due time is a timestamp plus a duration", zh: "到期时间是时间戳加上时长"),
            at: due.span.location, length: due.span.length,
            help: LocalizedText(en: "e.g. `received_at + 24 hours`", zh: "例如 `received_at + 24 hours`"))
          continue
        }
        guard let f = fields.first(where: { $0.id == baseName }) else {
          reader.error(
            .unknownField, Messages.unknownField(baseName), at: bspan.location, length: bspan.length,
            help: Suggest.didYouMean(for: baseName, in: fields.filter { $0.type == .timestamp }.map(\.id), kind: .field)
          )
          continue
        }
        guard f.type == .timestamp else {
          reader.error(
            .typeMismatch, LocalizedText(en: "`\(baseName)` is not a timestamp", zh: "\(.field, baseName) 不是时间戳"),
            at: bspan.location,
            length: bspan.length,
            help: Suggest.didYouMean(for: baseName, in: fields.filter { $0.type == .timestamp }.map(\.id), kind: .field)
          )
          continue
        }
        guard let add = reader.positive(d, dspan) else { continue }
        if add.unit == .workingDays, calendars.isEmpty {
          reader.error(
            .undefinedCalendar, Messages.workingDaysNeedCalendar,
            at: dspan.location, length: dspan.length)
        }
        rules.append(DeadlineRule(when: when, baseSlot: f.slot, baseName: baseName, add: add, location: node.location))
      }
      deadlines.append(
        DeadlineDecl(
          id: pair.key.value, label: label, calendar: calendar, rules: rules, maximum: maximum,
          location: pair.key.location))
    }
  }
}
