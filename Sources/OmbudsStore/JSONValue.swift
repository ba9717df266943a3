import Foundation

/// A JSON value as the store keeps it: an event's fields, a snapshot's facts, a notification's
/// extra fields. Integers and fractions are told apart so that stored text round-trips.
public enum JSONValue: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// The text, when this is a string.
  public var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The object's members, when this is an object.
  public var object: [String: JSONValue]? {
    if case .object(let o) = self { return o }
    return nil
  }

  /// The elements, when this is an array.
  public var array: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  /// The whole number, when this is one (a fraction that is whole counts).
  public var int: Int64? {
    switch self {
    case .int(let i): return i
    case .double(let d) where d == d.rounded() && abs(d) < 9.2e18: return Int64(d)
    default: return nil
    }
  }

  /// Null, as JSON has it.
  public var isNull: Bool { self == .null }

  /// The same value for a person: numbers compare by value (`1` and `1.0` are one value).
  public func sameValue(as other: JSONValue) -> Bool {
    switch (self, other) {
    case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
    case (.array(let a), .array(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.sameValue(as: $1) }
    case (.object(let a), .object(let b)):
      return a.count == b.count && a.allSatisfy { k, v in b[k].map { v.sameValue(as: $0) } ?? false }
    default: return self == other
    }
  }
}

extension JSONValue {
  /// Converts a value built in Swift or read by `JSONSerialization`: strings, integers,
  /// fractions, booleans (told apart from numbers by their Objective-C type, which Linux's
  /// `NSNumber` needs), `NSNull`, `nil`, arrays and string-keyed dictionaries. Anything else
  /// becomes its description, as text.
  public init(any value: Any?) {
    switch value {
    case nil: self = .null
    case let v as JSONValue: self = v
    case let s as String: self = .string(s)
    case is NSNull: self = .null
    case let n as NSNumber:
      // `NSNumber(1) is Bool` holds on Linux: the Objective-C type tells a boolean apart.
      let type = String(cString: n.objCType)
      if type == "c" || type == "B" {
        self = .bool(n.boolValue)
      } else if type == "d" || type == "f" {
        self = .double(n.doubleValue)
      } else {
        self = .int(n.int64Value)
      }
    case let b as Bool: self = .bool(b)
    case let i as Int: self = .int(Int64(i))
    case let i as Int64: self = .int(i)
    case let i as Int32: self = .int(Int64(i))
    case let d as Double: self = .double(d)
    case let d as [String: Any]: self = .object(d.mapValues { JSONValue(any: $0) })
    case let a as [Any]: self = .array(a.map { JSONValue(any: $0) })
    case .some(let other):
      // Optionals arrive boxed: unwrap one level.
      let mirror = Mirror(reflecting: other)
      if mirror.displayStyle == .optional {
        self = mirror.children.first.map { JSONValue(any: $0.value) } ?? .null
      } else {
        self = .string("\(other)")
      }
    }
  }
}

extension JSONValue: Codable {
  public init(from decoder: any Decoder) throws {
    if var list = try? decoder.unkeyedContainer() {
      var items: [JSONValue] = []
      if let n = list.count { items.reserveCapacity(n) }
      while !list.isAtEnd { items.append(try list.decode(JSONValue.self)) }
      self = .array(items)
      return
    }
    if let members = try? decoder.container(keyedBy: AnyKey.self) {
      var out: [String: JSONValue] = [:]
      for key in members.allKeys { out[key.stringValue] = try members.decode(JSONValue.self, forKey: key) }
      self = .object(out)
      return
    }
    let one = try decoder.singleValueContainer()
    if one.decodeNil() {
      self = .null
    } else if let b = try? one.decode(Bool.self) {
      self = .bool(b)
    } else if let s = try? one.decode(String.self) {
      self = .string(s)
    } else if let i = try? one.decode(Int64.self) {
      self = .int(i)
    } else {
      self = .double(try one.decode(Double.self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .null:
      var one = encoder.singleValueContainer()
      try one.encodeNil()
    case .bool(let b):
      var one = encoder.singleValueContainer()
      try one.encode(b)
    case .int(let i):
      var one = encoder.singleValueContainer()
      try one.encode(i)
    case .double(let d):
      var one = encoder.singleValueContainer()
      try one.encode(d)
    case .string(let s):
      var one = encoder.singleValueContainer()
      try one.encode(s)
    case .array(let a):
      var list = encoder.unkeyedContainer()
      for item in a { try list.encode(item) }
    case .object(let o):
      var members = encoder.container(keyedBy: AnyKey.self)
      for (k, v) in o { try members.encode(v, forKey: AnyKey(k)) }
    }
  }

  /// Any string as a coding key.
  struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int64) { self = .int(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
  }
  public init(nilLiteral: ()) { self = .null }
}
