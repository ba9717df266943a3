import Foundation
import OmbudsEngine

/// The store's one JSON codec: snapshots, lifecycles, event payloads and notification bodies
/// are `Codable` values, read by one decoder and written with sorted keys and unescaped
/// slashes (`JSONEncoder`'s `.sortedKeys`, `.withoutEscapingSlashes`).
///
/// `string(_:)` is the hot path's writer for `JSONValue`: it writes exactly what `encode(_:)`
/// writes for the same value (a test holds it to that), without the encoder's boxing, which
/// would be a good part of every state change.
public enum StoreJSON {
  /// Reads a value of `type` from JSON text.
  static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
  }

  /// Reads a value of `type` from JSON bytes.
  public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
    try JSONDecoder().decode(type, from: Data(bytes))
  }

  /// Writes `value` as JSON text: sorted keys, slashes as they are, absent optionals left out.
  static func encode<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      // Only a non-finite number can fail here, and the store builds none (`double` values
      // come from parsed JSON, which has none).
      return "null"
    }
  }

  /// `value` as JSON text, the same as `encode(value)`.
  public static func string(_ value: JSONValue) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(256)
    write(value, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Any JSON-like Swift value (see `JSONValue.init(any:)`) as JSON text.
  static func string(_ value: Any) -> String { string(JSONValue(any: value)) }

  static func write(_ value: JSONValue, to out: inout [UInt8]) {
    switch value {
    case .string(let s):
      JSONText.appendString(s, to: &out)
    case .object(let d):
      out.append(0x7B)
      for (i, key) in d.keys.sorted().enumerated() {
        if i > 0 { out.append(0x2C) }
        JSONText.appendString(key, to: &out)
        out.append(0x3A)
        write(d[key] ?? .null, to: &out)
      }
      out.append(0x7D)
    case .array(let a):
      out.append(0x5B)
      for (i, item) in a.enumerated() {
        if i > 0 { out.append(0x2C) }
        write(item, to: &out)
      }
      out.append(0x5D)
    case .null:
      out.append(contentsOf: "null".utf8)
    case .bool(let b):
      out.append(contentsOf: (b ? "true" : "false").utf8)
    case .int(let i):
      out.append(contentsOf: String(i).utf8)
    case .double(let d):
      appendDouble(d, to: &out)
    }
  }

  /// A fraction as `JSONEncoder` writes it: whole values without `.0`.
  static func appendDouble(_ d: Double, to out: inout [UInt8]) {
    guard d.isFinite else {
      out.append(contentsOf: "null".utf8)
      return
    }
    var text = d.description
    if text.hasSuffix(".0") { text.removeLast(2) }
    out.append(contentsOf: text.utf8)
  }
}
