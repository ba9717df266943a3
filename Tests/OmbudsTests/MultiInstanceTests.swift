import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import OmbudsEngine
import Testing

/// Several `ombuds serve` instances on one PostgreSQL database, as behind a load balancer:
/// clients write the same cases through any instance with expected versions, the review
/// services and dispatchers of all three run at once.
@Suite(.serialized) struct MultiInstanceTests {
  static let caseCount = 50
  static let clientCount = 12
  static let updatesPerClient = 25

  /// What the clients saw: per case, the updates applied (each event id once).
  final class Ledger: Sendable {
    let applied = NIOLockedValueBox<[String: [String]]>([:])
    let conflicts = NIOLockedValueBox(0)
    func record(_ caseID: String, _ eventID: String) {
      applied.withLockedValue { $0[caseID, default: []].append(eventID) }
    }
  }

  @Test func threeInstancesTwelveClientsNoLostUpdateNoDoubleDelivery() async throws {
    guard let pg = try PostgresServer.available() else { return }
    let url = try pg.newDatabase()
    let hook = try TestHTTPServer()
    defer { hook.shutdown() }
    let rules = try LiveServer.rulesWithWebhook()
    let environment = ["OMBUDS_TEST_HOOK_URL": hook.url, "OMBUDS_TEST_HOOK_SECRET": "s3cret"]
    var servers: [LiveServer] = []
    for _ in 0..<3 {
      servers.append(try await LiveServer(store: url, rulesDir: rules, reviewInterval: 1, environment: environment))
    }
    let instances = servers
    let token = try instances[0].token(role: "customer_service_center", name: "客服-1")

    // 50 cases, received through random instances.
    try await withThrowingTaskGroup(of: Void.self) { group in
      for i in 0..<Self.caseCount {
        group.addTask {
          let at = String(format: "2025-10-%02dT%02d:00:00+08:00", 1 + i % 28, 8 + i % 10)
          let body =
            #"{"event_id":"MI-\#(i)-r","type":"received","at":"\#(at)","received_at":"\#(at)","channel":"web","collective_size":1}"#
          let r = try await instances.randomElement()!.call(.POST, "/v1/cases/MI-\(i)/events", token: token, body: body)
          #expect(r.status == 201, "\(r.text)")
        }
      }
      try await group.waitForAll()
    }

    // 12 clients, each 25 read-modify-write updates of random cases through random instances:
    // read the version and the count (from 1), write count + 1 at that version, retry on 409.
    let ledger = Ledger()
    try await withThrowingTaskGroup(of: Void.self) { group in
      for client in 0..<Self.clientCount {
        group.addTask {
          for k in 0..<Self.updatesPerClient {
            let caseID = "MI-\(Int.random(in: 0..<Self.caseCount))"
            let eventID = "u-\(client)-\(k)"
            var done = false
            for _ in 0..<500 where !done {
              let read = try await instances.randomElement()!.call(.GET, "/v1/cases/\(caseID)", token: token)
              guard read.status == 200, let version = read.json?["version"] as? Int else {
                Issue.record("read \(caseID): \(read.status) \(read.text)")
                return
              }
              let count = ((read.json?["snapshot"] as? [String: Any])?["collective_size"] as? Int) ?? -1
              let body =
                #"{"event_id":"\#(eventID)","type":"updated","expected_version":\#(version),"collective_size":\#(count + 1)}"#
              let w = try await instances.randomElement()!.call(
                .POST, "/v1/cases/\(caseID)/events", token: token, body: body)
              switch (w.status, w.code) {
              case (201, _):
                if w.json?["replayed"] as? Bool != true { ledger.record(caseID, eventID) }
                done = true
              case (409, "version_conflict"?), (503, "busy"?):
                ledger.conflicts.withLockedValue { $0 += 1 }
              default:
                Issue.record("update \(eventID) of \(caseID): \(w.status) \(w.text)")
                return
              }
            }
            #expect(done, "update \(eventID) of \(caseID) never got through")
          }
        }
      }
      try await group.waitForAll()
    }

    // No lost update: every case counts exactly the updates applied to it, each event once.
    let applied = ledger.applied.withLockedValue { $0 }
    #expect(applied.values.reduce(0) { $0 + $1.count } == Self.clientCount * Self.updatesPerClient)
    for i in 0..<Self.caseCount {
      let caseID = "MI-\(i)"
      let r = try await instances[i % 3].call(.GET, "/v1/cases/\(caseID)", token: token)
      let snapshot = r.json?["snapshot"] as? [String: Any]
      let mine = applied[caseID] ?? []
      #expect(snapshot?["collective_size"] as? Int == 1 + mine.count, "\(caseID)")
      let events = (r.json?["timeline"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "event" }
      let ids = events.compactMap { $0["event_id"] as? String }
      #expect(ids.count == 1 + mine.count, "\(caseID)")
      #expect(Set(ids) == Set(["\(caseID)-r"] + mine), "\(caseID)")
      // Versions count the events and the re-evaluations, without a gap or a repeat.
      let versions = events.compactMap { $0["version"] as? Int }
      #expect(versions == versions.sorted() && Set(versions).count == versions.count, "\(caseID)")
    }

    // Deliveries: every notification due by now is delivered once, by one of the instances.
    var outbox: [[String: Any]] = []
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
      let run = try Support.run("ombuds", ["outbox", "--store", url, "--rules", rules, "--status", "all"])
      outbox = run.stdout.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      }
      let now = Millis(Date().timeIntervalSince1970 * 1000)
      let waiting = outbox.filter { row in
        guard row["status"] as? String != "delivered" else { return false }
        let ready = (row["ready_at"] as? String).flatMap(RFC3339.parse) ?? .max
        return ready <= now
      }
      if waiting.isEmpty { break }
      try await Task.sleep(for: .milliseconds(200))
    }
    let webhookRows = outbox.filter { $0["channel"] as? String == "webhook" && $0["status"] as? String == "delivered" }
    #expect(!webhookRows.isEmpty)
    let rowKeys = Set(webhookRows.compactMap { $0["key"] as? String })
    #expect(rowKeys.count == webhookRows.count)
    var perKey: [String: Int] = [:]
    for request in hook.requests { perKey[request.header("Idempotency-Key") ?? "?", default: 0] += 1 }
    #expect(Set(perKey.keys) == rowKeys)
    #expect(perKey.values.allSatisfy { $0 == 1 }, "\(perKey.filter { $0.value > 1 })")
    // All three stayed up throughout.
    for s in instances { #expect(s.process.isRunning) }
    for s in instances { await s.stop() }
  }
}
