import OmbudsSyntax

/// A span of an expression's text, mapped to the rule file.
public struct Span: Sendable, Hashable {
  public var location: SourceLocation
  /// Length in Unicode scalars, for underlining.
  public var length: Int
  public init(_ location: SourceLocation, length: Int) {
    self.location = location
    self.length = max(1, length)
  }
}

/// Comparison operators.
public enum CompareOp: String, Sendable, Hashable {
  case eq = "=="
  case ne = "!="
  case lt = "<"
  case le = "<="
  case gt = ">"
  case ge = ">="

  /// The same comparison with its operands swapped (`3 <= x` is `x >= 3`).
  public var flipped: CompareOp {
    switch self {
    case .eq: .eq
    case .ne: .ne
    case .lt: .gt
    case .le: .ge
    case .gt: .lt
    case .ge: .le
    }
  }

  @inlinable
  public func holds(_ a: Int64, _ b: Int64) -> Bool {
    switch self {
    case .eq: a == b
    case .ne: a != b
    case .lt: a < b
    case .le: a <= b
    case .gt: a > b
    case .ge: a >= b
    }
  }
}

/// The untyped syntax of a condition or due expression, as written.
public indirect enum Expr: Sendable {
  case name(String, Span)
  case number(Int64, text: String, Span)  // exact decimal × 10⁴
  case money(Money, Span)
  case duration(RuleDuration, Span)
  case string(String, Span)
  case list([Expr], Span)
  case call(String, [(label: String?, value: Expr)], Span)
  case not(Expr, Span)
  case and(Expr, Expr, Span)
  case or(Expr, Expr, Span)
  case compare(CompareOp, Expr, Expr, Span)
  case membership(negated: Bool, Expr, Expr, Span)
  case plus(Expr, Expr, Span)

  /// The expression as it reads, for messages.
  public var text: String {
    switch self {
    case .name(let n, _): n
    case .number(_, let t, _): t
    case .money(let m, _): m.description
    case .duration(let d, _): d.description
    case .string(let s, _): "\"\(s)\""
    case .list(let items, _): "[" + items.map(\.text).joined(separator: ", ") + "]"
    case .call(let n, _, _): "\(n)(…)"
    case .not(let e, _): "not \(e.text)"
    case .and(let a, let b, _): "\(a.text) and \(b.text)"
    case .or(let a, let b, _): "\(a.text) or \(b.text)"
    case .compare(let op, let a, let b, _): "\(a.text) \(op.rawValue) \(b.text)"
    case .membership(let n, let a, let b, _): "\(a.text) \(n ? "not in" : "in") \(b.text)"
    case .plus(let a, let b, _): "\(a.text) + \(b.text)"
    }
  }

  public var span: Span {
    switch self {
    case .name(_, let s), .number(_, _, let s), .money(_, let s), .duration(_, let s),
      .string(_, let s), .list(_, let s), .call(_, _, let s), .not(_, let s), .and(_, _, let s),
      .or(_, _, let s), .compare(_, _, _, let s), .membership(_, _, _, let s), .plus(_, _, let s):
      s
    }
  }
}

/// Turns the text of one YAML scalar into an `Expr`, with positions in the rule file.
public struct ExprParser {
  struct Token {
    enum Kind: Equatable {
      case word(String)
      case number(String)
      case string(String)
      case symbol(String)
      case end
    }
    var kind: Kind
    var scalarStart: Int
    var byteStart: Int
    var scalarLength: Int
  }

  let text: String
  let base: SourceLocation
  let exact: Bool
  var tokens: [Token] = []
  var index = 0

  /// - Parameters:
  ///   - node: the YAML scalar; positions inside it are exact for single-line scalars and
  ///     fall back to the scalar's start otherwise.
  public init(node: YAMLNode) {
    self.text = node.scalarText ?? ""
    self.exact = node.isSingleLineSpan
    self.base = exact ? node.contentLocation : node.location
  }

  public init(text: String, base: SourceLocation) {
    self.text = text
    self.base = base
    self.exact = !text.contains("\n")
  }

  func span(_ startScalar: Int, _ startByte: Int, _ length: Int) -> Span {
    exact
      ? Span(base.advanced(columns: startScalar, bytes: startByte), length: length)
      : Span(base, length: 1)
  }

  func span(of token: Token) -> Span { span(token.scalarStart, token.byteStart, token.scalarLength) }

  func span(from a: Span, to b: Span) -> Span {
    guard exact else { return a }
    return Span(a.location, length: b.location.column + b.length - a.location.column)
  }

