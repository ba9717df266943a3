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
      let line = String(decoding: bytes, as: UTF8.self)
      do {
        let facts = try bytes.withUnsafeBufferPointer { try rules.reader.read($0) }
        let decision = rules.evaluate(facts, at: Support.time("2025-10-20T00:00:00Z"))
        #expect(decision.level >= 0 && decision.level < rules.levels.count)
        // What the reader accepts is JSON that Foundation reads too, with the same id.
        let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        #expect(object != nil, "accepted a line that is not a JSON object: \(line)")
        if let object { #expect(object["id"] as? String == facts.id, "\(line)") }
        accepted += 1
      } catch {
        // A rejection says what is wrong: the field it concerns, or where the JSON breaks.
        let message = (error as? CaseError)?.message ?? ""
        #expect(message.contains("`") || message.contains("byte"), "a reason that names nothing: \(message) — \(line)")
        rejected += 1
      }
    }
    // Most damage is caught, some survives as a valid case.
    #expect(rejected > 1_000)
    #expect(accepted > 30)
  }

  /// Lines the reader once accepted although they are not JSON (found by the fuzz test).
  @Test(arguments: [
    (#"{"id":"J1","received_at":"2025-10-01T09:00:00+08:00","collective_size":+2}"#, "collective_size"),
    (#"{"id":"J2","received_at":"2025-10-01T09:00:00+08:00","collective_size":.5}"#, "collective_size"),
  ])
  func notJSONIsRejected(_ line: String, _ field: String) throws {
    let rules = try Support.defaultRules()
    #expect(throws: CaseError.self) { try Support.facts(rules, line) }
    do { _ = try Support.facts(rules, line) } catch { #expect((error as? CaseError)?.message.contains(field) == true) }
  }

  @Test func invalidUTF8InAStringIsRejectedWithItsPosition() throws {
    let rules = try Support.defaultRules()
    var bytes = Array(#"{"id":"U1","received_at":"2025-10-01T09:00:00+08:00","text":"快递XX分拣"}"#.utf8)
    let x = try #require(bytes.firstIndex(of: UInt8(ascii: "X")))
    bytes[x] = 0xE8  // a lead byte with no continuation
    bytes[x + 1] = 0x41
    let error = #expect(throws: CaseError.self) { try bytes.withUnsafeBufferPointer { try rules.reader.read($0) } }
    #expect(error?.message == "invalid UTF-8 in the string at byte 60")
  }
}
