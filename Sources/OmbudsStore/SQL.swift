import Foundation

/// A value read from a column.
public enum SQLValue: Sendable, Equatable {
  case null
  case integer(Int64)
  case text(String)

  /// Converts a Swift value given as an argument.
  static func from(_ value: Any?) -> SQLValue {
    switch value {
    case nil: return .null
    case let v as SQLValue: return v
    case let v as String: return .text(v)
    case let v as Int: return .integer(Int64(v))
    case let v as Int64: return .integer(v)
    case let v as Int32: return .integer(Int64(v))
    case let v as Bool: return .integer(v ? 1 : 0)
    case .some(let other):
      // Optionals arrive boxed: unwrap one level.
      let mirror = Mirror(reflecting: other)
      if mirror.displayStyle == .optional {
        return mirror.children.first.map { from($0.value) } ?? .null
      }
      return .text("\(other)")
    }
  }
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

/// Runs statements inside one transaction. `?` marks an argument.
public protocol SQLExecutor {
  func fetchAll(_ sql: String, _ arguments: [Any?]) throws -> [SQLRow]
  func execute(_ sql: String, _ arguments: [Any?]) throws
  /// `FOR UPDATE` where the database locks rows (PostgreSQL), empty where it locks the whole
  /// database for a write transaction (SQLite).
  var forUpdate: String { get }
  /// `FOR UPDATE SKIP LOCKED` where several instances share the database.
  var skipLocked: String { get }
  /// Holds a lock on `key` until the transaction ends (PostgreSQL: an advisory lock, so that
  /// two instances counting the same issue do not each miss the other's case). A no-op where
  /// write transactions are already serialized (SQLite).
  func lock(key: String) throws
  /// Runs several INSERT statements of one change. PostgreSQL sends them as one statement
  /// (data-modifying WITH clauses): one round trip instead of one each.
  func executeAll(_ statements: [(String, [Any?])]) throws
}

extension SQLExecutor {
  public func executeAll(_ statements: [(String, [Any?])]) throws {
    for (sql, arguments) in statements { try execute(sql, arguments) }
  }
}

extension SQLExecutor {
  func fetchOne(_ sql: String, _ arguments: [Any?] = []) throws -> SQLRow? { try fetchAll(sql, arguments).first }

  /// The first column of every row, as text.
  func strings(_ sql: String, _ arguments: [Any?] = []) throws -> [String] {
    try fetchAll(sql, arguments).compactMap { row in row.values.values.first.map(String.decode) }
  }

  func string(_ sql: String, _ arguments: [Any?] = []) throws -> String? {
    guard let row = try fetchOne(sql, arguments), let v = row.values.values.first, v != .null else { return nil }
    return String.decode(v)
  }
}

/// Where cases are stored: it runs a body in a write transaction, or in a read.
public protocol StoreBackend: Sendable {
  func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T
  func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T
  /// The store's pseudonym key, created with the store.
  func pseudonymKey() throws -> [UInt8]
}
