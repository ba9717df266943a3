import Foundation
import OmbudsRules

/// Reads one case snapshot (a JSON object) straight from UTF-8 bytes into `CaseFacts`,
/// specialised to the rule set's declared fields: no intermediate dictionary, no `Data` copy.
public struct SnapshotReader: Sendable {
  /// One known key, with what the reader needs of its field (shared, never copied per line).
  final class Slot: Sendable {
    enum Kind: Sendable { case id, field }
    let key: [UInt8]
    let field: FieldDecl?
    let kind: Kind
    /// Enum values as UTF-8, for comparing without building strings.
    let enumValues: [[UInt8]]
    init(key: [UInt8], field: FieldDecl?, kind: Kind) {
      self.key = key
      self.field = field
      self.kind = kind
      if case .enumeration(let values) = field?.type {
        enumValues = values.map { Array($0.utf8) }
      } else {
        enumValues = []
      }
    }
  }

  let slots: [Slot]
  /// Slot indices by (key length, first byte, last byte) bucket.
  let buckets: [[Int]]
  let template: [Int64]
  let stringTemplate: [String?]
  let baseCurrency: String
  let equivalents: [String: Int64]
  let requiredNumeric: [FieldDecl]
  /// When false the `text` field is checked but not kept (nothing in the rules reads it).
  public var keepText = true

  public init(rules: RuleSet) {
    var slots = [Slot(key: Array("id".utf8), field: nil, kind: .id)]
    var template = [Int64](repeating: CaseFacts.null, count: rules.numericSlotCount)
    var strings = [String?](repeating: nil, count: rules.stringSlotCount)
    var required: [FieldDecl] = []
    for f in rules.fields {
      slots.append(Slot(key: Array(f.id.utf8), field: f, kind: .field))
      if f.type == .string {
        strings[f.slot] = f.defaultString
      } else {
        template[f.slot] = f.defaultSlot ?? CaseFacts.null
        if !f.optional, f.defaultSlot == nil { required.append(f) }
      }
    }
    var buckets = [[Int]](repeating: [], count: 256)
    for (i, s) in slots.enumerated() { buckets[Self.bucket(s.key)].append(i) }
    self.slots = slots
    self.buckets = buckets
    self.template = template
    self.stringTemplate = strings
    self.baseCurrency = rules.refund?.currency ?? rules.currency
    self.equivalents = rules.refund?.equivalents ?? [rules.currency: Money.scale]
    self.requiredNumeric = required
  }

  @inline(__always)
  static func bucket<C: Collection>(_ key: C) -> Int where C.Element == UInt8, C.Index == Int {
    guard let first = key.first else { return 0 }
    let last = key[key.endIndex - 1]
    return (key.count &* 31 &+ Int(first) &* 7 &+ Int(last)) & 255
  }

  /// Parses one JSON object. Blank input is the caller's business.
  public func read(_ bytes: UnsafeBufferPointer<UInt8>) throws(CaseError) -> CaseFacts {
    var p = JSONCursor(bytes)
    var facts = CaseFacts(id: "", numbers: template, strings: stringTemplate)
    var seen = [Bool](repeating: false, count: slots.count)
    var haveID = false
    p.skipSpace()
    guard p.consume(UInt8(ascii: "{")) else { throw CaseError("a case is a JSON object: expected `{`") }
    p.skipSpace()
    if !p.consume(UInt8(ascii: "}")) {
      while true {
        p.skipSpace()
        guard let key = try p.rawString() else { throw CaseError("expected a field name in quotes at byte \(p.i)") }
        p.skipSpace()
        guard p.consume(UInt8(ascii: ":")) else { throw CaseError("expected `:` after field name") }
        p.skipSpace()
        guard let index = match(key) else {
          throw CaseError("unknown field `\(String(decoding: key, as: UTF8.self))`")
        }
        if seen[index] { throw CaseError("field `\(String(decoding: key, as: UTF8.self))` appears twice") }
        seen[index] = true
        let slot = slots[index]
        switch slot.kind {
        case .id:
          guard let s = try p.string(), !s.isEmpty else { throw CaseError("field `id`: expected a non-empty string") }
          facts.id = s
          haveID = true
        case .field:
          if let f = slot.field { try readField(f, slot, &p, &facts) }
        }
        p.skipSpace()
        if p.consume(UInt8(ascii: ",")) { continue }
        if p.consume(UInt8(ascii: "}")) { break }
        throw CaseError("expected `,` or `}` at byte \(p.i)")
      }
    }
    p.skipSpace()
    guard p.atEnd else { throw CaseError("unexpected text after the case object at byte \(p.i)") }
    guard haveID else { throw CaseError("field `id` is required") }
    for f in requiredNumeric where facts.numbers[f.slot] == CaseFacts.null {
      throw CaseError("field `\(f.id)` is required")
    }
    return facts
  }

