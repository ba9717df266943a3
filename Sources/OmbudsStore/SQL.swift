import Foundation

/// A value read from a column, or bound to a `?` argument.
public enum SQLValue: Sendable, Equatable {
  case null
  case integer(Int64)
  case text(String)
}

/// What may be bound to a `?` argument: text, whole numbers, booleans (as 0 or 1), and
/// optionals of them (nil is NULL).
public protocol SQLArgument: Sendable {
  var sqlValue: SQLValue { get }
}

extension SQLValue: SQLArgument {
  public var sqlValue: SQLValue { self }
}

extension String: SQLArgument {
  public var sqlValue: SQLValue { .text(self) }
}

extension Int: SQLArgument {
  public var sqlValue: SQLValue { .integer(Int64(self)) }
}

extension Int64: SQLArgument {
  public var sqlValue: SQLValue { .integer(self) }
}

extension Bool: SQLArgument {
  public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
}

extension Optional: SQLArgument where Wrapped: SQLArgument {
  public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// Types a column can be read as. A missing or mistyped value reads as the type's empty value.
public protocol SQLColumnValue {
  static func decode(_ value: SQLValue) -> Self
}

extension String: SQLColumnValue {
  public static func decode(_ value: SQLValue) -> String {
    switch value {
    case .text(let s): s
    case .integer(let i): String(i)
    case .null: ""
    }
  }
}

extension Int64: SQLColumnValue {
  public static func decode(_ value: SQLValue) -> Int64 {
    switch value {
    case .integer(let i): i
    case .text(let s): Int64(s) ?? 0
    case .null: 0
    }
  }
}

extension Int: SQLColumnValue {
  public static func decode(_ value: SQLValue) -> Int { Int(Int64.decode(value)) }
}

extension Optional: SQLColumnValue where Wrapped: SQLColumnValue {
  public static func decode(_ value: SQLValue) -> Wrapped? {
    value == .null ? nil : Wrapped.decode(value)
  }
}

/// One result row, by column name.
public struct SQLRow: Sendable {
  var values: [String: SQLValue]

  public subscript<T: SQLColumnValue>(_ column: String) -> T {
    T.decode(values[column] ?? .null)
  }
}

/// One statement and its arguments. `?` marks an argument.
public struct SQLStatement: Sendable {
  public var sql: String
  public var arguments: [SQLValue]

  public init(_ sql: String, _ arguments: [any SQLArgument] = []) {
    self.sql = sql
    self.arguments = arguments.map(\.sqlValue)
  }
}

/// Runs statements inside one transaction. `?` marks an argument.
///
/// Every method is `async` and never blocks the calling thread: the backend runs the
/// statement on its own threads (GRDB's writer queue, postgres-nio's event loops) and resumes
/// the caller when it is done. Results come back in order, and a statement sees the writes of
/// the statements before it in the same transaction.
public protocol SQLExecutor {
  func fetchAll(_ statement: SQLStatement) async throws -> [SQLRow]
  /// Runs a statement that returns no rows. A backend may send it with the next statement
  /// that does (SQLite sends the writes of a change with its next read, or its commit); an
  /// error then surfaces there, and the transaction fails all the same.
  func execute(_ statement: SQLStatement) async throws
  /// Runs several statements of one change. PostgreSQL sends INSERTs as one statement
  /// (data-modifying WITH clauses): one round trip instead of one each.
  func executeAll(_ statements: [SQLStatement]) async throws
  /// Runs several queries at once and returns each one's rows: SQLite in one trip to its
  /// writer, PostgreSQL one after the other.
  func fetchEach(_ statements: [SQLStatement]) async throws -> [[SQLRow]]
  /// `FOR UPDATE` where the database locks rows (PostgreSQL), empty where it locks the whole
  /// database for a write transaction (SQLite).
  var forUpdate: String { get }
  /// `FOR UPDATE SKIP LOCKED` where several instances share the database.
  var skipLocked: String { get }
  /// Holds a lock on `key` until the transaction ends (PostgreSQL: an advisory lock, so that
  /// two instances counting the same issue do not each miss the other's case). A no-op where
  /// write transactions are already serialized (SQLite).
  func lock(key: String) async throws
  /// A select-list column that takes `lock(key:)`'s lock on the key given as its one `?`
  /// argument, so that a query can take it in the same round trip; nil where `lock(key:)` is a
  /// no-op (SQLite).
  var keyLockColumn: String? { get }
}

extension SQLExecutor {
  public var keyLockColumn: String? { nil }

