import Foundation

/// A request's query parameters as HTML forms and most clients write them (Java's
/// `URLEncoder`, PHP, Python's `requests`): `+` is a space, then percent-decoding. A literal
/// `+` is sent as `%2B`.
struct Query: Sequence {
  let pairs: [(key: String, value: String)]

  init(_ raw: String?) {
    var pairs: [(String, String)] = []
    for part in (raw ?? "").utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
      let kv = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
      pairs.append((Self.decode(kv[0]), kv.count > 1 ? Self.decode(kv[1]) : ""))
    }
    self.pairs = pairs
  }

  /// `+` as a space, `%XX` as its byte; a malformed escape, or bytes that are not UTF-8,
  /// leave the text as it came (in bytes, not through Foundation: this runs on every request).
  static func decode(_ bytes: Substring.UTF8View.SubSequence) -> String {
    func hex(_ c: UInt8) -> UInt8? {
      switch c {
      case 0x30...0x39: c - 0x30
      case 0x41...0x46: c - 0x41 + 10
      case 0x61...0x66: c - 0x61 + 10
      default: nil
      }
    }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = bytes.startIndex
    while i < bytes.endIndex {
      let c = bytes[i]
      if c == UInt8(ascii: "+") {
        out.append(0x20)
      } else if c == UInt8(ascii: "%") {
        let a = bytes.index(after: i)
        guard a < bytes.endIndex, bytes.index(after: a) < bytes.endIndex, let h = hex(bytes[a]),
          let l = hex(bytes[bytes.index(after: a)])
        else { return String(decoding: bytes, as: UTF8.self) }
        out.append(h << 4 | l)
        i = bytes.index(after: a)
      } else {
        out.append(c)
      }
      i = bytes.index(after: i)
    }
    return String(validating: out, as: UTF8.self) ?? String(decoding: bytes, as: UTF8.self)
  }

  /// The first value of `key`.
  func get(_ key: String) -> String? { pairs.first { $0.key == key }?.value }
  /// Every value of `key`, in order.
  func getAll(_ key: String) -> [String] { pairs.filter { $0.key == key }.map(\.value) }

  func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { pairs.makeIterator() }
}

/// RFC 3339 from a query string, where an unencoded `+` of an offset arrives as a space
/// (`2025-10-20T12:00:00 08:00`): read as the `+` it was.
enum RFC3339Lenient {
  static func fromQuery(_ text: String) -> String {
    guard text.count >= 25 else { return text }
    var chars = Array(text)
    let i = chars.count - 6
    if chars[i] == " ", chars[chars.count - 3] == ":" { chars[i] = "+" }
    return String(chars)
  }
}