  func match(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
    for i in buckets[Self.bucket(key)] {
      let k = slots[i].key
      if k.count == key.count, k.withUnsafeBufferPointer({ $0.elementsEqual(key) }) { return i }
    }
    return nil
  }

  func readField(_ f: FieldDecl, _ slot: Slot, _ p: inout JSONCursor, _ facts: inout CaseFacts) throws(CaseError) {
    if p.consumeLiteral("null") {
      guard f.optional else { throw CaseError("field `\(f.id)` cannot be null") }
      if f.type == .string { facts.strings[f.slot] = nil } else { facts.numbers[f.slot] = CaseFacts.null }
      return
    }
    switch f.type {
    case .string:
      if !keepText, f.slot == BuiltinFields.text, f.builtin {
        guard try p.skipString() else { throw CaseError("field `\(f.id)`: expected a string") }
        return
      }
      guard let s = try p.string() else { throw CaseError("field `\(f.id)`: expected a string") }
      facts.strings[f.slot] = s
    case .bool:
      if p.consumeLiteral("true") {
        facts.numbers[f.slot] = 1
      } else if p.consumeLiteral("false") {
        facts.numbers[f.slot] = 0
      } else {
        throw CaseError("field `\(f.id)`: expected true or false")
      }
    case .integer:
      guard let raw = p.number(), let v = Int64(String(decoding: raw, as: UTF8.self)) else {
        throw CaseError("field `\(f.id)`: expected a whole number")
      }
      if let lo = f.minimum, v < lo { throw CaseError("field `\(f.id)`: \(v) is below the minimum \(lo)") }
      if let hi = f.maximum, v > hi { throw CaseError("field `\(f.id)`: \(v) is above the maximum \(hi)") }
      facts.numbers[f.slot] = v
    case .decimal:
      guard let raw = try p.rawString() ?? p.number(), let v = Money.parseUnits(Array(raw)[...]) else {
        throw CaseError("field `\(f.id)`: expected a decimal number")
      }
      if let lo = f.minimum, v < lo {
        throw CaseError("field `\(f.id)`: \(Money.format(units: v)) is below the minimum \(Money.format(units: lo))")
      }
      if let hi = f.maximum, v > hi {
        throw CaseError("field `\(f.id)`: \(Money.format(units: v)) is above the maximum \(Money.format(units: hi))")
      }
      facts.numbers[f.slot] = v
    case .enumeration(let values):
      guard let raw = try p.rawString() else {
        throw CaseError("field `\(f.id)`: expected one of \(values.joined(separator: ", "))")
      }
      guard let i = slot.enumValues.firstIndex(where: { $0.elementsEqual(raw) }) else {
        throw CaseError(
          "field `\(f.id)`: `\(String(decoding: raw, as: UTF8.self))` is not one of \(values.joined(separator: ", "))")
      }
      facts.numbers[f.slot] = Int64(i)
    case .timestamp:
      guard let raw = try p.rawString(), let t = RFC3339.parse(raw) else {
        throw CaseError("field `\(f.id)`: expected an RFC 3339 timestamp such as 2025-10-01T09:30:00+08:00")
      }
      facts.numbers[f.slot] = t
    case .money:
      let money = try readMoney(f, &p)
      facts.originalMoney = money
      guard let rate = equivalents[money.currency] else {
        throw CaseError(
          "field `\(f.id)`: no rate for currency \(money.currency) (the policy compares in \(baseCurrency); add it under refund_approval.equivalents)"
        )
      }
      let converted = (Int128(money.units) * Int128(rate) + Int128(Money.scale / 2)) / Int128(Money.scale)
      guard let v = Int64(exactly: converted) else { throw CaseError("field `\(f.id)`: amount too large") }
      facts.numbers[f.slot] = v
    }
  }

