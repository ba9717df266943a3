/// How serious a diagnostic is.
public enum Severity: String, Sendable, Hashable, Comparable, Codable {
  case error
  case warning
  case note

  private var rank: Int {
    switch self {
    case .error: 0
    case .warning: 1
    case .note: 2
    }
  }

  public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// A finding about a rule file: a stable code, a severity, a message, where, and how to fix it.
///
/// Codes are stable (`rules.unknown-key`): tools and tests match on them, never on message text.
public struct Diagnostic: Sendable, Hashable, Comparable, Error, CustomStringConvertible {
  /// A second place that explains the first ("first defined here").
  public struct Related: Sendable, Hashable {
    public var location: SourceLocation
    /// The note in both languages.
    public var text: LocalizedText
    /// The note in English.
    public var message: String {
      get { text.en }
      set { text = LocalizedText(untranslated: newValue) }
    }
    public init(_ message: String, at location: SourceLocation) {
      self.init(LocalizedText(untranslated: message), at: location)
    }
    public init(_ text: LocalizedText, at location: SourceLocation) {
      self.location = location
      self.text = text
    }
  }

  /// The stable id of the code (`DiagnosticCode.id`).
  public var code: String
  public var severity: Severity
  /// The message in both languages (built from the message catalogue).
  public var text: LocalizedText
  public var location: SourceLocation
  /// How many columns to underline from `location` (at least 1).
  public var length: Int
  public var related: [Related]
  /// The help in both languages.
  public var helpText: LocalizedText?

  /// The message in English (the text, JSON and SARIF output and the golden files).
  public var message: String {
    get { text.en }
    set { text = LocalizedText(untranslated: newValue) }
  }

  /// A suggestion, such as "did you mean `major`?", in English.
  public var help: String? {
    get { helpText?.en }
    set { helpText = newValue.map(LocalizedText.init(untranslated:)) }
  }

  /// The message in `language`.
  public func message(_ language: Language) -> String { text.string(language) }

  /// The help in `language`.
  public func help(_ language: Language) -> String? { helpText?.string(language) }

  public init(
    _ severity: Severity, _ code: DiagnosticCode, _ text: LocalizedText, at location: SourceLocation,
    length: Int = 1, related: [Related] = [], help: LocalizedText? = nil
  ) {
    self.code = code.id
    self.severity = severity
    self.text = text
    self.location = location
    self.length = max(1, length)
    self.related = related
    self.helpText = help
  }

  /// A diagnostic with English text only (outside the catalogue).
  public init(
    _ severity: Severity, _ code: DiagnosticCode, _ message: String, at location: SourceLocation,
    length: Int = 1, related: [Related] = [], help: String? = nil
  ) {
    self.init(
      severity, code, LocalizedText(untranslated: message), at: location, length: length, related: related,
      help: help.map(LocalizedText.init(untranslated:)))
  }

  public static func error(
    _ code: DiagnosticCode, _ text: LocalizedText, at location: SourceLocation, length: Int = 1,
    related: [Related] = [], help: LocalizedText? = nil
  ) -> Diagnostic {
    Diagnostic(.error, code, text, at: location, length: length, related: related, help: help)
  }

  public static func warning(
    _ code: DiagnosticCode, _ text: LocalizedText, at location: SourceLocation, length: Int = 1,
    related: [Related] = [], help: LocalizedText? = nil
  ) -> Diagnostic {
    Diagnostic(.warning, code, text, at: location, length: length, related: related, help: help)
  }

  public static func error(
    _ code: DiagnosticCode, _ message: String, at location: SourceLocation, length: Int = 1,
    related: [Related] = [], help: String? = nil
  ) -> Diagnostic {
    Diagnostic(.error, code, message, at: location, length: length, related: related, help: help)
  }

  public static func warning(
    _ code: DiagnosticCode, _ message: String, at location: SourceLocation, length: Int = 1,
    related: [Related] = [], help: String? = nil
  ) -> Diagnostic {
    Diagnostic(.warning, code, message, at: location, length: length, related: related, help: help)
  }

