import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import OmbudsEngine
import OmbudsHTTP
import OmbudsNotifier
import OmbudsStore

/// Delivery settings shared by `ombuds dispatch` and `ombuds serve`.
public struct DeliveryOptions: ParsableArguments {
  @Option(help: "The file the `file` channel appends to for recipients without a `file:` of their own.")
  public var notifyFile: String = "ombuds-notifications.jsonl"

  @Option(help: "Attempts before a notification is dead-lettered.")
  public var maxAttempts: Int = 8

  @Option(help: "The first retry's wait in milliseconds; each further one doubles (with jitter), up to --max-delay.")
  public var retryBase: Int64 = 2_000

  @Option(help: "The longest wait between attempts, in milliseconds.")
  public var maxDelay: Int64 = 3_600_000

  @Option(help: "How long a claimed notification is held, in milliseconds, before another dispatcher may take it.")
  public var lease: Int64 = 120_000

  public init() {}

  public func validate() throws {
    if maxAttempts < 1 || maxAttempts > 1_000 { throw ValidationError("--max-attempts must be from 1 to 1000") }
    if maxDelay < 1 || maxDelay > 604_800_000 {
      throw ValidationError("--max-delay must be from 1 to 604800000 ms (a week)")
    }
    if retryBase < 1 || maxDelay < retryBase { throw ValidationError("--retry-base must be ≥ 1 and ≤ --max-delay") }
    if lease < 1_000 || lease > 86_400_000 {
      throw ValidationError("--lease must be from 1000 to 86400000 ms (a day)")
    }
  }

  var configuration: DispatcherConfiguration {
    var c = DispatcherConfiguration()
    c.maxAttempts = maxAttempts
    c.baseDelay = retryBase
    c.maxDelay = maxDelay
    c.lease = lease
    return c
  }
}

/// Structured logs: one JSON object per line on standard error.
struct JSONLogHandler: LogHandler {
  let label: String
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .info
  static let lock = NIOLock()

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var fields =
      "{\"time\":\(JSONText.quoted(RFC3339.format(Int64(Date().timeIntervalSince1970 * 1000), offsetSeconds: 0)))"
    fields += ",\"level\":\(JSONText.quoted(event.level.rawValue)),\"logger\":\(JSONText.quoted(label))"
    fields += ",\"message\":\(JSONText.quoted(event.message.description))"
    let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
    for (k, v) in merged.sorted(by: { $0.key < $1.key }) {
      fields += ",\(JSONText.quoted(k)):\(JSONText.quoted("\(v)"))"
    }
    fields += "}\n"
    Self.lock.withLock { FileHandle.standardError.write(Data(fields.utf8)) }
  }

  static func bootstrap() {
    LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
  }
}

/// `ombuds outbox`: lists the notifications, or requeues dead ones.
public struct OutboxCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "outbox",
    abstract: "List the outbox (notifications and their delivery state), or requeue dead-lettered ones.",
    discussion: """
      By default lists every notification not yet delivered (pending, sending, dead) as JSON Lines: \
      id, key, case, recipient, channel, status, attempts, due_at, ready_at, last_error. \
      --retry ID requeues a notification (attempts start again from zero).
      """)

  @OptionGroup public var options: StoreOptions

  @Option(help: "Only this status: pending, sending, delivered, dead, or all.")
  public var status: String?

  @Option(name: .customLong("retry"), help: "Requeue the notification with this id (repeatable).")
  public var retry: [Int64] = []

  public init() {}

  public func validate() throws {
    if let status, status != "all", OutboxItem.Status(rawValue: status) == nil {
      throw ValidationError("--status is one of pending, sending, delivered, dead, all; not `\(status)`")
    }
    if let bad = retry.first(where: { $0 < 1 }) {
      throw ValidationError("--retry takes an outbox id (≥ 1), not \(bad)")
    }
  }

  public func run() async throws {
    let retry = retry
    let status = status
    let listed = try await options.withStore { store -> (items: [OutboxItem], clock: ZoneClock)? in
      if !retry.isEmpty {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var out = ""
        for id in retry {
          do {
            try await store.requeue(id, at: now)
          } catch {
            throw CLIError("\(error)")
          }
          out += "{\"requeued\":\(id)}\n"
        }
        Output.out(out)
        return nil
      }
      let items: [OutboxItem]
      switch status {
      case nil: items = try await store.outboxItems().filter { $0.status != .delivered }
      case "all": items = try await store.outboxItems()
      case let s?: items = try await store.outboxItems(status: OutboxItem.Status(rawValue: s))
      }
      return (items, store.rules.calendar.clock)
    }
    guard let (items, clock) = listed else { return }
    func time(_ t: Int64?) -> String {
      t.map { JSONText.quoted(RFC3339.format($0, offsetSeconds: clock.offset(at: $0))) } ?? "null"
    }
    var out = ""
    for i in items {
      out +=
        "{\"id\":\(i.id),\"key\":\(JSONText.quoted(i.key)),\"case\":\(JSONText.quoted(i.caseID)),\"kind\":\(JSONText.quoted(i.kind)),\"recipient\":\(JSONText.quoted(i.recipient)),\"channel\":\(JSONText.quoted(i.channel)),\"status\":\(JSONText.quoted(i.status.rawValue)),\"attempts\":\(i.attempts),\"due_at\":\(time(i.dueAt)),\"ready_at\":\(time(i.readyAt)),\"delivered_at\":\(time(i.deliveredAt)),\"last_error\":\(i.lastError.map(JSONText.quoted) ?? "null")}\n"
    }
    Output.out(out)
  }
}

