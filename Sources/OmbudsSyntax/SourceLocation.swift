/// A position in a rule file: 1-based line and column (in Unicode scalars), 0-based byte offset.
///
/// Locations are `Comparable` (file, then offset) so diagnostics always come out in the same order.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The path of the file as the user named it.
  public var file: String
  /// 1-based line.
  public var line: Int
  /// 1-based column, counted in Unicode scalars.
  public var column: Int
  /// 0-based byte offset into the file's UTF-8 text.
  public var offset: Int

  public init(file: String, line: Int, column: Int, offset: Int) {
    self.file = file
    self.line = line
    self.column = column
    self.offset = offset
  }

  /// `path:line:column`.
  public var description: String { "\(file):\(line):\(column)" }

  public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
    if lhs.file != rhs.file { return lhs.file < rhs.file }
    if lhs.offset != rhs.offset { return lhs.offset < rhs.offset }
    return lhs.column < rhs.column
  }

  /// This location moved `columns` scalars to the right on the same line (and `bytes` further in the file).
  public func advanced(columns: Int, bytes: Int) -> SourceLocation {
    SourceLocation(file: file, line: line, column: column + columns, offset: offset + bytes)
  }
}

/// A value together with where it was written. Equality and hashing ignore the location.
public struct Located<Value>: CustomStringConvertible {
  public var value: Value
  public var location: SourceLocation

  public init(_ value: Value, at location: SourceLocation) {
    self.value = value
    self.location = location
  }

  public var description: String { "\(value)" }
}

extension Located: Sendable where Value: Sendable {}

extension Located: Equatable where Value: Equatable {
  public static func == (lhs: Located, rhs: Located) -> Bool { lhs.value == rhs.value }
}

extension Located: Hashable where Value: Hashable {
  public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
