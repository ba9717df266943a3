import Foundation
import Logging
import NIOConcurrencyHelpers
import OmbudsEngine
import OmbudsRules
import OmbudsStore
import OmbudsSyntax
import ServiceLifecycle

/// Re-evaluates the cases whose `next_review_at` has come (a case turning a week old, a
/// weekly report, a deadline alert), every `interval`.
public struct ReviewService: Service {
  let stores: StoreBox
  let interval: Duration
  let clock: @Sendable () -> Millis
  let logger: Logger

  public init(
    stores: StoreBox, interval: Duration = .seconds(5),
    clock: @escaping @Sendable () -> Millis = { Millis(Date().timeIntervalSince1970 * 1000) },
    logger: Logger = Logger(label: "ombuds.review")
  ) {
    self.stores = stores
    self.interval = interval
    self.clock = clock
    self.logger = logger
  }

  public func run() async throws {
    try? await cancelWhenGracefulShutdown {
      while !Task.isCancelled {
        do {
          let n = try await stores.store.runDue(at: clock())
          if n > 0 { logger.info("re-evaluated due cases", metadata: ["count": "\(n)"]) }
        } catch {
          logger.error("re-evaluation failed", metadata: ["error": "\(error)"])
        }
        try await Task.sleep(for: interval)
      }
    }
  }
}

/// Delivers the outbox until shutdown.
public struct DispatchService: Service {
  let dispatcher: Dispatcher
  public init(dispatcher: Dispatcher) { self.dispatcher = dispatcher }

  public func run() async throws {
    await cancelWhenGracefulShutdown { await dispatcher.run() }
  }
}

/// Watches the rule files and swaps in a new rule set when they change. A change with errors
/// is refused: its diagnostics are logged and the last good rule set keeps serving.
public struct RulesWatcher: Service {
  let paths: [String]
  let stores: StoreBox
  let backend: any StoreBackend
  let interval: Duration
  let logger: Logger
  let onReload: @Sendable (CaseStore) -> Void
  /// After a reload, apply the new rules to every open case at once (`--on-reload
  /// reevaluate`); otherwise each case meets them at its next event or review.
  let reevaluate: Bool

  public init(
    paths: [String], stores: StoreBox, backend: any StoreBackend, interval: Duration = .seconds(1),
    logger: Logger = Logger(label: "ombuds.rules"), reevaluate: Bool = false,
    onReload: @escaping @Sendable (CaseStore) -> Void = { _ in }
  ) {
    self.paths = paths
    self.stores = stores
    self.backend = backend
    self.interval = interval
    self.logger = logger
    self.reevaluate = reevaluate
    self.onReload = onReload
  }

  /// What the rule files look like now: names, sizes, modification times, and the keyword
  /// lists they import (through the content hash of the last load).
  static func fingerprint(_ paths: [String], extra: [String]) -> [String] {
    var files: [String] = []
    for p in paths { files += (try? RuleSetLoader.ruleFiles(at: p)) ?? [p] }
    files += extra
    // `stat` alone: `FileManager.attributesOfItem` also looks up the owner's and group's names,
    // reading /etc/passwd and /etc/group for every file every second.
    return files.sorted().map { f in
      var info = stat()
      guard stat(f, &info) == 0 else { return "\(f)\t-1\t-1" }
      return "\(f)\t\(info.st_size)\t\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }
  }

  public func run() async throws {
    try? await cancelWhenGracefulShutdown { try await watch() }
  }

  /// Runs blocking work — reading the rule files, compiling them — on a dispatch queue, so
  /// that no cooperative thread waits on the disk or on a long compile.
  static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
  }

  func watch() async throws {
    let paths = self.paths
    var current = try await Self.offload { [stores] in
      Self.fingerprint(paths, extra: stores.store.rules.ruleSet.files)
    }
    var refused: [String]?
    do {
      while !Task.isCancelled {
        try await Task.sleep(for: interval)
        let now = try await Self.offload { [stores] in
          Self.fingerprint(paths, extra: stores.store.rules.ruleSet.files)
        }
        guard now != current, now != refused else { continue }
        let result = try await Self.offload { RuleSetLoader.load(paths: paths) }
        guard let ruleSet = result.ruleSet else {
          refused = now
          for d in result.diagnostics where d.severity == .error {
            logger.error(
              "rules refused; the last good rule set keeps serving",
              metadata: [
                "at": "\(d.location.description)", "code": "\(d.code)", "diagnostic": "\(d.message)",
              ])
          }
          continue
        }
        do {
          let compiled = try await Self.offload { try CompiledRules(ruleSet) }
          let store = try await CaseStore(backend: backend, rules: compiled)
          let old = stores.store.rules.contentHash
          stores.replace(store)
          current = now
          refused = nil
          logger.notice("rules reloaded", metadata: ["from": "\(old)", "to": "\(compiled.contentHash)"])
          onReload(store)
          if reevaluate { await reevaluateOpen(store) }
        } catch {
          refused = now
          logger.error("rules refused; the last good rule set keeps serving", metadata: ["error": "\(error)"])
        }
      }
    }
  }
}

