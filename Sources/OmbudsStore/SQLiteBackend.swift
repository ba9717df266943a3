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
///   (`BEGIN IMMEDIATE` … `COMMIT`, which GRDB allows with `allowsUnsafeTransactions`); the
///   writer's queue of jobs keeps two transactions from interleaving on the one writer
///   connection, and commits together the transactions that waited for it together, each in a
///   savepoint of its own (group commit: see `Writer`). Writes wait in the transaction and go
///   with its next read or with its end.
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
        // A change after the first of a group runs in a savepoint, whose journal of the
        // pages it changes is then kept in memory, not in a temporary file.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA temp_store = MEMORY") }
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

  /// The write transactions committed so far (a group of changes is one): tests see the
  /// changes that waited together share one commit.
  var commits: Int { writer.commits.value.load(ordering: .relaxed) }

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

  /// One write transaction of a group (see `Writer`): the group's SQLite transaction itself
  /// when it is the first change in it (`BEGIN IMMEDIATE`), a savepoint of it otherwise.
  /// Writes wait in `pending` until the next read or the end of the change.
  final class Transaction: SQLExecutor {
    /// The savepoint a change after the first runs in (released before the next begins).
    static let savepoint = "ombuds_change"
    let pool: DatabasePool
    let executor: QueueExecutor
    let offQueue: Count
    /// The group's first change: it begins the SQLite transaction; undoing it rolls it back.
    let first: Bool
    var pending: [SQLStatement]
    /// Its opening statement (`BEGIN IMMEDIATE` or `SAVEPOINT`) has been sent.
    var begun = false

    init(pool: DatabasePool, executor: QueueExecutor, offQueue: Count, first: Bool) {
      self.pool = pool
      self.executor = executor
      self.offQueue = offQueue
      self.first = first
      pending = [SQLStatement(first ? "BEGIN IMMEDIATE" : "SAVEPOINT \(Self.savepoint)")]
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
      begun = true
      let access: @Sendable (Database) throws -> [[SQLRow]] = { db in
        try SQLiteBackend.begin(db, writes)
        return try statements.map { try SQLiteBackend.fetch(db, $0) }
      }
      if executor.isCurrent { return try SQLiteBackend.writeNow(pool, access) }
      offQueue.value.add(1, ordering: .relaxed)
      return try await pool.writeWithoutTransaction(access)
    }

    /// Sends what is pending (and releases the savepoint): the change is part of its group's
    /// transaction, to be committed with it. Called on the writer's queue.
    func finish() throws {
      let writes = pending + (first ? [] : [SQLStatement("RELEASE \(Self.savepoint)")])
      pending = []
      begun = true
      try SQLiteBackend.writeNow(pool) { db in try SQLiteBackend.begin(db, writes) }
    }

    /// Undoes this change alone: the group's first change rolls the transaction back; a later
    /// one goes back to its savepoint. False when the changes before it in the group are lost
    /// too: the transaction is gone (SQLite rolls a whole transaction back on some errors, such
    /// as a full disk) or the savepoint could not be undone. Called on the writer's queue.
    func undo() -> Bool {
      pending = []
      do {
        return try SQLiteBackend.writeNow(pool) { db in
          if first {
            if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
            return true
          }
          guard db.isInsideTransaction else { return false }
          if begun {
            try db.execute(sql: "ROLLBACK TO \(Self.savepoint)")
            try db.execute(sql: "RELEASE \(Self.savepoint)")
          }
          return true
        }
      } catch {
        return false
      }
    }
  }

  /// Rolls back the writer connection's open transaction, if any; an error doing so is left
  /// for the next `BEGIN IMMEDIATE`, which rolls back first. On the `Writer`'s queue only.
  static func rollBack(_ pool: DatabasePool) {
    try? writeNow(pool) { db in if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") } }
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

  public func write<T: Sendable>(_ body: sending @escaping (any SQLExecutor) async throws -> T) async throws -> T {
    writer.arriving.value.add(1, ordering: .relaxed)
    return try await writer.transaction(pool: pool, body)
  }

  /// Runs `count` write transactions one after the other, `body(i, db)` the i-th, each
  /// kept or refused on its own, in one visit to the writer's queue: a caller that writes
  /// many changes in a row (`ombuds replay`, a batch of events) does not hop to the writer and
  /// back for each, and they share commits (see `Writer`). They are queued together, first
  /// come, first served: a writer arriving later waits for the whole batch (64 changes a
  /// commit). Once the calling task is cancelled, those not yet begun fail with
  /// `CancellationError`.
  public func writeEach<T: Sendable>(
    _ count: Int, _ body: sending @escaping (Int, any SQLExecutor) async throws -> T
  ) async -> [Result<T, any Error>] {
    writer.arriving.value.add(1, ordering: .relaxed)
    return await writer.transactions(pool: pool, count: count, body)
  }

  /// Runs write transactions, one at a time, on a queue of its own — and commits together
  /// the transactions that were waiting for it together (group commit).
  ///
  /// A transaction is queued as a job; one drain at a time takes every job waiting (up to
  /// `groupLimit`) and runs them in order inside one SQLite transaction — the first begins
  /// it, each later one runs in a savepoint of its own: a job that throws is undone alone,
  /// the others go on.
  /// Then one COMMIT — one write of the WAL's pages and one sync for the whole group — and
  /// only then is each caller resumed with its result: a change is never reported before it
  /// is durable. Each job still sees the changes of the jobs before it, as it would have
  /// after their commits one by one, so the outcome is the one the jobs would have had run
  /// one after the other. Should SQLite abandon the group's transaction (a full disk or an
  /// I/O error rolls a whole transaction back), or the COMMIT fail, every job of the group
  /// that was not refused on its own fails with that error, nothing of it committed. A caller
  /// alone on the writer gets a group of one: its transaction as before.
  actor Writer {
    let executor: QueueExecutor
    /// See `SQLiteBackend.offQueueAccesses`.
    let offQueue = Count()
    /// See `SQLiteBackend.commits`.
    let commits = Count()
    /// Callers on their way to the writer's queue (counted before the hop, uncounted on
    /// arrival): a drain that sees none commits at once instead of letting others in.
    let arriving = Count()
    /// Jobs waiting for the writer, first come, first served.
    private var waiting: [Job] = []
    /// A drain is running; it takes every job that waits.
    private var draining = false
    /// The most jobs one commit carries (a long group holds back its callers' answers).
    static let groupLimit = 64

    init(queue: DispatchQueue) { executor = QueueExecutor(queue: queue) }

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// One transaction waiting for, or run by, the writer. Touched on the writer only.
    final class Job {
      var run: ((any SQLExecutor) async throws -> Void)?
      /// Set when the caller that queued the job is cancelled: not begun then.
      let cancelled: Count
      var error: (any Error)?
      /// Who waits for it (nil once it has finished).
      var caller: Caller?

      init(cancelled: Count, _ run: @escaping (any SQLExecutor) async throws -> Void) {
        self.cancelled = cancelled
        self.run = run
      }
    }

    /// A caller waiting for its jobs, or draining the queue. Touched on the writer only.
    final class Caller {
      var unfinished: Int
      /// It runs the drain now (or is to, once resumed).
      var leads = false
      var waiter: CheckedContinuation<Void, Never>?

      init(unfinished: Int) { self.unfinished = unfinished }

      func resume() {
        waiter?.resume()
        waiter = nil
      }
    }

    /// A job's value, set when its body returns.
    final class Box<T> {
      var value: T?
    }

    func transaction<T: Sendable>(pool: DatabasePool, _ body: sending @escaping (any SQLExecutor) async throws -> T)
      async throws -> T
    {
      try await transactions(pool: pool, count: 1) { _, db in try await body(db) }[0].get()
    }

    /// `count` transactions, queued at once in order: `body(i, db)` the i-th.
    func transactions<T: Sendable>(
      pool: DatabasePool, count: Int, _ body: sending @escaping (Int, any SQLExecutor) async throws -> T
    ) async -> [Result<T, any Error>] {
      let cancelled = Count()
      let boxes = (0..<count).map { _ in Box<T>() }
      let jobs = (0..<count).map { i in Job(cancelled: cancelled) { db in boxes[i].value = try await body(i, db) } }
      // The operation runs here, on the writer (the handler's isolation is the caller's):
      // the jobs never leave it.
      nonisolated(unsafe) let queued = jobs
      await withTaskCancellationHandler {
        await submit(queued, pool: pool)
      } onCancel: {
        cancelled.value.store(1, ordering: .relaxed)
      }
      return zip(jobs, boxes).map { job, box in
        if let error = job.error { return .failure(error) }
        guard let value = box.value else {
          return .failure(StoreError.database("a write transaction ended without its result"))
        }
        return .success(value)
      }
    }

    /// Queues `jobs` and waits until each has finished (committed, refused or failed). The
    /// caller that finds the writer idle drains the queue itself — no task is started, no
    /// thread woken — until its own jobs have finished, then hands the drain to the caller of
    /// the next job waiting.
    private func submit(_ jobs: [Job], pool: DatabasePool) async {
      arriving.value.subtract(1, ordering: .relaxed)
      guard !jobs.isEmpty else { return }
      let caller = Caller(unfinished: jobs.count)
      for job in jobs { job.caller = caller }
      waiting += jobs
      if !draining {
        draining = true
        caller.leads = true
      }
      while caller.unfinished > 0 {
        if caller.leads {
          await drain(for: caller, pool: pool)
          return
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in caller.waiter = c }
      }
    }

    /// Runs groups of waiting jobs until `caller`'s have finished, then hands the drain on.
    ///
    /// A group is the jobs waiting when it starts (up to `groupLimit`): when callers are on
    /// their way, the drain first lets those already on the writer's queue in (a trip through
    /// the queue, no thread woken). It does not wait for later arrivals: they make the next
    /// group. (Growing a group while callers kept arriving made a few HTTP clients, each
    /// waiting for its answer before sending the next request, 15–20% slower: their answers
    /// came in bursts, after other clients' changes.) A caller alone on the writer gets a group
    /// of one.
    private func drain(for caller: Caller, pool: DatabasePool) async {
      while caller.unfinished > 0 {
        var group = Group()
        // Callers at the writer's door join this commit; with none, it goes at once.
        if arriving.value.load(ordering: .relaxed) > 0 { await letOthersIn() }
        let round = Array(waiting.prefix(Self.groupLimit))
        waiting.removeFirst(round.count)
        for job in round { await group.run(job, writer: self, pool: pool) }
        group.commit(writer: self, pool: pool)
        for job in group.jobs {
          // The body goes before its caller resumes: nothing of the caller's outlives the call.
          job.run = nil
          guard let owner = job.caller else { continue }
          job.caller = nil
          owner.unfinished -= 1
          if owner.unfinished == 0, owner !== caller { owner.resume() }
        }
      }
      caller.leads = false
      if let next = waiting.first?.caller {
        next.leads = true
        next.resume()
      } else {
        draining = false
      }
    }

    /// Lets the jobs already on the writer's queue run (callers queueing their transactions),
    /// then goes on: a trip through the queue itself. (`Task.yield()` would go through the
    /// cooperative pool and back, waking two threads.)
    private func letOthersIn() async {
      let queue = executor.queue
      await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in queue.async { c.resume() } }
    }

    /// The jobs of one commit: the first change begins the SQLite transaction, each one after it
    /// runs in a savepoint, then one COMMIT. A first change that fails rolls the transaction
    /// back, and the next one begins it anew.
    struct Group {
      var jobs: [Job] = []
      /// The changes in the open transaction, to be committed.
      var kept: [Job] = []
      /// A transaction is open (begun by a change of this group that was kept).
      var open = false

      mutating func run(_ job: Job, writer: isolated Writer, pool: DatabasePool) async {
        jobs.append(job)
        if job.cancelled.value.load(ordering: .relaxed) == 1 {
          job.error = CancellationError()
          return
        }
        let transaction = Transaction(pool: pool, executor: writer.executor, offQueue: writer.offQueue, first: !open)
        do {
          try await job.run?(transaction)
          try transaction.finish()
          kept.append(job)
          open = true
        } catch {
          job.error = error
          if !transaction.undo() {
            // The group's transaction is gone: so are the changes kept in it.
            for other in kept {
              other.error = StoreError.database("rolled back with the other changes of its commit: \(error)")
            }
            kept = []
            SQLiteBackend.rollBack(pool)
            open = false
          } else if transaction.first {
            open = false
          }
        }
      }

      /// Commits the kept changes; should the COMMIT fail, none of them is committed.
      func commit(writer: isolated Writer, pool: DatabasePool) {
        guard open else { return }
        do {
          try SQLiteBackend.writeNow(pool) { db in try db.execute(sql: "COMMIT") }
          writer.commits.value.add(1, ordering: .relaxed)
        } catch {
          SQLiteBackend.rollBack(pool)
          for job in kept { job.error = error }
        }
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
