import OmbudsRules
import OmbudsScreening
import OmbudsSyntax

/// Explanations: the decision's reasons with the case's values (pure; no I/O).
extension CompiledRules {
  /// Facts that name the complainant: their values are withheld from readers who may not see
  /// the identity.
  public static let identityFacts: Set<String> = ["complainant_id", "contact", "respondent"]

  /// Explains `decision`, made for `facts` at `now` (with `history` answering aggregates, as
  /// when it was made). Every truth value is asked of the evaluator itself, node by node, so
  /// the explanation cannot disagree with the decision.
  ///
  /// - Parameter identityVisible: false withholds the values of `identityFacts`.
  public func explain(
    _ facts: CaseFacts, decision: Decision, at now: Millis, history: (any CaseHistory)? = nil,
    identityVisible: Bool = true
  ) -> Explanation {
    guard !levels.isEmpty else { return Explanation(caseID: facts.id, at: now, level: "", items: []) }
    let e = Explainer(rules: self, facts: facts, now: now, history: history, identityVisible: identityVisible)
    var items: [Explanation.Item] = []
    let level = min(max(decision.level, 0), levels.count - 1)
    let reasonLevel = min(max(decision.reasonLevel, 0), levels.count - 1)
    if levels[reasonLevel].mode == .otherwise {
      items.append(.otherwise(level: levels[reasonLevel].id))
    } else {
      for r in decision.reasons where Int(r.item) < levels[reasonLevel].items.count {
        items.append(.held(e.condition(level: reasonLevel, item: Int(r.item), held: true)))
      }
    }
    if level != reasonLevel {
      items.append(.kept(level: levels[level].id, conditionsGive: levels[reasonLevel].id))
    }
    if level == 0 {
      items.append(.top(level: levels[0].id))
    } else if levels[level - 1].mode != .otherwise {
      let up = level - 1
      var missed = levels[up].items.indices.map { e.condition(level: up, item: $0, held: false) }.filter {
        $0.failing > 0
      }
      // Nearest miss first: fewest facts to change, then the smallest relative gap, then rule order.
      missed.sort { ($0.failing, $0.gap, $0.item) < ($1.failing, $1.gap, $1.item) }
      for k in missed.indices { missed[k].rank = k + 1 }
      items += missed.map { .missed($0) }
    }
    items += e.deadlines(decision).map { .deadline($0) }
    if let r = e.refund(decision) { items.append(.refund(r)) }
    items += e.screening(decision).map { .screening($0) }
    return Explanation(caseID: facts.id, at: now, level: levels[level].id, items: items)
  }
}

/// Builds the parts of an explanation for one case.
struct Explainer {
  let rules: CompiledRules
  let facts: CaseFacts
  let now: Millis
  let history: (any CaseHistory)?
  let identityVisible: Bool
  /// Declared fields by numeric slot and by string slot.
  let numeric: [Int: FieldDecl]
  let strings: [Int: FieldDecl]

  init(rules: CompiledRules, facts: CaseFacts, now: Millis, history: (any CaseHistory)?, identityVisible: Bool) {
    self.rules = rules
    self.facts = facts
    self.now = now
    self.history = history
    self.identityVisible = identityVisible
    var numeric: [Int: FieldDecl] = [:]
    var strings: [Int: FieldDecl] = [:]
    for f in rules.ruleSet.fields {
      if f.type == .string { strings[f.slot] = f } else { numeric[f.slot] = f }
    }
    self.numeric = numeric
    self.strings = strings
  }

  var currency: String { rules.ruleSet.refund?.currency ?? rules.ruleSet.currency }

  // MARK: conditions

