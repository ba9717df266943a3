import Foundation
import GRDB
import Synchronization

/// SQLite through GRDB: a WAL database pool, schema by migrations.
///
/// Nothing here blocks a thread of the cooperative pool.
///
/// - Reads use GRDB's `async` access: each runs on a reader connection's dispatch queue while
///   the task waits suspended.
/// - A write transaction runs on the `Writer` actor, whose executor is a serial dispatch queue
///   of its own, not the cooperative pool: the caller's task hops there once, the transaction's
///   logic (written once, `async`, for both backends) runs there, and its statements go to
///   GRDB's writer connection with GRDB's synchronous access, which runs them on that same
///   thread. SQLite's I/O, and a wait for another process's lock (`busyMode = .timeout(10)`),
///   hold that queue's thread only. `NonisolatedNonsendingByDefault` keeps the logic's
///   nonisolated functions on the actor, but not a closure the compiler infers `@concurrent`:
///   one with a capture list handed to `CaseStore.writing` was, and every statement of the
///   HTTP API's events took two trips to GRDB's queue (half the events per second). Should
///   the logic run elsewhere, the statements take GRDB's `async` access instead (a trip each),
///   so a cooperative thread is never the one that waits; `offQueueAccesses` counts them and
///   the tests keep it at zero. (Making the queue the transactions' preferred task executor
///   would bring such logic back, but cost 15% of the library's changes per second.)
/// - A transaction spans several accesses, so it is opened and closed by hand
///   (`BEGIN IMMEDIATE` … `COMMIT`, which GRDB allows with `allowsUnsafeTransactions`); an
///   `AsyncMutex` keeps two transactions from interleaving on the one writer connection.
///   Writes wait in the transaction and go with its next read or with the commit.
public final class SQLiteBackend: StoreBackend {
  let pool: DatabasePool
  let writer: Writer

