import OmbudsEngine
import OmbudsRules
import OmbudsSyntax

/// Renders diagnostics as text (with the source line and a caret) or JSON.
public struct DiagnosticRenderer {
  public var sources: [String: SourceFile]
  /// The language of messages, helps and notes (codes, severities and positions stay).
  public var language: Language

  public init(sources: [String: SourceFile], language: Language = .en) {
    self.sources = sources
    self.language = language
  }

  /// `path:line:col: error: message [code]`, the source line, a caret line, help and notes.
  public func text(_ d: Diagnostic) -> String {
    var out = "\(d.description(language))\n"
    out += excerpt(d.location, length: d.length)
    if let help = d.help(language) { out += language == .en ? "  = help: \(help)\n" : "  = 帮助：\(help)\n" }
    for r in d.related {
      out += "\(r.location): note: \(r.text.string(language))\n"
      out += excerpt(r.location, length: 1)
    }
    return out
  }

  func excerpt(_ location: SourceLocation, length: Int) -> String {
    guard let source = sources[location.file], location.line >= 1, location.line <= source.lineStarts.count else {
      return ""
    }
    var line = source.lineText(location.line)
    var column = location.column
    // A very long line is shown as a window around the column.
    let window = 120
    let scalars = Array(line.unicodeScalars)
    if scalars.count > window {
      let start = max(0, min(column - 1 - window / 2, scalars.count - window))
      let end = min(scalars.count, start + window)
      var shown = String(String.UnicodeScalarView(scalars[start..<end]))
      if start > 0 { shown = "…" + shown }
      if end < scalars.count { shown += "…" }
      line = shown
      column = column - start + (start > 0 ? 1 : 0)
    }
    let number = String(location.line)
    let gutter = String(repeating: " ", count: number.count)
    // Keep the caret under the right character: copy tabs, pad everything else with spaces.
    var pad = ""
    for (i, s) in line.unicodeScalars.enumerated() where i < column - 1 {
      pad.unicodeScalars.append(s == "\t" ? "\t" : " ")
      if s.properties.isEmojiPresentation || Self.isWide(s) { pad.unicodeScalars.append(" ") }
    }
    var marks = "^"
    let visible = Array(line.unicodeScalars.dropFirst(column - 1).prefix(max(1, min(length, window))))
    for (i, s) in visible.enumerated() {
      if i > 0 { marks += "~" }
      if Self.isWide(s) { marks += i == 0 ? "^" : "~" }
    }
    return " \(number) | \(line)\n \(gutter) | \(pad)\(marks)\n"
  }

