import Foundation
import Logging
import NIOConcurrencyHelpers
import OmbudsEngine
import OmbudsRules
import OmbudsStore

/// How the dispatcher retries and claims. Operational settings, not policy: they come from
/// the command line (`ombuds serve --max-attempts …`), not from the rules.
public struct DispatcherConfiguration: Sendable {
  /// Attempts before a row is dead-lettered.
  public var maxAttempts = 8
  /// The first retry waits about this long; each further one twice as long, up to `maxDelay`.
  public var baseDelay: Millis = 2_000
  public var maxDelay: Millis = 3_600_000
  /// How long a claim holds a row; a dispatcher that dies frees its rows after this.
  public var lease: Millis = 120_000
  /// Rows claimed per transaction.
  public var batchSize = 32
  /// Deliveries running at once.
  public var concurrency = 8
  /// How often `run()` looks for due rows when idle.
  public var pollInterval: Duration = .seconds(1)

  public init() {}

  /// The wait before attempt `attempt + 1` after `attempt` failed: exponential, with full
  /// jitter over its upper half (so that many failed rows do not retry in lockstep).
  public func backoff(after attempt: Int, random: Double) -> Millis {
    let exp = Double(baseDelay) * pow(2, Double(max(0, attempt - 1)))
    let capped = min(Double(maxDelay), exp)
    return Millis(capped * (0.5 + 0.5 * min(max(random, 0), 1)))
  }
}

/// What one pass of the dispatcher did.
public struct DispatchReport: Sendable, Equatable {
  public var delivered = 0
  public var retried = 0
  public var dead = 0
  public init() {}
}

/// Holds the current case store; `ombuds serve` swaps in a new one when the rules change.
public final class StoreBox: Sendable {
  let box: NIOLockedValueBox<CaseStore>
  public init(_ store: CaseStore) { box = NIOLockedValueBox(store) }
  public var store: CaseStore { box.withLockedValue { $0 } }
  public func replace(_ store: CaseStore) { box.withLockedValue { $0 = store } }
}

/// Delivers the outbox: claims due rows (with a lease, `SKIP LOCKED` on PostgreSQL), sends
/// each through its channel, and marks it delivered, or failed with the next retry time, or
/// dead after `maxAttempts`. Delivery is at least once: a dispatcher killed between sending
/// and marking sends that row again, under the same idempotency key.
public final class Dispatcher: Sendable {
  public let stores: StoreBox
  public let channels: [String: any NotificationChannel]
  public let configuration: DispatcherConfiguration
  let clock: @Sendable () -> Millis
  let random: @Sendable () -> Double
  let owner: String
  let logger: Logger

  /// Fault injection for crash tests: `OMBUDS_FAULT_KILL_DISPATCH_AT=N` kills the process
  /// with SIGKILL right after the N-th send, before it is marked delivered.
  static let faultCountdown = NIOLockedValueBox<Int?>(
    ProcessInfo.processInfo.environment["OMBUDS_FAULT_KILL_DISPATCH_AT"].flatMap(Int.init))

  public init(
    stores: StoreBox, channels: [String: any NotificationChannel], configuration: DispatcherConfiguration = .init(),
    clock: @escaping @Sendable () -> Millis = { Millis(Date().timeIntervalSince1970 * 1000) },
    random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
    owner: String = "\(ProcessInfo.processInfo.hostName):\(getpid())",
    logger: Logger = Logger(label: "ombuds.notifier")
  ) {
    self.stores = stores
    self.channels = channels
    self.configuration = configuration
    self.clock = clock
    self.random = random
    self.owner = owner
    self.logger = logger
  }

  /// The standard channels: `log` on standard output, `file` appending to each recipient's
  /// file (or `defaultFile`), `webhook` through the shared HTTP client.
  public static func standardChannels(defaultFile: String? = nil) -> [String: any NotificationChannel] {
    ["log": LogChannel(), "file": FileChannel(defaultPath: defaultFile), "webhook": WebhookChannel()]
  }

  /// Delivers every row that is due now, batch after batch, until none is left.
  @discardableResult
  public func drain() async throws -> DispatchReport {
    var total = DispatchReport()
    while true {
      let report = try await dispatchBatch()
      total.delivered += report.delivered
      total.retried += report.retried
      total.dead += report.dead
      if report == DispatchReport() { return total }
    }
  }

