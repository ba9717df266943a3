import Foundation
import GRDB
import OmbudsEngine
import OmbudsRules
import OmbudsStore

// Full state changes per second on the store (event + snapshot + evaluation + decision +
// outbox, one transaction each), beside the same database's raw insert rate for the same
// rows (one transaction each too), in one run.
// Usage: ombuds-store-bench [--rules DIR] [--events N] [--postgres URL [--postgres-rows URL]]
//   [--tasks N | --batch N] [--store-only]
// With --tasks N (default 1), N tasks apply the events at once (event i by task i % N), as a
// service's concurrent requests would; the raw rate is measured one transaction at a time.
// With --postgres (an empty database's URL), both run on PostgreSQL through the store's own
// connection code (postgres-nio's pool, run beside the benchmark); otherwise on SQLite files
// (GRDB). Events are applied one after the other, awaited, as `ombuds replay` does.

func argument(_ name: String) -> String? {
  let args = CommandLine.arguments
  guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
  return args[i + 1]
}

let rulesDir = argument("--rules") ?? "rules"
let count = Int(argument("--events") ?? "5000") ?? 5000
let tasks = max(1, Int(argument("--tasks") ?? "1") ?? 1)
// --batch N: one task hands the events to `apply(contentsOf:)` N at a time (as `ombuds replay`
// does), each still its own transaction.
let batch = Int(argument("--batch") ?? "0") ?? 0
guard let set = RuleSetLoader.load(paths: [rulesDir]).ruleSet, let rules = try? CompiledRules(set) else {
  FileHandle.standardError.write(Data("ombuds-store-bench: the rules in \(rulesDir) do not load\n".utf8))
  exit(2)
}
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ombuds-store-bench-\(getpid())")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
// OMBUDS_BENCH_KEEP=1 keeps the two databases (their path is printed) for inspection.
let keep = ProcessInfo.processInfo.environment["OMBUDS_BENCH_KEEP"] == "1"
defer {
  if keep {
    FileHandle.standardError.write(Data("ombuds-store-bench: kept \(dir.path)\n".utf8))
  } else {
    try? FileManager.default.removeItem(at: dir)
  }
}

func event(_ i: Int) -> CaseEvent {
  let day = i % 28 + 1
  let t = "2025-10-\(day < 10 ? "0" : "")\(day)T09:00:00+08:00"
  let fields: [String: JSONValue] = [
    "received_at": .string(t), "complainant_id": .string("P\(i % 997)"), "issue_key": .string("K\(i % 331)"),
    "collective_size": .int(Int64(i % 5 + 1)), "channel": "web", "text": "快递暴力分拣，包裹破损，要求赔偿",
  ]
  return CaseEvent(
    eventID: "e\(i)", caseID: "C\(i)", kind: .received, at: RFC3339.parse(t) ?? 0, actor: "bench", fields: fields)
}

let postgres = argument("--postgres")
let events = (0..<count).map(event)
let backend: any StoreBackend =
  if let postgres { try PostgresBackend(url: postgres) } else {
    try await SQLiteBackend.open(path: dir.appendingPathComponent("store.sqlite").path)
  }
/// Applies `events` from `tasks` tasks at once: event i by task i % tasks.
nonisolated func applyConcurrently(_ events: [CaseEvent], tasks: Int, to store: CaseStore) async throws {
  try await withThrowingTaskGroup(of: Void.self) { group in
    for t in 0..<tasks {
      group.addTask { for i in stride(from: t, to: events.count, by: tasks) { try await store.apply(events[i]) } }
    }
    try await group.waitForAll()
  }
}
/// The store's state changes, off the main actor (as a service's tasks run); returns the seconds
/// they took.
nonisolated func runStore(
  _ backend: any StoreBackend, _ rules: CompiledRules, _ events: [CaseEvent], tasks: Int, batch: Int
)
  async throws -> TimeInterval
{
  try await backend.withRunning {
    let store = try await CaseStore(backend: backend, rules: rules)
    let start = Date()
    if batch > 0 {
      for from in stride(from: 0, to: events.count, by: batch) {
        for result in await store.apply(contentsOf: Array(events[from..<min(from + batch, events.count)])) {
          _ = try result.get()
        }
      }
    } else if tasks == 1 {
      for e in events { try await store.apply(e) }
    } else {
      try await applyConcurrently(events, tasks: tasks, to: store)
    }
    return Date().timeIntervalSince(start)
  }
}
let storeSeconds = try await runStore(backend, rules, events, tasks: tasks, batch: batch)
// --store-only: the store's changes per second alone, no baselines (for profiling the store).
if CommandLine.arguments.contains("--store-only") {
  print(Int(Double(count) / storeSeconds))
  exit(0)
}