  /// East Asian wide characters take two columns in a terminal.
  static func isWide(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    return (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
      || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
      || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
  }

  /// One diagnostic as a JSON object: `message`, `help` and the notes in `language`.
  public static func json(_ d: Diagnostic) -> String { json(d, language: .en) }

  public static func json(_ d: Diagnostic, language: Language) -> String {
    var s =
      "{\"file\":\(JSONText.quoted(d.location.file)),\"line\":\(d.location.line),\"column\":\(d.location.column),\"offset\":\(d.location.offset),\"length\":\(d.length),\"severity\":\"\(d.severity.rawValue)\",\"code\":\(JSONText.quoted(d.code)),\"message\":\(JSONText.quoted(d.message(language)))"
    if let h = d.help(language) { s += ",\"help\":\(JSONText.quoted(h))" }
    if !d.related.isEmpty {
      s +=
        ",\"related\":["
        + d.related.map {
          "{\"file\":\(JSONText.quoted($0.location.file)),\"line\":\($0.location.line),\"column\":\($0.location.column),\"message\":\(JSONText.quoted($0.text.string(language)))}"
        }.joined(separator: ",") + "]"
    }
    return s + "}"
  }
}

/// Diagnostics as SARIF 2.1.0 (`rules-check --format sarif`), for code-scanning tools: one
/// run of `rules-check`, every diagnostic code of the registry as a rule, each diagnostic a
/// result at its file, line and column (columns in Unicode code points, as everywhere in
/// Ombuds), its notes as related locations.
public enum SARIFRenderer {
  public static func render(_ diagnostics: [Diagnostic], exitCode: Int, language: Language = .en) -> String {
    let codes = DiagnosticCode.all
    let index = Dictionary(codes.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    func q(_ s: String) -> String { JSONText.quoted(s) }
    func uri(_ path: String) -> String {
      q(path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)
    }
    func level(_ s: Severity) -> String {
      switch s {
      case .error: "error"
      case .warning: "warning"
      case .note: "note"
      }
    }
    func region(_ l: SourceLocation, length: Int) -> String {
      "{\"startLine\":\(max(1, l.line)),\"startColumn\":\(max(1, l.column)),\"endColumn\":\(max(1, l.column) + max(1, length)),\"byteOffset\":\(max(0, l.offset))}"
    }
    func location(_ l: SourceLocation, length: Int, message: String? = nil, id: Int? = nil) -> String {
      var s = "{"
      if let id { s += "\"id\":\(id)," }
      s +=
        "\"physicalLocation\":{\"artifactLocation\":{\"uri\":\(uri(l.file))},\"region\":\(region(l, length: length))}"
      if let message { s += ",\"message\":{\"text\":\(q(message))}" }
      return s + "}"
    }
    let rules = codes.map { c in
      "{\"id\":\(q(c.id)),\"shortDescription\":{\"text\":\(q(language == .en ? c.meaning : c.meaningZH))},\"defaultConfiguration\":{\"level\":\"\(level(c.severities.first ?? .error))\"}}"
    }
    let results = diagnostics.map { d -> String in
      var text = d.message(language)
      if let help = d.help(language) { text += language == .en ? " (help: \(help))" : "（帮助：\(help)）" }
      var s = "{\"ruleId\":\(q(d.code)),"
      if let i = index[d.code] { s += "\"ruleIndex\":\(i)," }
      s += "\"level\":\"\(level(d.severity))\",\"message\":{\"text\":\(q(text))},"
      s += "\"locations\":[\(location(d.location, length: d.length))]"
      if !d.related.isEmpty {
        s +=
          ",\"relatedLocations\":["
          + d.related.enumerated().map { location($1.location, length: 1, message: $1.text.string(language), id: $0) }
          .joined(
            separator: ",") + "]"
      }
      return s + "}"
    }
    return """
      {"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{"tool":{"driver":{"name":"rules-check","fullName":"Ombuds rules-check","rules":[\(rules.joined(separator: ","))]}},"columnKind":"unicodeCodePoints","invocations":[{"executionSuccessful":true,"exitCode":\(exitCode)}],"results":[\(results.joined(separator: ","))]}]}

      """
  }
}

/// Diagnostics as GitHub Actions workflow commands (`rules-check --format github`): each one
/// an `::error` or `::warning` annotation on its file and line, its help and notes in the
/// message.
public enum GitHubRenderer {
  public static func render(_ d: Diagnostic, language: Language = .en) -> String {
    let command: String
    switch d.severity {
    case .error: command = "error"
    case .warning: command = "warning"
    case .note: command = "notice"
    }
    var message = d.message(language)
    if let help = d.help(language) { message += "\n\(language == .en ? "help" : "帮助"): \(help)" }
    for r in d.related { message += "\n\(r.location): note: \(r.text.string(language))" }
    let l = d.location
    return
      "::\(command) file=\(property(l.file)),line=\(max(1, l.line)),col=\(max(1, l.column)),endColumn=\(max(1, l.column) + max(1, d.length)),title=\(property(d.code))::\(data(message))"
  }

  /// A command's message: `%`, CR and LF escaped.
  static func data(_ s: String) -> String {
    s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
      .replacingOccurrences(of: "\n", with: "%0A")
  }

  /// A property value: also `:` and `,`.
  static func property(_ s: String) -> String {
    data(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
  }
}
