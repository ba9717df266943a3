import Foundation
import Logging
import NIOCore
import OmbudsSyntax
import PostgresNIO

/// PostgreSQL through postgres-nio: a connection pool (`PostgresClient`), each transaction
/// on a leased connection, rows locked with `FOR UPDATE`, due work claimed with
/// `FOR UPDATE SKIP LOCKED`, so that several instances can share one database.
///
/// The pool works only while `run()` runs: `ombuds serve` runs it as a service of its
/// `ServiceGroup`, commands and tests with `withRunning(_:)`.
public final class PostgresBackend: StoreBackend {
  public let client: PostgresClient
  let logger = Logger(label: "ombuds.store.postgres")
  let url: String
  /// One connection's settings: `prepare()` tries one first, so that a server that cannot
  /// be reached is an error, not a pool waiting for it.
  let probe: PostgresConnection.Configuration

  /// Connections the pool opens at most, unless the URL says `?pool=N`.
  public static let defaultPoolSize = 10

  /// A backend for `url`: `postgres://user[:password]@host[:port]/database`, or
  /// `postgres:///database?host=/socket/dir&port=5432&user=name` for a Unix socket;
  /// `&pool=N` sets the most connections it opens. Nothing is connected until `run()` runs.
  public init(url: String) throws {
    guard let components = URLComponents(string: url),
      components.scheme == "postgres" || components.scheme == "postgresql"
    else { throw StoreError.database("`\(url)` is not a postgres:// URL") }
    let query = Dictionary(
      (components.queryItems ?? []).compactMap { item in item.value.map { (item.name, $0) } },
      uniquingKeysWith: { a, _ in a })
    let user = components.user ?? query["user"] ?? "postgres"
    let database = String(components.path.dropFirst()).isEmpty ? user : String(components.path.dropFirst())
    let port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
    var configuration: PostgresClient.Configuration
    var probe: PostgresConnection.Configuration
    if let socketDir = query["host"], socketDir.hasPrefix("/") {
      configuration = .init(
        unixSocketPath: "\(socketDir)/.s.PGSQL.\(port)", username: user, password: components.password,
        database: database)
      probe = .init(
        unixSocketPath: "\(socketDir)/.s.PGSQL.\(port)", username: user, password: components.password,
        database: database)
    } else {
      configuration = .init(
        host: components.host ?? "127.0.0.1", port: port, username: user, password: components.password,
        database: database, tls: .disable)
      probe = .init(
        host: components.host ?? "127.0.0.1", port: port, username: user, password: components.password,
        database: database, tls: .disable)
    }
    configuration.options.connectTimeout = .seconds(10)
    probe.options.connectTimeout = .seconds(10)
    // No JIT compilation: the store's statements are short, and the bulletin's aggregate
    // queries spent more time compiling (1.4 s of 2.0 s over 16,000 cases) than running.
    configuration.options.additionalStartupParameters = [("jit", "off")]
    self.probe = probe
    configuration.options.maximumConnections =
      query["pool"].flatMap(Int.init).map { max(1, $0) } ?? Self.defaultPoolSize
    self.url = url
    client = PostgresClient(configuration: configuration)
  }

  public var needsRunning: Bool { true }

  /// Runs the connection pool until the task is cancelled (or, in a service group, until
  /// graceful shutdown).
  public func run() async throws { await client.run() }

  /// The URL without its password, for messages.
  static func redacted(_ url: String) -> String {
    guard var c = URLComponents(string: url), c.password != nil else { return url }
    c.password = "***"
    return c.string ?? url
  }

  /// Statements on one leased connection.
  struct Executor: SQLExecutor {
    let connection: PostgresConnection
    let logger: Logger
    var forUpdate: String { "FOR UPDATE" }
    var skipLocked: String { "FOR UPDATE SKIP LOCKED" }

    func executeAll(_ statements: [SQLStatement]) async throws {
      guard statements.count > 1, let last = statements.last else {
        for s in statements { try await execute(s) }
        return
      }
      // `?` placeholders are numbered in text order, so the arguments simply follow on.
      var text = "WITH "
      var arguments: [SQLValue] = []
      for (i, s) in statements.dropLast().enumerated() {
        text += "\(i == 0 ? "" : ", ")s\(i) AS (\(s.sql) RETURNING 1)"
        arguments += s.arguments
      }
      text += " " + last.sql
      arguments += last.arguments
      try await execute(SQLStatement(text, arguments))
    }

