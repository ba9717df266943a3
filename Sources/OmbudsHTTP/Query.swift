import Foundation

/// A request's query parameters as HTML forms and most clients write them (Java's
/// `URLEncoder`, PHP, Python's `requests`): `+` is a space, then percent-decoding. A literal
/// `+` is sent as `%2B`.
struct Query: Sequence {
  let pairs: [(key: String, value: String)]

  init(_ raw: String?) {
    var pairs: [(String, String)] = []
    for part in (raw ?? "").split(separator: "&", omittingEmptySubsequences: true) {
      let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      func decode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
      }
      pairs.append((decode(kv[0]), kv.count > 1 ? decode(kv[1]) : ""))
    }
    self.pairs = pairs
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
