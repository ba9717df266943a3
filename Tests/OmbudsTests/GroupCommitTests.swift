import Foundation
import OmbudsEngine
import Testing

@testable import OmbudsStore

/// Group commit on SQLite: transactions queued behind one another share one `BEGIN IMMEDIATE`
/// … `COMMIT`, each in a savepoint. A member that fails undoes its own work only and gets its
/// own error; the others are answered only once the COMMIT holding their work succeeded, and
/// all fail when it fails.
@Suite struct GroupCommitTests {
  /// What a member transaction does.
  enum Member: Sendable {
    /// Inserts the keys into `gc`, then reads (which sends the pending writes: a duplicate
    /// key fails there, in its own member).
    case insert([String])
    /// Inserts a `gc_child` naming no `gc` key: accepted by its statement, refused by the
    /// COMMIT (a deferred foreign key).
    case orphan
    /// Throws before touching the database.
    case refuse
  }

  /// Runs `member` in the transaction `db` (on the writer's executor).
  nonisolated(nonsending) static func run(_ member: Member, _ db: any SQLExecutor) async throws -> String {
    switch member {
    case .insert(let keys):
      for k in keys { try await db.execute("INSERT INTO gc (k) VALUES (?)", [k]) }
      _ = try await db.fetchAll("SELECT count(*) AS n FROM gc")
      return keys.joined(separator: "+")
    case .orphan:
      try await db.execute("INSERT INTO gc_child (k, parent) VALUES ('orphan', 'nobody')")
      return "orphan"
    case .refuse:
      throw StoreError.invalidEvent("refused")
    }
  }

  /// A fresh SQLite store's backend, with a table `gc` of keys (and `gc_child`, whose key must
  /// name a `gc` key by the COMMIT: a deferred foreign key, checked at COMMIT only).
  static func backend() async throws -> SQLiteBackend {
    let path = try Support.temporaryDirectory().appendingPathComponent("gc.sqlite").path
    let backend = try await SQLiteBackend.open(path: path)
    try await backend.write { db in
      try await db.execute("CREATE TABLE gc (k TEXT PRIMARY KEY)")
      try await db.execute(
        "CREATE TABLE gc_child (k TEXT PRIMARY KEY, parent TEXT REFERENCES gc(k) DEFERRABLE INITIALLY DEFERRED)")
    }
    return backend
  }

  static func keys(_ backend: SQLiteBackend) async throws -> [String] {
    try await backend.read { db in try await db.fetchAll("SELECT k FROM gc ORDER BY k").map { $0["k"] as String } }
  }

  static func committed(_ backend: SQLiteBackend, _ key: String) async throws -> Bool {
    try await backend.read { db in try await !db.fetchAll("SELECT k FROM gc WHERE k = ?", [key]).isEmpty }
  }

  /// Runs `first` holding the writer until `others` transactions wait behind it, so that all
  /// of them form one group; each returns what its body did, and whether its work was visible
  /// to a reader (committed) when it was answered.
  static func group(
    _ backend: SQLiteBackend, first: Member, others: [Member]
  ) async -> [Result<String, any Error>] {
    let (holding, held) = AsyncStream.makeStream(of: Void.self)
    let leader = Task {
      await outcome {
        try await backend.write { db in
          let value = try await run(first, db)
          held.yield()
          // Let the others queue for the writer (each yield lets their hops to it run).
          while await backend.writer.turn.waiterCount < others.count { await Task.yield() }
          return value
        }
      }
    }
    var iterator = holding.makeAsyncIterator()
    await iterator.next()
    let followers = others.map { body in
      Task { await outcome { try await backend.write { db in try await run(body, db) } } }
    }
    var results = [await leader.value]
    for f in followers { results.append(await f.value) }
    return results
  }

  @Test func membersCommitTogetherAndAFailingOneUndoesOnlyItsOwnWork() async throws {
    let backend = try await Self.backend()
    let commitsBefore = await backend.writer.commits
    let results = await Self.group(
      backend, first: .insert(["a", "a2"]),
      others: [.insert(["b"]), .insert(["c", "a"]), .insert(["d"]), .refuse])
    #expect(try results[0].get() == "a+a2")
    #expect(try results[1].get() == "b")
    // `c` went in, then the duplicate `a` failed: `c` is undone with it.
    #expect(throws: (any Error).self) { try results[2].get() }
    #expect(try results[3].get() == "d")
    #expect(throws: StoreError.invalidEvent("refused")) { try results[4].get() }
    #expect(try await Self.keys(backend) == ["a", "a2", "b", "d"])
    // One COMMIT for the five.
    #expect(await backend.writer.commits == commitsBefore + 1)
    // The writer goes on: the next transaction begins a group of its own.
    _ = try await backend.write { db in try await Self.run(.insert(["e"]), db) }
    #expect(try await Self.keys(backend) == ["a", "a2", "b", "d", "e"])
  }

  @Test func anAnswerComesOnlyOnceItsWorkIsCommitted() async throws {
    let backend = try await Self.backend()
    let results = await Self.group(backend, first: .insert(["x0"]), others: (1...5).map { .insert(["x\($0)"]) })
    for r in results {
      // Each member's answer: its row is there for a reader, i.e. committed.
      #expect(try await Self.committed(backend, try r.get()))
    }
  }

  @Test func aFailedCommitFailsEveryMember() async throws {
    let backend = try await Self.backend()
    let results = await Self.group(backend, first: .insert(["p"]), others: [.insert(["q"]), .orphan])
    for r in results { #expect(throws: (any Error).self) { try r.get() } }
    #expect(try await Self.keys(backend) == [])
    // The writer goes on.
    _ = try await backend.write { db in try await Self.run(.insert(["r"]), db) }
    #expect(try await Self.keys(backend) == ["r"])
  }

  /// Through the store: many tasks applying at once (groups form as they queue), some events
  /// refused (an update of a case never received); every answer is right and nothing is lost.
  @Test func concurrentAppliesWithRefusalsLoseNothing() async throws {
    let path = try Support.temporaryDirectory().appendingPathComponent("gc-store.sqlite").path
    let store = try await CaseStore(path: path, rules: try Support.defaultRules())
    let t = "2025-10-01T09:00:00+08:00"
    let count = 120
    let outcomes = await withTaskGroup(of: (Int, Result<ApplyOutcome, any Error>).self) { group in
      for i in 0..<count {
        group.addTask {
          let event =
            i % 4 == 3
            ? CaseEvent(
              eventID: "u\(i)", caseID: "missing\(i)", kind: .updated, at: Support.time(t), actor: "intake",
              fields: ["text": .string("update of nothing")])
            : CaseEvent(
              eventID: "r\(i)", caseID: "G\(i)", kind: .received, at: Support.time(t), actor: "intake",
              fields: ["received_at": .string(t), "channel": "web", "text": .string("group \(i)")])
          return (i, await outcome { try await store.apply(event) })
        }
      }
      var all: [Int: Result<ApplyOutcome, any Error>] = [:]
      for await (i, r) in group { all[i] = r }
      return all
    }
    for i in 0..<count {
      let r = try #require(outcomes[i])
      if i % 4 == 3 {
        #expect(throws: StoreError.unknownCase("missing\(i)")) { try r.get() }
      } else {
        guard case .applied(let version, _) = try r.get() else {
          Issue.record("event r\(i): \(r)")
          continue
        }
        #expect(version == 1)
        let found = try await store.storedCase("G\(i)")
        #expect(found?.version == 1)
      }
    }
  }
}

/// What `body` returns or throws.
func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
  do { return .success(try await body()) } catch { return .failure(error) }
}