  /// Parses the whole text as one expression.
  public mutating func parse() -> Result<Expr, Diagnostic> {
    do {
      try tokenize()
      let e = try parseOr()
      if case .end = tokens[index].kind {
        return .success(e)
      }
      throw syntax(
        LocalizedText(
          en: "unexpected `\(describe(tokens[index]))` after the end of the condition",
          zh: "条件结束后出现了多余的 `\(describeZH(tokens[index]))`"), at: tokens[index])
    } catch let d as Diagnostic {
      return .failure(d)
    } catch {
      return .failure(.error(.exprSyntax, LocalizedText(en: "\(error)", zh: "条件无法读懂：\("\(error)")"), at: base))
    }
  }

  func syntax(_ message: LocalizedText, at token: Token, help: LocalizedText? = nil) -> Diagnostic {
    let s = span(of: token)
    return .error(.exprSyntax, message, at: s.location, length: s.length, help: help)
  }

  /// A number too large, or more precise, than the rules keep.
  func numberRange(_ text: String, at token: Token) -> Diagnostic {
    let s = span(of: token)
    return .error(
      .numberRange,
      LocalizedText(
        en:
          "`\(text)` is out of range: numbers have at most \(Money.scaleDigits) decimal places and are at most \(Money.format(units: Int64.max))",
        zh: "`\(text)` 超出范围：数字最多 \(Money.scaleDigits) 位小数，最大为 \(Money.format(units: Int64.max))"),
      at: s.location, length: s.length)
  }

  func describe(_ t: Token) -> String {
    switch t.kind {
    case .word(let w): w
    case .number(let n): n
    case .string(let s): "\"\(s)\""
    case .symbol(let s): s
    case .end: "end of text"
    }
  }

  func describeZH(_ t: Token) -> String {
    if case .end = t.kind { return "文本结尾" }
    return describe(t)
  }

  static func isWordStart(_ s: Unicode.Scalar) -> Bool {
    s == "_" || s.properties.isAlphabetic
  }

  static func isWordContinue(_ s: Unicode.Scalar) -> Bool {
    s == "_" || s.properties.isAlphabetic || (s.value >= 0x30 && s.value <= 0x39)
  }

  /// The most words and symbols one condition may have.
  public static let maxTokens = 400

