import Foundation
import OmbudsEngine
import OmbudsStore

/// Builds response JSON from pieces that are already JSON text (the store keeps snapshots and
/// decisions as JSON text: they are embedded as they are, not decoded and encoded again).
enum J {
  /// A JSON string literal.
  static func str(_ s: String) -> String { JSONText.quoted(s) }
  static func str(_ s: String?) -> String { s.map(JSONText.quoted) ?? "null" }
  static func int<T: BinaryInteger>(_ n: T?) -> String { n.map { "\($0)" } ?? "null" }
  static func bool(_ b: Bool) -> String { b ? "true" : "false" }

  /// An object of (key, JSON text) pairs, in order; nil values are left out.
  static func object(_ pairs: [(String, String?)]) -> String {
    var out = "{"
    var first = true
    for (k, v) in pairs {
      guard let v else { continue }
      if !first { out += "," }
      first = false
      out += JSONText.quoted(k)
      out += ":"
      out += v
    }
    return out + "}"
  }

  static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

  /// JSON text from the store, or null when it is empty.
  static func raw(_ text: String?) -> String {
    guard let text, !text.isEmpty else { return "null" }
    return text
  }

  static func value(_ v: JSONValue) -> String { StoreJSON.string(v) }
}