// Raw: the same rows (event, case, party, decision, outbox) inserted directly, one transaction each.
nonisolated let payload = String(repeating: "x", count: 300)
/// The raw tables; `serial` is the auto-numbered key column's type.
nonisolated func schema(_ serial: String) -> [String] {
  [
    "CREATE TABLE raw_events (event_id TEXT PRIMARY KEY, case_id TEXT, payload TEXT)",
    "CREATE TABLE raw_cases (id TEXT PRIMARY KEY, snapshot TEXT, issue_key TEXT, received_at BIGINT, level TEXT)",
    "CREATE INDEX raw_cases_issue ON raw_cases (issue_key, received_at)",
    "CREATE TABLE raw_parties (case_id TEXT PRIMARY KEY, complainant_id TEXT)",
    "CREATE TABLE raw_decisions (id \(serial), case_id TEXT, decision TEXT)",
    "CREATE TABLE raw_outbox (id \(serial), key TEXT UNIQUE, case_id TEXT, payload TEXT)",
  ]
}
nonisolated func rows(_ i: Int, _ e: CaseEvent) -> [SQLStatement] {
  [
    SQLStatement("INSERT INTO raw_events VALUES (?, ?, ?)", [e.eventID, e.caseID, payload]),
    SQLStatement("INSERT INTO raw_cases VALUES (?, ?, ?, ?, ?)", [e.caseID, payload, "K\(i % 331)", i, "hot"]),
    SQLStatement("INSERT INTO raw_parties VALUES (?, ?)", [e.caseID, "P\(i % 997)"]),
    SQLStatement("INSERT INTO raw_decisions (case_id, decision) VALUES (?, ?)", [e.caseID, payload]),
    SQLStatement(
      "INSERT INTO raw_outbox (key, case_id, payload) VALUES (?, ?, ?)", ["\(e.caseID)/enter", e.caseID, payload]),
  ]
}
/// The raw rows on PostgreSQL through the store's own backend, one transaction each; returns
/// the seconds the inserts took.
nonisolated func rawPostgres(_ url: String, _ events: [CaseEvent]) async throws -> TimeInterval {
  let raw = try PostgresBackend(url: url)
  return try await raw.withRunning {
    try await raw.write { db in for sql in schema("BIGSERIAL PRIMARY KEY") { try await db.execute(sql) } }
    let start = Date()
    for (i, e) in events.enumerated() {
      let statements = rows(i, e)
      try await raw.write { db in for s in statements { try await db.execute(s) } }
    }
    return Date().timeIntervalSince(start)
  }
}
/// GRDB's arguments for the store's values.
nonisolated func arguments(_ values: [SQLValue]) -> StatementArguments {
  StatementArguments(
    values.map { v -> (any DatabaseValueConvertible)? in
      switch v {
      case .null: nil
      case .integer(let i): i
      case .text(let t): t
      }
    })
}
var start = Date()
var rawSeconds: TimeInterval = 0
if let postgres {
  // The same driver path the store uses (a pooled connection, one transaction each), without
  // the store's logic.
  rawSeconds = try await rawPostgres(postgres, events)
} else {
  // GRDB's synchronous write on this thread, one transaction each (as before the store became
  // async): what SQLite can do for these rows.
  let raw = try DatabasePool(path: dir.appendingPathComponent("raw.sqlite").path)
  try raw.write { db in for sql in schema("INTEGER PRIMARY KEY") { try db.execute(sql: sql) } }
  start = Date()
  for (i, e) in events.enumerated() {
    let statements = rows(i, e)
    try raw.write { db in for s in statements { try db.execute(sql: s.sql, arguments: arguments(s.arguments)) } }
  }
}
if postgres == nil { rawSeconds = Date().timeIntervalSince(start) }

