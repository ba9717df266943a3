import Foundation
import GRDB
import OmbudsEngine
import OmbudsRules
import OmbudsStore

// Full state changes per second on the store (event + snapshot + evaluation + decision +
// outbox, one transaction each), beside the same database's raw insert rate for the same
// rows (one transaction each too), in one run.
// Usage: ombuds-store-bench [--rules DIR] [--events N] [--postgres URL] [--tasks N | --batch N]
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
    try raw.write { db in
      for s in statements {
        try db.execute(
          sql: s.sql,
          arguments: StatementArguments(
            s.arguments.map { v -> (any DatabaseValueConvertible)? in
              switch v {
              case .null: nil
              case .integer(let i): i
              case .text(let t): t
              }
            }))
      }
    }
  }
}
if postgres == nil { rawSeconds = Date().timeIntervalSince(start) }
let storeRate = Double(count) / storeSeconds
let rawRate = Double(count) / rawSeconds
print(
  "{\"backend\":\"\(postgres == nil ? "sqlite" : "postgres")\",\"events\":\(count),\"tasks\":\(tasks),\"batch\":\(batch),\"store_changes_per_s\":\(Int(storeRate)),\"raw_inserts_per_s\":\(Int(rawRate)),\"ratio\":\(String(format: "%.2f", storeRate / rawRate))}"
)
