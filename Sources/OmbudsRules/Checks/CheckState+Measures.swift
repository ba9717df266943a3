import Foundation
import OmbudsSyntax

/// Pass `measures`: the satisfaction scale a follow-up records and the measures of the
/// quality bulletin (POLICY §7, RuleLanguage.md §18). After `deadlines`: a measure may name
/// a deadline.
extension CheckState {

  mutating func checkMeasures() {
    for pair in entries("satisfaction") {
      let context = Ctx.satisfaction(pair.key.value)
      var label: String?
      if case .scalar = pair.value, !pair.value.isNull {
        label = reader.string(pair.value, context)
      } else if let keys = reader.mapping(pair.value, context, shape: RuleShapes.satisfactionLevel) {
        label = reader.string(keys["label"]?.value, context.key("label"))
      }
      guard let label else { continue }
      satisfaction.append(SatisfactionLevel(id: pair.key.value, label: label, location: pair.key.location))
    }
    for pair in entries("measures") {
      if let measure = measure(pair) { measures.append(measure) }
    }
  }

  mutating func measure(_ pair: YAMLNode.Pair) -> MeasureDecl? {
    let context = Ctx.measure(pair.key.value)
    guard
      let keys = reader.mapping(pair.value, context, shape: RuleShapes.measure)
    else { return nil }
    let label = reader.string(keys["label"]?.value, context.key("label"))
    var cohort: MeasureCohort?
    if let node = keys["cohort"]?.value, let text = reader.string(node, context.key("cohort")) {
      cohort = MeasureCohort(rawValue: text)
      if cohort == nil {
        let values = MeasureCohort.allCases.map(\.rawValue)
        reader.error(
          .unknownValue,
          LocalizedText(
            en: "a measure's `cohort` is `received` or `resolved`, not `\(text)`",
            zh: "指标的 `cohort` 只能是 `received` 或 `resolved`，不能是 `\(text)`"), at: node.location,
          length: max(1, text.unicodeScalars.count),
          help: Suggest.didYouMean(for: text, in: values)
            ?? LocalizedText(
              en: "`received`: the cases received in the period; `resolved`: those resolved in it",
              zh: "`received`：期间内受理的案件；`resolved`：期间内解决的案件"))
      }
    }
    let numerator = keys["numerator"].flatMap { measureCondition($0.value, context.key("numerator")) }
    let denominator = keys["denominator"].flatMap { measureCondition($0.value, context.key("denominator")) }
    var floor: Int64?
    if let node = keys["floor"]?.value { floor = measureFloor(node, context.key("floor")) }
    let description = reader.string(keys["description"]?.value, context.key("description"))
    guard let label, let cohort, let numerator, let denominator else { return nil }
    if keys["floor"] != nil, floor == nil { return nil }
    return MeasureDecl(
      id: pair.key.value, label: label, cohort: cohort, numerator: numerator, denominator: denominator,
      floorUnits: floor, description: description, location: pair.key.location)
  }

