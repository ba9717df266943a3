import Foundation
import GRDB
import OmbudsStore
import PostgresNIO
import Testing

/// One table's shape, in terms both databases share: columns in order with a type class and
/// their NOT NULL flag, the primary key's columns, the other indexes and unique constraints by
/// their column lists (names differ between the two), and the foreign keys.
struct TableShape: Equatable, Sendable {
  struct Column: Equatable, Sendable {
    var name: String
    /// `text`, `integer`, `real` or `blob` (anything else as `other(…)`).
    var type: String
    var notNull: Bool
  }
  var columns: [Column] = []
  var primaryKey: [String] = []
  /// `UNIQUE (a, b)` or `INDEX (a, b)`, sorted; the primary key's own index is left out.
  var indexes: [String] = []
  /// `(a) -> table (b)`, sorted.
  var foreignKeys: [String] = []
}

/// A database's tables by name.
typealias SchemaShape = [String: TableShape]

enum SchemaParity {
  /// A SQLite declared type's class, by SQLite's affinity rules (§3.1 of "Datatypes In
  /// SQLite"); NUMERIC affinity counts as `real`, except booleans, which PostgreSQL's side
  /// counts as `integer` too.
  static func sqliteClass(_ declared: String) -> String {
    let t = declared.uppercased()
    if t.contains("INT") { return "integer" }
    if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") { return "text" }
    if t.contains("BLOB") || t.isEmpty { return "blob" }
    if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") { return "real" }
    if t.hasPrefix("BOOL") { return "integer" }
    return "real"
  }

  /// A PostgreSQL type's class (`information_schema.columns.data_type`).
  static func postgresClass(_ dataType: String) -> String {
    switch dataType.lowercased() {
    case "text", "character varying", "character", "name", "citext": "text"
    case "bigint", "integer", "smallint", "boolean": "integer"
    case "double precision", "real", "numeric": "real"
    case "bytea": "blob"
    default: "other(\(dataType))"
    }
  }

  static func index(unique: Bool, _ columns: [String], partial: Bool) -> String {
    "\(unique ? "UNIQUE" : "INDEX") (\(columns.joined(separator: ", ")))\(partial ? " WHERE …" : "")"
  }

  /// Every difference between the two schemas, one line each, sorted.
  static func differences(sqlite: SchemaShape, postgres: SchemaShape) -> [String] {
    var out: [String] = []
    for name in Set(sqlite.keys).union(postgres.keys).sorted() {
      guard let s = sqlite[name] else {
        out.append("\(name): table only in postgres")
        continue
      }
      guard let p = postgres[name] else {
        out.append("\(name): table only in sqlite")
        continue
      }
      let sNames = s.columns.map(\.name)
      let pNames = p.columns.map(\.name)
      for c in s.columns where !pNames.contains(c.name) { out.append("\(name).\(c.name): column only in sqlite") }
      for c in p.columns where !sNames.contains(c.name) { out.append("\(name).\(c.name): column only in postgres") }
      let sShared = sNames.filter(pNames.contains)
      let pShared = pNames.filter(sNames.contains)
      if sShared != pShared {
        out.append(
          "\(name): column order: sqlite (\(sShared.joined(separator: ", "))) vs postgres (\(pShared.joined(separator: ", ")))"
        )
      }
      for sc in s.columns {
        guard let pc = p.columns.first(where: { $0.name == sc.name }) else { continue }
        if sc.type != pc.type { out.append("\(name).\(sc.name): type: sqlite \(sc.type) vs postgres \(pc.type)") }
        if sc.notNull != pc.notNull {
          out.append(
            "\(name).\(sc.name): \(sc.notNull ? "NOT NULL" : "nullable") in sqlite vs \(pc.notNull ? "NOT NULL" : "nullable") in postgres"
          )
        }
      }
      if s.primaryKey != p.primaryKey {
        out.append(
          "\(name): primary key: sqlite (\(s.primaryKey.joined(separator: ", "))) vs postgres (\(p.primaryKey.joined(separator: ", ")))"
        )
      }
      out += multisetDifference(s.indexes, p.indexes).map { "\(name): \($0) only in sqlite" }
      out += multisetDifference(p.indexes, s.indexes).map { "\(name): \($0) only in postgres" }
      out += multisetDifference(s.foreignKeys, p.foreignKeys).map { "\(name): foreign key \($0) only in sqlite" }
      out += multisetDifference(p.foreignKeys, s.foreignKeys).map { "\(name): foreign key \($0) only in postgres" }
    }
    return out.sorted()
  }

