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
          LocalizedText(
            en: "file is \(file.bytes.count) bytes; rule files are limited to \(limits.maxBytes) bytes",
            zh: "文件有 \(file.bytes.count) 字节；规则文件最多 \(limits.maxBytes) 字节"),
          at: file.location(offset: 0)))
      return (nil, diagnostics)
    }
    if let bad = Self.firstInvalidUTF8(file.bytes) {
      diagnostics.append(
        .error(
          .yamlInvalidUtf8,
          LocalizedText(
            en: "invalid UTF-8 byte 0x\(String(file.bytes[bad], radix: 16, uppercase: true))",
            zh: "无效的 UTF-8 字节 0x\(String(file.bytes[bad], radix: 16, uppercase: true))"),
          at: file.location(offset: bad), help: LocalizedText(en: "save the file as UTF-8", zh: "请把文件存为 UTF-8 编码")))
      return (nil, diagnostics)
    }
    if let tab = Self.firstIndentationTab(file.bytes) {
      diagnostics.append(
        .error(
          .yamlTab,
          LocalizedText(
            en: "tab character in indentation; YAML indents with spaces only", zh: "缩进中有制表符；YAML 只能用空格缩进"),
          at: file.location(offset: tab), help: LocalizedText(en: "replace the tab with spaces", zh: "请把制表符换成空格")))
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
      diagnostics.append(
        .error(
          .yamlInternal, LocalizedText(en: "libyaml could not be initialised", zh: "libyaml 无法初始化"),
          at: file.location(offset: 0)))
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
              .yamlMultipleDocuments,
              LocalizedText(
                en: "a rule file holds one YAML document; this is document \(documents)",
                zh: "一个规则文件只能有一个 YAML 文档；这是第 \(documents) 个"),
              at: start,
              help: LocalizedText(
                en: "split it into another file in the same directory", zh: "请把它拆到同一目录下的另一个文件中")))
          return nil
        }
      case YAML_DOCUMENT_END_EVENT:
        continue
      case YAML_ALIAS_EVENT:
        diagnostics.append(
          .error(
            .yamlAlias, LocalizedText(en: "aliases (*name) are not allowed in rule files", zh: "规则文件中不允许使用别名（*name）"),
            at: start, help: YAMLMessages.writeOut))
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
        .yamlAlias, LocalizedText(en: "anchors (&name) are not allowed in rule files", zh: "规则文件中不允许使用锚点（&name）"),
        at: location, help: YAMLMessages.writeOut))
  }

  private func count(at location: SourceLocation) -> Bool {
    nodeCount += 1
    if nodeCount > limits.maxNodes {
      diagnostics.append(
        .error(
          .yamlTooManyNodes,
          LocalizedText(
            en: "more than \(limits.maxNodes) YAML nodes in one file", zh: "一个文件中的 YAML 节点超过 \(limits.maxNodes) 个"),
          at: location))
      return false
    }
    return true
  }

  private func depthOK(_ depth: Int, at location: SourceLocation) -> Bool {
    if depth > limits.maxDepth {
      diagnostics.append(
        .error(
          .yamlTooDeep,
          LocalizedText(en: "nesting deeper than \(limits.maxDepth) levels", zh: "嵌套超过 \(limits.maxDepth) 层"),
          at: location))
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
        .error(
          .yamlComplexKey,
          LocalizedText(
            en: "mapping keys must be plain text, not \(node.kindName)",
            zh: "映射的键必须是普通文本，不能是\(node.kindNameZH)"), at: node.location))
      return false
    }
    if let first = top.seen[key.value] {
      diagnostics.append(
        .error(
          .yamlDuplicateKey, LocalizedText(en: "duplicate key `\(key.value)`", zh: "重复的键 `\(key.value)`"),
          at: key.location,
          length: key.value.unicodeScalars.count,
          related: [.init(LocalizedText(en: "first defined here", zh: "首次定义在此"), at: first)]))
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
    let messageZH = YAMLMessages.libyaml(problem, context)
    var related: [Diagnostic.Related] = []
    if parser.context != nil {
      related.append(
        .init(
          LocalizedText(
            en: "\(context.isEmpty ? "context" : context) started here",
            zh: "\(context.isEmpty ? "上下文" : YAMLMessages.libyamlObject(context))从此处开始"),
          at: location(parser.context_mark)))
    }
    diagnostics.append(
      .error(
        .yamlSyntax, LocalizedText(en: message, zh: ZH(stringLiteral: messageZH)), at: location(mark), related: related)
    )
  }
}