  public func executeAll(_ statements: [SQLStatement]) async throws {
    for s in statements { try await execute(s) }
  }

  public func fetchEach(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
    var out: [[SQLRow]] = []
    for s in statements { out.append(try await fetchAll(s)) }
    return out
  }

  public func fetchAll(_ sql: String, _ arguments: [any SQLArgument] = []) async throws -> [SQLRow] {
    try await fetchAll(SQLStatement(sql, arguments))
  }

  public func execute(_ sql: String, _ arguments: [any SQLArgument] = []) async throws {
    try await execute(SQLStatement(sql, arguments))
  }

  func fetchOne(_ sql: String, _ arguments: [any SQLArgument] = []) async throws -> SQLRow? {
    try await fetchAll(SQLStatement(sql, arguments)).first
  }

  /// The first column of every row, as text.
  func strings(_ sql: String, _ arguments: [any SQLArgument] = []) async throws -> [String] {
    try await fetchAll(SQLStatement(sql, arguments)).compactMap { row in row.values.values.first.map(String.decode) }
  }

  func string(_ sql: String, _ arguments: [any SQLArgument] = []) async throws -> String? {
    guard let row = try await fetchOne(sql, arguments), let v = row.values.values.first, v != .null else { return nil }
    return String.decode(v)
  }
}

/// Where cases are stored: it runs a body in a write transaction, or in a read.
///
/// A backend may need work running in the background while it is used (PostgreSQL: its
/// connection pool). `run()` does that work until the task running it is cancelled; run it as
/// a service of the application's `ServiceGroup`, or use `withRunning(_:)` for the lifetime
/// of one piece of work (a command, a test).
public protocol StoreBackend: Sendable {
  /// Runs `body` in one write transaction: committed when it returns, rolled back when it
  /// throws. Transactions of one backend never interleave their writes.
  func write<T: Sendable>(_ body: sending @escaping (any SQLExecutor) async throws -> T) async throws -> T
  /// Runs `body` over committed data.
  func read<T: Sendable>(_ body: sending (any SQLExecutor) async throws -> T) async throws -> T
  /// Creates or upgrades the tables and returns the store's pseudonym key.
  func prepare() async throws -> [UInt8]
  /// The backend's background work (PostgreSQL: the connection pool), until cancelled.
  /// Returns at once where there is none (SQLite).
  func run() async throws
  /// Whether `run()` has background work to do: a service group needs to run it only then.
  var needsRunning: Bool { get }
}

extension StoreBackend {
  /// Runs `body` while the backend's background work runs beside it, in a task group; that
  /// work is cancelled when `body` ends.
  public func withRunning<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    guard needsRunning else { return try await body() }
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await self.run() }
      do {
        let value = try await body()
        group.cancelAll()
        return value
      } catch {
        group.cancelAll()
        throw error
      }
    }
  }
}

/// Writes held back and sent together — with the next read, lock or `flush()` — through
/// `executeAll`: on PostgreSQL one statement of data-modifying `WITH` clauses, one round trip
/// instead of one each; SQLite holds its writes until the next read anyway.
///
/// Only for writes that touch different rows: PostgreSQL carries out one statement's
/// modifications of the same row once. A state change's writes after its reads (the event,
/// the case, its party, the decision, the outbox rows, the other cases of the issue) each
/// touch a row of their own.
final class DeferredWrites: SQLExecutor {
  let base: any SQLExecutor
  private var pending: [SQLStatement] = []

  init(_ base: any SQLExecutor) { self.base = base }

  var forUpdate: String { base.forUpdate }
  var skipLocked: String { base.skipLocked }
  var keyLockColumn: String? { base.keyLockColumn }

  func execute(_ statement: SQLStatement) async throws { pending.append(statement) }
  func executeAll(_ statements: [SQLStatement]) async throws { pending += statements }

  func fetchAll(_ statement: SQLStatement) async throws -> [SQLRow] {
    try await flush()
    return try await base.fetchAll(statement)
  }

  func fetchEach(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
    try await flush()
    return try await base.fetchEach(statements)
  }

  func lock(key: String) async throws {
    try await flush()
    try await base.lock(key: key)
  }

  /// Sends what is held.
  func flush() async throws {
    guard !pending.isEmpty else { return }
    let statements = pending
    pending = []
    try await base.executeAll(statements)
  }
}