/// `ombuds dispatch`: delivers what is due once and exits (for cron, and for tests).
public struct DispatchCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "dispatch",
    abstract: "Deliver the notifications that are due, once, and exit.",
    discussion: """
      Prints {"delivered": N, "retried": N, "dead": N}. --now fixes the clock (RFC 3339), \
      for replaying a simulated period. `ombuds serve` does the same continuously.
      """)

  @OptionGroup public var options: StoreOptions
  @OptionGroup public var delivery: DeliveryOptions

  @Option(help: "The time to deliver at (RFC 3339); default: now.")
  public var now: String?

  public init() {}

  public func validate() throws {
    if let now, RFC3339.parse(now) == nil { throw ValidationError("--now `\(now)` is not an RFC 3339 timestamp") }
  }

  public func run() async throws {
    JSONLogHandler.bootstrap()
    let fixed = now.flatMap(RFC3339.parse)
    let channels = Dispatcher.standardChannels(defaultFile: delivery.notifyFile)
    let configuration = delivery.configuration
    let r = try await options.withStore { store in
      let dispatcher = Dispatcher(
        stores: StoreBox(store), channels: channels, configuration: configuration,
        clock: { fixed ?? Int64(Date().timeIntervalSince1970 * 1000) })
      return try await dispatcher.drain()
    }
    Output.out("{\"delivered\":\(r.delivered),\"retried\":\(r.retried),\"dead\":\(r.dead)}\n")
  }
}

/// The API of a running serve, for the rules watcher to tell about reloads.
final class APIBox: Sendable {
  let box = NIOLockedValueBox<OmbudsAPI?>(nil)
  func set(_ api: OmbudsAPI) { box.withLockedValue { $0 = api } }
  func get() -> OmbudsAPI? { box.withLockedValue { $0 } }
}