  /// The same diagnostic with the labels of the ids its Chinese names filled in.
  public func resolvingLabels(_ table: LabelTable) -> Diagnostic {
    var d = self
    d.text = text.resolvingLabels(table)
    d.helpText = helpText?.resolvingLabels(table)
    for i in d.related.indices { d.related[i].text = d.related[i].text.resolvingLabels(table) }
    return d
  }

  /// Whether the message, help and notes all have Chinese.
  public var isTranslated: Bool {
    text.hasChinese && (helpText?.hasChinese ?? true) && related.allSatisfy(\.text.hasChinese)
  }

  /// `path:line:column: severity: message [code]`.
  public var description: String { description(.en) }

  /// `path:line:column: severity: message [code]`, the message in `language` (the severity
  /// and code stay as they are: tools match on them).
  public func description(_ language: Language) -> String {
    "\(location): \(severity.rawValue): \(message(language)) [\(code)]"
  }

  public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
    if lhs.location != rhs.location { return lhs.location < rhs.location }
    if lhs.severity != rhs.severity { return lhs.severity < rhs.severity }
    if lhs.code != rhs.code { return lhs.code < rhs.code }
    return lhs.message < rhs.message
  }
}

/// Collects diagnostics up to a cap; past the cap, one last error says how many were dropped.
public struct DiagnosticBag: Sendable {
  public private(set) var diagnostics: [Diagnostic] = []
  public let cap: Int
  public private(set) var dropped = 0

  public init(cap: Int = 500) { self.cap = cap }

  public mutating func add(_ diagnostic: Diagnostic) {
    if diagnostics.count < cap { diagnostics.append(diagnostic) } else { dropped += 1 }
  }

  public mutating func add(contentsOf other: [Diagnostic]) {
    for d in other { add(d) }
  }

  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
  public var errorCount: Int { diagnostics.count { $0.severity == .error } }
  public var warningCount: Int { diagnostics.count { $0.severity == .warning } }

  /// Sorted diagnostics, deduplicated.
  public var sorted: [Diagnostic] {
    var seen = Set<Diagnostic>()
    return diagnostics.sorted().filter { seen.insert($0).inserted }
  }
}

/// Suggestions for misspelt names: "did you mean …?".
public enum Suggest {
  /// The candidate closest to `name` by edit distance, if close enough to be a likely typo.
  public static func closest<S: Sequence>(to name: String, in candidates: S) -> String?
  where S.Element == String {
    let a = Array(name.lowercased().unicodeScalars)
    var best: (String, Int)?
    for candidate in candidates {
      let b = Array(candidate.lowercased().unicodeScalars)
      let d = distance(a, b)
      let limit = max(1, min(3, (max(a.count, b.count) + 2) / 3))
      if d <= limit, d < (best?.1 ?? Int.max) {
        best = (candidate, d)
      }
    }
    return best?.0
  }

  /// "did you mean `x`?" or nil.
  public static func help<S: Sequence>(for name: String, in candidates: S) -> String?
  where S.Element == String {
    closest(to: name, in: candidates).map { "did you mean `\($0)`?" }
  }

  /// "did you mean `x`?" in both languages, or nil; `kind` shows the label of an id in Chinese.
  public static func didYouMean<S: Sequence>(for name: String, in candidates: S, kind: LabelKind? = nil)
    -> LocalizedText?
  where S.Element == String {
    closest(to: name, in: candidates).map { LocalizedText.didYouMean($0, kind: kind) }
  }

  /// Optimal-string-alignment distance: insertions, deletions, substitutions, transpositions.
  static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var twoBack = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
          d = min(d, twoBack[j - 2] + 1)
        }
        current[j] = d
      }
      (twoBack, previous, current) = (previous, current, twoBack)
    }
    return previous[b.count]
  }
}
