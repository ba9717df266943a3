// Diagnostics in English and Chinese. Every diagnostic is built from a catalogue entry
// (`Messages` in OmbudsRules, `YAMLMessages` here, `TestMessages` in OmbudsEngine) that
// takes typed arguments and renders both languages; nothing translates finished English.
//
// The Chinese names the labels of the rule set's ids: `hot`（热点投诉）. A message does not
// know the labels when it is written (the sections may not have been read yet), so the
// Chinese keeps each id as a piece of its kind, and the loader fills in the labels from
// what the checker read (`LocalizedText.resolvingLabels`) before it returns the diagnostics.

/// A language diagnostics are shown in.
public enum Language: String, Sendable, Hashable, CaseIterable {
  case en
  case zhCN = "zh-CN"

  /// `en`, `zh-CN`, `zh`, `zh_CN` (any case; `zh-Hans`, `zh_CN.UTF-8` too); nil otherwise.
  public init?(argument: String) {
    let a = argument.lowercased()
    if a == "en" || a.hasPrefix("en-") || a.hasPrefix("en_") || a == "c" || a == "posix" {
      self = .en
    } else if a == "zh" || a.hasPrefix("zh-") || a.hasPrefix("zh_") || a.hasPrefix("zh.") {
      self = .zhCN
    } else {
      return nil
    }
  }

  /// The short code explanations are tagged with (`"language"` in their JSON): `zh` or `en`.
  public var code: String { self == .en ? "en" : "zh" }

  /// The language the environment asks for: the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that
  /// is set and not empty (the POSIX order); Chinese when it starts with `zh`, else English.
  public static func fromEnvironment(_ environment: [String: String]) -> Language {
    for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
      if let value = environment[name], !value.isEmpty {
        return value.lowercased().hasPrefix("zh") ? .zhCN : .en
      }
    }
    return .en
  }
}

/// The kinds of rule-set ids that have labels, shown beside the id in Chinese.
public enum LabelKind: String, Sendable, Hashable, CaseIterable {
  case level, field, role, category, report, calendar, deadline, measure
}

/// The labels of a rule set's ids, by kind.
public struct LabelTable: Sendable, Hashable {
  public var labels: [LabelKind: [String: String]] = [:]

  public init() {}

  public subscript(kind: LabelKind, id: String) -> String? {
    get { labels[kind]?[id] }
    set { labels[kind, default: [:]][id] = newValue }
  }

  /// Adds the labels of `ids`, keeping the first label of an id defined twice.
  public mutating func add(_ kind: LabelKind, _ pairs: [(id: String, label: String?)]) {
    for (id, label) in pairs {
      guard let label, !label.isEmpty, label != id, self[kind, id] == nil else { continue }
      self[kind, id] = label
    }
  }
}

/// A message, note or help in both languages.
public struct LocalizedText: Sendable, Hashable, CustomStringConvertible {
  /// A piece of the Chinese: text, or an id of the rule set (shown `` `id`（label） ``).
  public enum Piece: Sendable, Hashable {
    case text(String)
    case id(LabelKind, String, label: String?)
  }

  /// The English, exactly as before the catalogue (the golden files and JSON rely on it).
  public var en: String
  /// The Chinese, or nil for a text nobody has translated (shown in English).
  public var zhPieces: [Piece]?

  public init(en: String, zh: ZH) {
    self.en = en
    self.zhPieces = zh.pieces
  }

  /// English only: a text outside the catalogue (such as a message from another library).
  public init(untranslated en: String) {
    self.en = en
    self.zhPieces = nil
  }

  /// The same text in both languages (an id, a number, a code).
  public init(verbatim s: String) {
    self.en = s
    self.zhPieces = [.text(s)]
  }

  /// The English.
  public var description: String { en }

  public var hasChinese: Bool { zhPieces != nil }

  /// The Chinese, with labels beside ids; the English when there is no Chinese.
  public var zh: String {
    guard let zhPieces else { return en }
    var out = ""
    for piece in zhPieces {
      switch piece {
      case .text(let s): out += s
      case .id(_, let id, let label):
        out += "`\(id)`"
        if let label { out += "（\(label)）" }
      }
    }
    return Self.tidy(out)
  }

