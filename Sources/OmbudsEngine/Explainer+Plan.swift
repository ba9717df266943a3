import OmbudsRules
import OmbudsScreening
import OmbudsSyntax

/// The deadline, refund and screening parts of an explanation.
extension Explainer {
  /// Each deadline a rule applies to: the rule, the start, the end it gives and, for working
  /// days, the calendar walk (the same arithmetic that set the deadline, recording its steps).
  func deadlines(_ decision: Decision) -> [DeadlineExplanation] {
    var out: [DeadlineExplanation] = []
    for (i, decl) in rules.ruleSet.deadlines.enumerated() where i < rules.deadlineRules.count {
      let compiled = rules.deadlineRules[i]
      // The rule the decision recorded when it set the deadline; while the deadline is not
      // set, the first rule whose `when` holds (its start is not known yet).
      let recorded = i < decision.deadlineRules.count ? Int(decision.deadlineRules[i]) : -1
      guard
        let k = recorded >= 0
          ? recorded
          : compiled.indices.first(where: { compiled[$0].when < 0 || holds(compiled[$0].when, decision.level) }),
        k < decl.rules.count
      else { continue }
      let rule = decl.rules[k]
      let base = facts.numbers[rule.baseSlot]
      let start: Millis? = base == CaseFacts.null ? nil : base
      let calendar = rules.deadlineCalendars[i]
      var walk: [CalendarDay]? = rule.add.unit == .workingDays ? [] : nil
      let end = start.map { rule.add.added(to: $0, calendar: calendar, walk: &walk) }
      let uncovered = Set(
        (walk ?? []).filter { !calendar.covers(day: $0.day) }.map { CivilDate(dayNumber: $0.day).year })
      out.append(
        DeadlineExplanation(
          deadline: decl.id, label: decl.label, rule: k, when: rule.when?.text, source: rule.location,
          base: rule.baseName, baseLabel: rules.ruleSet.field(rule.baseName)?.label, start: start, add: rule.add,
          calendar: calendar.id, calendarLabel: rules.ruleSet.calendars.first { $0.id == calendar.id }?.label,
          end: end, due: i < decision.deadlines.count ? decision.deadlines[i] : nil, walk: walk ?? [],
          uncoveredYears: uncovered.sorted()))
    }
    return out
  }

  /// The refund approver: the amount as given and converted, the tier and its bounds.
  func refund(_ decision: Decision) -> RefundExplanation? {
    guard let policy = rules.ruleSet.refund, let slot = rules.refundSlot,
      let field = rules.ruleSet.fields.first(where: { $0.type != .string && $0.slot == slot })
    else { return nil }
    var out = RefundExplanation(field: field.id, label: field.label)
    let v = facts.numbers[slot]
    guard v != CaseFacts.null else { return out }
    let converted = Money(units: v, currency: policy.currency)
    out.given = facts.originalMoney ?? converted
    out.converted = converted
    if let given = facts.originalMoney, given.currency != policy.currency {
      out.rate = policy.equivalents[given.currency]
    }
    if let t = policy.tiers.indices.first(where: { v > policy.tiers[$0].above && v <= (policy.tiers[$0].upTo ?? .max) })
    {
      let tier = policy.tiers[t]
      out.tier = t
      out.above = Money(units: tier.above, currency: policy.currency)
      out.upTo = tier.upTo.map { Money(units: $0, currency: policy.currency) }
      out.source = tier.location
      out.approver = tier.approver
      out.approverLabel = rules.ruleSet.roles.first { $0.id == tier.approver }?.label
    }
    return out
  }

  /// Each screening match: keyword, category, the span as written and as normalized; then
  /// each keyword found but not reported, with the exception phrase that contains it.
  func screening(_ decision: Decision) -> [ScreeningExplanation] {
    guard let automaton = rules.screening, !facts.text.isEmpty else { return [] }
    var reported = screening(decision.matches, automaton)
    guard automaton.hasExceptions else { return reported }
    var text = facts.text
    var raw: [Match] = []
    text.withUTF8 { automaton.scanRaw($0) { raw.append($0) } }
    let kept = Set(decision.matches)
    let exceptions = raw.filter { automaton.patterns[Int($0.pattern)].isException }
    for m in raw where !automaton.patterns[Int(m.pattern)].isException && !kept.contains(m) {
      let category = automaton.patterns[Int(m.pattern)].category
      guard
        let e = exceptions.first(where: {
          automaton.patterns[Int($0.pattern)].category == category && $0.start <= m.start && $0.end >= m.end
        }), var item = screening([m], automaton).first
      else { continue }
      let phrase = automaton.patterns[Int(e.pattern)].text
      item.suppressedBy = phrase
      if Int(category) < rules.ruleSet.categories.count {
        item.exceptionSource = rules.ruleSet.categories[Int(category)].exceptions.first { $0.value == phrase }?.location
      }
      reported.append(item)
    }
    return reported
  }

  func screening(_ matches: [Match], _ automaton: KeywordAutomaton) -> [ScreeningExplanation] {
    let scalars = Array(facts.text.unicodeScalars)
    return matches.compactMap { m in
      guard Int(m.pattern) < automaton.patterns.count else { return nil }
      let pattern = automaton.patterns[Int(m.pattern)]
      guard Int(pattern.category) < rules.ruleSet.categories.count else { return nil }
      let category = rules.ruleSet.categories[Int(pattern.category)]
      let lo = min(max(m.start, 0), scalars.count)
      let hi = min(max(m.end, lo), scalars.count)
      var original = String.UnicodeScalarView()
      original.append(contentsOf: scalars[lo..<hi])
      var normalized = String.UnicodeScalarView()
      normalized.append(
        contentsOf: Normalizer.fold(String(original)).compactMap(Unicode.Scalar.init).filter { $0 != "\n" })
      return ScreeningExplanation(
        keyword: pattern.text, category: category.id, categoryLabel: category.label,
        source: category.keywords.first { $0.value == pattern.text }?.location, start: m.start, end: m.end,
        original: String(original), normalized: String(normalized), disguise: nil)
    }
  }
}

extension RefundExplanation {
  init(field: String, label: String?) {
    self.init(
      field: field, label: label, given: nil, converted: nil, rate: nil, tier: nil, above: nil, upTo: nil, source: nil,
      approver: nil, approverLabel: nil)
  }
}
