import Foundation
import GRDB

/// SQLite through GRDB: a WAL database pool, schema by migrations.
public final class SQLiteBackend: StoreBackend, @unchecked Sendable {
  // @unchecked: DatabasePool serializes writes and is thread-safe.
  let pool: DatabasePool

  public init(path: String) throws {
    var config = Configuration()
    config.busyMode = .timeout(10)
    do {
      pool = try DatabasePool(path: path, configuration: config)
      try Schema.migrator.migrate(pool)
    } catch {
      throw StoreError.database("cannot open `\(path)`: \(error)")
    }
  }

  struct Executor: SQLExecutor {
    let db: Database
    var forUpdate: String { "" }
    var skipLocked: String { "" }
    func lock(key: String) throws {}

    func arguments(_ values: [Any?]) -> StatementArguments {
      StatementArguments(
        values.map { v -> (any DatabaseValueConvertible)? in
          switch SQLValue.from(v) {
          case .null: nil
          case .integer(let i): i
          case .text(let s): s
          }
        })
    }

    // Statements are prepared once per connection and reused (GRDB's statement cache): a
    // state change runs the same dozen statements every time.
    func fetchAll(_ sql: String, _ values: [Any?]) throws -> [SQLRow] {
      try Row.fetchAll(try db.cachedStatement(sql: sql), arguments: arguments(values)).map { row in
        var out: [String: SQLValue] = [:]
        for (name, value) in row {
          switch value.storage {
          case .null: out[name] = .null
          case .int64(let i): out[name] = .integer(i)
          case .string(let s): out[name] = .text(s)
          case .double(let d): out[name] = .integer(Int64(d))
          case .blob(let b): out[name] = .text(String(decoding: b, as: UTF8.self))
          }
        }
        return SQLRow(values: out)
      }
    }

    func execute(_ sql: String, _ values: [Any?]) throws {
      try db.cachedStatement(sql: sql).execute(arguments: arguments(values))
    }
  }

  public func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
    try pool.write { db in try body(Executor(db: db)) }
  }

  public func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
    try pool.read { db in try body(Executor(db: db)) }
  }

  public func pseudonymKey() throws -> [UInt8] {
    let hex = try pool.read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'pseudonym_key'") }
    guard let hex, !hex.isEmpty else {
      throw StoreError.database("the store's pseudonym key is missing (table `meta`): it cannot count complainants")
    }
    return Array(hex.utf8)
  }
}
