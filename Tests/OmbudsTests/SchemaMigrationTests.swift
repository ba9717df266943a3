import Foundation
import GRDB
import OmbudsEngine
import Testing

@testable import OmbudsStore

/// Migration v5 makes SQLite's text primary keys NOT NULL, as PostgreSQL's are: a store made
/// before it keeps every row, index and reference, and refuses a NULL key afterwards.
@Suite struct SchemaMigrationTests {
  @Test func aStoreFromBeforeV5KeepsItsRowsAndRefusesNullKeys() async throws {
    let path = try Support.temporaryDirectory().appendingPathComponent("v4.sqlite").path
    let t = "2025-10-01T09:00:00+08:00"
    do {
      // A store as the code before v5 left it, with a case made through the store itself.
      let queue = try DatabaseQueue(path: path)
      try Schema.migrator.migrate(queue, upTo: "v4 delivery")
      try await queue.write { db in
        let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'cases'")
        #expect(sql?.contains("\"id\" TEXT PRIMARY KEY") == true)
        try db.execute(
          sql: """
            INSERT INTO cases (id, version, state, snapshot, received_at, level, stage, lifecycle)
            VALUES ('C-0', 3, 'open', '{"id":"C-0"}', 1759280400000, 'hot', 'accepted', '{}')
            """)
        try db.execute(sql: "INSERT INTO parties (case_id, complainant_id) VALUES ('C-0', '李四')")
        try db.execute(
          sql: """
            INSERT INTO events (event_id, case_id, seq, type, actor, at, payload)
            VALUES ('e0', 'C-0', 1, 'received', 'intake', 1759280400000, '{}')
            """)
      }
    }
    let rules = try Support.defaultRules()
    do {
      let store = try await CaseStore(path: path, rules: rules)
      try await store.apply(
        event("m1", "C-1", .received, t, ["received_at": t, "complainant_id": "张三", "media": "exposed"]))
      try await store.apply(event("m2", "C-1", .updated, t, ["collective_size": 4]))
      #expect(try await store.cases().map(\.id).sorted() == ["C-0", "C-1"])
    }
    let queue = try DatabaseQueue(path: path)
    try await queue.read { db in
      for (table, key) in Schema.textKeys {
        let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [table])
        #expect(sql?.contains("\"\(key)\" TEXT NOT NULL PRIMARY KEY") == true, "\(table): \(sql ?? "missing")")
      }
      #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM events") == 3)
      #expect(try String.fetchOne(db, sql: "SELECT complainant_id FROM parties WHERE case_id = 'C-0'") == "李四")
      #expect(try Int.fetchOne(db, sql: "SELECT version FROM cases WHERE id = 'C-0'") == 3)
      #expect(try Int.fetchOne(db, sql: "SELECT version FROM cases WHERE id = 'C-1'") == 2)
      #expect(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'pseudonym_key'")?.count == 64)
      let indexes = try String.fetchAll(
        db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
      #expect(Set(indexes).isSuperset(of: ["cases_issue", "cases_review", "events_on_case_id"]))
    }
    try await queue.write { db in
      _ = #expect(throws: DatabaseError.self) {
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES (NULL, 'x')")
      }
    }
  }

  /// Migration v6 adds `events.person` (who acted, when known): a store from before it keeps
  /// its events, with no person, and records the principal's person from then on.
  @Test func aStoreFromBeforeV6GainsTheEventPerson() async throws {
    let path = try Support.temporaryDirectory().appendingPathComponent("v5.sqlite").path
    let t = "2025-10-01T09:00:00+08:00"
    do {
      let queue = try DatabaseQueue(path: path)
      try Schema.migrator.migrate(queue, upTo: "v5 keys not null")
      try await queue.read { db in
        let names = try db.columns(in: "events").map(\.name)
        #expect(!names.contains("person"))
      }
    }
    let rules = try Support.defaultRules()
    do {
      let store = try await CaseStore(path: path, rules: rules)
      try await store.apply(event("old", "C-1", .received, t, ["received_at": t]))
      try await store.apply(
        event("new", "C-1", .register, t, [:]), by: Principal(person: "i-7", role: "intake_staff"))
    }
    let queue = try DatabaseQueue(path: path)
    try await queue.read { db in
      let columns = try db.columns(in: "events")
      #expect(columns.last?.name == "person" && columns.last?.type == "TEXT" && columns.last?.isNotNull == false)
      let rows = try Row.fetchAll(db, sql: "SELECT event_id, actor, person FROM events ORDER BY seq")
      #expect(rows.map { $0["event_id"] as String } == ["old", "new"])
      #expect(rows.map { $0["person"] as String? } == [nil, "i-7"])
      #expect(rows.map { $0["actor"] as String } == ["intake", "intake_staff"])
      let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
      #expect(
        Array(applied.drop { $0 != "v6 event person" })
          == ["v6 event person", "v7 tokens and due dates", "v8 departments", "v9 rule-set changes"])
      // v9: decisions say which rule set a rule-change re-evaluation replaced (none before).
      #expect(try db.columns(in: "decisions").contains { $0.name == "previous_rule_set" })
      #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM decisions WHERE previous_rule_set IS NOT NULL") == 0)
    }
  }

  /// Migration v7 adds the tokens and the cases' earliest open deadline: a store from before
  /// it gets `due_at` for its open cases from their latest decisions, so that "overdue" lists
  /// are right at once.
  @Test func aStoreFromBeforeV7GetsItsOpenCasesDueDates() async throws {
    let path = try Support.temporaryDirectory().appendingPathComponent("v6.sqlite").path
    let t = "2025-10-01T09:00:00+08:00"
    let rules = try Support.defaultRules()
    do {
      let store = try await CaseStore(path: path, rules: rules)
      try await store.apply(event("a", "OPEN", .received, t, ["received_at": t]))
      try await store.apply(event("b", "DONE", .received, t, ["received_at": t]))
      try await store.apply(event("c", "DONE", .resolved, t, [:]))
    }
    // Back to how v6 left it: no tokens, no due_at.
    let queue = try DatabaseQueue(path: path)
    try await queue.write { db in
      try db.execute(sql: "DROP INDEX cases_due; DROP INDEX cases_received; DROP TABLE tokens")
      try db.execute(sql: "ALTER TABLE cases DROP COLUMN due_at")
      try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v7 tokens and due dates'")
    }
    _ = try await CaseStore(path: path, rules: rules)
    try await queue.read { db in
      let due = try Row.fetchAll(db, sql: "SELECT id, due_at FROM cases ORDER BY id")
      // 24 hours after receipt (resolve_by), for the open case only.
      #expect(due.map { $0["id"] as String } == ["DONE", "OPEN"])
      #expect(due.map { $0["due_at"] as Int64? } == [nil, Support.time("2025-10-02T09:00:00+08:00")])
      #expect(try Bool.fetchOne(db, sql: "SELECT COUNT(*) = 0 FROM tokens") == true)
    }
  }

  /// Migration v8 adds the cases' handling unit (承办单位): a store from before it gets
  /// `department` from each case's stored lifecycle (the last `assign`'s).
  @Test func aStoreFromBeforeV8GetsItsCasesDepartments() async throws {
    let path = try Support.temporaryDirectory().appendingPathComponent("v7.sqlite").path
    let t = "2025-10-01T09:00:00+08:00"
    let rules = try Support.defaultRules()
    do {
      let store = try await CaseStore(path: path, rules: rules)
      for id in ["A", "B"] {
        try await store.apply(event("\(id)1", id, .received, t, ["received_at": t]))
        try await store.apply(event("\(id)2", id, .register, t, [:]))
        try await store.apply(event("\(id)3", id, .accept, t, [:]))
      }
      try await store.apply(event("A4", "A", .assign, t, ["assignee": "h-1", "department": "市场管理部"]))
      try await store.apply(event("B4", "B", .assign, t, ["assignee": "h-2"]))
    }
    // Back to how v7 left it: no department column.
    let queue = try DatabaseQueue(path: path)
    try await queue.write { db in
      try db.execute(sql: "DROP INDEX cases_department")
      try db.execute(sql: "ALTER TABLE cases DROP COLUMN department")
      try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v8 departments'")
    }
    _ = try await CaseStore(path: path, rules: rules)
    try await queue.read { db in
      let rows = try Row.fetchAll(db, sql: "SELECT id, department FROM cases ORDER BY id")
      #expect(rows.map { $0["id"] as String } == ["A", "B"])
      #expect(rows.map { $0["department"] as String? } == ["市场管理部", nil])
      #expect(try db.indexes(on: "cases").contains { $0.name == "cases_department" })
    }
  }

  /// The same on PostgreSQL: a database whose `cases` has no `department` gains the column and
  /// its index, filled in from the lifecycles.
  @Test func aPostgreSQLStoreFromBeforeDepartmentsGetsThem() async throws {
    guard let server = try PostgresServer.available() else { return }
    let url = try server.newDatabase()
    let name = String(url.split(separator: "/").last ?? "")
    let t = "2025-10-01T09:00:00+08:00"
    let rules = try Support.defaultRules()
    func psql(_ sql: String) throws -> [String] {
      try server.run(
        "psql", ["-h", server.directory.path, "-p", "\(server.port)", "-U", "postgres", "-d", name, "-tAc", sql]
      ).split(separator: "\n").map(String.init)
    }
    try await BackendRunner.run { (runner) async throws in
      let store = try await runner.store(url: url, rules: rules)
      for id in ["A", "B"] {
        try await store.apply(event("\(id)1", id, .received, t, ["received_at": t]))
        try await store.apply(event("\(id)2", id, .register, t, [:]))
        try await store.apply(event("\(id)3", id, .accept, t, [:]))
      }
      try await store.apply(event("A4", "A", .assign, t, ["assignee": "h-1", "department": "dept-7"]))
      try await store.apply(event("B4", "B", .assign, t, ["assignee": "h-2"]))
    }
    #expect(try psql("SELECT id || '=' || COALESCE(department, '-') FROM cases ORDER BY id") == ["A=dept-7", "B=-"])
    _ = try psql("ALTER TABLE cases DROP COLUMN department")
    try await BackendRunner.run { (runner) async throws in _ = try await runner.store(url: url, rules: rules) }
    #expect(try psql("SELECT id || '=' || COALESCE(department, '-') FROM cases ORDER BY id") == ["A=dept-7", "B=-"])
    #expect(
      try psql("SELECT indexname FROM pg_indexes WHERE tablename = 'cases' AND indexname = 'cases_department'") == [
        "cases_department"
      ])
  }
}
