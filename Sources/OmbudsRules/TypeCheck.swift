import OmbudsSyntax

/// Where a condition is written: level conditions may not mention `level`.
enum ConditionContext {
  case level, general
}

/// Turns untyped expressions into typed conditions against the declared fields.
struct TypeChecker {
  var fields: [String: FieldDecl]
  var levelRanks: [String: Int]
  var currency: String
  var equivalents: [String: Int64]

  enum Operand {
    case field(FieldDecl, Span)
    case openFor(Span)
    case aggregate(RuleDuration, Span)
    case level(Span)
  }

  func fieldNames() -> [String] { Array(fields.keys) + ["open_for", "level"] }

  /// Checks a condition node (a string, or a mapping with any/all/not).
  func condition(_ node: YAMLNode, _ context: ConditionContext, _ reader: inout Reader) -> Cond? {
    switch node {
    case .mapping(let pairs, let location):
      // `f(within: 1 month) >= 3` unquoted reads as a YAML mapping: put the text back together.
      if pairs.count == 1, let pair = pairs.first, pair.key.value.contains("("),
        case .scalar(let value, .plain) = pair.value, !value.value.contains("\n")
      {
        let text = pair.key.value + ": " + value.value
        return condition(.scalar(Located(text, at: pair.key.location), .plain), context, &reader)
      }
      guard pairs.count == 1, let pair = pairs.first else {
        reader.error(
          .conditionShape,
          LocalizedText(
            en: "a condition mapping has exactly one key: `any`, `all` or `not`", zh: "条件映射只能有一个键：`any`、`all` 或 `not`"),
          at: location)
        return nil
      }
      switch pair.key.value {
      case "any", "all":
        guard let items = reader.list(pair.value, Ctx.code(pair.key.value)) else { return nil }
        if items.isEmpty {
          reader.error(
            .conditionShape,
            LocalizedText(en: "`\(pair.key.value)` needs at least one condition", zh: "`\(pair.key.value)` 至少需要一个条件"),
            at: pair.key.location)
          return nil
        }
        let conds = items.map { condition($0, context, &reader) }
        if conds.contains(where: { $0 == nil }) { return nil }
        let c = conds.compactMap { $0 }
        return pair.key.value == "any" ? .or(c) : .and(c)
      case "not":
        return condition(pair.value, context, &reader).map { .not($0) }
      default:
        reader.error(
          .unknownKey, Messages.unknownKey(pair.key.value, in: Ctx.words("a condition", "条件")), at: pair.key.location,
          length: pair.key.value.unicodeScalars.count,
          help: Suggest.didYouMean(for: pair.key.value, in: ["any", "all", "not"])
            ?? LocalizedText(en: "use `any`, `all` or `not`", zh: "请用 `any`、`all` 或 `not`"))
        return nil
      }
    case .scalar:
      if case .scalar(let s, .plain) = node, s.value == "true" || s.value == "false" {
        return .constant(s.value == "true")
      }
      guard let e = reader.expression(node, Ctx.words("condition", "条件")) else { return nil }
      return check(e, context, &reader)
    case .sequence:
      reader.typeError(
        node,
        expected: Expected.words("a condition (text, or a mapping with any/all/not)", "条件（文本，或带 any/all/not 的映射）"),
        in: Ctx.words("condition", "条件"))
      return nil
    }
  }

  func check(_ e: Expr, _ context: ConditionContext, _ reader: inout Reader) -> Cond? {
    switch e {
    case .and(let a, let b, _):
      guard let x = check(a, context, &reader), let y = check(b, context, &reader) else { return nil }
      return .and(flatten(x, and: true) + flatten(y, and: true))
    case .or(let a, let b, _):
      guard let x = check(a, context, &reader), let y = check(b, context, &reader) else { return nil }
      return .or(flatten(x, and: false) + flatten(y, and: false))
    case .not(let a, _):
      return check(a, context, &reader).map { .not($0) }
    case .name(let n, let span):
      if n == "true" || n == "false" { return .constant(n == "true") }
      guard let op = operand(e, context, &reader) else { return nil }
      if case .field(let f, _) = op, f.type == .bool { return .flag(slot: f.slot) }
      reader.error(
        .typeMismatch,
        LocalizedText(
          en: "`\(n)` is not a yes/no fact; compare it with a value", zh: "\(.field, n) 不是是非型事实；请把它与一个值比较"),
        at: span.location, length: span.length,
        help: LocalizedText(en: "for example `\(n) == …`", zh: "例如 `\(n) == …`"))
      return nil
    case .compare(let op, let a, let b, let span):
      return comparison(op, a, b, span, context, &reader)
    case .membership(let negated, let a, let b, let span):
      return membership(negated, a, b, span, context, &reader)
    default:
      let s = e.span
      reader.error(
        .typeMismatch, LocalizedText(en: "this is a value, not a condition", zh: "这是一个值，不是条件"), at: s.location,
        length: s.length,
        help: LocalizedText(
          en: "compare it, e.g. `collective_size >= 10`", zh: "请拿它作比较，例如 `collective_size >= 10`"))
      return nil
    }
  }