  func readMoney(_ f: FieldDecl, _ p: inout JSONCursor) throws(CaseError) -> Money {
    guard p.consume(UInt8(ascii: "{")) else {
      throw CaseError("field `\(f.id)`: expected {\"amount\": \"650.00\", \"currency\": \"CNY\"} or null")
    }
    var amount: Int64?
    var currency: String?
    p.skipSpace()
    if !p.consume(UInt8(ascii: "}")) {
      while true {
        p.skipSpace()
        guard let key = try p.rawString() else { throw CaseError("field `\(f.id)`: expected a key") }
        let name = String(decoding: key, as: UTF8.self)
        p.skipSpace()
        guard p.consume(UInt8(ascii: ":")) else { throw CaseError("field `\(f.id)`: expected `:`") }
        p.skipSpace()
        switch name {
        case "amount":
          guard let raw = try p.rawString() ?? p.number(), let v = Money.parseUnits(Array(raw)[...]) else {
            throw CaseError("field `\(f.id)`: amount must be a decimal such as \"650.00\" (at most 4 decimal places)")
          }
          guard v >= 0 else { throw CaseError("field `\(f.id)`: amount cannot be negative") }
          amount = v
        case "currency":
          guard let c = try p.string(), c.utf8.count == 3, c.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
            throw CaseError("field `\(f.id)`: currency must be a three-letter code such as \"CNY\"")
          }
          currency = c
        default:
          throw CaseError("field `\(f.id)`: unknown key `\(name)` (expected amount and currency)")
        }
        p.skipSpace()
        if p.consume(UInt8(ascii: ",")) { continue }
        if p.consume(UInt8(ascii: "}")) { break }
        throw CaseError("field `\(f.id)`: expected `,` or `}`")
      }
    }
    guard let amount else { throw CaseError("field `\(f.id)`: amount is missing") }
    guard let currency else { throw CaseError("field `\(f.id)`: currency is missing") }
    return Money(units: amount, currency: currency)
  }
}

/// A minimal JSON cursor over UTF-8 bytes.
struct JSONCursor {
  let b: UnsafeBufferPointer<UInt8>
  var i = 0

  init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

  var atEnd: Bool { i >= b.count }

  mutating func skipSpace() {
    while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
  }

  mutating func consume(_ c: UInt8) -> Bool {
    if i < b.count, b[i] == c {
      i += 1
      return true
    }
    return false
  }

  mutating func consumeLiteral(_ s: StaticString) -> Bool {
    let n = s.utf8CodeUnitCount
    guard i + n <= b.count else { return false }
    let p = s.utf8Start
    for k in 0..<n where b[i + k] != p[k] { return false }
    // The literal must end here (not `nullx`).
    if i + n < b.count {
      let c = b[i + n]
      if (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) { return false }
    }
    i += n
    return true
  }