/// The Chinese of the YAML diagnostics, and of the fixed phrases libyaml reports syntax
/// errors in (a phrase it may add later is shown in English after `YAML 语法错误：`).
enum YAMLMessages {
  static let writeOut = LocalizedText(
    en: "write the value out where it is needed", zh: "请在需要的地方直接写出这个值")

  static let phrases: [String: String] = [
    "did not find expected key": "没有找到应有的键",
    "did not find expected ',' or ']'": "没有找到应有的 `,` 或 `]`",
    "did not find expected ',' or '}'": "没有找到应有的 `,` 或 `}`",
    "did not find expected '-' indicator": "没有找到应有的 `-`",
    "did not find expected node content": "没有找到应有的内容",
    "did not find expected <document start>": "没有找到应有的文档开头",
    "mapping values are not allowed in this context": "此处不允许出现映射的值（多了一个 `:`？）",
    "found character that cannot start any token": "出现了不能作为开头的字符",
    "found unexpected end of stream": "文件意外结束",
    "found unknown escape character": "出现了未知的转义字符",
    "could not find expected ':'": "没有找到应有的 `:`",
    "found a tab character that violates indentation": "出现了破坏缩进的制表符",
    "block sequence entries are not allowed in this context": "此处不允许出现列表项",
    "control characters are not allowed": "出现了不允许的控制字符",
    "invalid leading UTF-8 octet": "出现了无效的 UTF-8 字节",
    "incomplete UTF-8 octet sequence": "UTF-8 字节序列不完整",
    "found undefined tag handle": "出现了未定义的标签",
    "did not find URI escaped octet": "没有找到 URI 转义字节",
    "found unexpected document indicator": "出现了意外的文档分隔符",
    "found extra closing bracket": "多了一个右括号",
    "while parsing a block mapping": "解析块映射时",
    "while parsing a block collection": "解析块集合时",
    "while parsing a flow sequence": "解析流式列表时",
    "while parsing a flow mapping": "解析流式映射时",
    "while parsing a flow node": "解析流式节点时",
    "while parsing a block node": "解析块节点时",
    "while scanning a simple key": "扫描简单键时",
    "while scanning a quoted scalar": "扫描带引号的标量时",
    "while scanning a plain scalar": "扫描普通标量时",
    "while scanning a block scalar": "扫描块标量时",
    "while scanning an anchor": "扫描锚点时",
    "while scanning an alias": "扫描别名时",
    "while scanning a tag": "扫描标签时",
    "while scanning a directive": "扫描指令时",
    "while parsing a node": "解析节点时",
  ]

  static func libyamlPhrase(_ s: String) -> String { phrases[s] ?? s }

  /// What a context phrase is about: "while parsing a flow sequence" → 流式列表.
  static func libyamlObject(_ s: String) -> String {
    guard var p = phrases[s] else { return s + " " }
    for prefix in ["解析", "扫描"] where p.hasPrefix(prefix) { p.removeFirst(prefix.count) }
    if p.hasSuffix("时") { p.removeLast() }
    return p
  }

  /// "解析流式列表时，没有找到应有的 `,` 或 `]`".
  static func libyaml(_ problem: String, _ context: String) -> String {
    let p = problem.isEmpty ? "YAML 语法错误" : phrases[problem] ?? "YAML 语法错误：\(problem)"
    guard !context.isEmpty else { return p }
    return "\(libyamlPhrase(context))，\(p)"
  }
}

extension YAMLNode {
  /// `kindName` in Chinese.
  var kindNameZH: String {
    switch self {
    case .scalar: "标量"
    case .sequence: "列表"
    case .mapping: "映射"
    }
  }
}