  func flatten(_ c: Cond, and: Bool) -> [Cond] {
    switch c {
    case .and(let items) where and: items
    case .or(let items) where !and: items
    default: [c]
    }
  }

  func isMeasure(_ e: Expr) -> Bool {
    switch e {
    case .name(let n, _): fields[n] != nil || n == "open_for" || n == "level"
    case .call: true
    default: false
    }
  }

  func operand(_ e: Expr, _ context: ConditionContext, _ reader: inout Reader) -> Operand? {
    switch e {
    case .name(let n, let span):
      if let f = fields[n] { return .field(f, span) }
      if n == "open_for" { return .openFor(span) }
      if n == "now" {
        reader.error(
          .typeMismatch, LocalizedText(en: "`now` cannot be compared in a condition", zh: "条件中不能比较 `now`"),
          at: span.location,
          length: span.length,
          help: LocalizedText(
            en: "compare how long the case has been open instead, e.g. `open_for >= 7 days`",
            zh: "请改为比较案件已办理的时长，例如 `open_for >= 7 days`"))
        return nil
      }
      if n == "level" {
        if context == .level {
          reader.error(
            .levelInLevelCondition,
            LocalizedText(en: "a level's condition cannot depend on the level itself", zh: "级别的条件不能依赖级别本身"),
            at: span.location, length: span.length)
          return nil
        }
        return .level(span)
      }
      reader.error(
        .unknownField, Messages.unknownField(n), at: span.location, length: span.length,
        help: Suggest.didYouMean(for: n, in: fieldNames(), kind: .field) ?? Messages.declareField)
      return nil
    case .call(let name, let args, let span):
      guard name == "same_issue_complainants" else {
        reader.error(
          .unknownFunction, LocalizedText(en: "unknown function `\(name)`", zh: "未知的函数 `\(name)`"), at: span.location,
          length: name.unicodeScalars.count,
          help: Suggest.didYouMean(for: name, in: ["same_issue_complainants"])
            ?? LocalizedText(
              en: "the aggregates are: same_issue_complainants(within: 1 month)",
              zh: "可用的聚合：same_issue_complainants(within: 1 month)"))
        return nil
      }
      guard args.count == 1, args[0].label == "within" || args[0].label == nil,
        case .duration(let d, let dspan) = args[0].value
      else {
        reader.error(
          .typeMismatch,
          LocalizedText(
            en: "`same_issue_complainants` takes one argument, `within: DURATION`",
            zh: "`same_issue_complainants` 只接受一个参数：`within: 时长`"),
          at: span.location, length: span.length,
          help: LocalizedText(
            en: "e.g. same_issue_complainants(within: 1 month)", zh: "例如 same_issue_complainants(within: 1 month)"))
        return nil
      }
      guard let window = reader.positive(d, dspan) else { return nil }
      if window.unit == .workingDays {
        reader.error(
          .typeMismatch,
          LocalizedText(en: "an aggregate window is a length of time, not working days", zh: "聚合的时间窗口是一段时长，不能用工作日"),
          at: dspan.location, length: dspan.length)
        return nil
      }
      return .aggregate(window, span)
    default:
      return nil
    }
  }

