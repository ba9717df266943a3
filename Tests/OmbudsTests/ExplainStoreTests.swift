import Foundation
import Testing

/// Explanations of stored cases: `ombuds explain --store` and `GET /v1/cases/{id}?explain=`.
@Suite(.serialized) struct ExplainStoreTests {
  /// A case whose compensation starts 10 working days across National Day 2025, from a
  /// complainant whose identity must not show where the role may not see it.
  static let received =
    #"{"event_id":"C-1-r","type":"received","at":"2025-09-25T10:00:00+08:00","received_at":"2025-09-25T10:00:00+08:00","channel":"web","complainant_id":"13800000000","compensation":{"amount":"650.00","currency":"CNY"},"materials_complete_at":"2025-09-26T15:00:00+08:00"}"#

  @Test(arguments: StoreKind.allCases) func explainAStoredCase(_ kind: StoreKind) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    guard let db = try Support.storeLocation(kind, in: dir) else { return }
    let event = Self.received.replacingOccurrences(of: #""type""#, with: #""case":"C-1","actor":"intake","type""#)
    let replay = try Support.run("ombuds", ["replay", "--store", db, "--rules", Support.rulesDir], stdin: event)
    #expect(replay.status == 0, "\(replay.stderr)")
    let run = try Support.run(
      "ombuds",
      [
        "explain", "--store", db, "--rules", Support.rulesDir, "--now", "2025-09-26T17:00:00+08:00", "--lang", "en",
        "C-1",
      ])
    #expect(run.status == 0, "\(run.stderr)")
    let text = run.stdout.replacingOccurrences(of: Support.root.path + "/", with: "")
    #expect(text.hasPrefix("case C-1: ordinary (as of 2025-09-26T17:00:00+08:00)\n"))
    #expect(
      text.contains(
        "  skipped: 2025-09-27 Sat (weekend); 2025-10-01 to 2025-10-08 (holiday: 国庆节、中秋节 2025); 2025-10-12 Sun (weekend)\n"
      ))
    #expect(text.contains("resolve_by: 2025-10-16T23:59:59+08:00 — rules/refunds.yaml:18:9\n"))
    // `ombuds cases --explain`: the same, as JSON, on each case line; without it, no explanation.
    let cases = try Support.run("ombuds", ["cases", "--store", db, "--rules", Support.rulesDir, "--explain", "en"])
    #expect(cases.status == 0, "\(cases.stderr)")
    #expect(cases.stdout.contains(",\"explanation\":{\"case\":\"C-1\""))
    #expect(!cases.stdout.contains("13800000000"))
    let plain = try Support.run("ombuds", ["cases", "--store", db, "--rules", Support.rulesDir])
    #expect(!plain.stdout.contains("explanation"))
    let missing = try Support.run("ombuds", ["explain", "--store", db, "--rules", Support.rulesDir, "C-404"])
    #expect(missing.status == 1)
    #expect(missing.stderr == "no case `C-404` in the store\n")
  }

  /// A level the ratchet keeps: the explanation says what the conditions give now.
  @Test func aKeptLevelIsSaidSo() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let db = dir.appendingPathComponent("s.sqlite").path
    let events = """
      {"event_id":"r","case":"C-2","type":"received","at":"2025-10-20T09:00:00+08:00","actor":"intake","received_at":"2025-10-20T09:00:00+08:00","collective_size":3}
      {"event_id":"u","case":"C-2","type":"updated","at":"2025-10-20T10:00:00+08:00","actor":"intake","collective_size":1}
      """
    let replay = try Support.run("ombuds", ["replay", "--store", db, "--rules", Support.rulesDir], stdin: events)
    #expect(replay.status == 0, "\(replay.stderr)")
    let run = try Support.run(
      "ombuds",
      ["explain", "--store", db, "--rules", Support.rulesDir, "--now", "2025-10-20T12:00:00+08:00", "C-2"])
    #expect(run.status == 0, "\(run.stderr)")
    let lines = run.stdout.split(separator: "\n").map(String.init)
    #expect(
      Array(lines.prefix(4)) == [
        "案件 C-2：热点投诉 (hot)（评估时间 2025-10-20T12:00:00+08:00）",
        "一般投诉 (ordinary)：更高级别的条件均不成立",
        "级别保持为热点投诉 (hot)（级别不会自行降低，或经人工定级）；按条件为一般投诉 (ordinary)",
        "未达到重大投诉 (major)（上一级，最接近的在前）：",
      ])
  }

  @Test func caseViewExplainsOnRequest() async throws {
    let s = try await LiveServer()
    let token = try s.token(role: "customer_service_center", name: "王芳")
    let posted = try await s.call(.POST, "/v1/cases/C-1/events", token: token, body: Self.received)
    #expect(posted.status == 201, "\(posted.text)")
    let plain = try await s.call(.GET, "/v1/cases/C-1", token: token)
    #expect(plain.status == 200)
    #expect(plain.json?["explanation"] == nil)
    let zh = try await s.call(.GET, "/v1/cases/C-1?explain=zh", token: token)
    #expect(zh.status == 200, "\(zh.text)")
    let explanation = try #require(zh.json?["explanation"] as? [String: Any])
    #expect(explanation["language"] as? String == "zh")
    let items = try #require(explanation["items"] as? [[String: Any]])
    let deadline = try #require(items.first { $0["kind"] as? String == "deadline" })
    #expect(deadline["end"] as? String == "2025-10-16T23:59:59+08:00")
    #expect((deadline["text"] as? String)?.contains("2025-10-01 至 2025-10-08（国庆节、中秋节 2025）") == true)
    let refund = try #require(items.first { $0["kind"] as? String == "refund" })
    #expect(refund["approver"] as? String == "general_manager")
    // A role that may not see the identity sees none of it, explanation included.
    let handler = try s.token(role: "intake_staff", name: "李强")
    let other = try await s.call(.GET, "/v1/cases/C-1?explain=en", token: handler)
    #expect(other.status == 200, "\(other.text)")
    #expect(!other.text.contains("13800000000"))
    #expect(other.json?["explanation"] != nil)
    let bad = try await s.call(.GET, "/v1/cases/C-1?explain=fr", token: token)
    #expect(bad.status == 400)
    #expect(bad.code == "invalid_parameter")
    #expect(bad.message == "`explain` is zh or en, not `fr`")
    await s.stop()
  }
}