  /// Claims one batch of due rows and delivers it.
  public func dispatchBatch() async throws -> DispatchReport {
    let store = stores.store
    let items = try await store.claimOutbox(
      now: clock(), limit: configuration.batchSize, lease: configuration.lease, owner: owner)
    var report = DispatchReport()
    guard !items.isEmpty else { return report }
    // Each row is marked as soon as its attempt ends, so a dispatcher killed mid-batch
    // resends at most the rows whose attempts were in flight.
    return try await withThrowingTaskGroup(of: (OutboxItem, DeliveryError?).self) { group in
      var next = 0
      func add(_ group: inout ThrowingTaskGroup<(OutboxItem, DeliveryError?), any Error>) {
        let item = items[next]
        next += 1
        group.addTask { (item, await self.deliver(item, store: store)) }
      }
      while next < items.count, next < configuration.concurrency { add(&group) }
      while let (item, failure) = try await group.next() {
        try await record(item, failure, store: store, into: &report)
        if next < items.count { add(&group) }
      }
      return report
    }
  }

  /// Marks one attempt's outcome: delivered, failed with its next retry time, or dead.
  func record(
    _ item: OutboxItem, _ failure: DeliveryError?, store: CaseStore, into report: inout DispatchReport
  ) async throws {
    let now = clock()
    var metadata: Logger.Metadata = [
      "id": "\(item.id)", "key": "\(item.key)", "channel": "\(item.channel)", "attempt": "\(item.attempts)",
    ]
    guard let failure else {
      try await store.markDelivered(item.id, at: now)
      report.delivered += 1
      logger.info("delivered", metadata: metadata)
      return
    }
    metadata["error"] = "\(failure.description)"
    if failure.retryable, item.attempts < configuration.maxAttempts {
      let retryAt = now + configuration.backoff(after: item.attempts, random: random())
      try await store.markFailed(item.id, error: failure.description, retryAt: retryAt)
      report.retried += 1
      metadata["retry_at"] = "\(RFC3339.format(retryAt, offsetSeconds: 0))"
      logger.warning("delivery failed; will retry", metadata: metadata)
    } else {
      try await store.markFailed(item.id, error: failure.description, retryAt: nil)
      report.dead += 1
      logger.error("delivery failed; dead-lettered", metadata: metadata)
    }
  }

  /// One attempt: nil when delivered.
  func deliver(_ item: OutboxItem, store: CaseStore) async -> DeliveryError? {
    guard let role = store.rules.ruleSet.roles.first(where: { $0.id == item.recipient }) else {
      return DeliveryError("recipient `\(item.recipient)` is no longer defined in the rules", retryable: false)
    }
    guard let channel = channels[item.channel] else {
      return DeliveryError("no channel `\(item.channel)` in this dispatcher", retryable: false)
    }
    var body = Array(item.payload.utf8)
    if item.includeIdentity {
      do {
        let identity = try await store.identity(of: item.caseID)
        if !identity.isEmpty {
          var notification = try NotificationBody.read(item.payload)
          notification.complainant = identity
          body = Array(notification.json.utf8)
        }
      } catch {
        return DeliveryError("reading the complainant's identity: \(error)")
      }
    }
    do {
      try await channel.deliver(Delivery(item: item, role: role, body: body))
    } catch let e as DeliveryError {
      return e
    } catch {
      return DeliveryError("\(error)")
    }
    let kill = Self.faultCountdown.withLockedValue { n -> Bool in
      guard let left = n else { return false }
      n = left - 1
      return left <= 1
    }
    if kill { Foundation.kill(getpid(), SIGKILL) }
    return nil
  }

  /// Delivers due rows until the task is cancelled, looking again every `pollInterval`.
  public func run() async {
    while !Task.isCancelled {
      // `drain` already claims batch after batch until nothing is due.
      do {
        try await drain()
      } catch {
        logger.error("dispatcher: \(error)")
      }
      do { try await Task.sleep(for: configuration.pollInterval) } catch { return }
    }
  }
}