  func comparison(
    _ op0: CompareOp, _ a: Expr, _ b: Expr, _ span: Span, _ context: ConditionContext, _ reader: inout Reader
  ) -> Cond? {
    var op = op0
    var lhs = a
    var rhs = b
    if !isMeasure(a), isMeasure(b) {
      lhs = b
      rhs = a
      op = op0.flipped
    }
    guard let measure = operand(lhs, context, &reader) else {
      switch lhs {
      case .name, .call: break  // operand() has said what is wrong
      default:
        let s = lhs.span
        reader.error(
          .typeMismatch, LocalizedText(en: "compare a fact of the case with a value", zh: "请拿案件的事实与一个值比较"),
          at: s.location, length: s.length)
      }
      return nil
    }
    switch measure {
    case .openFor:
      guard case .duration(let d, let dspan) = rhs else {
        return mismatch(
          rhs, expected: Expected.words("a duration such as `7 days`", "时长，如 `7 days`"), about: "open_for", &reader)
      }
      guard let d = reader.positive(d, dspan) else { return nil }
      return .openFor(op, d)
    case .aggregate(let window, _):
      guard case .number(let v, _, let nspan) = rhs, v % Money.scale == 0 else {
        return mismatch(rhs, expected: Expected.wholeNumber, about: "same_issue_complainants", &reader)
      }
      _ = nspan
      return .sameIssueComplainants(window: window, op, v / Money.scale)
    case .level:
      guard case .name(let n, let nspan) = rhs else {
        return mismatch(rhs, expected: Expected.words("a level id", "级别 id"), about: "level", &reader)
      }
      guard let rank = levelRanks[n] else {
        reader.error(
          .undefinedLevel, Messages.undefined(.level, n), at: nspan.location, length: nspan.length,
          help: Suggest.didYouMean(for: n, in: levelRanks.keys, kind: .level))
        return nil
      }
      return .level(op, rank)
    case .field(let f, _):
      return fieldComparison(f, op, rhs, &reader)
    }
  }

  func isNullLiteral(_ e: Expr) -> Bool {
    if case .name(let n, _) = e { return n == "none" || n == "null" }
    return false
  }

  func fieldComparison(_ f: FieldDecl, _ op: CompareOp, _ rhs: Expr, _ reader: inout Reader) -> Cond? {
    // `x == none` / `x != none` for optional facts (an enum with a `none` value means that value).
    let enumHasNone: Bool = {
      if case .enumeration(let values) = f.type { return values.contains("none") }
      return false
    }()
    if isNullLiteral(rhs), !enumHasNone {
      guard op == .eq || op == .ne else {
        return mismatch(
          rhs, expected: Expected.words("`==` or `!=` with none", "与 none 用 `==` 或 `!=`"), about: f.id, &reader)
      }
      if !f.optional {
        let s = rhs.span
        reader.warning(
          .typeMismatch,
          LocalizedText(
            en: "`\(f.id)` always has a value; comparing it with none is always \(op == .ne)",
            zh: "\(.field, f.id) 总是有值；与 none 比较的结果总是 \(op == .ne ? "true" : "false")"),
          at: s.location, length: s.length)
      }
      let c: Cond = f.type == .string ? .stringIsNull(slot: f.slot) : .isNull(slot: f.slot)
      return op == .eq ? c : .not(c)
    }
    switch f.type {
    case .bool:
      guard case .name(let n, _) = rhs, n == "true" || n == "false", op == .eq || op == .ne else {
        return mismatch(
          rhs, expected: Expected.words("true or false with `==` or `!=`", "用 `==` 或 `!=` 与 true 或 false"), about: f.id,
          &reader)
      }
      // A comparison with an absent value is false, `!=` included: `vip == false` needs a value.
      let positive = (n == "true") == (op == .eq)
      return positive ? .flag(slot: f.slot) : .compare(slot: f.slot, .eq, 0)
    case .integer, .decimal:
      guard case .number(let v, _, _) = rhs else {
        return mismatch(rhs, expected: Expected.words("a number", "数字"), about: f.id, &reader)
      }
      if f.type == .integer, v % Money.scale != 0 {
        return mismatch(rhs, expected: Expected.wholeNumber, about: f.id, &reader)
      }
      return .compare(slot: f.slot, op, f.type == .integer ? v / Money.scale : v)
    case .money:
      guard case .money(let m, let mspan) = rhs else {
        return mismatch(
          rhs, expected: LocalizedText(en: "an amount such as `500 \(currency)`", zh: "金额，如 `500 \(currency)`"),
          about: f.id, &reader)
      }
      guard m.currency == currency else {
        reader.error(
          .tierCurrency, Messages.wrongCurrency(m.currency, policy: currency),
          at: mspan.location, length: mspan.length)
        return nil
      }
      return .compare(slot: f.slot, op, m.units)
    case .enumeration(let values):
      guard case .name(let n, let nspan) = rhs else {
        return mismatch(
          rhs,
          expected: LocalizedText(
            en: "one of \(values.joined(separator: ", "))", zh: "以下之一：\(values.joined(separator: "、"))"), about: f.id,
          &reader)
      }
      guard let ordinal = values.firstIndex(of: n) else {
        reader.error(
          .unknownValue, Messages.notAValue(n, of: f.id), at: nspan.location, length: nspan.length,
          help: Suggest.didYouMean(for: n, in: values) ?? Messages.values(values))
        return nil
      }
      return .compare(slot: f.slot, op, Int64(ordinal))
    case .string:
      guard case .string(let s, _) = rhs, op == .eq || op == .ne else {
        return mismatch(
          rhs, expected: Expected.words("a quoted text with `==` or `!=`", "用 `==` 或 `!=` 与带引号的文本"), about: f.id,
          &reader)
      }
      return op == .eq
        ? .stringEquals(slot: f.slot, s)
        : .and([.not(.stringIsNull(slot: f.slot)), .not(.stringEquals(slot: f.slot, s))])
    case .timestamp:
      return mismatch(
        rhs,
        expected: Expected.words(
          "none (timestamps are compared through open_for or deadlines)", "none（时间戳通过 open_for 或期限来比较）"), about: f.id,
        &reader)
    }
  }

