import Foundation

/// Folds text so that disguised keywords read as plain ones: NFKC (full-width letters and
/// digits to half-width), lower case, traditional to simplified Chinese. Whitespace,
/// punctuation, symbols, emoji and invisible format characters are *skipped*: they may stand
/// between the characters of a keyword. Line breaks end a keyword.
///
/// The table covers the Basic Multilingual Plane and is built once per process.
public enum Normalizer {
  /// What one input scalar becomes.
  public enum Action: Equatable, Sendable {
    /// Ignored between keyword characters.
    case skip
    /// A hard break: no keyword continues across it.
    case lineBreak
    /// One or more scalars to match on.
    case scalars([UInt32])
  }

  /// Per BMP scalar: `skipCode`, `breakCode`, a mapped scalar, or `expansionFlag | index`
  /// into `expansions`.
  static let skipCode: UInt32 = 0xFFFF_FFFF
  static let breakCode: UInt32 = 0xFFFF_FFFE
  static let expansionFlag: UInt32 = 0x8000_0000

  struct Tables: Sendable {
    let bmp: [UInt32]
    let expansions: [[UInt32]]
  }

  static let tables: Tables = build()

  /// The action for one scalar.
  public static func action(_ s: Unicode.Scalar) -> Action {
    let v = s.value
    if v < 0x10000 {
      let code = tables.bmp[Int(v)]
      if code == skipCode { return .skip }
      if code == breakCode { return .lineBreak }
      if code & expansionFlag != 0 { return .scalars(tables.expansions[Int(code & ~expansionFlag)]) }
      return .scalars([code])
    }
    return slowAction(s)
  }

  /// Normalizes a whole string to the scalars matching runs on (skipped characters removed,
  /// line breaks kept as U+000A).
  public static func fold(_ text: String) -> [UInt32] {
    var out: [UInt32] = []
    for s in text.unicodeScalars {
      switch action(s) {
      case .skip: continue
      case .lineBreak: out.append(0x0A)
      case .scalars(let v): out.append(contentsOf: v)
      }
    }
    return out
  }

  static func isLineBreak(_ v: UInt32) -> Bool {
    v == 0x0A || v == 0x0D || v == 0x0B || v == 0x0C || v == 0x85 || v == 0x2028 || v == 0x2029
  }

  static func skips(_ s: Unicode.Scalar) -> Bool {
    switch s.properties.generalCategory {
    case .spaceSeparator, .lineSeparator, .paragraphSeparator, .control, .format,
      .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation,
      .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol,
      .nonspacingMark, .enclosingMark, .spacingMark, .unassigned, .surrogate, .privateUse:
      return true
    default:
      // Variation selectors and similar default-ignorable code points.
      return s.properties.isDefaultIgnorableCodePoint
    }
  }

  static let simplified: [UInt32: UInt32] = Dictionary(
    TraditionalChinese.pairs.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })

  /// NFKC, then lower case, then traditional → simplified, for one scalar.
  static func fold(scalar s: Unicode.Scalar) -> [UInt32] {
    let v = s.value
    if v < 0x80 {
      if v >= 0x41 && v <= 0x5A { return [v + 0x20] }
      return [v]
    }
    if v >= 0x4E00 && v <= 0x9FFF {  // CJK Unified Ideographs: only the T→S table applies
      return [simplified[v] ?? v]
    }
    let nfkc = String(Character(s)).precomposedStringWithCompatibilityMapping.lowercased()
    var out: [UInt32] = []
    for x in nfkc.unicodeScalars {
      if skips(x) { continue }
      out.append(simplified[x.value] ?? x.value)
    }
    return out
  }

  static func slowAction(_ s: Unicode.Scalar) -> Action {
    if isLineBreak(s.value) { return .lineBreak }
    if skips(s) { return .skip }
    let folded = fold(scalar: s)
    return folded.isEmpty ? .skip : .scalars(folded)
  }

  static func build() -> Tables {
    var bmp = [UInt32](repeating: 0, count: 0x10000)
    var expansions: [[UInt32]] = []
    for v in 0..<0x10000 {
      guard let s = Unicode.Scalar(UInt32(v)) else {
        bmp[v] = skipCode  // surrogates never occur in valid text
        continue
      }
      switch slowAction(s) {
      case .skip: bmp[v] = skipCode
      case .lineBreak: bmp[v] = breakCode
      case .scalars(let out):
        if out.count == 1, out[0] & expansionFlag == 0 {
          bmp[v] = out[0]
        } else {
          bmp[v] = expansionFlag | UInt32(expansions.count)
          expansions.append(out)
        }
      }
    }
    return Tables(bmp: bmp, expansions: expansions)
  }
}
