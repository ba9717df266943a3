import OmbudsSyntax

/// Typed access to YAML nodes that reports every mismatch as a diagnostic.
struct Reader {
  var bag = DiagnosticBag()

  mutating func error(
    _ code: DiagnosticCode, _ message: LocalizedText, at location: SourceLocation, length: Int = 1,
    related: [Diagnostic.Related] = [], help: LocalizedText? = nil
  ) {
    bag.add(.error(code, message, at: location, length: length, related: related, help: help))
  }

  mutating func warning(
    _ code: DiagnosticCode, _ message: LocalizedText, at location: SourceLocation, length: Int = 1,
    related: [Diagnostic.Related] = [], help: LocalizedText? = nil
  ) {
    bag.add(.warning(code, message, at: location, length: length, related: related, help: help))
  }

  mutating func typeError(_ node: YAMLNode, expected: LocalizedText, in context: Context) {
    let length = node.scalarText.map { $0.unicodeScalars.count } ?? 1
    error(
      .type, Messages.typeError(context, expected: expected, found: Messages.found(node)), at: node.location,
      length: length)
  }

  /// The pairs of a mapping, checking its keys against their declaration (`RuleShapes`, the
  /// one list the JSON Schema is generated from): unknown ones are errors with "did you mean",
  /// missing required ones are errors at the mapping.
  mutating func mapping(_ node: YAMLNode, _ context: Context, shape: RuleKeys) -> [String: YAMLNode.Pair]? {
    mapping(node, context, allowed: shape.allowed, required: shape.required)
  }

  private mutating func mapping(
    _ node: YAMLNode, _ context: Context, allowed: [String], required: [String]
  ) -> [String: YAMLNode.Pair]? {
    guard let pairs = node.pairs else {
      typeError(node, expected: Expected.mapping, in: context)
      return nil
    }
    var result: [String: YAMLNode.Pair] = [:]
    for pair in pairs {
      let key = pair.key.value
      if !allowed.contains(key) {
        error(
          .unknownKey, Messages.unknownKey(key, in: context), at: pair.key.location,
          length: key.unicodeScalars.count,
          help: Suggest.didYouMean(for: key, in: allowed) ?? Messages.allowedHere(allowed))
        continue
      }
      if result[key] == nil { result[key] = pair }
    }
    for key in required where result[key] == nil {
      error(.missingKey, Messages.missingKey(key, in: context), at: node.location)
    }
    return result
  }

  mutating func string(_ node: YAMLNode?, _ context: Context) -> String? {
    guard let node else { return nil }
    guard case .scalar(let s, _) = node, !node.isNull else {
      typeError(node, expected: Expected.text, in: context)
      return nil
    }
    return s.value
  }

  /// An identifier: letters, digits and `_`, starting with a letter.
  mutating func identifier(_ node: YAMLNode?, _ context: Context) -> Located<String>? {
    guard let node else { return nil }
    guard case .scalar(let s, _) = node, isIdentifier(s.value) else {
      typeError(node, expected: Expected.id, in: context)
      return nil
    }
    return s
  }

  func isIdentifier(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
    return s.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
  }

  mutating func bool(_ node: YAMLNode?, _ context: Context) -> Bool? {
    guard let node else { return nil }
    if case .scalar(let s, .plain) = node {
      switch s.value {
      case "true", "True", "TRUE", "yes": return true
      case "false", "False", "FALSE", "no": return false
      default: break
      }
    }
    typeError(node, expected: Expected.bool, in: context)
    return nil
  }

  mutating func integer(_ node: YAMLNode?, _ context: Context) -> Int64? {
    guard let node else { return nil }
    if case .scalar(let s, .plain) = node {
      if let v = Int64(s.value) { return v }
      if Self.isWholeNumberText(s.value) {
        numberRange(node, Messages.wholeNumberRange(context, s.value))
        return nil
      }
    }
    typeError(node, expected: Expected.wholeNumber, in: context)
    return nil
  }