  /// Item `item` of level `level`: for a held one, the facts that made it hold; for a missed
  /// one, the facts that failed, how many, and their relative gap.
  func condition(level: Int, item: Int, held: Bool) -> ConditionExplanation {
    let decl = rules.levels[level].items[item]
    let root = rules.levelRoots[level][item]
    var out = ConditionExplanation(
      level: rules.levels[level].id, item: item, condition: decl.text, source: decl.location, facts: [])
    if held {
      support(root, want: true, level, &out.facts)
    } else {
      let (n, g) = cost(root, want: true, level)
      out.failing = n
      out.gap = g
      if n > 0 { failing(root, want: true, level, &out.facts) }
    }
    return out
  }

  func holds(_ i: Int32, _ level: Int) -> Bool { rules.holds(i, facts, now, history, level) }

  func children(_ node: Node) -> [Int32] {
    (Int(node.first)..<(Int(node.first) + Int(node.count))).map { rules.program.children[$0] }
  }

  /// Whether node `i` needs all its children to come out `want` (an `and` wanted true, an
  /// `or` wanted false) rather than one of them.
  func needsAll(_ node: Node, _ want: Bool) -> Bool { (node.kind == .and) == want }

  /// The leaves that made node `i` come out `want`.
  func support(_ i: Int32, want: Bool, _ level: Int, _ out: inout [FactCheck]) {
    let node = rules.program.nodes[Int(i)]
    switch node.kind {
    case .and, .or:
      for c in children(node) where needsAll(node, want) || holds(c, level) == want {
        support(c, want: want, level, &out)
      }
    case .not:
      support(rules.program.children[Int(node.first)], want: !want, level, &out)
    default:
      out.append(fact(i, negated: !want, level))
    }
  }

  /// The leaves that keep node `i` from coming out `want`.
  func failing(_ i: Int32, want: Bool, _ level: Int, _ out: inout [FactCheck]) {
    let node = rules.program.nodes[Int(i)]
    switch node.kind {
    case .and, .or:
      for c in children(node) where holds(c, level) != want { failing(c, want: want, level, &out) }
    case .not:
      failing(rules.program.children[Int(node.first)], want: !want, level, &out)
    default:
      out.append(fact(i, negated: !want, level))
    }
  }

  /// How many leaves must change for node `i` to come out `want` (the cheapest branch of a
  /// choice), and the sum of their relative gaps.
  func cost(_ i: Int32, want: Bool, _ level: Int) -> (Int, Double) {
    let node = rules.program.nodes[Int(i)]
    switch node.kind {
    case .and, .or:
      let costs = children(node).map { cost($0, want: want, level) }
      if needsAll(node, want) {
        return costs.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
      }
      return costs.min { ($0.0, $0.1) < ($1.0, $1.1) } ?? (0, 0)
    case .not:
      return cost(rules.program.children[Int(node.first)], want: !want, level)
    default:
      if holds(i, level) == want { return (0, 0) }
      return (1, relativeGap(fact(i, negated: !want, level)))
    }
  }

  /// A failing comparison's gap relative to its threshold: |threshold − value| ÷ |threshold|
  /// for numbers and times (at most 1 when the threshold is 0), 1 for any other kind.
  func relativeGap(_ f: FactCheck) -> Double {
    switch (f.gap, f.expected) {
    case (.elapsed(let g)?, .duration(_, let reached)):
      let length = reached - facts.receivedAt
      return length > 0 ? Double(g) / Double(length) : 1
    case (.number?, _):
      guard let raw = rawGap(f) else { return 1 }
      return raw.threshold == 0 ? 1 : Double(raw.gap) / Double(raw.threshold.magnitude)
    default:
      return 1
    }
  }

  /// The threshold and the gap of a numeric comparison, in slot units; nil when not numeric.
  func rawGap(_ f: FactCheck) -> (threshold: Int64, gap: Int64)? {
    guard case .number = f.value, let t = f.thresholdUnits, let v = f.valueUnits else { return nil }
    let (d, o) = t.subtractingReportingOverflow(v)
    return o ? nil : (t, d.magnitude > UInt64(Int64.max) ? Int64.max : Int64(d.magnitude))
  }

