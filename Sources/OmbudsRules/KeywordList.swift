import Foundation
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
        .error("yaml.invalid-utf8", "invalid UTF-8 in a keyword list", at: source.location(offset: bad)))
      return (entries, diagnostics)
    }
    for line in 1...max(1, source.lineStarts.count) {
      let text = source.lineText(line)
      let trimmed = text.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      let parts = text.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
      guard parts.count == 2 else {
        diagnostics.append(
          .error(
            "rules.type", "a keyword list line is `category<TAB>keyword`; this line has no tab",
            at: source.location(line: line, column: 1), length: text.unicodeScalars.count))
        continue
      }
      let category = String(parts[0]).trimmingCharacters(in: .whitespaces)
      var keyword = String(parts[1])
      if let hash = keyword.range(of: " #") { keyword = String(keyword[..<hash.lowerBound]) }
      keyword = keyword.trimmingCharacters(in: .whitespaces)
      entries.append(
        Entry(
          category: Located(category, at: source.location(line: line, column: 1)),
          keyword: Located(keyword, at: source.location(line: line, column: parts[0].unicodeScalars.count + 2))))
    }
    return (entries, diagnostics)
  }
}
