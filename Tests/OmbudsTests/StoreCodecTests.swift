import Foundation
import Testing

@testable import OmbudsStore

/// The store's one JSON codec: the hot path's writer writes exactly what `JSONEncoder` (sorted
/// keys, unescaped slashes) writes, and what either writes reads back as the same value.
@Suite struct StoreCodecTests {
  /// A small deterministic generator (the same values every run).
  struct Seeded {
    var state: UInt64
    mutating func next(_ n: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(n))
    }
  }

  static let pieces = [
    "", "a", "Z", "_", "0", "10", "2", "é", "重大", "😀", "/", "\\", "\"", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{1}",
    "\u{1f}", "\u{7f}", "\u{2028}", " ", "a_b", "ab", "aB", "level_label", "level",
  ]

  static func text(_ g: inout Seeded) -> String {
    (0..<g.next(4)).map { _ in pieces[g.next(pieces.count)] }.joined()
  }

  static func value(_ g: inout Seeded, depth: Int) -> JSONValue {
    switch g.next(depth > 2 ? 6 : 8) {
    case 0: return .null
    case 1: return .bool(g.next(2) == 0)
    case 2: return .int([0, 1, -1, 42, 1_760_000_000_000, Int64.max, Int64.min][g.next(7)])
    case 3: return .double([0.5, -1.25, 3.0, 1e20, 1e-7, 123456.789, 1e15, 0.1][g.next(8)])
    case 4, 5: return .string(text(&g))
    case 6: return .array((0..<g.next(4)).map { _ in value(&g, depth: depth + 1) })
    default:
      var o: [String: JSONValue] = [:]
      for _ in 0..<g.next(5) { o[text(&g)] = value(&g, depth: depth + 1) }
      return .object(o)
    }
  }

  @Test func theHotPathWriterWritesWhatJSONEncoderWrites() throws {
    var g = Seeded(state: 0x0B5D)
    for _ in 0..<2_000 {
      let v = Self.value(&g, depth: 0)
      let fast = StoreJSON.string(v)
      #expect(fast == StoreJSON.encode(v), "\(v)")
      // Read back: the same value, whoever wrote it.
      #expect(try StoreJSON.decode(JSONValue.self, from: fast).sameValue(as: v), "\(fast)")
    }
  }

  /// Stored text of earlier versions reads and writes back byte for byte.
  @Test func storedTextRoundTrips() throws {
    let snapshot =
      #"{"collective_size":4,"compensation":{"amount":"650.00","currency":"CNY"},"id":"C-1","media":"exposed","received_at":"2025-11-10T09:00:00+08:00","reopened_after_resolution":true,"resolved_at":null,"state":"open","text":"12路司机多收车费/4名乘客"}"#
    #expect(CaseSnapshot.read(snapshot).json == snapshot)
    let lifecycle =
      #"{"approvals":["market_management","general_manager"],"assignee":"staff-9","extensions":{"reply_by":{"reason":"complex","until":"2025-11-20T09:00:00+08:00"}},"level_since":1759280400000,"reply_approved":true,"reply_approved_by":["customer_service_center"],"round":2}"#
    #expect(CaseLifecycle.read(lifecycle).json == lifecycle)
    #expect(CaseLifecycle.read("{}").json == "{}")
    #expect(CaseLifecycle.read(lifecycle).json == StoreJSON.encode(CaseLifecycle.read(lifecycle)))
  }

  /// The typed values' hot-path text is what their `Codable` conformance writes.
  @Test func typedValuesWriteWhatTheirCodableWrites() throws {
    var body = NotificationBody(
      caseID: "C/1", level: "major", levelLabel: "重大投诉", on: "enter", kind: "notify",
      causedAt: "2025-10-09T10:00:00+08:00", dueAt: "2025-10-09T10:00:00+08:00", when: "immediately",
      ruleSet: "sha256:00",
      reasons: [.init(level: "major", condition: "litigation == \"filed\"", source: "a.yaml:7:9")],
      summary: "重大投诉 C/1: entered level major\n", key: "C/1/enter/major/0/x/log", recipient: "x",
      recipientLabel: "X")
    #expect(body.json == StoreJSON.encode(body))
    body.report = "progress"
    body.reportLabel = "进展"
    body.parts = ["course", "causes"]
    body.previousLevel = "hot"
    body.categories = []
    body.changed = ["media"]
    body.approver = "general_manager"
    body.deadline = "resolve_by"
    body.deadlineAt = "2025-10-10T10:00:00+08:00"
    body.complainant = ["complainant_id": "张三", "contact": "139"]
    #expect(body.json == StoreJSON.encode(body))
    // Every escape, between and around runs that need none.
    body.summary = "\"C/1\" \\ \u{1}\u{1F}\t\r\u{8}\u{C}末\n"
    body.reasons.append(.init(level: "", condition: "\\", source: "\u{0}"))
    #expect(body.json == StoreJSON.encode(body))
    #expect(try NotificationBody.read(body.json) == body)
    var life = CaseLifecycle()
    #expect(life.json == StoreJSON.encode(life))
    life.approvals = ["a", "b"]
    life.assignee = "s/9"
    life.extensions = ["reply_by": .init(until: "2025-11-20T09:00:00+08:00", reason: "r\"")]
    life.levelSince = 1_760_000_000_000
    life.malicious = "m"
    life.rejectedReason = "x"
    life.replyApprovedBy = ["customer_service_center"]
    life.round = 3
    life.others = ["reply_approved": true, "zz": [1, 2.5, nil]]
    #expect(life.json == StoreJSON.encode(life))
    #expect(CaseLifecycle.read(life.json) == life)
  }
}