  /// The elements of `a` that `b` lacks, counting repeats.
  static func multisetDifference(_ a: [String], _ b: [String]) -> [String] {
    var rest = b
    return a.filter { x in
      guard let i = rest.firstIndex(of: x) else { return true }
      rest.remove(at: i)
      return false
    }
  }

  /// The SQLite file's schema, read through a read-only connection of its own.
  static func sqliteShape(path: String) async throws -> SchemaShape {
    var configuration = Configuration()
    configuration.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: configuration)
    return try await queue.read { db in
      var shape: SchemaShape = [:]
      let tables = try String.fetchAll(
        db,
        sql: """
          SELECT name FROM sqlite_master
          WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'grdb_migrations'
          """)
      for table in tables {
        var t = TableShape()
        var pk: [(Int, String)] = []
        var declared: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "PRAGMA table_info(\(table.quotedDatabaseIdentifier))") {
          let name: String = row["name"]
          let type: String = row["type"] ?? ""
          let position: Int = row["pk"]
          declared[name] = type
          if position > 0 { pk.append((position, name)) }
          t.columns.append(.init(name: name, type: sqliteClass(type), notNull: (row["notnull"] as Int) != 0))
        }
        t.primaryKey = pk.sorted { $0.0 < $1.0 }.map(\.1)
        // A rowid alias (`INTEGER PRIMARY KEY`) never holds NULL, NOT NULL or not.
        if t.primaryKey.count == 1, declared[t.primaryKey[0]]?.uppercased() == "INTEGER",
          let i = t.columns.firstIndex(where: { $0.name == t.primaryKey[0] })
        {
          t.columns[i].notNull = true
        }
        for row in try Row.fetchAll(db, sql: "PRAGMA index_list(\(table.quotedDatabaseIdentifier))") {
          let origin: String = row["origin"]
          if origin == "pk" { continue }
          let indexName: String = row["name"]
          let columns = try Row.fetchAll(db, sql: "PRAGMA index_info(\(indexName.quotedDatabaseIdentifier))")
            .sorted { ($0["seqno"] as Int) < ($1["seqno"] as Int) }
            .map { ($0["name"] as String?) ?? "<expression>" }
          t.indexes.append(
            index(unique: (row["unique"] as Int) != 0, columns, partial: (row["partial"] as Int? ?? 0) != 0))
        }
        t.indexes.sort()
        var foreign: [Int: (table: String, from: [String], to: [String?])] = [:]
        for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_list(\(table.quotedDatabaseIdentifier))")
          .sorted(by: { ($0["seq"] as Int) < ($1["seq"] as Int) })
        {
          let id: Int = row["id"]
          foreign[id, default: (row["table"], [], [])].from.append(row["from"])
          foreign[id]?.to.append(row["to"])
        }
        t.foreignKeys = try foreign.values.map { fk in
          // A reference without columns names the parent's primary key.
          var to = fk.to.compactMap { $0 }
          if to.count != fk.from.count {
            to = try Row.fetchAll(db, sql: "PRAGMA table_info(\(fk.table.quotedDatabaseIdentifier))")
              .filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] }
          }
          return "(\(fk.from.joined(separator: ", "))) -> \(fk.table) (\(to.joined(separator: ", ")))"
        }.sorted()
        shape[table] = t
      }
      return shape
    }
  }

  /// Rows of a query whose every column is cast to text.
  static func rows(_ client: PostgresClient, _ query: PostgresQuery) async throws -> [[String?]] {
    var out: [[String?]] = []
    for try await row in try await client.query(query) {
      out.append(try row.map { try $0.decode(String?.self) })
    }
    return out
  }

  /// The `public` schema of a PostgreSQL database.
  static func postgresShape(_ client: PostgresClient) async throws -> SchemaShape {
    var shape: SchemaShape = [:]
    let columns = try await rows(
      client,
      """
      SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
      FROM information_schema.columns c
      WHERE table_schema = 'public'
        AND EXISTS (SELECT 1 FROM information_schema.tables t
                    WHERE t.table_schema = c.table_schema AND t.table_name = c.table_name
                      AND t.table_type = 'BASE TABLE')
      ORDER BY table_name, ordinal_position
      """)
    for r in columns {
      let (table, name, type, nullable) = (r[0] ?? "", r[1] ?? "", r[2] ?? "", r[3] ?? "")
      shape[table, default: TableShape()].columns.append(
        .init(name: name, type: postgresClass(type), notNull: nullable == "NO"))
    }
    let keys = try await rows(
      client,
      """
      SELECT tc.table_name::text, kcu.column_name::text
      FROM information_schema.table_constraints tc
      JOIN information_schema.key_column_usage kcu
        ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
       AND kcu.table_name = tc.table_name
      WHERE tc.table_schema = 'public' AND tc.constraint_type = 'PRIMARY KEY'
      ORDER BY tc.table_name, kcu.ordinal_position
      """)
    for r in keys { shape[r[0] ?? "", default: TableShape()].primaryKey.append(r[1] ?? "") }
    // Unique constraints are enforced by unique indexes, so the indexes show them too.
    let indexes = try await rows(
      client,
      """
      SELECT t.relname::text, i.relname::text, ix.indisunique::text, (ix.indpred IS NOT NULL)::text,
             k.n::text, a.attname::text
      FROM pg_index ix
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_namespace ns ON ns.oid = t.relnamespace
      CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
      LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
      WHERE ns.nspname = 'public' AND NOT ix.indisprimary AND k.n <= ix.indnkeyatts
      ORDER BY 1, 2, k.n
      """)
    var byIndex: [String: (table: String, unique: Bool, partial: Bool, columns: [String])] = [:]
    for r in indexes {
      let (table, name) = (r[0] ?? "", r[1] ?? "")
      byIndex[name, default: (table, r[2] == "true", r[3] == "true", [])].columns.append(r[5] ?? "<expression>")
    }
    for i in byIndex.values {
      shape[i.table, default: TableShape()].indexes.append(index(unique: i.unique, i.columns, partial: i.partial))
    }
    let foreign = try await rows(
      client,
      """
      SELECT src.relname::text, dst.relname::text,
        (SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
        (SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)
      FROM pg_constraint c
      JOIN pg_class src ON src.oid = c.conrelid
      JOIN pg_class dst ON dst.oid = c.confrelid
      JOIN pg_namespace ns ON ns.oid = c.connamespace
      WHERE c.contype = 'f' AND ns.nspname = 'public'
      """)
    for r in foreign {
      shape[r[0] ?? "", default: TableShape()].foreignKeys.append("(\(r[2] ?? "")) -> \(r[1] ?? "") (\(r[3] ?? ""))")
    }
    for name in shape.keys {
      shape[name]?.indexes.sort()
      shape[name]?.foreignKeys.sort()
    }
    return shape
  }
}

