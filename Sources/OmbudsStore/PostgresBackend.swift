import Foundation
import Logging
import NIOCore
import OmbudsSyntax
import PostgresNIO

/// PostgreSQL through postgres-nio: one connection per store, transactions with row locks
/// (`FOR UPDATE`), due work claimed with `FOR UPDATE SKIP LOCKED` so that several
/// instances can share one database.
public final class PostgresBackend: StoreBackend, @unchecked Sendable {
  // @unchecked: every use of the connection holds `lock`.
  let connection: PostgresConnection
  let lock = NSLock()
  let logger = Logger(label: "ombuds.store.postgres")

  /// Connects to `url`: `postgres://user[:password]@host[:port]/database`, or
  /// `postgres:///database?host=/socket/dir&port=5432&user=name` for a Unix socket.
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
    var configuration: PostgresConnection.Configuration
    if let socketDir = query["host"], socketDir.hasPrefix("/") {
      configuration = .init(
        unixSocketPath: "\(socketDir)/.s.PGSQL.\(port)", username: user, password: components.password,
        database: database)
    } else {
      configuration = .init(
        host: components.host ?? "127.0.0.1", port: port, username: user, password: components.password,
        database: database, tls: .disable)
    }
    configuration.options.connectTimeout = .seconds(10)
    do {
      connection = try PostgresConnection.connect(
        on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: 1, logger: logger
      ).wait()
    } catch {
      throw StoreError.database("cannot connect to `\(Self.redacted(url))`: \(String(reflecting: error))")
    }
    try migrate()
  }

  deinit {
    try? connection.close().wait()
  }

  /// The URL without its password, for messages.
  static func redacted(_ url: String) -> String {
    guard var c = URLComponents(string: url), c.password != nil else { return url }
    c.password = "***"
    return c.string ?? url
  }

  struct Executor: SQLExecutor {
    let backend: PostgresBackend
    var forUpdate: String { "FOR UPDATE" }
    var skipLocked: String { "FOR UPDATE SKIP LOCKED" }
    func executeAll(_ statements: [(String, [Any?])]) throws {
      guard statements.count > 1, let last = statements.last else {
        for (sql, arguments) in statements { try execute(sql, arguments) }
        return
      }
      // `?` placeholders are numbered in text order, so the arguments simply follow on.
      var text = "WITH "
      var arguments: [Any?] = []
      for (i, (sql, args)) in statements.dropLast().enumerated() {
        text += "\(i == 0 ? "" : ", ")s\(i) AS (\(sql) RETURNING 1)"
        arguments += args
      }
      text += " " + last.0
      arguments += last.1
      try execute(text, arguments)
    }

    func lock(key: String) throws {
      try execute("SELECT pg_advisory_xact_lock(hashtext(?))", [key])
    }

    /// `?` placeholders become `$1`, `$2`, … with their bindings.
    func query(_ sql: String, _ values: [Any?]) throws -> PostgresQuery {
      var text = ""
      var bindings = PostgresBindings()
      var n = 0
      for ch in sql {
        if ch == "?" {
          n += 1
          text += "$\(n)"
        } else {
          text.append(ch)
        }
      }
      for v in values {
        switch SQLValue.from(v) {
        case .null: bindings.appendNull()
        case .integer(let i): bindings.append(i)
        case .text(let s): bindings.append(s)
        }
      }
      return PostgresQuery(unsafeSQL: text, binds: bindings)
    }

    func fetchAll(_ sql: String, _ values: [Any?]) throws -> [SQLRow] {
      let result = try backend.connection.query(try query(sql, values), logger: backend.logger).wait()
      return result.rows.map { row in
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

    func execute(_ sql: String, _ values: [Any?]) throws {
      _ = try backend.connection.query(try query(sql, values), logger: backend.logger).wait()
    }
  }

  func run<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
    lock.lock()
    defer { lock.unlock() }
    let executor = Executor(backend: self)
    try executor.execute("BEGIN", [])
    do {
      let value = try body(executor)
      try executor.execute("COMMIT", [])
      return value
    } catch {
      try? executor.execute("ROLLBACK", [])
      if let e = error as? StoreError { throw e }
      if let e = error as? PSQLError {
        // A unique-key race with another instance (the same new case or event id at once),
        // a deadlock or a serialization failure: the transaction is retried, and then sees
        // what the other instance committed.
        if let state = e.serverInfo?[.sqlState], ["23505", "40P01", "40001"].contains(state) {
          throw StoreError.retry(String(e.serverInfo?[.message] ?? state))
        }
        throw StoreError.database(String(reflecting: e))
      }
      throw error
    }
  }

  public func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T { try run(body) }
  public func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T { try run(body) }

  public func pseudonymKey() throws -> [UInt8] {
    let hex = try read { try $0.string("SELECT value FROM meta WHERE key = 'pseudonym_key'") }
    guard let hex, !hex.isEmpty else {
      throw StoreError.database("the store's pseudonym key is missing (table `meta`): it cannot count complainants")
    }
    return Array(hex.utf8)
  }

  /// The same tables as SQLite's migrations, created when missing.
  func migrate() throws {
    try run { db in
      try db.execute("SELECT pg_advisory_xact_lock(4242)", [])  // one migrator at a time
      for statement in [
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
      ] {
        try db.execute(statement, [])
      }
      try db.execute(
        "INSERT INTO meta (key, value) VALUES ('pseudonym_key', ?) ON CONFLICT (key) DO NOTHING", [Hex.randomKey()])
    }
  }
}