/// SQLite: the same five rows through GRDB's `async` write, awaited one transaction at a
/// time from a task off the main actor — what SQLite gives any caller that may not block a
/// cooperative thread (the store's API may not): each transaction hands the caller's task to
/// GRDB's writer queue and back, as each of the store's state changes does.
nonisolated func rawAsyncSQLite(_ path: String, _ events: [CaseEvent]) async throws -> TimeInterval {
  let raw = try DatabasePool(path: path)
  let ddl = schema("INTEGER PRIMARY KEY")
  try await raw.write { db in for sql in ddl { try db.execute(sql: sql) } }
  let start = Date()
  for (i, e) in events.enumerated() {
    // Bound here, as the synchronous baseline binds them: only the writes cross to the queue.
    let statements = rows(i, e).map { s in
      (
        s.sql, s.arguments.map { v -> String? in if case .text(let t) = v { t } else { nil } },
        s.arguments.map { v -> Int64? in if case .integer(let n) = v { n } else { nil } }
      )
    }
    try await raw.write { db in
      for (sql, texts, integers) in statements {
        let values = zip(texts, integers).map { t, n -> (any DatabaseValueConvertible)? in t ?? n }
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(values))
      }
    }
  }
  return Date().timeIntervalSince(start)
}
let rawAsyncSeconds: TimeInterval? =
  postgres == nil ? try await rawAsyncSQLite(dir.appendingPathComponent("raw-async.sqlite").path, events) : nil