  /// The comparison leaf `i` makes, as it must hold (`negated` folds in an enclosing `not`).
  func fact(_ i: Int32, negated: Bool, _ level: Int) -> FactCheck {
    let node = rules.program.nodes[Int(i)]
    let holdsNow = holds(i, level) != negated
    let op = negated ? node.op.negation : node.op
    switch node.kind {
    case .constant:
      return FactCheck(
        kind: .constant, fact: "true", label: nil, value: .bool(node.k != 0), op: .eq, expected: .bool(!negated),
        holds: holdsNow)
    case .flag:
      let f = numeric[Int(node.slot)]
      let v = facts.numbers[Int(node.slot)]
      return FactCheck(
        kind: .flag, fact: f?.id ?? "?", label: f?.label, value: v == CaseFacts.null ? .empty : .bool(v == 1), op: .eq,
        expected: .bool(!negated), holds: holdsNow)
    case .compare:
      let f = numeric[Int(node.slot)]
      let v = facts.numbers[Int(node.slot)]
      var check = FactCheck(
        kind: .compare, fact: f?.id ?? "?", label: f?.label, value: display(v, f), op: op,
        expected: display(node.k, f, given: false), holds: holdsNow)
      check.valueUnits = v == CaseFacts.null ? nil : v
      check.thresholdUnits = node.k
      if !holdsNow, v != CaseFacts.null, case .number = check.value { check.gap = gap(v, node.k, op, f) }
      return check
    case .isNull:
      let f = numeric[Int(node.slot)]
      return FactCheck(
        kind: .empty, fact: f?.id ?? "?", label: f?.label, value: display(facts.numbers[Int(node.slot)], f),
        op: negated ? .ne : .eq, expected: .empty, holds: holdsNow)
    case .oneOf:
      let f = numeric[Int(node.slot)]
      var names: [String] = []
      if case .enumeration(let values)? = f?.type {
        for (k, n) in values.enumerated() where k < 64 && UInt64(bitPattern: node.k) & (1 << UInt64(k)) != 0 {
          names.append(n)
        }
      }
      return FactCheck(
        kind: .oneOf, fact: f?.id ?? "?", label: f?.label, value: display(facts.numbers[Int(node.slot)], f),
        op: negated ? .ne : .eq, expected: .names(names), holds: holdsNow)
    case .stringEquals, .stringIsNull:
      let f = strings[Int(node.slot)]
      let hide = !identityVisible && CompiledRules.identityFacts.contains(f?.id ?? "")
      let s = facts.strings[Int(node.slot)]
      let value: FactCheck.Value = hide ? .hidden : s.map { .name($0) } ?? .empty
      let expected: FactCheck.Value =
        node.kind == .stringIsNull ? .empty : hide ? .hidden : .name(rules.program.strings[Int(node.first)])
      return FactCheck(
        kind: node.kind == .stringIsNull ? .empty : .text, fact: f?.id ?? "?", label: f?.label, value: value,
        op: negated ? .ne : .eq, expected: expected, holds: holdsNow)
    case .openForFixed, .openForCalendar:
      let end = min(facts.resolvedAt ?? now, now)
      let elapsed = end - facts.receivedAt
      let duration: RuleDuration
      let reached: Millis
      if node.kind == .openForFixed {
        duration = Self.duration(ms: node.k)
        reached = facts.receivedAt + node.k
      } else {
        duration = rules.program.durations[Int(node.first)]
        reached = rules.threshold(Int(node.first), facts.receivedAt)
      }
      var check = FactCheck(
        kind: .openFor, fact: "open_for", label: "受理以来时长", value: .elapsed(elapsed), op: op,
        expected: .duration(duration, reachedAt: reached), holds: holdsNow)
      if !holdsNow, op == .ge || op == .gt { check.gap = .elapsed(reached - facts.receivedAt - elapsed) }
      return check
    case .sameIssue:
      let n = rules.sameIssueCount(node, facts, now, history)
      let window = rules.program.windows[Int(node.first)]
      var check = FactCheck(
        kind: .sameIssue, fact: "same_issue_complainants(within: \(window))", label: "同一投诉的不同投诉人数",
        value: .number("\(n)"), op: op, expected: .number("\(node.k)"), holds: holdsNow)
      check.valueUnits = n
      check.thresholdUnits = node.k
      if !holdsNow { check.gap = gap(n, node.k, op, nil) }
      return check
    case .level:
      let count = rules.levels.count
      func id(_ rank: Int64) -> String {
        let index = count - 1 - Int(clamping: rank)
        return index >= 0 && index < count ? rules.levels[index].id : "\(rank)"
      }
      return FactCheck(
        kind: .level, fact: "level", label: "级别", value: .name(id(Int64(count - 1 - level))), op: op,
        expected: .name(id(node.k)), holds: holdsNow)
    case .and, .or, .not:
      // Not a leaf: never asked (support and failing recurse into these).
      return FactCheck(
        kind: .constant, fact: "?", label: nil, value: .empty, op: .eq, expected: .empty, holds: holdsNow)
    }
  }