  /// `{event: accept}`, `{events: [accept, reject], within: 24 hours}`, `{resolved: true, by:
  /// resolve_by}`, `{satisfaction: [satisfied, fairly_satisfied]}`.
  mutating func measureCondition(_ node: YAMLNode, _ context: Context) -> MeasureCondition? {
    guard let keys = reader.mapping(node, context, shape: RuleShapes.measureCondition) else { return nil }
    var condition = MeasureCondition(location: node.location)
    var valid = true
    if keys["event"] != nil, let both = keys["events"] {
      reader.error(
        .conditionShape,
        LocalizedText(
          en: "\(context.en): write `event` or `events`, not both", zh: "\(context)：`event` 和 `events` 只能写一个"),
        at: both.key.location, length: 6)
      valid = false
    }
    for key in ["event", "events"] {
      guard let pair = keys[key] else { continue }
      if key == "event", pair.value.items != nil {
        reader.typeError(
          pair.value,
          expected: Expected.words("one event type (or write `events: [...]`)", "一个事件类型（或写 `events: [...]`）"),
          in: context.part("event", "事件"))
        valid = false
        continue
      }
      guard let types = reader.identifiers(pair.value, context.key(key)) else {
        valid = false
        continue
      }
      if types.isEmpty {
        reader.error(
          .conditionShape,
          LocalizedText(en: "\(context.en): `\(key)` lists no event type", zh: "\(context)：`\(key)` 没有列出事件类型"),
          at: pair.value.location)
        valid = false
      }
      for type in types {
        guard EventTypes.all.contains(type.value) else {
          reader.error(
            .unknownEventType, Messages.unknownListed("event type", type.value), at: type.location,
            length: type.value.unicodeScalars.count,
            help: Suggest.didYouMean(for: type.value, in: EventTypes.all)
              ?? Messages.listedWords("event types", EventTypes.all))
          valid = false
          continue
        }
        if !condition.events.contains(type.value) { condition.events.append(type.value) }
      }
    }
    if let pair = keys["resolved"] {
      if let value = reader.bool(pair.value, context.key("resolved")) {
        if !value {
          reader.error(
            .trueOnly,
            LocalizedText(
              en: "\(context.en): `resolved` is `true` or left out", zh: "\(context)：`resolved` 只能是 `true` 或省略"),
            at: pair.value.location, length: pair.value.scalarText.map { $0.unicodeScalars.count } ?? 1,
            help: LocalizedText(
              en: "to count the unresolved cases, count the resolved ones and subtract",
              zh: "要统计未解决的案件，请统计已解决的案件再相减"))
          valid = false
        }
        condition.resolved = value
      } else {
        valid = false
      }
    }
    if let pair = keys["satisfaction"] {
      guard let ids = reader.identifiers(pair.value, context.key("satisfaction")) else { return nil }
      if ids.isEmpty {
        reader.error(
          .conditionShape,
          LocalizedText(en: "\(context.en): `satisfaction` lists no answer", zh: "\(context)：`satisfaction` 没有列出任何答案"),
          at: pair.value.location)
        valid = false
      }
      let known = satisfaction.map(\.id)
      for id in ids {
        guard known.contains(id.value) else {
          reader.error(
            .undefinedSatisfaction,
            LocalizedText(en: "undefined satisfaction `\(id.value)`", zh: "未定义的满意度 `\(id.value)`"), at: id.location,
            length: id.value.unicodeScalars.count,
            help: Suggest.didYouMean(for: id.value, in: known)
              ?? (known.isEmpty
                ? LocalizedText(
                  en: "define the answers in a `satisfaction:` section (satisfied: 满意, …)",
                  zh: "请在 `satisfaction:` 部分定义答案（satisfied: 满意, …）")
                : Messages.listedWords("satisfaction", known)))
          valid = false
          continue
        }
        if !condition.satisfaction.contains(id.value) { condition.satisfaction.append(id.value) }
      }
    }
    if keys["by"] != nil, let within = keys["within"] {
      reader.error(
        .conditionShape,
        LocalizedText(
          en: "\(context.en): write `by` (a deadline) or `within` (a duration), not both",
          zh: "\(context)：`by`（期限）和 `within`（时长）只能写一个"),
        at: within.key.location, length: 6)
      valid = false
    }
    if let pair = keys["by"], let id = reader.identifier(pair.value, context.key("by")) {
      if deadlines.contains(where: { $0.id == id.value }) {
        condition.deadline = .deadline(id.value)
      } else {
        let known = deadlines.map(\.id)
        reader.error(
          .undefinedDeadline, Messages.undefined(.deadline, id.value), at: id.location,
          length: id.value.unicodeScalars.count,
          help: Suggest.didYouMean(for: id.value, in: known, kind: .deadline)
            ?? (known.isEmpty
              ? LocalizedText(en: "no deadlines are defined", zh: "没有定义任何期限")
              : Messages.listedWords("deadlines", known)))
        valid = false
      }
    } else if keys["by"] != nil {
      valid = false
    }
    if let pair = keys["within"] {
      if let d = reader.duration(pair.value, context.key("within")) {
        if d.unit == .workingDays, calendars.isEmpty {
          reader.error(
            .undefinedCalendar, Messages.workingDaysNeedCalendar, at: pair.value.location,
            length: pair.value.scalarText.map { $0.unicodeScalars.count } ?? 1)
          valid = false
        }
        condition.deadline = .within(d)
      } else {
        valid = false
      }
    }
    if keys["event"] == nil, keys["events"] == nil, keys["resolved"] == nil, keys["satisfaction"] == nil {
      reader.error(
        .missingKey,
        LocalizedText(
          en: "\(context.en) needs `event`, `events`, `resolved` or `satisfaction`",
          zh: "\(context) 需要 `event`、`events`、`resolved` 或 `satisfaction`"), at: node.location,
        help: LocalizedText(
          en: "e.g. `{event: accept}`, `{resolved: true, by: resolve_by}`",
          zh: "例如 `{event: accept}`、`{resolved: true, by: resolve_by}`"))
      return nil
    }
    if condition.deadline != nil, condition.events.isEmpty, !condition.resolved, valid,
      let timing = keys["by"] ?? keys["within"]
    {
      reader.error(
        .conditionShape,
        LocalizedText(
          en: "\(context.en): `\(timing.key.value)` times an event or the resolution",
          zh: "\(context)：`\(timing.key.value)` 计的是事件或解决的时间"),
        at: timing.key.location, length: timing.key.value.unicodeScalars.count,
        help: LocalizedText(en: "add `events: [...]` or `resolved: true`", zh: "请加上 `events: [...]` 或 `resolved: true`")
      )
      return nil
    }
    return valid ? condition : nil
  }

  /// `85%`, `92.5 %` or `85`: a percentage from 0 to 100, in units of 10⁻⁴.
  mutating func measureFloor(_ node: YAMLNode, _ context: Context) -> Int64? {
    guard case .scalar(let s, _) = node, !node.isNull else {
      reader.typeError(node, expected: Expected.words("a percentage such as `85%`", "百分比，如 `85%`"), in: context)
      return nil
    }
    var text = Substring(s.value)
    if text.hasSuffix("%") { text = text.dropLast() }
    while text.last == " " { text = text.dropLast() }
    let length = s.value.unicodeScalars.count
    guard let units = Money.parseUnits(text) else {
      if Reader.isDecimalText(String(text)) {
        reader.numberRange(
          node,
          LocalizedText(
            en:
              "\(context.en): `\(s.value)` is out of range: a floor is a percentage with at most \(Money.scaleDigits) places",
            zh: "\(context)：`\(s.value)` 超出范围：下限是百分比，最多 \(Money.scaleDigits) 位小数"))
      } else {
        reader.typeError(node, expected: Expected.words("a percentage such as `85%`", "百分比，如 `85%`"), in: context)
      }
      return nil
    }
    guard units >= 0, units <= 100 * Money.scale else {
      reader.error(
        .measureFloor,
        LocalizedText(
          en: "\(context.en): `\(s.value)` is not a percentage from 0 to 100 %",
          zh: "\(context)：`\(s.value)` 不是 0 到 100 % 之间的百分比"), at: s.location, length: length,
        help: LocalizedText(en: "a floor is a share of the cases, e.g. `85%`", zh: "下限是案件所占的比例，例如 `85%`"))
      return nil
    }
    return units
  }
}