  /// Chinese typography: no space between two Chinese characters or full-width marks (the
  /// messages put spaces around code spans and ids, and parts join with spaces).
  static func tidy(_ s: String) -> String {
    guard s.contains(" ") else { return s }
    let scalars = Array(s.unicodeScalars)
    var out = String.UnicodeScalarView()
    for (i, c) in scalars.enumerated() {
      if c == " ", i > 0, i + 1 < scalars.count, isWide(scalars[i - 1]), isWide(scalars[i + 1]) { continue }
      out.append(c)
    }
    return String(out)
  }

  /// CJK ideographs and full-width punctuation.
  static func isWide(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x3000...0x303F).contains(v)
      || (0xFF00...0xFFEF).contains(v) || v == 0x201C || v == 0x201D
  }

  public func string(_ language: Language) -> String {
    switch language {
    case .en: en
    case .zhCN: zh
    }
  }

  /// The same text with the labels of its ids filled in from `table`.
  public func resolvingLabels(_ table: LabelTable) -> LocalizedText {
    guard let zhPieces else { return self }
    var copy = self
    copy.zhPieces = zhPieces.map { piece in
      if case .id(let kind, let id, nil) = piece, let label = table[kind, id] { return .id(kind, id, label: label) }
      return piece
    }
    return copy
  }

  /// "did you mean `x`?"
  public static func didYouMean(_ x: String, kind: LabelKind? = nil) -> LocalizedText {
    if let kind { return LocalizedText(en: "did you mean `\(x)`?", zh: "您是不是想写 \(kind, x)？") }
    return LocalizedText(en: "did you mean `\(x)`?", zh: "您是不是想写 `\(x)`？")
  }

  /// Joins texts with a separator in each language.
  public static func joined(_ texts: [LocalizedText], en: String, zh: String) -> LocalizedText {
    var pieces: [Piece] = []
    for (i, t) in texts.enumerated() {
      if i > 0 { pieces.append(.text(zh)) }
      pieces += t.zhPieces ?? [.text(t.en)]
    }
    var text = LocalizedText(untranslated: texts.map(\.en).joined(separator: en))
    text.zhPieces = texts.allSatisfy(\.hasChinese) ? pieces : nil
    return text
  }
}

/// The Chinese of a `LocalizedText`, written as a string with interpolations: `\(s)` is text,
/// `\(code: s)` is `` `s` ``, `\(.level, id)` an id that shows its label, `\(t)` a
/// `LocalizedText`'s Chinese.
public struct ZH: Sendable, Hashable, ExpressibleByStringInterpolation {
  public var pieces: [LocalizedText.Piece] = []

  public init(stringLiteral value: String) { pieces = [.text(value)] }

  public init(stringInterpolation: Interpolation) { pieces = stringInterpolation.pieces }

  public struct Interpolation: StringInterpolationProtocol {
    var pieces: [LocalizedText.Piece] = []

    public init(literalCapacity: Int, interpolationCount: Int) {}

    mutating func text(_ s: String) {
      if case .text(let last)? = pieces.last {
        pieces[pieces.count - 1] = .text(last + s)
      } else {
        pieces.append(.text(s))
      }
    }

    public mutating func appendLiteral(_ literal: String) { text(literal) }
    public mutating func appendInterpolation(_ s: String) { text(s) }
    public mutating func appendInterpolation(_ s: Substring) { text(String(s)) }
    public mutating func appendInterpolation<I: BinaryInteger>(_ n: I) { text(String(n)) }
    public mutating func appendInterpolation(code s: String) { text("`\(s)`") }
    public mutating func appendInterpolation(_ kind: LabelKind, _ id: String) {
      pieces.append(.id(kind, id, label: nil))
    }
    public mutating func appendInterpolation(_ t: LocalizedText) {
      for piece in t.zhPieces ?? [.text(t.en)] {
        if case .text(let s) = piece { text(s) } else { pieces.append(piece) }
      }
    }
  }
}

/// Whether text has CJK ideographs (for tests that every Chinese text is Chinese).
public func containsCJK(_ s: String) -> Bool {
  s.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) || (0x3400...0x4DBF).contains($0.value) }
}