  /// How far `v` is from satisfying `v op k` (ordered comparisons only; nil otherwise).
  func gap(_ v: Int64, _ k: Int64, _ op: CompareOp, _ f: FieldDecl?) -> FactCheck.Value? {
    let (d, o) = k.subtractingReportingOverflow(v)
    guard !o else { return nil }
    let whole = f == nil || f?.type == .integer
    var g: Int64
    switch op {
    case .ge, .le: g = d.magnitude <= UInt64(Int64.max) ? Int64(d.magnitude) : Int64.max
    case .gt, .lt:
      g = d.magnitude <= UInt64(Int64.max) ? Int64(d.magnitude) : Int64.max
      if whole, g < Int64.max { g += 1 }
    default: return nil
    }
    return display(g, f, given: false)
  }

  /// A slot value as shown, by its field's type; `given`: an amount converted from another
  /// currency shows the amount as given too.
  func display(_ v: Int64, _ f: FieldDecl?, given: Bool = true) -> FactCheck.Value {
    if v == CaseFacts.null { return .empty }
    if let f, !identityVisible, CompiledRules.identityFacts.contains(f.id) { return .hidden }
    switch f?.type {
    case .bool?: return .bool(v == 1)
    case .decimal?: return .number(Money.format(units: v))
    case .money?:
      // An amount given in another currency is compared converted: both are shown.
      let converted = Money(units: v, currency: currency).description
      if given, f?.slot == rules.refundSlot, let original = facts.originalMoney, original.currency != currency {
        return .number("\(converted) (= \(original))")
      }
      return .number(converted)
    case .timestamp?: return .name(RFC3339.format(v, offsetSeconds: rules.calendar.clock.offset(at: v)))
    case .enumeration(let values)?: return v >= 0 && v < values.count ? .name(values[Int(v)]) : .number("\(v)")
    default: return .number("\(v)")
    }
  }

  /// A fixed length of time in its largest whole unit (7 days, 24 hours, 90 minutes).
  static func duration(ms: Int64) -> RuleDuration {
    let s = ms / 1000
    for (unit, size) in [(RuleDuration.Unit.days, Int64(86_400)), (.hours, 3_600), (.minutes, 60)]
    where s % size == 0 && s / size <= Int64(RuleDuration.maximumAmount) {
      return RuleDuration(Int(s / size), unit)
    }
    return RuleDuration(Int(clamping: s), .seconds)
  }
}

extension CompareOp {
  /// The comparison that holds exactly when this one does not (`>=` ↔ `<`).
  var negation: CompareOp {
    switch self {
    case .eq: .ne
    case .ne: .eq
    case .lt: .ge
    case .le: .gt
    case .gt: .le
    case .ge: .lt
    }
  }
}
