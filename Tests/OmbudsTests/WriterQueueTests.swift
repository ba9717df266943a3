import Foundation
import OmbudsEngine
import Testing

@testable import OmbudsStore

/// Every write transaction on SQLite runs its logic on the writer's own queue, where its
/// statements go straight to the writer connection. Logic that escapes the queue still works
/// (each statement then takes a trip to GRDB's queue), so only `offQueueAccesses` shows it:
/// the HTTP API's events once ran that way, at half the events per second, because the
/// closure `applyAnswering` handed to the writer was inferred `@concurrent`.
@Suite struct WriterQueueTests {
  static let t0 = "2025-10-09T10:00:00+08:00"

  static func received(_ id: String, _ i: Int) -> CaseEvent {
    CaseEvent(
      eventID: "\(id)-received", caseID: id, kind: .received, at: Support.time(t0), actor: "intake",
      fields: [
        "received_at": .string(t0), "channel": "web", "complainant_id": .string("P\(i)"), "issue_key": "K1",
        "collective_size": .int(Int64(i)), "text": "快递暴力分拣，包裹破损，要求赔偿",
      ])
  }

  @Test func everyWritePathRunsOnTheWritersQueue() async throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let backend = try await SQLiteBackend.open(path: dir.appendingPathComponent("store.sqlite").path)
    let store = try await CaseStore(backend: backend, rules: try Support.defaultRules())
    let csc = Principal(person: "c-1", role: "customer_service_center")

    // A trusted caller's event, an authenticated principal's, and the HTTP API's answer path
    // (its first answer, then a replay of the same event id). C, a third complainant of the
    // issue, makes A and B hot too: the other cases of the issue are re-evaluated.
    #expect(try await store.apply(Self.received("A", 1)) == .applied(version: 1, level: "ordinary"))
    #expect(try await store.apply(Self.received("B", 2), by: csc) == .applied(version: 1, level: "ordinary"))
    let first = try await store.applyAnswering(Self.received("C", 3), by: csc)
    #expect(first.replayed == false)
    #expect(first.answer.version == 1)
    #expect(first.answer.level == "hot")
    #expect(try await store.storedCase("A")?.level == "hot")
    let again = try await store.applyAnswering(Self.received("C", 3), by: csc)
    #expect(again.replayed == true)
    #expect(again.answer.version == 1)
    // The batch forms: a replay and a new case.
    let batch = await store.applyAnswering(contentsOf: [Self.received("C", 3), Self.received("D", 4)], by: csc)
    #expect(batch.map { (try? $0.get())?.replayed } == [true, false])
    #expect(
      await store.apply(contentsOf: [Self.received("E", 5)]).map { try? $0.get() } == [
        .applied(version: 1, level: "hot")
      ])
    // Due re-evaluations, the outbox's claims and deliveries, tokens.
    _ = try await store.runDue(at: Support.time("2025-11-30T10:00:00+08:00"))
    let claimed = try await store.claimOutbox(
      now: Support.time("2025-11-30T10:00:00+08:00"), limit: 5, lease: 60_000, owner: "test")
    #expect(!claimed.isEmpty)
    for item in claimed { try await store.markDelivered(item.id, at: Support.time("2025-11-30T10:00:01+08:00")) }
    let (_, token) = try await store.createToken(name: "t", role: "handler", at: Support.time(Self.t0))
    #expect(try await store.revokeToken(id: token.id, at: Support.time(Self.t0)))

    #expect(backend.offQueueAccesses == 0)
  }

  /// `apply(contentsOf:)` decides exactly what `apply(_:)` one by one does — outcomes, errors
  /// and the stored cases — and a refused event does not stop the ones after it.
  @Test func aBatchAppliesWhatOneByOneApplies() async throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let rules = try Support.defaultRules()
    let t1 = "2025-10-10T10:00:00+08:00"
    var events = (1...40).map { Self.received("N\($0)", $0 % 4 + 1) }
    events.insert(
      CaseEvent(eventID: "x-updated", caseID: "X", kind: .updated, at: Support.time(t1), actor: "intake", fields: [:]),
      at: 5)
    events.insert(Self.received("N1", 1), at: 9)  // the same event id again: a duplicate
    events.insert(
      CaseEvent(
        eventID: "n2-again", caseID: "N2", kind: .received, at: Support.time(t1), actor: "intake",
        fields: ["received_at": .string(t1), "channel": "web", "text": "again"]), at: 12)
    events.append(
      CaseEvent(
        eventID: "n3-updated", caseID: "N3", kind: .updated, at: Support.time(t1), actor: "intake",
        fields: ["collective_size": .int(12)]))

    let batchBackend = try await SQLiteBackend.open(path: dir.appendingPathComponent("batch.sqlite").path)
    let batch = try await CaseStore(backend: batchBackend, rules: rules)
    let batched = await batch.apply(contentsOf: events).map(Self.describe)
    let single = try await CaseStore(
      backend: try await SQLiteBackend.open(path: dir.appendingPathComponent("single.sqlite").path), rules: rules)
    var oneByOne: [String] = []
    for e in events {
      do { oneByOne.append(Self.describe(.success(try await single.apply(e)))) } catch {
        oneByOne.append(Self.describe(.failure(error)))
      }
    }
    #expect(batched == oneByOne)
    #expect(batched[5] == "error: unknown case `X`")
    #expect(batched[9] == "duplicate")
    #expect(batched[12] == "error: case `N2` already exists")
    #expect(batched.last == "applied 2 major")
    #expect(batched.filter { $0.hasPrefix("applied") }.count == 41)
    let a = try await batch.cases().map { "\($0.id) \($0.version) \($0.level)" }
    let b = try await single.cases().map { "\($0.id) \($0.version) \($0.level)" }
    #expect(a == b)
    #expect(a.count == 40)
    #expect(batchBackend.offQueueAccesses == 0)
  }

  static func describe(_ result: Result<ApplyOutcome, any Error>) -> String {
    switch result {
    case .success(.applied(let version, let level)): "applied \(version) \(level)"
    case .success(.duplicate): "duplicate"
    case .failure(let error): "error: \(error)"
    }
  }

  /// A cancelled batch begins no further transaction: what was committed stays, the rest
  /// fail with `CancellationError` and are not stored.
  @Test func aCancelledBatchStopsBetweenTransactions() async throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try await CaseStore(
      backend: try await SQLiteBackend.open(path: dir.appendingPathComponent("store.sqlite").path),
      rules: try Support.defaultRules())
    let events = (1...50).map { Self.received("N\($0)", 1) }
    let task = Task {
      withUnsafeCurrentTask { $0?.cancel() }
      return await store.apply(contentsOf: events)
    }
    let results = await task.value
    #expect(results.count == 50)
    #expect(results.allSatisfy { if case .failure(let e) = $0 { e is CancellationError } else { false } })
    #expect(try await store.cases().isEmpty)
  }
}
