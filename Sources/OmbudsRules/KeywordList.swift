import OmbudsSyntax

/// A plain-text keyword list: one `category<TAB>keyword` per line; blank lines and lines
/// starting with `#` are comments, as is anything after ` #` in a keyword.
public enum KeywordList {
  /// One keyword of a list, with where its category and keyword stand.
  public struct Entry: Sendable {
    public var category: Located<String>
    public var keyword: Located<String>
  }

  /// The entries of `source`, and a diagnostic for every line that is not `category<TAB>keyword`.
  public static func parse(_ source: SourceFile) -> (entries: [Entry], diagnostics: [Diagnostic]) {
    var entries: [Entry] = []
    var diagnostics: [Diagnostic] = []
    if let bad = YAMLParser.firstInvalidUTF8(source.bytes) {
      diagnostics.append(
        .error(
          .yamlInvalidUtf8, LocalizedText(en: "invalid UTF-8 in a keyword list", zh: "关键词表中有无效的 UTF-8"),
          at: source.location(offset: bad)))
      return (entries, diagnostics)
    }
    // Byte by byte (lists hold tens of thousands of lines): spaces, tabs, U+00A0 and U+3000
    // around the fields are trimmed; columns count Unicode scalars.
    let bytes = source.bytes
    func isSpace(_ i: Int, _ end: Int) -> Int {
      let b = bytes[i]
      if b == 0x20 || b == 0x09 { return 1 }
      if b == 0xC2, i + 1 < end, bytes[i + 1] == 0xA0 { return 2 }
      if b == 0xE3, i + 2 < end, bytes[i + 1] == 0x80, bytes[i + 2] == 0x80 { return 3 }
      return 0
    }
    func trimmed(_ lo: Int, _ hi: Int) -> (Int, Int) {
      var a = lo
      var b = hi
      while a < b, case let w = isSpace(a, b), w > 0 { a += w }
      while a < b {
        if bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09 {
          b -= 1
        } else if b - a >= 2, bytes[b - 2] == 0xC2, bytes[b - 1] == 0xA0 {
          b -= 2
        } else if b - a >= 3, bytes[b - 3] == 0xE3, bytes[b - 2] == 0x80, bytes[b - 1] == 0x80 {
          b -= 3
        } else {
          break
        }
      }
      return (a, b)
    }
    func scalars(_ lo: Int, _ hi: Int) -> Int {
      var n = 0
      for i in lo..<hi where bytes[i] & 0xC0 != 0x80 { n += 1 }
      return n
    }
    for line in 1...max(1, source.lineStarts.count) {
      let slice = source.lineBytes(line)
      let (lo, hi) = (slice.startIndex, slice.endIndex)
      let (tlo, thi) = trimmed(lo, hi)
      if tlo == thi || bytes[tlo] == 0x23 { continue }
      guard let tab = slice.firstIndex(of: 0x09) else {
        diagnostics.append(
          .error(
            .keywordLine,
            LocalizedText(
              en: "a keyword list line is `category<TAB>keyword`; this line has no tab",
              zh: "关键词表每行写作 `类别<TAB>关键词`；这一行没有制表符"),
            at: source.location(line: line, column: 1), length: scalars(lo, hi)))
        continue
      }
      let (clo, chi) = trimmed(lo, tab)
      // A comment after the keyword: ` #…`.
      var kend = hi
      var k = tab + 1
      while k + 1 < hi {
        if bytes[k] == 0x20, bytes[k + 1] == 0x23 {
          kend = k
          break
        }
        k += 1
      }
      let (klo, khi) = trimmed(tab + 1, kend)
      entries.append(
        Entry(
          category: Located(
            String(decoding: bytes[clo..<chi], as: UTF8.self), at: source.location(line: line, column: 1)),
          keyword: Located(
            String(decoding: bytes[klo..<khi], as: UTF8.self),
            at: source.location(line: line, column: scalars(lo, tab) + 2))))
    }
    return (entries, diagnostics)
  }
}
