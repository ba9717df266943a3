import Foundation
import OmbudsEngine

/// Writes the store's JSON values (snapshots, lifecycles, event payloads) with sorted keys,
/// the same text Foundation's `JSONSerialization` writes for them, without its bridging and
/// `NSString` key sorting, which were a fifth of every state change.
///
/// Values are what `JSONSerialization` reads and what the store builds: strings, numbers
/// (Swift or `NSNumber`, booleans told apart by their Objective-C type), `NSNull`, arrays and
/// string-keyed dictionaries. Anything else is written as its description, quoted.
enum StoreJSON {
  static func string(_ value: Any) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(256)
    write(value, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  static func write(_ value: Any, to out: inout [UInt8]) {
    switch value {
    case let s as String:
      JSONText.appendString(s, to: &out)
    case let d as [String: Any]:
      out.append(0x7B)
      for (i, key) in d.keys.sorted().enumerated() {
        if i > 0 { out.append(0x2C) }
        JSONText.appendString(key, to: &out)
        out.append(0x3A)
        write(d[key] ?? NSNull(), to: &out)
      }
      out.append(0x7D)
    case let a as [Any]:
      out.append(0x5B)
      for (i, item) in a.enumerated() {
        if i > 0 { out.append(0x2C) }
        write(item, to: &out)
      }
      out.append(0x5D)
    case is NSNull:
      out.append(contentsOf: "null".utf8)
    case let n as NSNumber:
      // `NSNumber(1) is Bool` holds on Linux: the Objective-C type tells a boolean apart.
      let type = String(cString: n.objCType)
      if type == "c" || type == "B" {
        out.append(contentsOf: (n.boolValue ? "true" : "false").utf8)
      } else if type == "d" || type == "f" {
        let d = n.doubleValue
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 {
          out.append(contentsOf: String(Int64(d)).utf8)
        } else if d.isFinite {
          out.append(contentsOf: "\(d)".utf8)
        } else {
          out.append(contentsOf: "null".utf8)
        }
      } else {
        out.append(contentsOf: String(n.int64Value).utf8)
      }
    default:
      JSONText.appendString("\(value)", to: &out)
    }
  }
}