  /// Opens (creating and migrating) the database at `path`. The file is opened on a
  /// dispatch queue, not on the caller's thread.
  /// With `readOnly`, an existing store is opened for reading only — SQLite refuses every
  /// write on it — and must already have the current tables.
  public static func open(path: String, readOnly: Bool = false) async throws -> SQLiteBackend {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<SQLiteBackend, any Error>) in
      DispatchQueue.global().async {
        c.resume(with: Result { try SQLiteBackend(path: path, readOnly: readOnly) })
      }
    }
  }

  /// Opens (creating and migrating) the database at `path`, on the calling thread: use
  /// `open(path:)` from async code.
  public init(path: String, readOnly: Bool = false) throws {
    var config = Configuration()
    config.busyMode = .timeout(10)
    config.readonly = readOnly
    // Write transactions span several async trips to the writer queue (see above).
    config.allowsUnsafeTransactions = true
    writer = Writer(queue: DispatchQueue(label: "ombuds.store.sqlite.writer"))
    if readOnly, !FileManager.default.fileExists(atPath: path) {
      throw StoreError.database("cannot open `\(path)`: no such store")
    }
    do {
      pool = try DatabasePool(path: path, configuration: config)
    } catch {
      throw StoreError.database("cannot open `\(path)`: \(error)")
    }
    do {
      if readOnly {
        guard try pool.read({ try Schema.migrator.hasCompletedMigrations($0) }) else {
          throw StoreError.database(
            "cannot open `\(path)` for reading only: its tables are from an older Ombuds (run any writing command on it first, e.g. `ombuds tick`)"
          )
        }
      } else {
        try Schema.migrator.migrate(pool)
      }
    } catch let e as StoreError {
      throw e
    } catch {
      throw StoreError.database("cannot open `\(path)`: \(error)")
    }
  }

  /// Statements of write transactions that reached the writer connection from off its
  /// queue (GRDB's `async` access, a trip each): zero unless some transaction logic escaped
  /// the writer's executor. Tests check it stays zero.
  var offQueueAccesses: Int { writer.offQueue.value.load(ordering: .relaxed) }

  /// A counter shared by reference.
  final class Count: Sendable {
    let value = Atomic<Int>(0)
  }

  public var needsRunning: Bool { false }
  public func run() async throws {}

  static func arguments(_ values: [SQLValue]) -> StatementArguments {
    // Database values, not existentials: no boxing of each argument.
    StatementArguments(
      values.map { v -> DatabaseValue in
        switch v {
        case .null: .null
        case .integer(let i): i.databaseValue
        case .text(let s): s.databaseValue
        }
      })
  }

  // Statements are prepared once per connection and reused (GRDB's statement cache): a
  // state change runs the same dozen statements every time.
  static func fetch(_ db: Database, _ statement: SQLStatement) throws -> [SQLRow] {
    try Row.fetchAll(try db.cachedStatement(sql: statement.sql), arguments: arguments(statement.arguments)).map {
      row in
      var out: [String: SQLValue] = [:]
      for (name, value) in row {
        switch value.storage {
        case .null: out[name] = .null
        case .int64(let i): out[name] = .integer(i)
        case .string(let s): out[name] = .text(s)
        // A REAL (an aggregate's average) reads as its integer part; one no Int64 holds, as NULL.
        case .double(let d): out[name] = Int64(exactly: d.rounded(.towardZero)).map(SQLValue.integer) ?? .null
        case .blob(let b): out[name] = .text(String(decoding: b, as: UTF8.self))
        }
      }
      return SQLRow(values: out)
    }
  }

  static func run(_ db: Database, _ statements: [SQLStatement]) throws {
    for s in statements { try db.cachedStatement(sql: s.sql).execute(arguments: arguments(s.arguments)) }
  }

  /// One write transaction: writes wait in `pending` until the next read or the commit.
  final class Transaction: SQLExecutor {
    let pool: DatabasePool
    let executor: QueueExecutor
    let offQueue: Count
    var pending: [SQLStatement]

    init(pool: DatabasePool, executor: QueueExecutor, offQueue: Count) {
      self.pool = pool
      self.executor = executor
      self.offQueue = offQueue
      // A transaction left open by a task that died mid-way is rolled back first.
      pending = [SQLStatement("BEGIN IMMEDIATE")]
    }

    var forUpdate: String { "" }
    var skipLocked: String { "" }
    func lock(key: String) async throws {}

    func execute(_ statement: SQLStatement) async throws { pending.append(statement) }
    func executeAll(_ statements: [SQLStatement]) async throws { pending += statements }

    func fetchAll(_ statement: SQLStatement) async throws -> [SQLRow] {
      try await fetchEach([statement])[0]
    }

    func fetchEach(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
      let writes = pending
      pending = []
      let access: @Sendable (Database) throws -> [[SQLRow]] = { db in
        try SQLiteBackend.begin(db, writes)
        return try statements.map { try SQLiteBackend.fetch(db, $0) }
      }
      if executor.isCurrent { return try SQLiteBackend.writeNow(pool, access) }
      offQueue.value.add(1, ordering: .relaxed)
      return try await pool.writeWithoutTransaction(access)
    }

    /// Sends what is pending, then COMMIT: one access.
    func commit() async throws {
      let writes = pending
      pending = []
      let access: @Sendable (Database) throws -> Void = { db in
        try SQLiteBackend.begin(db, writes)
        try db.execute(sql: "COMMIT")
      }
      if executor.isCurrent { return try SQLiteBackend.writeNow(pool, access) }
      offQueue.value.add(1, ordering: .relaxed)
      try await pool.writeWithoutTransaction(access)
    }

    /// Rolls back whatever was begun, even from a cancelled task.
    func rollback() async {
      let access: @Sendable (Database) throws -> Void = { db in
        if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
      }
      if executor.isCurrent {
        try? SQLiteBackend.writeNow(pool, access)
        return
      }
      let pool = self.pool
      await Task.detached { try? await pool.writeWithoutTransaction(access) }.value
    }
  }

  /// GRDB's synchronous access to the writer connection: called on the `Writer`'s queue only.
  static func writeNow<T>(_ pool: DatabasePool, _ access: (Database) throws -> T) throws -> T {
    try pool.writeWithoutTransaction(access)
  }

  /// Runs `writes` on the writer, rolling back first a transaction that a failed rollback
  /// left open when `writes` begins a new one.
  static func begin(_ db: Database, _ writes: [SQLStatement]) throws {
    if writes.first?.sql == "BEGIN IMMEDIATE", db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
    try run(db, writes)
  }

  public func write<T: Sendable>(_ body: sending (any SQLExecutor) async throws -> T) async throws -> T {
    try await writer.transaction(pool: pool, body)
  }

  /// Runs `count` write transactions one after the other, `body(i, db)` the i-th, each
  /// committed (or rolled back) on its own, in one visit to the writer's queue: a caller that
  /// writes many changes in a row (`ombuds replay`, a batch of events) does not hop to the
  /// writer and back for each. Other writers take their turns in between.
  public func writeEach<T: Sendable>(
    _ count: Int, _ body: sending (Int, any SQLExecutor) async throws -> T
  ) async -> [Result<T, any Error>] {
    await writer.transactions(pool: pool, count: count, body)
  }

  /// Runs write transactions, one at a time, on a queue of its own.
  actor Writer {
    let executor: QueueExecutor
    /// One write transaction at a time on the writer connection (the actor alone would let a
    /// second one start while the first waits for a statement).
    let turn = AsyncMutex()
    /// See `SQLiteBackend.offQueueAccesses`.
    let offQueue = Count()

    init(queue: DispatchQueue) { executor = QueueExecutor(queue: queue) }

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    func transaction<T: Sendable>(pool: DatabasePool, _ body: sending (any SQLExecutor) async throws -> T) async throws
      -> T
    {
      try await one(pool: pool, body)
    }

    /// `count` transactions in a row; after every 32 the writer lets other jobs on its queue
    /// run (a long batch does not hold back the others' turns). Once the calling task is
    /// cancelled, the rest fail with `CancellationError` without being begun.
    func transactions<T: Sendable>(
      pool: DatabasePool, count: Int, _ body: sending (Int, any SQLExecutor) async throws -> T
    ) async -> [Result<T, any Error>] {
      var results: [Result<T, any Error>] = []
      results.reserveCapacity(count)
      for i in 0..<count {
        if i > 0, i % 32 == 0 { await Task.yield() }
        // A cancelled caller (a request past its timeout, an interrupted import) begins no
        // further transaction; those not begun say so.
        if Task.isCancelled {
          results.append(.failure(CancellationError()))
          continue
        }
        do {
          results.append(.success(try await one(pool: pool) { db in try await body(i, db) }))
        } catch {
          results.append(.failure(error))
        }
      }
      return results
    }

    /// One transaction: the writer's turn, BEGIN IMMEDIATE, `body`, COMMIT (or ROLLBACK).
    private func one<T: Sendable>(pool: DatabasePool, _ body: (any SQLExecutor) async throws -> T) async throws -> T {
      await turn.lock()
      defer { turn.unlock() }
      let transaction = Transaction(pool: pool, executor: executor, offQueue: offQueue)
      do {
        let value = try await body(transaction)
        try await transaction.commit()
        return value
      } catch {
        await transaction.rollback()
        throw error
      }
    }
  }

  /// An executor on a serial dispatch queue.
  final class QueueExecutor: SerialExecutor {
    let queue: DispatchQueue
    let key = DispatchSpecificKey<Bool>()

    init(queue: DispatchQueue) {
      self.queue = queue
      queue.setSpecific(key: key, value: true)
    }

    /// Running on this executor's queue now.
    var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == true }

    func enqueue(_ job: consuming ExecutorJob) {
      let job = UnownedJob(job)
      queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    func checkIsolated() { dispatchPrecondition(condition: .onQueue(queue)) }
  }

  /// Reads: each statement on a reader connection (WAL: readers never wait for the writer),
  /// seeing what was committed when it started.
  struct Reader: SQLExecutor {
    let pool: DatabasePool
    var forUpdate: String { "" }
    var skipLocked: String { "" }
    func lock(key: String) async throws {}

    func fetchAll(_ statement: SQLStatement) async throws -> [SQLRow] {
      try await pool.read { db in try SQLiteBackend.fetch(db, statement) }
    }

    func fetchEach(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
      try await pool.read { db in try statements.map { try SQLiteBackend.fetch(db, $0) } }
    }

    func execute(_ statement: SQLStatement) async throws {
      throw StoreError.database("a read cannot write (\(statement.sql))")
    }
  }

  public func read<T: Sendable>(_ body: sending (any SQLExecutor) async throws -> T) async throws -> T {
    try await body(Reader(pool: pool))
  }

  public func prepare() async throws -> [UInt8] {
    let hex = try await pool.read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'pseudonym_key'") }
    guard let hex, !hex.isEmpty else {
      throw StoreError.database("the store's pseudonym key is missing (table `meta`): it cannot count complainants")
    }
    return Array(hex.utf8)
  }
}