  /// An exact decimal (`12`, `99.5`), as units of 10⁻⁴ — the scale of `decimal` fields.
  mutating func decimal(_ node: YAMLNode?, _ context: Context) -> Int64? {
    guard let node else { return nil }
    if case .scalar(let s, .plain) = node {
      if let v = Money.parseUnits(Substring(s.value)) { return v }
      if Self.isDecimalText(s.value) {
        numberRange(node, Messages.decimalRange(context, s.value))
        return nil
      }
    }
    typeError(node, expected: Expected.decimal, in: context)
    return nil
  }

  /// `rules.number-range` at a scalar.
  mutating func numberRange(_ node: YAMLNode, _ message: LocalizedText) {
    error(
      .numberRange, message, at: node.location, length: node.scalarText.map { $0.unicodeScalars.count } ?? 1)
  }

  /// Digits with an optional sign: a whole number, whatever its size.
  static func isWholeNumberText(_ text: String) -> Bool {
    var bytes = Substring(text).utf8[...]
    if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
    return !bytes.isEmpty && bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
  }

  /// Digits with an optional sign and decimal point: a decimal, whatever its size or places.
  static func isDecimalText(_ text: String) -> Bool {
    let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard let whole = parts.first, isWholeNumberText(String(whole)) else { return false }
    return parts.count == 1 || (!parts[1].isEmpty && parts[1].utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
  }

  mutating func list(_ node: YAMLNode?, _ context: Context) -> [YAMLNode]? {
    guard let node else { return nil }
    if let items = node.items { return items }
    if node.isNull { return [] }
    typeError(node, expected: Expected.list, in: context)
    return nil
  }

  /// A list of ids, or a single id.
  mutating func identifiers(_ node: YAMLNode?, _ context: Context) -> [Located<String>]? {
    guard let node else { return nil }
    if case .scalar = node { return identifier(node, context).map { [$0] } }
    guard let items = list(node, context) else { return nil }
    return items.compactMap { identifier($0, context) }
  }

  mutating func date(_ node: YAMLNode, _ context: Context) -> CivilDate? {
    guard case .scalar(let s, _) = node else {
      typeError(node, expected: Expected.date, in: context)
      return nil
    }
    guard let d = CivilDate(s.value) else {
      error(
        .invalidDate, Messages.invalidDate(s.value), at: s.location,
        length: s.value.unicodeScalars.count, help: Messages.writeDates)
      return nil
    }
    return d
  }

  /// Parses a scalar as one expression.
  mutating func expression(_ node: YAMLNode, _ context: Context) -> Expr? {
    guard case .scalar = node, !node.isNull else {
      typeError(node, expected: Expected.condition, in: context)
      return nil
    }
    var parser = ExprParser(node: node)
    switch parser.parse() {
    case .success(let e): return e
    case .failure(let d):
      bag.add(d)
      return nil
    }
  }

  /// A duration scalar (`7 days`, `24h`, `10 working days`), checked positive.
  mutating func duration(_ node: YAMLNode?, _ context: Context) -> RuleDuration? {
    guard let node else { return nil }
    guard let e = expression(node, context) else { return nil }
    guard case .duration(let d, let span) = e else {
      typeError(node, expected: Expected.duration, in: context)
      return nil
    }
    return positive(d, span)
  }

  mutating func positive(_ d: RuleDuration, _ span: Span) -> RuleDuration? {
    if d.amount <= 0 {
      error(
        .nonPositiveDuration, Messages.nonPositiveDuration("\(d)"), at: span.location,
        length: span.length)
      return nil
    }
    return d
  }

  /// A money scalar (`500 CNY`) or a bare number in `currency`.
  mutating func money(_ node: YAMLNode?, _ context: Context, currency: String) -> Int64? {
    guard let node else { return nil }
    guard case .scalar(let s, _) = node else {
      typeError(node, expected: Expected.amount, in: context)
      return nil
    }
    if let units = Money.parseUnits(Substring(s.value)) { return units }
    guard let e = expression(node, context) else { return nil }
    guard case .money(let m, let span) = e else {
      typeError(node, expected: Expected.amount, in: context)
      return nil
    }
    if m.currency != currency {
      error(
        .tierCurrency, Messages.wrongCurrency(m.currency, policy: currency),
        at: span.location, length: span.length, help: Messages.writeAmountIn(currency))
      return nil
    }
    return m.units
  }
}
