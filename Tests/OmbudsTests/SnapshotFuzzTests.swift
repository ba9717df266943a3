import Foundation
import OmbudsEngine
import Testing

/// Random damage to valid case lines never crashes the reader: every line ends as a case or
/// as an error that says what is wrong.
@Suite struct SnapshotFuzzTests {
  static let seeds = [
    #"{"id":"C-1","received_at":"2025-10-01T09:00:00+08:00","collective_size":12,"media":"exposed","text":"快递暴力分拣"}"#,
    #"{"id":"C-2","received_at":"2025-10-01T09:00:00Z","compensation":{"amount":"650.00","currency":"CNY"},"materials_complete_at":"2025-10-02T09:00:00+08:00","complainant_id":"P\u0041","issue_key":null}"#,
    #"{"id":"C-3","received_at":"2025-10-01T09:00:00.125+08:00","state":"resolved","resolved_at":"2025-10-03T09:00:00+08:00","reopened_after_resolution":true,"text":"\ud83d\ude00 賭\u200b博"}"#,
  ]

  @Test func damagedLinesAreRejectedWithAReason() throws {
    let rules = try Support.defaultRules()
    var state: UInt64 = 7
    func next() -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(truncatingIfNeeded: state >> 33)
    }
    let fragments: [[UInt8]] = [
      Array("\"".utf8), Array("\\".utf8), Array("{".utf8), Array("}".utf8), Array(",".utf8), Array(":".utf8),
      Array("null".utf8), Array("-1".utf8), Array("1e999".utf8), Array("\\ud800".utf8), [0xFF], [0xE8, 0xB5],
      Array("\"id\":\"X\",".utf8), [0x00], Array("9999999999999999999999".utf8),
    ]
    var accepted = 0
    var rejected = 0
    for round in 0..<3_000 {
      var bytes = Array(Self.seeds[round % Self.seeds.count].utf8)
      for _ in 0..<(1 + next() % 3) {
        let at = next() % max(1, bytes.count)
        switch next() % 4 {
        case 0: bytes[at] = UInt8(truncatingIfNeeded: next())
        case 1: bytes.remove(at: at)
        case 2: bytes.insert(contentsOf: fragments[next() % fragments.count], at: at)
        default: bytes.removeSubrange(at..<min(bytes.count, at + next() % 12))
        }
      }
      do {
        let facts = try bytes.withUnsafeBufferPointer { try rules.reader.read($0) }
        _ = rules.evaluate(facts, at: Support.time("2025-10-20T00:00:00Z"))
        accepted += 1
      } catch {
        let message = (error as? CaseError)?.message ?? ""
        #expect(message.count > 0, "not a CaseError: \(error)")
        rejected += 1
      }
    }
    #expect(rejected > 1_000)
    #expect(accepted + rejected == 3_000)
  }
}
