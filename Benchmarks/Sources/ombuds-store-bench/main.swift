import Foundation
import GRDB
import OmbudsEngine
import OmbudsRules
import OmbudsStore

// Full state changes per second on the store (event + snapshot + evaluation + decision +
// outbox, one transaction each), beside the same database's raw insert rate for the same
// rows (one transaction each too), in one run.
// Usage: ombuds-store-bench [--rules DIR] [--events N] [--postgres URL]
// With --postgres (an empty database's URL), both run on PostgreSQL through the store's own
// connection code (postgres-nio); otherwise on SQLite files (GRDB).

func argument(_ name: String) -> String? {
  let args = CommandLine.arguments
  guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
  return args[i + 1]
}

let rulesDir = argument("--rules") ?? "rules"
let count = Int(argument("--events") ?? "5000") ?? 5000
guard let set = RuleSetLoader.load(paths: [rulesDir]).ruleSet, let rules = try? CompiledRules(set) else {
  FileHandle.standardError.write(Data("ombuds-store-bench: the rules in \(rulesDir) do not load\n".utf8))
  exit(2)
}
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ombuds-store-bench-\(getpid())")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }

func event(_ i: Int) -> CaseEvent {
  let day = i % 28 + 1
  let t = "2025-10-\(day < 10 ? "0" : "")\(day)T09:00:00+08:00"
  let fields: [String: Any] = [
    "received_at": t, "complainant_id": "P\(i % 997)", "issue_key": "K\(i % 331)", "collective_size": i % 5 + 1,
    "channel": "web", "text": "快递暴力分拣，包裹破损，要求赔偿",
  ]
  return CaseEvent(
    eventID: "e\(i)", caseID: "C\(i)", kind: .received, at: RFC3339.parse(t) ?? 0, actor: "bench", fields: fields)
}

let postgres = argument("--postgres")
let store: CaseStore
if let postgres {
  store = try CaseStore(backend: try PostgresBackend(url: postgres), rules: rules)
} else {
  store = try CaseStore(path: dir.appendingPathComponent("store.sqlite").path, rules: rules)
}
let events = (0..<count).map(event)
var start = Date()
for e in events { try store.apply(e) }
let storeSeconds = Date().timeIntervalSince(start)

// Raw: the same rows (event, case, party, decision, outbox) inserted directly, one transaction each.
let payload = String(repeating: "x", count: 300)
let schema = [
  "CREATE TABLE raw_events (event_id TEXT PRIMARY KEY, case_id TEXT, payload TEXT)",
  "CREATE TABLE raw_cases (id TEXT PRIMARY KEY, snapshot TEXT, issue_key TEXT, received_at BIGINT, level TEXT)",
  "CREATE INDEX raw_cases_issue ON raw_cases (issue_key, received_at)",
  "CREATE TABLE raw_parties (case_id TEXT PRIMARY KEY, complainant_id TEXT)",
  "CREATE TABLE raw_decisions (id \(postgres == nil ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"), case_id TEXT, decision TEXT)",
  "CREATE TABLE raw_outbox (id \(postgres == nil ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"), key TEXT UNIQUE, case_id TEXT, payload TEXT)",
]
func rows(_ i: Int, _ e: CaseEvent) -> [(String, [Any?])] {
  [
    ("INSERT INTO raw_events VALUES (?, ?, ?)", [e.eventID, e.caseID, payload]),
    ("INSERT INTO raw_cases VALUES (?, ?, ?, ?, ?)", [e.caseID, payload, "K\(i % 331)", i, "hot"]),
    ("INSERT INTO raw_parties VALUES (?, ?)", [e.caseID, "P\(i % 997)"]),
    ("INSERT INTO raw_decisions (case_id, decision) VALUES (?, ?)", [e.caseID, payload]),
    ("INSERT INTO raw_outbox (key, case_id, payload) VALUES (?, ?, ?)", ["\(e.caseID)/enter", e.caseID, payload]),
  ]
}
if let postgres {
  // The same driver path the store uses, without the store's logic.
  let raw = try PostgresBackend(url: postgres)
  try raw.write { db in for sql in schema { try db.execute(sql, []) } }
  start = Date()
  for (i, e) in events.enumerated() {
    try raw.write { db in for (sql, args) in rows(i, e) { try db.execute(sql, args) } }
  }
} else {
  let raw = try DatabasePool(path: dir.appendingPathComponent("raw.sqlite").path)
  try raw.write { db in for sql in schema { try db.execute(sql: sql) } }
  start = Date()
  for (i, e) in events.enumerated() {
    try raw.write { db in
      for (sql, args) in rows(i, e) {
        try db.execute(sql: sql, arguments: StatementArguments(args.map { $0 as? (any DatabaseValueConvertible) }))
      }
    }
  }
}
let rawSeconds = Date().timeIntervalSince(start)
let storeRate = Double(count) / storeSeconds
let rawRate = Double(count) / rawSeconds
print(
  "{\"backend\":\"\(postgres == nil ? "sqlite" : "postgres")\",\"events\":\(count),\"store_changes_per_s\":\(Int(storeRate)),\"raw_inserts_per_s\":\(Int(rawRate)),\"ratio\":\(String(format: "%.2f", storeRate / rawRate))}"
)