  /// The bytes of a JSON number.
  mutating func number() -> UnsafeBufferPointer<UInt8>? {
    let start = i
    // JSON numbers start with a digit or `-` (never `+` or `.`).
    guard i < b.count, b[i] == UInt8(ascii: "-") || (b[i] >= 0x30 && b[i] <= 0x39) else { return nil }
    if b[i] == UInt8(ascii: "-") { i += 1 }
    while i < b.count,
      (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e")
        || b[i] == UInt8(ascii: "E") || b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")
    {
      i += 1
    }
    if i == start { return nil }
    return UnsafeBufferPointer(rebasing: b[start..<i])
  }

  /// The raw bytes of a string without escapes (nil if not a string); a string with escapes
  /// is refused here — callers that accept any text use `string()`.
  mutating func rawString() throws(CaseError) -> UnsafeBufferPointer<UInt8>? {
    guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
    let start = i + 1
    var j = start
    while j < b.count {
      let c = b[j]
      if c == UInt8(ascii: "\"") {
        i = j + 1
        return UnsafeBufferPointer(rebasing: b[start..<j])
      }
      if c == UInt8(ascii: "\\") {
        // Rare in keys and enum values: decode, then compare the decoded bytes.
        return nil
      }
      if c < 0x20 { throw CaseError("control character inside a string at byte \(j)") }
      j += 1
    }
    throw CaseError("unterminated string at byte \(i)")
  }

  /// Skips a string value, checking escapes and control characters; false if not a string.
  mutating func skipString() throws(CaseError) -> Bool {
    guard i < b.count, b[i] == UInt8(ascii: "\"") else { return false }
    var j = i + 1
    while j < b.count {
      let c = b[j]
      if c == UInt8(ascii: "\"") {
        i = j + 1
        return true
      }
      if c < 0x20 { throw CaseError("control character inside a string at byte \(j)") }
      j += c == UInt8(ascii: "\\") ? 2 : 1
    }
    throw CaseError("unterminated string at byte \(i)")
  }

  /// A string value with JSON escapes decoded (nil if not a string).
  mutating func string() throws(CaseError) -> String? {
    guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
    var j = i + 1
    let start = j
    // Fast path: no escapes.
    while j < b.count, b[j] != UInt8(ascii: "\""), b[j] != UInt8(ascii: "\\") {
      if b[j] < 0x20 { throw CaseError("control character inside a string at byte \(j)") }
      j += 1
    }
    guard j < b.count else { throw CaseError("unterminated string at byte \(i)") }
    if b[j] == UInt8(ascii: "\"") {
      i = j + 1
      guard let text = String(validating: UnsafeBufferPointer(rebasing: b[start..<j]), as: UTF8.self) else {
        throw CaseError("invalid UTF-8 in the string at byte \(start - 1)")
      }
      return text
    }
    var out = [UInt8](UnsafeBufferPointer(rebasing: b[start..<j]))
    while j < b.count {
      let c = b[j]
      if c == UInt8(ascii: "\"") {
        i = j + 1
        guard let text = String(validating: out, as: UTF8.self) else {
          throw CaseError("invalid UTF-8 in the string at byte \(start - 1)")
        }
        return text
      }
      if c < 0x20 { throw CaseError("control character inside a string at byte \(j)") }
      if c != UInt8(ascii: "\\") {
        out.append(c)
        j += 1
        continue
      }
      guard j + 1 < b.count else { throw CaseError("unterminated string at byte \(i)") }
      let e = b[j + 1]
      j += 2
      switch e {
      case UInt8(ascii: "\""): out.append(0x22)
      case UInt8(ascii: "\\"): out.append(0x5C)
      case UInt8(ascii: "/"): out.append(0x2F)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        guard var scalar = hex4(j) else { throw CaseError("bad \\u escape at byte \(j - 2)") }
        j += 4
        if scalar >= 0xD800, scalar < 0xDC00 {
          guard j + 6 <= b.count, b[j] == UInt8(ascii: "\\"), b[j + 1] == UInt8(ascii: "u"), let low = hex4(j + 2),
            low >= 0xDC00, low < 0xE000
          else { throw CaseError("unpaired surrogate in \\u escape at byte \(j - 6)") }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          j += 6
        } else if scalar >= 0xDC00, scalar < 0xE000 {
          throw CaseError("unpaired surrogate in \\u escape at byte \(j - 6)")
        }
        guard let u = Unicode.Scalar(scalar) else { throw CaseError("bad \\u escape at byte \(j - 6)") }
        out.append(contentsOf: Array(String(Character(u)).utf8))
      default:
        throw CaseError("bad escape `\\\(Character(Unicode.Scalar(e)))` in a string at byte \(j - 2)")
      }
    }
    throw CaseError("unterminated string at byte \(i)")
  }

  func hex4(_ at: Int) -> UInt32? {
    guard at + 4 <= b.count else { return nil }
    var v: UInt32 = 0
    for k in at..<(at + 4) {
      let c = b[k]
      let d: UInt32
      switch c {
      case 0x30...0x39: d = UInt32(c - 0x30)
      case 0x41...0x46: d = UInt32(c - 0x41 + 10)
      case 0x61...0x66: d = UInt32(c - 0x61 + 10)
      default: return nil
      }
      v = v << 4 | d
    }
    return v
  }
}
