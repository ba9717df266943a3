import CLibYAML

/// Limits that keep parsing bounded in time and memory whatever the input.
public struct YAMLLimits: Sendable {
  public var maxBytes: Int
  public var maxDepth: Int
  public var maxNodes: Int
  public init(maxBytes: Int = 8 << 20, maxDepth: Int = 64, maxNodes: Int = 500_000) {
    self.maxBytes = maxBytes
    self.maxDepth = maxDepth
    self.maxNodes = maxNodes
  }
}

/// Parses YAML text through the system libyaml into a located tree.
///
/// Refused with a diagnostic at the position: invalid UTF-8, tab indentation, anchors and
/// aliases, several documents, duplicate keys, non-scalar keys, nesting, size or node count
/// past the limits, and every libyaml syntax error.
public struct YAMLParser {
  public var limits: YAMLLimits

  public init(limits: YAMLLimits = YAMLLimits()) { self.limits = limits }

  /// The root node of the single document in `file` (nil when the file is empty or refused),
  /// and the diagnostics found.
  public func parse(_ file: SourceFile) -> (root: YAMLNode?, diagnostics: [Diagnostic]) {
    var diagnostics: [Diagnostic] = []
    if file.bytes.count > limits.maxBytes {
      diagnostics.append(
        .error(
          .yamlTooLarge,
          "file is \(file.bytes.count) bytes; rule files are limited to \(limits.maxBytes) bytes",
          at: file.location(offset: 0)))
      return (nil, diagnostics)
    }
    if let bad = Self.firstInvalidUTF8(file.bytes) {
      diagnostics.append(
        .error(
          .yamlInvalidUtf8, "invalid UTF-8 byte 0x\(String(file.bytes[bad], radix: 16, uppercase: true))",
          at: file.location(offset: bad), help: "save the file as UTF-8"))
      return (nil, diagnostics)
    }
    if let tab = Self.firstIndentationTab(file.bytes) {
      diagnostics.append(
        .error(
          .yamlTab, "tab character in indentation; YAML indents with spaces only",
          at: file.location(offset: tab), help: "replace the tab with spaces"))
      return (nil, diagnostics)
    }
    let session = LibYAMLSession(file: file, limits: limits)
    let root = session.run()
    diagnostics.append(contentsOf: session.diagnostics)
    return (diagnostics.contains { $0.severity == .error } ? nil : root, diagnostics)
  }

  public static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
    var i = 0
    let n = bytes.count
    while i < n {
      let b = bytes[i]
      if b < 0x80 {
        i += 1
        continue
      }
      let width: Int
      var minimum: UInt32
      var scalar: UInt32
      if b & 0xE0 == 0xC0 {
        width = 2
        minimum = 0x80
        scalar = UInt32(b & 0x1F)
      } else if b & 0xF0 == 0xE0 {
        width = 3
        minimum = 0x800
        scalar = UInt32(b & 0x0F)
      } else if b & 0xF8 == 0xF0 {
        width = 4
        minimum = 0x10000
        scalar = UInt32(b & 0x07)
      } else {
        return i
      }
      if i + width > n { return i }
      for k in 1..<width {
        let c = bytes[i + k]
        if c & 0xC0 != 0x80 { return i + k }
        scalar = scalar << 6 | UInt32(c & 0x3F)
      }
      if scalar < minimum || scalar > 0x10FFFF || (scalar >= 0xD800 && scalar <= 0xDFFF) {
        return i
      }
      minimum = 0
      i += width
    }
    return nil
  }

  static func firstIndentationTab(_ bytes: [UInt8]) -> Int? {
    var atLineStart = true
    for (i, b) in bytes.enumerated() {
      if b == 0x0A || b == 0x0D {
        atLineStart = true
      } else if atLineStart {
        if b == 0x09 { return i }
        if b != 0x20 { atLineStart = false }
      }
    }
    return nil
  }
}

/// Owns one libyaml parser and frees it, and every event, deterministically.
private final class LibYAMLSession {
  let file: SourceFile
  let limits: YAMLLimits
  var diagnostics: [Diagnostic] = []
  private var parser = yaml_parser_t()
  private var nodeCount = 0
  private var documents = 0
  private var stopped = false

  init(file: SourceFile, limits: YAMLLimits) {
    self.file = file
    self.limits = limits
  }

  /// An open collection. A class, so that appending to it never copies what it holds.
  private final class Frame {
    let isMapping: Bool
    let location: SourceLocation
    var items: [YAMLNode] = []
    var pairs: [YAMLNode.Pair] = []
    var pendingKey: Located<String>?
    var seen: [String: SourceLocation] = [:]
    init(isMapping: Bool, location: SourceLocation) {
      self.isMapping = isMapping
      self.location = location
    }
  }

  func run() -> YAMLNode? {
    guard yaml_parser_initialize(&parser) == 1 else {
      diagnostics.append(.error(.yamlInternal, "libyaml could not be initialised", at: file.location(offset: 0)))
      return nil
    }
    defer { yaml_parser_delete(&parser) }
    return file.bytes.withUnsafeBufferPointer { buffer -> YAMLNode? in
      let base = buffer.baseAddress ?? UnsafePointer<UInt8>(bitPattern: 1)
      guard let base else { return nil }
      yaml_parser_set_input_string(&parser, base, buffer.count)
      yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
      return loop()
    }
  }

  /// The last location computed: events come in file order, so the next one usually lies
  /// further along the same line, and walking on from here keeps long lines linear.
  private var cursor = (line: 0, column: 0, offset: 0)