  func membership(
    _ negated: Bool, _ a: Expr, _ b: Expr, _ span: Span, _ context: ConditionContext, _ reader: inout Reader
  ) -> Cond? {
    guard let measure = operand(a, context, &reader) else { return nil }
    guard case .list(let items, _) = b else {
      return mismatch(
        b, expected: Expected.words("a list such as [web, wechat]", "列表，如 [web, wechat]"), about: "in", &reader)
    }
    var conds: [Cond] = []
    if case .field(let f, _) = measure, case .enumeration(let values) = f.type, values.count <= 64 {
      var mask: UInt64 = 0
      for item in items {
        guard case .name(let n, let nspan) = item else {
          return mismatch(
            item, expected: LocalizedText(en: "a value of `\(f.id)`", zh: "\(.field, f.id) 的取值"), about: f.id, &reader)
        }
        guard let ordinal = values.firstIndex(of: n) else {
          reader.error(
            .unknownValue, Messages.notAValue(n, of: f.id), at: nspan.location, length: nspan.length,
            help: Suggest.didYouMean(for: n, in: values) ?? Messages.values(values))
          return nil
        }
        mask |= 1 << UInt64(ordinal)
      }
      let c = Cond.oneOf(slot: f.slot, mask: mask)
      // `not in` is false for an absent value, like `!=`.
      return negated ? .and([.not(.isNull(slot: f.slot)), .not(c)]) : c
    }
    for item in items {
      guard let c = comparison(.eq, a, item, span, context, &reader) else { return nil }
      conds.append(c)
    }
    guard negated else { return .or(conds) }
    // `not in` is false for an absent value, like `!=`.
    if case .field(let f, _) = measure, f.optional || f.type == .string {
      let absent: Cond = f.type == .string ? .stringIsNull(slot: f.slot) : .isNull(slot: f.slot)
      return .and([.not(absent), .not(.or(conds))])
    }
    return .not(.or(conds))
  }

  func mismatch(_ e: Expr, expected: LocalizedText, about: String, _ reader: inout Reader) -> Cond? {
    let s = e.span
    reader.error(
      .typeMismatch,
      LocalizedText(en: "`\(about)` cannot be compared with `\(e.text)`", zh: "`\(about)` 不能与 `\(e.text)` 比较"),
      at: s.location, length: s.length,
      help: LocalizedText(en: "compare `\(about)` with \(expected.en)", zh: "请把 `\(about)` 与\(expected)比较"))
    return nil
  }
}