/// The SQLite store's schema (GRDB migrations, `Schema.swift`) and the PostgreSQL store's
/// (`PostgresBackend.schema`) are the same: the same tables, columns in the same order with the
/// same type class and NOT NULL flag, the same primary keys, unique constraints, indexes (by
/// their columns) and foreign keys. Each comes from a fresh store opened by the store's code.
@Suite(.serialized) struct SchemaParityTests {
  /// Differences known today, to be settled: each must still occur (or this test fails, so
  /// that the entry is removed), and any other difference fails the test.
  ///
  /// SQLite lets a `TEXT PRIMARY KEY` column hold NULL (a documented legacy quirk: only an
  /// `INTEGER PRIMARY KEY` or a declared NOT NULL excludes it), and `Schema.swift` declares
  /// these keys with `t.column(_, .text).primaryKey()`, without `.notNull()`; PostgreSQL's
  /// PRIMARY KEY implies NOT NULL.
  /// Differences known and accepted (none since SQLite migration v5 made the text keys NOT
  /// NULL); an entry here is still checked to occur.
  static let knownDifferences: [String] = []

  @Test func sqliteAndPostgreSQLSchemasAreEqual() async throws {
    guard let server = try PostgresServer.available() else { return }
    let rules = try Support.defaultRules()
    let dir = try Support.temporaryDirectory()
    let path = dir.appendingPathComponent("parity.sqlite").path
    let sqliteStore = try await CaseStore(path: path, rules: rules)
    let sqlite = try await SchemaParity.sqliteShape(path: path)
    withExtendedLifetime(sqliteStore) {}  // open while its file was read
    let url = try server.newDatabase()
    let postgres = try await BackendRunner.run { (runner) async throws in
      let backend = try PostgresBackend(url: url)
      _ = try await runner.store(backend, rules: rules)
      return try await SchemaParity.postgresShape(backend.client)
    }
    // Not vacuous: both sides hold the store's tables.
    for table in ["cases", "parties", "events", "decisions", "outbox", "meta"] {
      #expect(sqlite[table] != nil, "sqlite lacks table \(table)")
      #expect(postgres[table] != nil, "postgres lacks table \(table)")
    }
    // Migration "v6 event person" and its PostgreSQL column: the last column of `events`.
    #expect(sqlite["events"]?.columns.last == .init(name: "person", type: "text", notNull: false))
    #expect(postgres["events"]?.columns.last == .init(name: "person", type: "text", notNull: false))
    let differences = SchemaParity.differences(sqlite: sqlite, postgres: postgres)
    for known in Self.knownDifferences {
      withKnownIssue(Comment(rawValue: known)) {
        if differences.contains(known) { Issue.record(Comment(rawValue: known)) }
      }
    }
    let unexpected = differences.filter { !Self.knownDifferences.contains($0) }
    #expect(
      unexpected.isEmpty,
      "the SQLite and PostgreSQL schemas differ:\n\(unexpected.map { "  \($0)" }.joined(separator: "\n"))")
  }

  /// The comparison itself sees each kind of difference.
  @Test func theComparisonReportsEachDifference() {
    let base = TableShape(
      columns: [.init(name: "id", type: "text", notNull: true), .init(name: "n", type: "integer", notNull: false)],
      primaryKey: ["id"], indexes: ["UNIQUE (n)"], foreignKeys: ["(id) -> t (id)"])
    #expect(SchemaParity.differences(sqlite: ["a": base], postgres: ["a": base]).isEmpty)
    var other = base
    other.columns = [.init(name: "n", type: "text", notNull: true), .init(name: "id", type: "text", notNull: true)]
    other.primaryKey = ["n"]
    other.indexes = ["INDEX (n)"]
    other.foreignKeys = []
    #expect(
      SchemaParity.differences(sqlite: ["a": base, "b": base], postgres: ["a": other, "c": base]) == [
        "a.n: nullable in sqlite vs NOT NULL in postgres",
        "a.n: type: sqlite integer vs postgres text",
        "a: INDEX (n) only in postgres",
        "a: UNIQUE (n) only in sqlite",
        "a: column order: sqlite (id, n) vs postgres (n, id)",
        "a: foreign key (id) -> t (id) only in sqlite",
        "a: primary key: sqlite (id) vs postgres (n)",
        "b: table only in sqlite",
        "c: table only in postgres",
      ])
    #expect(SchemaParity.sqliteClass("BIGINT") == "integer" && SchemaParity.sqliteClass("VARCHAR(5)") == "text")
    #expect(SchemaParity.sqliteClass("") == "blob" && SchemaParity.sqliteClass("DOUBLE") == "real")
    #expect(SchemaParity.postgresClass("bigint") == "integer" && SchemaParity.postgresClass("bytea") == "blob")
  }
}