// The rows the store itself wrote (events, cases, parties, decisions, outbox, and an UPDATE of
// a case for each re-evaluation's decision), inserted raw into a fresh store's tables (the
// same indexes), spread over as many transactions as there were events (table by table, in
// the order they were written): what the database alone costs for what the state changes
// wrote, without the logic that decided it. SQLite: GRDB's synchronous writes on this thread
// with its statement cache; PostgreSQL (`--postgres-rows URL`, another empty database): each
// transaction's rows as one statement (`executeAll`), as the store sends its writes.
/// The store's tables and whether their key is an auto-numbered `id` (left out: the raw
/// inserts number their own).
nonisolated let rowTables = [
  ("events", false), ("cases", false), ("parties", false), ("decisions", true), ("outbox", true),
]
/// Spreads each table's rows over `count` transactions.
nonisolated func spread(_ tables: [(String, [String], [[SQLValue]])], count: Int) -> [[SQLStatement]] {
  var transactions = [[SQLStatement]](repeating: [], count: count)
  for (table, columns, rows) in tables {
    let sql =
      "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
    let eventColumn = columns.firstIndex(of: "event_id")
    for (j, values) in rows.enumerated() {
      let k = j * count / rows.count
      transactions[k].append(SQLStatement(sql, values))
      if table == "decisions", let e = eventColumn, values[e] == .null,
        let level = columns.firstIndex(of: "level"), let at = columns.firstIndex(of: "decided_at"),
        let id = columns.firstIndex(of: "case_id")
      {
        // A re-evaluation also updated its case.
        transactions[k].append(
          SQLStatement(
            "UPDATE cases SET level = ?, next_review_at = ?, lifecycle = ?, due_at = ?, version = version + 1 WHERE id = ?",
            [values[level], values[at], SQLValue.text("{}"), values[at], values[id]]))
      }
    }
  }
  return transactions
}
/// The store's rows on SQLite, in the order they were written.
nonisolated func sqliteRows(_ path: String) throws -> [(String, [String], [[SQLValue]])] {
  let store = try DatabaseQueue(path: path)
  defer { try? store.close() }
  return try store.read { db in
    try rowTables.map { table, serial in
      let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(serial ? "id" : "rowid")")
      let columns = (rows.first?.columnNames.map { $0 } ?? []).filter { !(serial && $0 == "id") }
      return (
        table, columns,
        rows.map { row in
          columns.map { c -> SQLValue in
            switch (row[c] as DatabaseValue).storage {
            case .null: .null
            case .int64(let i): .integer(i)
            case .double(let d): Int64(exactly: d.rounded(.towardZero)).map(SQLValue.integer) ?? .null
            case .string(let t): .text(t)
            case .blob(let b): .text(String(decoding: b, as: UTF8.self))
            }
          }
        }
      )
    }
  }
}
/// The store's rows on PostgreSQL, in the order they lie in each table.
nonisolated func postgresRows(_ backend: PostgresBackend) async throws -> [(String, [String], [[SQLValue]])] {
  try await backend.read { db in
    var out: [(String, [String], [[SQLValue]])] = []
    for (table, serial) in rowTables {
      let described = try await db.fetchAll(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? AND table_schema = current_schema() ORDER BY ordinal_position",
        [table])
      let columns = described.map { $0["column_name"] as String }.filter { !(serial && $0 == "id") }
      let integers = Set(
        described.filter { ["bigint", "integer", "smallint"].contains($0["data_type"] as String) }.map {
          $0["column_name"] as String
        })
      // In the order they were written: an updated row moves to another place (`ctid`) in
      // PostgreSQL's table, so cases and parties follow their case's `received` event.
      let order =
        serial
        ? "FROM \(table) t ORDER BY t.id"
        : table == "events"
          ? "FROM events t ORDER BY t.ctid"
          : "FROM \(table) t JOIN events e ON e.case_id = t.\(table == "cases" ? "id" : "case_id") AND e.type = 'received' ORDER BY e.ctid"
      let rows = try await db.fetchAll(
        "SELECT \(columns.map { "t.\($0)" }.joined(separator: ", ")) \(order)")
      out.append(
        (
          table, columns,
          rows.map { row in
            columns.map { c in
              integers.contains(c)
                ? ((row[c] as Int64?).map(SQLValue.integer) ?? .null)
                : ((row[c] as String?).map(SQLValue.text) ?? .null)
            }
          }
        ))
    }
    return out
  }
}
var sameRowsRate: Double?
if postgres == nil {
  let transactions = spread(try sqliteRows(dir.appendingPathComponent("store.sqlite").path), count: count)
  let path = dir.appendingPathComponent("raw-store-rows.sqlite").path
  _ = try SQLiteBackend(path: path)
  let raw = try DatabasePool(path: path)
  let begin = Date()
  for statements in transactions {
    try raw.write { db in
      for s in statements { try db.cachedStatement(sql: s.sql).execute(arguments: arguments(s.arguments)) }
    }
  }
  sameRowsRate = Double(count) / Date().timeIntervalSince(begin)
} else if let rowsURL = argument("--postgres-rows"), let postgres {
  // A client of its own: the store's ran its pool once already.
  let store = try PostgresBackend(url: postgres)
  let tables = try await store.withRunning { try await postgresRows(store) }
  let transactions = spread(tables, count: count)
  let raw = try PostgresBackend(url: rowsURL)
  sameRowsRate = try await raw.withRunning {
    _ = try await CaseStore(backend: raw, rules: rules)
    let begin = Date()
    for statements in transactions { try await raw.write { db in try await db.executeAll(statements) } }
    return Double(count) / Date().timeIntervalSince(begin)
  }
}
let storeRate = Double(count) / storeSeconds
let rawRate = Double(count) / rawSeconds
let rawAsync =
  rawAsyncSeconds.map {
    let rate = Double(count) / $0
    return ",\"raw_inserts_async_per_s\":\(Int(rate)),\"ratio_async\":\(String(format: "%.2f", storeRate / rate))"
  } ?? ""
let sameRows =
  sameRowsRate.map {
    ",\"raw_store_rows_per_s\":\(Int($0)),\"ratio_store_rows\":\(String(format: "%.2f", storeRate / $0))"
  } ?? ""
print(
  "{\"backend\":\"\(postgres == nil ? "sqlite" : "postgres")\",\"events\":\(count),\"tasks\":\(tasks),\"batch\":\(batch),\"store_changes_per_s\":\(Int(storeRate)),\"raw_inserts_per_s\":\(Int(rawRate)),\"ratio\":\(String(format: "%.2f", storeRate / rawRate))\(rawAsync)\(sameRows)}"
)
