/// A YAML node with the position of its first character. The tree knows YAML shapes and
/// positions only; meaning is given to it by the rule model's checking passes.
public indirect enum YAMLNode: Sendable {
  /// How a scalar was written: plain scalars can be numbers or booleans, quoted ones are text.
  public enum ScalarStyle: Sendable, Hashable {
    case plain, singleQuoted, doubleQuoted, literal, folded
  }

  /// One key/value pair of a mapping.
  public struct Pair: Sendable {
    public var key: Located<String>
    public var value: YAMLNode
    public init(key: Located<String>, value: YAMLNode) {
      self.key = key
      self.value = value
    }
  }

  case scalar(Located<String>, ScalarStyle)
  case sequence([YAMLNode], SourceLocation)
  case mapping([Pair], SourceLocation)

  /// Where the node starts.
  public var location: SourceLocation {
    switch self {
    case .scalar(let s, _): s.location
    case .sequence(_, let l): l
    case .mapping(_, let l): l
    }
  }

  /// The scalar's text, or nil for collections.
  public var scalarText: String? {
    if case .scalar(let s, _) = self { return s.value }
    return nil
  }

  /// True for a plain scalar that YAML reads as null (`~`, `null`, empty).
  public var isNull: Bool {
    if case .scalar(let s, .plain) = self {
      return s.value.isEmpty || s.value == "~" || s.value == "null" || s.value == "Null"
        || s.value == "NULL"
    }
    return false
  }

  /// A short name of the node's shape, for messages.
  public var kindName: String {
    switch self {
    case .scalar: "a scalar"
    case .sequence: "a list"
    case .mapping: "a mapping"
    }
  }

  /// The value of `key` in a mapping.
  public subscript(key: String) -> YAMLNode? {
    if case .mapping(let pairs, _) = self {
      return pairs.first { $0.key.value == key }?.value
    }
    return nil
  }

  /// The pairs of a mapping, or nil.
  public var pairs: [Pair]? {
    if case .mapping(let p, _) = self { return p }
    return nil
  }

  /// The items of a sequence, or nil.
  public var items: [YAMLNode]? {
    if case .sequence(let i, _) = self { return i }
    return nil
  }

  /// Where the text of a scalar starts, skipping the opening quote of a quoted scalar.
  public var contentLocation: SourceLocation {
    switch self {
    case .scalar(let s, .singleQuoted), .scalar(let s, .doubleQuoted):
      return s.location.advanced(columns: 1, bytes: 1)
    default:
      return location
    }
  }

  /// Whether column arithmetic inside the scalar's text maps to the file exactly.
  public var isSingleLineSpan: Bool {
    switch self {
    case .scalar(let s, .plain), .scalar(let s, .singleQuoted):
      return !s.value.contains("\n") && !s.value.contains("'")
    case .scalar(let s, .doubleQuoted):
      return !s.value.contains("\n") && !s.value.contains("\\") && !s.value.contains("\"")
    default:
      return false
    }
  }
}