    func lock(key: String) async throws {
      try await execute("SELECT pg_advisory_xact_lock(hashtext(?))", [key])
    }

    var keyLockColumn: String? { "(SELECT 1 FROM pg_advisory_xact_lock(hashtext(?)))" }

    /// `?` placeholders become `$1`, `$2`, … with their bindings.
    static func query(_ statement: SQLStatement) -> PostgresQuery {
      var text = ""
      var bindings = PostgresBindings(capacity: statement.arguments.count)
      var n = 0
      for ch in statement.sql {
        if ch == "?" {
          n += 1
          text += "$\(n)"
        } else {
          text.append(ch)
        }
      }
      for v in statement.arguments {
        switch v {
        case .null: bindings.appendNull()
        case .integer(let i): bindings.append(i)
        case .text(let s): bindings.append(s)
        }
      }
      return PostgresQuery(unsafeSQL: text, binds: bindings)
    }

    func fetchAll(_ statement: SQLStatement) async throws -> [SQLRow] {
      let rows = try await connection.query(Self.query(statement), logger: logger).collect()
      return rows.map { row in
        var out: [String: SQLValue] = [:]
        for cell in row {
          guard cell.bytes != nil else {
            out[cell.columnName] = .null
            continue
          }
          if cell.dataType == .int8 || cell.dataType == .int4 || cell.dataType == .int2 {
            out[cell.columnName] = (try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null
          } else {
            out[cell.columnName] = (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
          }
        }
        return SQLRow(values: out)
      }
    }

    func execute(_ statement: SQLStatement) async throws {
      // Read to the end, so that the statement has run whole before the next one.
      _ = try await connection.query(Self.query(statement), logger: logger).collect()
    }
  }

  /// Runs `body` in a transaction on a leased connection. A unique-key race with another
  /// instance (the same new case or event id at once), a deadlock or a serialization failure
  /// becomes `StoreError.retry`: the caller runs the transaction again, and then sees what
  /// the other instance committed.
  func transaction<T: Sendable>(_ body: sending (any SQLExecutor) async throws -> T) async throws -> T {
    let logger = self.logger
    do {
      return try await client.withConnection { connection in
        try await connection.withTransaction(logger: logger) { connection in
          try await body(Executor(connection: connection, logger: logger))
        }
      }
    } catch let e as PostgresTransactionError {
      throw Self.storeError(e.closureError ?? e.commitError ?? e.beginError ?? e)
    } catch {
      throw Self.storeError(error)
    }
  }

  static func storeError(_ error: any Error) -> any Error {
    if error is StoreError || error is CancellationError { return error }
    if let e = error as? PSQLError {
      if let state = e.serverInfo?[.sqlState], ["23505", "40P01", "40001"].contains(state) {
        return StoreError.retry(String(e.serverInfo?[.message] ?? state))
      }
      return StoreError.database(String(reflecting: e))
    }
    return error
  }

  public func write<T: Sendable>(_ body: sending @escaping (any SQLExecutor) async throws -> T) async throws -> T {
    try await transaction(body)
  }

  public func read<T: Sendable>(_ body: sending (any SQLExecutor) async throws -> T) async throws -> T {
    try await transaction(body)
  }

  public func prepare() async throws -> [UInt8] {
    do {
      let connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: logger)
      try? await connection.close()
    } catch {
      throw StoreError.database("cannot connect to `\(Self.redacted(url))`: \(String(reflecting: error))")
    }
    do {
      try await migrate()
    } catch let e as StoreError {
      throw StoreError.database("cannot prepare `\(Self.redacted(url))`: \(e)")
    } catch {
      throw StoreError.database("cannot connect to `\(Self.redacted(url))`: \(String(reflecting: error))")
    }
    let hex = try await read { try await $0.string("SELECT value FROM meta WHERE key = 'pseudonym_key'") }
    guard let hex, !hex.isEmpty else {
      throw StoreError.database("the store's pseudonym key is missing (table `meta`): it cannot count complainants")
    }
    return Array(hex.utf8)
  }

