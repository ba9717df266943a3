/// The text of one rule file, with a table of line starts for rendering diagnostics.
public struct SourceFile: Sendable {
  /// The path as the user named it.
  public let path: String
  /// The raw bytes of the file.
  public let bytes: [UInt8]
  /// Byte offset of the start of each line (line 1 at index 0).
  public let lineStarts: [Int]

  public init(path: String, bytes: [UInt8]) {
    self.path = path
    self.bytes = bytes
    var starts = [0]
    var i = 0
    let n = bytes.count
    while i < n {
      let b = bytes[i]
      if b == 0x0A {
        starts.append(i + 1)
      } else if b == 0x0D {
        if i + 1 < n, bytes[i + 1] == 0x0A { i += 1 }
        starts.append(i + 1)
      }
      i += 1
    }
    self.lineStarts = starts
  }

  public init(path: String, text: String) {
    self.init(path: path, bytes: Array(text.utf8))
  }

  /// The bytes of line `line` (1-based), without its line break.
  public func lineBytes(_ line: Int) -> ArraySlice<UInt8> {
    guard line >= 1, line <= lineStarts.count else { return [] }
    let start = lineStarts[line - 1]
    var end = line < lineStarts.count ? lineStarts[line] : bytes.count
    while end > start, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
    return bytes[start..<end]
  }

  /// The text of line `line` (1-based); invalid UTF-8 is replaced.
  public func lineText(_ line: Int) -> String {
    String(decoding: lineBytes(line), as: UTF8.self)
  }

  /// The location of a 1-based line and a 1-based column counted in Unicode scalars.
  public func location(line: Int, column: Int) -> SourceLocation {
    guard line >= 1, line <= lineStarts.count else {
      return SourceLocation(file: path, line: max(1, line), column: max(1, column), offset: bytes.count)
    }
    var offset = lineStarts[line - 1]
    var col = 1
    while col < column, offset < bytes.count {
      let b = bytes[offset]
      if b == 0x0A || b == 0x0D { break }
      offset += SourceFile.scalarWidth(lead: b)
      col += 1
    }
    return SourceLocation(file: path, line: line, column: column, offset: min(offset, bytes.count))
  }

  /// The location of a byte offset.
  public func location(offset: Int) -> SourceLocation {
    let clamped = max(0, min(offset, bytes.count))
    var lo = 0
    var hi = lineStarts.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if lineStarts[mid] <= clamped { lo = mid } else { hi = mid - 1 }
    }
    var col = 1
    var i = lineStarts[lo]
    while i < clamped {
      i += SourceFile.scalarWidth(lead: bytes[i])
      col += 1
    }
    return SourceLocation(file: path, line: lo + 1, column: col, offset: clamped)
  }

  /// Number of bytes of the UTF-8 sequence that starts with `lead` (1 for invalid lead bytes).
  @inlinable
  public static func scalarWidth(lead: UInt8) -> Int {
    if lead < 0x80 { return 1 }
    if lead >= 0xF0 && lead < 0xF8 { return 4 }
    if lead >= 0xE0 { return lead < 0xF0 ? 3 : 1 }
    if lead >= 0xC0 { return 2 }
    return 1
  }
}