extension RulesWatcher {
  /// `--on-reload reevaluate`: the open cases under the new rules now, logged; a failure is
  /// logged and the cases meet the rules at their next event or review instead.
  func reevaluateOpen(_ store: CaseStore) async {
    let now = Millis(Date().timeIntervalSince1970 * 1000)
    do {
      let summary = try await store.reevaluateOpen(at: now)
      logger.notice(
        "open cases re-evaluated under the new rules",
        metadata: [
          "rule_set": "\(summary.ruleSet)", "cases": "\(summary.cases)",
          "level_changes": "\(summary.levelChanges.count)",
        ])
    } catch {
      logger.error("re-evaluating the open cases failed", metadata: ["error": "\(error)"])
    }
  }
}

/// Runs a store backend's background work (PostgreSQL: its connection pool) as a service.
public struct StoreBackendService: Service {
  let backend: any StoreBackend
  public init(backend: any StoreBackend) { self.backend = backend }
  public func run() async throws { try await backend.run() }
}

/// `ombuds serve`: the store's backend, the due re-evaluations, the dispatcher, the rules
/// watcher (and the HTTP API, passed in as an extra service) in one service group, until SIGTERM or SIGINT; then each stops after its current
/// step, the backend last.
public enum OmbudsServer {
  /// Runs until SIGTERM or SIGINT. The store is opened on `backend` once the backend runs
  /// (its tables are created or upgraded then); `ready` is told about it before the other
  /// services start.
  public static func run(
    backend: any StoreBackend, rules: CompiledRules, rulePaths: [String],
    dispatcher: (@Sendable (StoreBox) -> Dispatcher)?, reviewInterval: Duration, logger: Logger,
    ready: @escaping @Sendable (CaseStore) -> Void = { _ in },
    services extra: @escaping @Sendable (StoreBox) -> [any Service] = { _ in [] },
    reevaluateOnReload: Bool = false,
    onReload: @escaping @Sendable (CaseStore) -> Void = { _ in }
  ) async throws {
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    // First in the list, so that it is the last to stop.
    if backend.needsRunning { services.append(.init(service: StoreBackendService(backend: backend))) }
    let group = ServiceGroup(
      configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    let start = Startup(
      group: group, backend: backend, rules: rules, rulePaths: rulePaths, dispatcher: dispatcher,
      reviewInterval: reviewInterval, logger: logger, ready: ready, extra: extra,
      reevaluateOnReload: reevaluateOnReload, onReload: onReload)
    await group.addServiceUnlessShutdown(.init(service: start, successTerminationBehavior: .ignore))
    try await group.run()
  }

  /// Opens the store once the backend runs, then adds the services that use it.
  struct Startup: Service {
    let group: ServiceGroup
    let backend: any StoreBackend
    let rules: CompiledRules
    let rulePaths: [String]
    /// Nil: no delivery here (another instance, or `ombuds dispatch` from cron, delivers).
    let dispatcher: (@Sendable (StoreBox) -> Dispatcher)?
    let reviewInterval: Duration
    let logger: Logger
    let ready: @Sendable (CaseStore) -> Void
    /// Services that use the store beside these (the HTTP API).
    let extra: @Sendable (StoreBox) -> [any Service]
    let reevaluateOnReload: Bool
    let onReload: @Sendable (CaseStore) -> Void

    func run() async throws {
      let stores = StoreBox(try await CaseStore(backend: backend, rules: rules))
      ready(stores.store)
      var services: [any Service] = [
        ReviewService(stores: stores, interval: reviewInterval, logger: logger),
        RulesWatcher(
          paths: rulePaths, stores: stores, backend: backend, logger: logger, reevaluate: reevaluateOnReload,
          onReload: onReload),
      ]
      if let dispatcher { services.append(DispatchService(dispatcher: dispatcher(stores))) }
      for service in services + extra(stores) {
        await group.addServiceUnlessShutdown(service)
      }
    }
  }
}
