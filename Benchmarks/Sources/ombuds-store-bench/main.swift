import Foundation
import GRDB
import OmbudsEngine
import OmbudsRules
import OmbudsStore

// Full state changes per second on the SQLite store (event + snapshot + evaluation +
// decision + outbox, one transaction each), beside SQLite's raw insert rate for the same
// rows (one transaction each too), in one run. Usage: ombuds-store-bench [--rules DIR] [--events N]

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

let store = try SQLiteCaseStore(path: dir.appendingPathComponent("store.sqlite").path, rules: rules)
let events = (0..<count).map(event)
var start = Date()
for e in events { try store.apply(e) }
let storeSeconds = Date().timeIntervalSince(start)

// Raw: the same rows (event, case, party, decision, outbox) inserted directly, one transaction each.
let raw = try DatabasePool(path: dir.appendingPathComponent("raw.sqlite").path)
try raw.write { db in
  try db.execute(sql: "CREATE TABLE events (event_id TEXT PRIMARY KEY, case_id TEXT, payload TEXT)")
  try db.execute(
    sql: "CREATE TABLE cases (id TEXT PRIMARY KEY, snapshot TEXT, issue_key TEXT, received_at INTEGER, level TEXT)")
  try db.execute(sql: "CREATE INDEX cases_issue ON cases (issue_key, received_at)")
  try db.execute(sql: "CREATE TABLE parties (case_id TEXT PRIMARY KEY, complainant_id TEXT)")
  try db.execute(sql: "CREATE TABLE decisions (id INTEGER PRIMARY KEY, case_id TEXT, decision TEXT)")
  try db.execute(sql: "CREATE TABLE outbox (id INTEGER PRIMARY KEY, key TEXT UNIQUE, case_id TEXT, payload TEXT)")
}
let payload = String(repeating: "x", count: 300)
start = Date()
for (i, e) in events.enumerated() {
  try raw.write { db in
    try db.execute(sql: "INSERT INTO events VALUES (?, ?, ?)", arguments: [e.eventID, e.caseID, payload])
    try db.execute(
      sql: "INSERT INTO cases VALUES (?, ?, ?, ?, ?)", arguments: [e.caseID, payload, "K\(i % 331)", i, "hot"])
    try db.execute(sql: "INSERT INTO parties VALUES (?, ?)", arguments: [e.caseID, "P\(i % 997)"])
    try db.execute(sql: "INSERT INTO decisions (case_id, decision) VALUES (?, ?)", arguments: [e.caseID, payload])
    try db.execute(
      sql: "INSERT INTO outbox (key, case_id, payload) VALUES (?, ?, ?)",
      arguments: ["\(e.caseID)/enter", e.caseID, payload])
  }
}
let rawSeconds = Date().timeIntervalSince(start)
let storeRate = Double(count) / storeSeconds
let rawRate = Double(count) / rawSeconds
print(
  "{\"events\":\(count),\"store_changes_per_s\":\(Int(storeRate)),\"raw_inserts_per_s\":\(Int(rawRate)),\"ratio\":\(String(format: "%.2f", storeRate / rawRate))}"
)