/// `ombuds serve`: re-evaluations, delivery and rule reloads until SIGTERM or SIGINT.
public struct ServeCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Run the due re-evaluations and deliver the outbox until SIGTERM/SIGINT; reload changed rules.",
    discussion: """
      Serves the HTTP API (/v1, /healthz, /readyz, /metrics; Documentation/HTTP.md) on --listen; \
      every route but the health checks needs a token from `ombuds token create`. \
      Logs are JSON lines on standard error. When the rule files change, they are checked and \
      swapped in; a change with errors is refused (its diagnostics are logged) and the last good \
      rule set keeps serving. On SIGTERM or SIGINT every service finishes its current step and \
      the process exits 0.
      """)

  @OptionGroup public var options: StoreOptions
  @OptionGroup public var delivery: DeliveryOptions

  @Option(help: "Seconds between looks for due re-evaluations.")
  public var reviewInterval: Int = 5

  @Flag(
    inversion: .prefixedNo,
    help: "Deliver the outbox here (--no-dispatch: an API-only instance; others, or `ombuds dispatch`, deliver).")
  public var dispatch = true

  @Option(help: "Where the HTTP API listens: HOST:PORT (port 0: any free port, logged), or `off`.")
  public var listen: String = "127.0.0.1:8080"

  @Option(help: "The largest request body, in bytes.")
  public var maxBody: Int = 1 << 20

  @Option(help: "The most events one POST /v1/events may carry.")
  public var maxBatch: Int = 1_000

  @Option(help: "Seconds a request may take before it is answered 503 timeout.")
  public var requestTimeout: Int = 30

  @Option(help: "Seconds an accepted token is trusted before the store is asked again (0: every request).")
  public var tokenCache: Int = 5

  /// What a rule change does to the cases in flight.
  public enum OnReload: String, ExpressibleByArgument, CaseIterable, Sendable {
    case nextEvent = "next-event"
    case reevaluate
  }

  @Option(
    help: """
      What a rule change does to open cases: next-event (each meets the new rules at its next event or review) \
      or reevaluate (all at once, one recorded decision each, as `ombuds reevaluate`).
      """)
  public var onReload: OnReload = .nextEvent

  public init() {}

  public func validate() throws {
    if reviewInterval < 1 || reviewInterval > 86_400 {
      throw ValidationError("--review-interval must be from 1 to 86400 seconds")
    }
    if listen != "off", Self.address(listen) == nil {
      throw ValidationError(
        "--listen is HOST:PORT (port 0 to 65535), such as 127.0.0.1:8080, or `off`; not `\(listen)`")
    }
    if maxBody < 1_024 || maxBody > 1 << 30 {
      throw ValidationError("--max-body must be from 1024 to 1073741824 bytes")
    }
    if maxBatch < 1 || maxBatch > 100_000 { throw ValidationError("--max-batch must be from 1 to 100000") }
    if requestTimeout < 1 || requestTimeout > 3_600 {
      throw ValidationError("--request-timeout must be from 1 to 3600 seconds")
    }
    if tokenCache < 0 || tokenCache > 3_600 { throw ValidationError("--token-cache must be from 0 to 3600 seconds") }
  }

  /// HOST:PORT, with [v6]:PORT for IPv6 addresses.
  static func address(_ text: String) -> (host: String, port: Int)? {
    guard let colon = text.lastIndex(of: ":") else { return nil }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
      return nil
    }
    return (host, port)
  }

  public func run() async throws {
    JSONLogHandler.bootstrap()
    let logger = Logger(label: "ombuds.serve")
    let compiled = try loadRules(options.rules)
    let backend = try await options.backend()
    let channels = Dispatcher.standardChannels(defaultFile: delivery.notifyFile)
    let configuration = delivery.configuration
    let storeName = options.store
    let rulesName = options.rules
    let http: HTTPConfiguration? = Self.address(listen).map { (host, port) in
      var c = HTTPConfiguration()
      c.host = host
      c.port = port
      c.maxBodyBytes = maxBody
      c.maxBatch = maxBatch
      c.requestTimeout = .seconds(requestTimeout)
      c.tokenCacheTTL = .seconds(tokenCache)
      return c
    }
    let apis = APIBox()
    let makeDispatcher: @Sendable (StoreBox) -> Dispatcher = { stores in
      Dispatcher(
        stores: stores, channels: channels, configuration: configuration, logger: Logger(label: "ombuds.notifier"))
    }
    let deliverer = dispatch ? makeDispatcher : nil
    do {
      try await OmbudsServer.run(
        backend: backend, rules: compiled, rulePaths: [options.rules],
        dispatcher: deliverer,
        reviewInterval: .seconds(reviewInterval), logger: logger,
        ready: { store in
          logger.notice(
            "serving",
            metadata: ["store": "\(storeName)", "rules": "\(rulesName)", "rule_set": "\(store.rules.contentHash)"])
        },
        services: { stores in
          guard let http else { return [] }
          let api = OmbudsAPI(stores: stores, configuration: http, logger: Logger(label: "ombuds.http"))
          apis.set(api)
          return [api.service()]
        },
        reevaluateOnReload: onReload == .reevaluate,
        onReload: { _ in apis.get()?.ruleSetReloaded() })
    } catch let e as StoreError {
      throw CLIError("\(e)")
    }
    logger.notice("stopped")
  }
}
