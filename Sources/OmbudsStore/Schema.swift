import Foundation
import GRDB
import OmbudsEngine
import OmbudsSyntax

/// The store's tables, created and upgraded by named migrations.
///
/// - `cases`: one row per case — the snapshot of its facts (without the complainant's
///   identity), its lifecycle state, its level, version and next review time.
/// - `parties`: the complainant's identity and contact details, kept apart (保密).
/// - `events`: every accepted event, immutable, by event id (idempotency), with its actor and,
///   when known, the person who acted (since v6).
/// - `decisions`: every decision with its reasons and the rule set's content hash (and, for
///   one made because the rules changed, the rule set of the case's decision before it).
/// - `outbox`: the notifications and reports that decisions trigger, one row per recipient and
///   channel, with their delivery state (pending, sending under a lease, delivered, dead).
enum Schema {
  /// The tables whose primary key is text, and the key (NOT NULL since migration v5).
  static let textKeys = [("cases", "id"), ("events", "event_id"), ("meta", "key"), ("parties", "case_id")]

  static var migrator: DatabaseMigrator {
    var m = DatabaseMigrator()
    m.registerMigration("v1") { db in
      try db.create(table: "cases") { t in
        t.column("id", .text).primaryKey()
        t.column("version", .integer).notNull()
        t.column("state", .text).notNull()
        t.column("snapshot", .text).notNull()
        t.column("issue_key", .text)
        t.column("complainant_key", .text)
        t.column("received_at", .integer).notNull()
        t.column("level", .text).notNull()
        t.column("override_level", .text)
        t.column("next_review_at", .integer)
        t.column("malicious", .text)
      }
      try db.create(index: "cases_issue", on: "cases", columns: ["issue_key", "received_at"])
      try db.create(index: "cases_review", on: "cases", columns: ["next_review_at"])
      try db.create(table: "parties") { t in
        t.column("case_id", .text).primaryKey().references("cases")
        t.column("complainant_id", .text)
        t.column("contact", .text)
      }
      try db.create(table: "events") { t in
        t.column("event_id", .text).primaryKey()
        t.column("case_id", .text).notNull().indexed()
        t.column("seq", .integer).notNull()
        t.column("type", .text).notNull()
        t.column("actor", .text).notNull()
        t.column("at", .integer).notNull()
        t.column("payload", .text).notNull()
      }
      try db.create(table: "decisions") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("case_id", .text).notNull().indexed()
        t.column("event_id", .text)
        t.column("decided_at", .integer).notNull()
        t.column("level", .text).notNull()
        t.column("decision", .text).notNull()
        t.column("rule_set", .text).notNull()
      }
      try db.create(table: "outbox") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("idempotency_key", .text).notNull().unique()
        t.column("case_id", .text).notNull()
        t.column("kind", .text).notNull()
        t.column("recipients", .text).notNull()
        t.column("payload", .text).notNull()
        t.column("due_at", .integer).notNull()
        t.column("status", .text).notNull().defaults(to: "pending")
        t.column("attempts", .integer).notNull().defaults(to: 0)
      }
      try db.create(index: "outbox_due", on: "outbox", columns: ["status", "due_at"])
    }
    m.registerMigration("v2 lifecycle") { db in
      try db.alter(table: "cases") { t in
        t.add(column: "stage", .text).notNull().defaults(to: "received")
        t.add(column: "lifecycle", .text).notNull().defaults(to: "{}")
      }
      try db.alter(table: "parties") { t in t.add(column: "respondent", .text) }
    }
    m.registerMigration("v3 pseudonym key") { db in
      try db.create(table: "meta") { t in
        t.column("key", .text).primaryKey()
        t.column("value", .text).notNull()
      }
      // A secret of this store: complainant pseudonyms are HMACs under it, so a list of
      // candidate phone numbers cannot be checked against them without the database.
      try db.execute(
        sql: "INSERT INTO meta (key, value) VALUES ('pseudonym_key', ?)", arguments: [Hex.randomKey()])
    }
    m.registerMigration("v4 delivery") { db in
      try db.alter(table: "outbox") { t in
        t.add(column: "recipient", .text)
        t.add(column: "channel", .text)
        t.add(column: "ready_at", .integer)
        t.add(column: "claimed_by", .text)
        t.add(column: "last_error", .text)
        t.add(column: "delivered_at", .integer)
        t.add(column: "identity", .integer).notNull().defaults(to: 0)
      }
      try db.execute(sql: "UPDATE outbox SET ready_at = due_at WHERE ready_at IS NULL")
      try db.create(index: "outbox_ready", on: "outbox", columns: ["status", "ready_at"])
    }
    m.registerMigration("v5 keys not null") { db in
      // SQLite lets a TEXT PRIMARY KEY hold NULL; PostgreSQL's keys never do. Each table is
      // rebuilt from its own definition with NOT NULL on its key, rows and indexes kept (GRDB
      // runs migrations with foreign-key checks deferred to the end).
      for (table, key) in Self.textKeys {
        guard
          let sql = try String.fetchOne(
            db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table])
        else { continue }
        let declared = "\"\(key)\" TEXT PRIMARY KEY"
        guard sql.contains(declared), sql.hasPrefix("CREATE TABLE \"\(table)\" (") else { continue }
        let indexes = try String.fetchAll(
          db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
          arguments: [table])
        let rebuilt =
          "CREATE TABLE \"\(table)_v5\" ("
          + sql.dropFirst("CREATE TABLE \"\(table)\" (".count).replacingOccurrences(
            of: declared, with: "\"\(key)\" TEXT NOT NULL PRIMARY KEY")
        try db.execute(sql: rebuilt)
        try db.execute(sql: "INSERT INTO \"\(table)_v5\" SELECT * FROM \"\(table)\"")
        try db.execute(sql: "DROP TABLE \"\(table)\"")
        try db.execute(sql: "ALTER TABLE \"\(table)_v5\" RENAME TO \"\(table)\"")
        for index in indexes { try db.execute(sql: index) }
      }
    }
    m.registerMigration("v6 event person") { db in
      // Who acted, when known: the person of the principal an event was applied for.
      try db.alter(table: "events") { t in t.add(column: "person", .text) }
    }
    m.registerMigration("v7 tokens and due dates") { db in
      // API tokens: only a SHA-256 of each token is kept; the token itself is shown once.
      try db.create(table: "tokens") { t in
        t.column("id", .text).notNull().primaryKey()
        t.column("name", .text).notNull()
        t.column("role", .text).notNull()
        t.column("hash", .text).notNull().unique()
        t.column("created_at", .integer).notNull()
        t.column("revoked_at", .integer)
      }
      // The earliest deadline of an open, unresolved case (for "overdue" and "due before").
      try db.alter(table: "cases") { t in t.add(column: "due_at", .integer) }
      try db.create(index: "cases_due", on: "cases", columns: ["due_at"])
      try db.create(index: "cases_received", on: "cases", columns: ["received_at", "id"])
      // Open cases stored before: their earliest deadline, from their latest decision.
      for row in try Row.fetchAll(db, sql: Self.dueBackfillQuery) {
        if let due = Self.dueAt(decisionJSON: row["decision"]) {
          try db.execute(sql: "UPDATE cases SET due_at = ? WHERE id = ?", arguments: [due, row["id"] as String])
        }
      }
    }
    m.registerMigration("v8 departments") { db in
      // The handling unit (承办单位) of the last `assign`, for measures per unit.
      try db.alter(table: "cases") { t in t.add(column: "department", .text) }
      try db.create(index: "cases_department", on: "cases", columns: ["department", "received_at"])
      // Cases stored before: the department their lifecycle records.
      for row in try Row.fetchAll(db, sql: Self.departmentBackfillQuery) {
        if let department = CaseLifecycle.read(row["lifecycle"]).department {
          try db.execute(
            sql: "UPDATE cases SET department = ? WHERE id = ?", arguments: [department, row["id"] as String])
        }
      }
    }
    m.registerMigration("v9 rule-set changes") { db in
      // A decision made because the rules changed (`ombuds reevaluate`): the rule set the
      // case's decision before it was made with.
      try db.alter(table: "decisions") { t in t.add(column: "previous_rule_set", .text) }
    }
    return m
  }

  /// The cases whose lifecycle may name a department (for the v8 backfill).
  static let departmentBackfillQuery = """
    SELECT id, lifecycle FROM cases WHERE department IS NULL AND lifecycle LIKE '%"department"%'
    """

  /// The open cases without a `due_at`, with their latest decision (for the v7 backfill).
  static let dueBackfillQuery = """
    SELECT c.id, (SELECT d.decision FROM decisions d WHERE d.case_id = c.id ORDER BY d.id DESC LIMIT 1) AS decision
    FROM cases c WHERE c.state = 'open' AND c.due_at IS NULL
    """

  /// The earliest deadline of a stored decision (its `deadlines`, extensions applied).
  static func dueAt(decisionJSON: String?) -> Millis? {
    guard let text = decisionJSON,
      let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
      let deadlines = object["deadlines"] as? [String: Any]
    else { return nil }
    return deadlines.values.compactMap { ($0 as? String).flatMap(RFC3339.parse) }.min()
  }
}
