import Foundation
import OmbudsEngine
import Testing

@testable import OmbudsStore

/// SQLite's writer commits together the transactions that wait for it together, each in a
/// savepoint of its own: one refused change undoes itself alone, a change is reported only
/// once committed, and a group whose transaction SQLite abandons commits none of it.
@Suite struct GroupCommitTests {
  /// A fresh backend with a table `t (i)`.
  static func backend() async throws -> (SQLiteBackend, URL) {
    let dir = try Support.temporaryDirectory()
    let backend = try await SQLiteBackend.open(path: dir.appendingPathComponent("store.sqlite").path)
    _ = try await backend.write { db in
      try await db.execute(SQLStatement("CREATE TABLE t (i INTEGER NOT NULL)"))
      return 0
    }
    return (backend, dir)
  }

  static func rows(_ backend: SQLiteBackend) async throws -> [Int64] {
    try await backend.read { db in try await db.fetchAll(SQLStatement("SELECT i FROM t ORDER BY i")) }.map {
      $0["i"] as Int64
    }
  }

  struct Refused: Error, Equatable {
    var i: Int
  }

  @Test func changesQueuedTogetherShareOneCommitAndARefusedOneUndoesOnlyItself() async throws {
    let (backend, dir) = try await Self.backend()
    defer { try? FileManager.default.removeItem(at: dir) }
    let before = backend.commits
    // Every third change writes its row, reads it back, then is refused: the first of the
    // group among them (its transaction's own BEGIN) and later ones (savepoints).
    let results = await backend.writeEach(12) { i, db -> Int in
      try await db.execute(SQLStatement("INSERT INTO t (i) VALUES (?)", [i]))
      let seen = try await db.fetchAll(SQLStatement("SELECT count(*) AS n FROM t"))[0]["n"] as Int64
      if i % 3 == 0 { throw Refused(i: i) }
      return Int(seen)
    }
    #expect(backend.commits == before + 1)
    for (i, result) in results.enumerated() {
      switch result {
      case .success(let seen):
        #expect(i % 3 != 0)
        // Each change sees the changes kept before it, and its own row.
        #expect(seen == i - i / 3)
      case .failure(let error):
        #expect(error as? Refused == Refused(i: i))
      }
    }
    #expect(try await Self.rows(backend) == [1, 2, 4, 5, 7, 8, 10, 11])
  }

  @Test func aGroupWhoseTransactionIsAbandonedCommitsNoneOfIt() async throws {
    let (backend, dir) = try await Self.backend()
    defer { try? FileManager.default.removeItem(at: dir) }
    // The third change ends the group's transaction, as SQLite does on a full disk or an I/O
    // error (fault injection): the two kept before it are lost with it and say so; the two
    // after it begin a transaction anew and are committed.
    let results = await backend.writeEach(5) { i, db -> Int in
      try await db.execute(SQLStatement("INSERT INTO t (i) VALUES (?)", [i]))
      if i == 2 {
        try await db.execute(SQLStatement("ROLLBACK"))
        _ = try await db.fetchAll(SQLStatement("SELECT 1"))
        throw Refused(i: i)
      }
      return i
    }
    #expect(try await Self.rows(backend) == [3, 4])
    let errors = results.map { result -> String in
      switch result {
      case .success(let i): "committed \(i)"
      case .failure(let error as Refused): "refused \(error.i)"
      case .failure(let error): "\(error)"
      }
    }
    #expect(errors[2] == "refused 2")
    #expect(errors[3] == "committed 3")
    #expect(errors[4] == "committed 4")
    for lost in errors[0...1] { #expect(lost.contains("rolled back with the other changes of its commit")) }
  }

  @Test func aCallerCancelledBeforeItsTurnBeginsNothing() async throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try await CaseStore(
      backend: try await SQLiteBackend.open(path: dir.appendingPathComponent("store.sqlite").path),
      rules: try Support.defaultRules())
    let t = "2025-10-09T10:00:00+08:00"
    let event = CaseEvent(
      eventID: "e1", caseID: "C1", kind: .received, at: Support.time(t), actor: "intake",
      fields: ["received_at": .string(t), "channel": "web", "text": "包裹破损"])
    let task = Task {
      withUnsafeCurrentTask { $0?.cancel() }
      return try await store.apply(event)
    }
    await #expect(throws: CancellationError.self) { try await task.value }
    #expect(try await store.cases().isEmpty)
    // The writer is not left waiting: the next change goes through.
    #expect(try await store.apply(event) == .applied(version: 1, level: "ordinary"))
  }

  @Test func concurrentCallersShareCommitsAndLoseNothing() async throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let backend = try await SQLiteBackend.open(path: dir.appendingPathComponent("store.sqlite").path)
    let store = try await CaseStore(backend: backend, rules: try Support.defaultRules())
    let before = backend.commits
    let count = 256
    let t = "2025-10-09T10:00:00+08:00"
    try await withThrowingTaskGroup(of: Void.self) { group in
      for i in 0..<count {
        group.addTask {
          let event = CaseEvent(
            eventID: "e\(i)", caseID: "C\(i)", kind: .received, at: Support.time(t), actor: "intake",
            fields: [
              "received_at": .string(t), "channel": "web", "complainant_id": .string("P\(i % 7)"),
              "issue_key": .string("K\(i % 5)"), "text": "包裹破损",
            ])
          let outcome = try await store.apply(event)
          guard case .applied(let version, _) = outcome else {
            Issue.record("C\(i): \(outcome)")
            return
          }
          #expect(version == 1)
        }
      }
      try await group.waitForAll()
    }
    let commits = backend.commits - before
    #expect(try await store.cases().count == count)
    // Callers that waited together shared commits (one each would be 256).
    #expect(commits < count)
    #expect(commits >= 1)
  }

}