  private func location(_ mark: yaml_mark_t) -> SourceLocation {
    let line = Int(mark.line) + 1
    let column = Int(mark.column) + 1
    guard line == cursor.line, column >= cursor.column else {
      let l = file.location(line: line, column: column)
      cursor = (l.line, l.column, l.offset)
      return l
    }
    var offset = cursor.offset
    var col = cursor.column
    let bytes = file.bytes
    while col < column, offset < bytes.count {
      let b = bytes[offset]
      if b == 0x0A || b == 0x0D { break }
      offset += SourceFile.scalarWidth(lead: b)
      col += 1
    }
    cursor = (line, column, min(offset, bytes.count))
    return SourceLocation(file: file.path, line: line, column: column, offset: min(offset, bytes.count))
  }

  private func string(_ pointer: UnsafePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    return String(cString: pointer)
  }

  private func loop() -> YAMLNode? {
    var stack: [Frame] = []
    var root: YAMLNode?
    var event = yaml_event_t()
    while !stopped {
      guard yaml_parser_parse(&parser, &event) == 1 else {
        reportParserError()
        return nil
      }
      defer { yaml_event_delete(&event) }
      let start = location(event.start_mark)
      switch event.type {
      case YAML_STREAM_START_EVENT, YAML_NO_EVENT:
        continue
      case YAML_STREAM_END_EVENT:
        return root
      case YAML_DOCUMENT_START_EVENT:
        documents += 1
        if documents > 1 {
          diagnostics.append(
            .error(
              .yamlMultipleDocuments, "a rule file holds one YAML document; this is document \(documents)",
              at: start, help: "split it into another file in the same directory"))
          return nil
        }
      case YAML_DOCUMENT_END_EVENT:
        continue
      case YAML_ALIAS_EVENT:
        diagnostics.append(
          .error(
            .yamlAlias, "aliases (*name) are not allowed in rule files", at: start,
            help: "write the value out where it is needed"))
        return nil
      case YAML_SCALAR_EVENT:
        if event.data.scalar.anchor != nil {
          refuseAnchor(at: start)
          return nil
        }
        let text = String(
          decoding: UnsafeBufferPointer(start: event.data.scalar.value, count: Int(event.data.scalar.length)),
          as: UTF8.self)
        let style: YAMLNode.ScalarStyle
        switch event.data.scalar.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: style = .literal
        case YAML_FOLDED_SCALAR_STYLE: style = .folded
        default: style = .plain
        }
        guard count(at: start) else { return nil }
        if !add(.scalar(Located(text, at: start), style), to: &stack, root: &root) { return nil }
      case YAML_SEQUENCE_START_EVENT:
        if event.data.sequence_start.anchor != nil {
          refuseAnchor(at: start)
          return nil
        }
        guard count(at: start), depthOK(stack.count + 1, at: start) else { return nil }
        stack.append(Frame(isMapping: false, location: start))
      case YAML_MAPPING_START_EVENT:
        if event.data.mapping_start.anchor != nil {
          refuseAnchor(at: start)
          return nil
        }
        guard count(at: start), depthOK(stack.count + 1, at: start) else { return nil }
        stack.append(Frame(isMapping: true, location: start))
      case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
        guard let frame = stack.popLast() else { return nil }
        let node: YAMLNode =
          frame.isMapping ? .mapping(frame.pairs, frame.location) : .sequence(frame.items, frame.location)
        if !add(node, to: &stack, root: &root) { return nil }
      default:
        continue
      }
    }
    return root
  }

  private func refuseAnchor(at location: SourceLocation) {
    diagnostics.append(
      .error(
        .yamlAlias, "anchors (&name) are not allowed in rule files", at: location,
        help: "write the value out where it is needed"))
  }

  private func count(at location: SourceLocation) -> Bool {
    nodeCount += 1
    if nodeCount > limits.maxNodes {
      diagnostics.append(
        .error(.yamlTooManyNodes, "more than \(limits.maxNodes) YAML nodes in one file", at: location))
      return false
    }
    return true
  }

  private func depthOK(_ depth: Int, at location: SourceLocation) -> Bool {
    if depth > limits.maxDepth {
      diagnostics.append(
        .error(.yamlTooDeep, "nesting deeper than \(limits.maxDepth) levels", at: location))
      return false
    }
    return true
  }

  /// Adds a finished node to the innermost open collection. False stops the parse.
  private func add(_ node: YAMLNode, to stack: inout [Frame], root: inout YAMLNode?) -> Bool {
    guard let top = stack.last else {
      root = node
      return true
    }
    guard top.isMapping else {
      top.items.append(node)
      return true
    }
    if let key = top.pendingKey {
      top.pairs.append(YAMLNode.Pair(key: key, value: node))
      top.pendingKey = nil
      return true
    }
    guard case .scalar(let key, _) = node else {
      diagnostics.append(
        .error(.yamlComplexKey, "mapping keys must be plain text, not \(node.kindName)", at: node.location))
      return false
    }
    if let first = top.seen[key.value] {
      diagnostics.append(
        .error(
          .yamlDuplicateKey, "duplicate key `\(key.value)`", at: key.location,
          length: key.value.unicodeScalars.count,
          related: [.init("first defined here", at: first)]))
    } else {
      top.seen[key.value] = key.location
    }
    top.pendingKey = key
    return true
  }

  private func reportParserError() {
    let problem = string(parser.problem)
    let context = string(parser.context)
    let mark = parser.problem_mark
    var message = problem.isEmpty ? "YAML syntax error" : problem
    if !context.isEmpty { message = "\(message) \(context)" }
    var related: [Diagnostic.Related] = []
    if parser.context != nil {
      related.append(.init("\(context.isEmpty ? "context" : context) started here", at: location(parser.context_mark)))
    }
    diagnostics.append(.error(.yamlSyntax, message, at: location(mark), related: related))
  }
}