  /// The same tables as SQLite's migrations, created when missing.
  func migrate() async throws {
    try await transaction { db in
      try await db.execute("SELECT pg_advisory_xact_lock(4242)")  // one migrator at a time
      // A store from before `due_at` gets its open cases' deadlines from their decisions.
      let before = try await db.fetchAll(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'cases' AND column_name IN ('id', 'due_at', 'department')"
      ).map { $0["column_name"] as String }
      for statement in Self.schema { try await db.execute(statement) }
      if before.contains("id"), !before.contains("department") {
        for row in try await db.fetchAll(Schema.departmentBackfillQuery) {
          if let department = CaseLifecycle.read(row["lifecycle"]).department {
            try await db.execute("UPDATE cases SET department = ? WHERE id = ?", [department, row["id"] as String])
          }
        }
      }
      if before.contains("id"), !before.contains("due_at") {
        for row in try await db.fetchAll(Schema.dueBackfillQuery) {
          if let due = Schema.dueAt(decisionJSON: row["decision"]) {
            try await db.execute("UPDATE cases SET due_at = ? WHERE id = ?", [due, row["id"] as String])
          }
        }
      }
      try await db.execute(
        "INSERT INTO meta (key, value) VALUES ('pseudonym_key', ?) ON CONFLICT (key) DO NOTHING", [Hex.randomKey()])
    }
  }

  static let schema = [
    """
    CREATE TABLE IF NOT EXISTS cases (id TEXT PRIMARY KEY, version BIGINT NOT NULL, state TEXT NOT NULL,
      snapshot TEXT NOT NULL, issue_key TEXT, complainant_key TEXT, received_at BIGINT NOT NULL, level TEXT NOT NULL,
      override_level TEXT, next_review_at BIGINT, malicious TEXT, stage TEXT NOT NULL DEFAULT 'received',
      lifecycle TEXT NOT NULL DEFAULT '{}')
    """,
    "CREATE INDEX IF NOT EXISTS cases_issue ON cases (issue_key, received_at)",
    "CREATE INDEX IF NOT EXISTS cases_review ON cases (next_review_at)",
    """
    CREATE TABLE IF NOT EXISTS parties (case_id TEXT PRIMARY KEY REFERENCES cases(id), complainant_id TEXT,
      contact TEXT, respondent TEXT)
    """,
    """
    CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, seq BIGINT NOT NULL,
      type TEXT NOT NULL, actor TEXT NOT NULL, at BIGINT NOT NULL, payload TEXT NOT NULL)
    """,
    "CREATE INDEX IF NOT EXISTS events_case ON events (case_id)",
    // Who acted, when known (SQLite migration "v6 event person").
    "ALTER TABLE events ADD COLUMN IF NOT EXISTS person TEXT",
    """
    CREATE TABLE IF NOT EXISTS decisions (id BIGSERIAL PRIMARY KEY, case_id TEXT NOT NULL, event_id TEXT,
      decided_at BIGINT NOT NULL, level TEXT NOT NULL, decision TEXT NOT NULL, rule_set TEXT NOT NULL)
    """,
    "CREATE INDEX IF NOT EXISTS decisions_case ON decisions (case_id)",
    """
    CREATE TABLE IF NOT EXISTS outbox (id BIGSERIAL PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE,
      case_id TEXT NOT NULL, kind TEXT NOT NULL, recipients TEXT NOT NULL, payload TEXT NOT NULL,
      due_at BIGINT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts BIGINT NOT NULL DEFAULT 0)
    """,
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, due_at)",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS recipient TEXT",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS channel TEXT",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS ready_at BIGINT",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_by TEXT",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_error TEXT",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS delivered_at BIGINT",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS identity BIGINT NOT NULL DEFAULT 0",
    "UPDATE outbox SET ready_at = due_at WHERE ready_at IS NULL",
    "CREATE INDEX IF NOT EXISTS outbox_ready ON outbox (status, ready_at)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
      hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, revoked_at BIGINT)
    """,
    "ALTER TABLE cases ADD COLUMN IF NOT EXISTS due_at BIGINT",
    "CREATE INDEX IF NOT EXISTS cases_due ON cases (due_at)",
    "CREATE INDEX IF NOT EXISTS cases_received ON cases (received_at, id)",
    // The handling unit of the last `assign` (SQLite migration "v8 departments").
    "ALTER TABLE cases ADD COLUMN IF NOT EXISTS department TEXT",
    "CREATE INDEX IF NOT EXISTS cases_department ON cases (department, received_at)",
    // A decision made because the rules changed (SQLite migration "v9 rule-set changes").
    "ALTER TABLE decisions ADD COLUMN IF NOT EXISTS previous_rule_set TEXT",
  ]
}