  mutating func tokenize() throws {
    let scalars = Array(text.unicodeScalars)
    var i = 0
    var byte = 0
    func width(_ s: Unicode.Scalar) -> Int { UTF8.width(s) }
    while i < scalars.count {
      let c = scalars[i]
      if c == " " || c == "\t" || c == "\n" || c == "\r" {
        byte += width(c)
        i += 1
        continue
      }
      let startScalar = i
      let startByte = byte
      // A bound on every condition keeps parsing, checking and evaluating it shallow: no
      // input can exhaust the stack however it nests or chains.
      if tokens.count >= Self.maxTokens {
        let t = Token(kind: .symbol(String(c)), scalarStart: i, byteStart: byte, scalarLength: 1)
        throw syntax(
          LocalizedText(
            en: "this condition is too long (more than \(Self.maxTokens) words and symbols)",
            zh: "这个条件太长（超过 \(Self.maxTokens) 个词和符号）"), at: t,
          help: LocalizedText(
            en: "split it into several conditions, one per line of the level's `any:` or `all:` list",
            zh: "请拆成几个条件，在级别的 `any:` 或 `all:` 列表中每行写一个"))
      }
      if c.value >= 0x30 && c.value <= 0x39 {
        var s = ""
        while i < scalars.count,
          (scalars[i].value >= 0x30 && scalars[i].value <= 0x39)
            || (scalars[i] == "." && i + 1 < scalars.count && scalars[i + 1].value >= 0x30
              && scalars[i + 1].value <= 0x39)
        {
          s.unicodeScalars.append(scalars[i])
          byte += 1
          i += 1
        }
        tokens.append(
          Token(kind: .number(s), scalarStart: startScalar, byteStart: startByte, scalarLength: i - startScalar))
        continue
      }
      if Self.isWordStart(c) {
        var s = ""
        while i < scalars.count, Self.isWordContinue(scalars[i]) {
          s.unicodeScalars.append(scalars[i])
          byte += width(scalars[i])
          i += 1
        }
        tokens.append(
          Token(kind: .word(s), scalarStart: startScalar, byteStart: startByte, scalarLength: i - startScalar))
        continue
      }
      if c == "\"" {
        var s = ""
        i += 1
        byte += 1
        var closed = false
        while i < scalars.count {
          if scalars[i] == "\"" {
            closed = true
            i += 1
            byte += 1
            break
          }
          s.unicodeScalars.append(scalars[i])
          byte += width(scalars[i])
          i += 1
        }
        if !closed {
          let t = Token(kind: .end, scalarStart: startScalar, byteStart: startByte, scalarLength: 1)
          throw syntax(
            LocalizedText(en: "unterminated string", zh: "字符串没有结束"), at: t,
            help: LocalizedText(en: "close it with \"", zh: "请用 \" 结束"))
        }
        tokens.append(
          Token(kind: .string(s), scalarStart: startScalar, byteStart: startByte, scalarLength: i - startScalar))
        continue
      }
      let two = i + 1 < scalars.count ? String(String.UnicodeScalarView([c, scalars[i + 1]])) : ""
      if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
        let sym = two == "&&" ? "and" : two == "||" ? "or" : two
        tokens.append(
          Token(
            kind: two.count == 2 && (sym == "and" || sym == "or") ? .word(sym) : .symbol(sym), scalarStart: i,
            byteStart: byte, scalarLength: 2))
        i += 2
        byte += 2
        continue
      }
      if "()[],:<>+-!=".unicodeScalars.contains(c) {
        tokens.append(Token(kind: .symbol(String(c)), scalarStart: i, byteStart: byte, scalarLength: 1))
        i += 1
        byte += width(c)
        continue
      }
      let t = Token(kind: .symbol(String(c)), scalarStart: i, byteStart: byte, scalarLength: 1)
      throw syntax(LocalizedText(en: "unexpected character `\(c)`", zh: "意外的字符 `\(String(c))`"), at: t)
    }
    tokens.append(Token(kind: .end, scalarStart: scalars.count, byteStart: byte, scalarLength: 1))
  }

  var current: Token { tokens[index] }

  mutating func advance() -> Token {
    let t = tokens[index]
    if index < tokens.count - 1 { index += 1 }
    return t
  }

  func isWord(_ w: String) -> Bool { current.kind == .word(w) }
  func isSymbol(_ s: String) -> Bool { current.kind == .symbol(s) }

  mutating func expect(_ s: String) throws -> Token {
    if isSymbol(s) { return advance() }
    throw syntax(
      LocalizedText(
        en: "expected `\(s)` but found `\(describe(current))`", zh: "此处应为 `\(s)`，实际为 `\(describeZH(current))`"),
      at: current)
  }

  mutating func parseOr() throws -> Expr {
    var lhs = try parseAnd()
    while isWord("or") {
      _ = advance()
      let rhs = try parseAnd()
      lhs = .or(lhs, rhs, span(from: lhs.span, to: rhs.span))
    }
    return lhs
  }

  mutating func parseAnd() throws -> Expr {
    var lhs = try parseNot()
    while isWord("and") {
      _ = advance()
      let rhs = try parseNot()
      lhs = .and(lhs, rhs, span(from: lhs.span, to: rhs.span))
    }
    return lhs
  }

  mutating func parseNot() throws -> Expr {
    if isWord("not") || isSymbol("!") {
      let t = advance()
      let e = try parseNot()
      return .not(e, span(from: span(of: t), to: e.span))
    }
    return try parseComparison()
  }

  mutating func parseComparison() throws -> Expr {
    let lhs = try parseSum()
    if case .symbol(let s) = current.kind, let op = CompareOp(rawValue: s) {
      _ = advance()
      let rhs = try parseSum()
      return .compare(op, lhs, rhs, span(from: lhs.span, to: rhs.span))
    }
    if isSymbol("=") {
      throw syntax(
        LocalizedText(en: "`=` is not a comparison", zh: "`=` 不是比较运算"), at: current,
        help: LocalizedText(en: "write `==` to compare", zh: "比较请写 `==`"))
    }
    if isWord("in") {
      _ = advance()
      let rhs = try parseSum()
      return .membership(negated: false, lhs, rhs, span(from: lhs.span, to: rhs.span))
    }
    if isWord("not"), index + 1 < tokens.count, tokens[index + 1].kind == .word("in") {
      _ = advance()
      _ = advance()
      let rhs = try parseSum()
      return .membership(negated: true, lhs, rhs, span(from: lhs.span, to: rhs.span))
    }
    return lhs
  }

  mutating func parseSum() throws -> Expr {
    var lhs = try parsePrimary()
    while isSymbol("+") {
      _ = advance()
      let rhs = try parsePrimary()
      lhs = .plus(lhs, rhs, span(from: lhs.span, to: rhs.span))
    }
    return lhs
  }

  static let unitWords: [String: RuleDuration.Unit] = [
    "s": .seconds, "sec": .seconds, "secs": .seconds, "second": .seconds, "seconds": .seconds,
    "m": .minutes, "min": .minutes, "mins": .minutes, "minute": .minutes, "minutes": .minutes,
    "h": .hours, "hour": .hours, "hours": .hours,
    "d": .days, "day": .days, "days": .days,
    "w": .weeks, "week": .weeks, "weeks": .weeks,
    "month": .months, "months": .months,
  ]

  mutating func parsePrimary() throws -> Expr {
    let t = current
    switch t.kind {
    case .number(let text):
      _ = advance()
      // A number followed by a unit is a duration; by a currency code, money.
      if case .word(let w) = current.kind {
        if w == "working" {
          let unitToken = advance()
          guard case .word(let d) = current.kind, d == "day" || d == "days" else {
            throw syntax(
              LocalizedText(en: "expected `days` after `working`", zh: "`working` 后面应为 `days`"), at: current)
          }
          let last = advance()
          _ = unitToken
          return .duration(
            RuleDuration(try wholeNumber(text, t), .workingDays), span(from: span(of: t), to: span(of: last)))
        }
        if let unit = Self.unitWords[w] {
          let last = advance()
          return .duration(RuleDuration(try wholeNumber(text, t), unit), span(from: span(of: t), to: span(of: last)))
        }
        if w.count == 3, w.unicodeScalars.allSatisfy({ $0.value >= 65 && $0.value <= 90 }) {
          let last = advance()
          guard let units = Money.parseUnits(Substring(text)) else {
            throw numberRange(text, at: t)
          }
          return .money(Money(units: units, currency: w), span(from: span(of: t), to: span(of: last)))
        }
        // Not a unit: a misspelt one is worth a word, anything else (`and`) is the next token.
        if let near = Suggest.closest(to: w, in: Array(Self.unitWords.keys.filter { $0.count > 2 }) + ["working"]),
          !["and", "or", "not", "in"].contains(w)
        {
          throw syntax(
            LocalizedText(en: "unknown unit `\(w)` after \(text)", zh: "\(text) 后面是未知的单位 `\(w)`"), at: current,
            help: LocalizedText.didYouMean(near))
        }
      }
      guard let units = Money.parseUnits(Substring(text)) else {
        throw numberRange(text, at: t)
      }
      return .number(units, text: text, span(of: t))
    case .string(let s):
      _ = advance()
      return .string(s, span(of: t))
    case .word(let w):
      if ["and", "or", "in"].contains(w) {
        throw syntax(LocalizedText(en: "expected a value before `\(w)`", zh: "`\(w)` 前面应有一个值"), at: t)
      }
      _ = advance()
      if isSymbol("(") {
        _ = advance()
        var args: [(String?, Expr)] = []
        while !isSymbol(")") {
          var label: String?
          if case .word(let l) = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .symbol(":") {
            label = l
            _ = advance()
            _ = advance()
          }
          args.append((label, try parseOr()))
          if isSymbol(",") { _ = advance() } else { break }
        }
        let close = try expect(")")
        return .call(w, args, span(from: span(of: t), to: span(of: close)))
      }
      return .name(w, span(of: t))
    case .symbol("("):
      _ = advance()
      let e = try parseOr()
      _ = try expect(")")
      return e
    case .symbol("["):
      _ = advance()
      var items: [Expr] = []
      while !isSymbol("]") {
        items.append(try parseSum())
        if isSymbol(",") { _ = advance() } else { break }
      }
      let close = try expect("]")
      return .list(items, span(from: span(of: t), to: span(of: close)))
    case .symbol("-"):
      _ = advance()
      if case .number = current.kind {
        let inner = try parsePrimary()
        switch inner {
        case .number(let v, let text, let s): return .number(-v, text: "-" + text, span(from: span(of: t), to: s))
        case .duration(let d, let s): return .duration(RuleDuration(-d.amount, d.unit), span(from: span(of: t), to: s))
        case .money(let m, let s):
          return .money(Money(units: -m.units, currency: m.currency), span(from: span(of: t), to: s))
        default: return inner
        }
      }
      throw syntax(LocalizedText(en: "expected a number after `-`", zh: "`-` 后面应为数字"), at: current)
    case .end:
      throw syntax(
        index == 0
          ? LocalizedText(en: "empty condition", zh: "条件为空")
          : LocalizedText(en: "the condition ends too early", zh: "条件提前结束了"),
        at: t)
    default:
      throw syntax(LocalizedText(en: "unexpected `\(describe(t))`", zh: "意外的 `\(describeZH(t))`"), at: t)
    }
  }

  func wholeNumber(_ text: String, _ t: Token) throws -> Int {
    guard Reader.isWholeNumberText(text) else {
      throw syntax(
        LocalizedText(en: "a duration needs a whole number, not `\(text)`", zh: "时长需要整数，不能是 `\(text)`"), at: t)
    }
    guard let n = Int(text), n <= RuleDuration.maximumAmount else {
      let s = span(of: t)
      throw Diagnostic.error(
        .numberRange,
        LocalizedText(
          en: "`\(text)` is out of range: a duration counts at most \(RuleDuration.maximumAmount) of its unit",
          zh: "`\(text)` 超出范围：时长最多计 \(RuleDuration.maximumAmount) 个单位"),
        at: s.location, length: s.length)
    }
    return n
  }
}
