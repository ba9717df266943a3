import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import OmbudsEngine
import OmbudsNotifier
import OmbudsRules
import OmbudsStore
import Testing

/// A store on a copy of the default rules whose customer-service center is reached by a
/// signed webhook and every other role by the `file` channel; a settable clock.
struct NotifierFixture {
  static let roles = """
    roles:
      customer_service_center:
        label: 客服中心
        channels: [webhook]
        webhook: {url_env: OMBUDS_TEST_HOOK_URL, secret_env: OMBUDS_TEST_CSC_SECRET}
    \(["admin_pr", "leadership", "responsible_leader", "functional_department", "emergency_group",
       "supervising_leader", "market_management", "general_manager", "regional_sales_manager",
       "intake_staff", "handler", "complaint_office"]
       .map { "  \($0): {channels: [file]}" }.joined(separator: "\n"))

    """
  static let secret = "s3cret-for-csc"

  let dir: URL
  let rulesDir: URL
  let storePath: String
  let store: CaseStore
  let clock: NIOLockedValueBox<Millis>
  let notificationsFile: String

  init(_ kind: StoreKind = .sqlite, duties: ((String) -> String)? = nil, runner: BackendRunner? = nil) async throws {
    dir = try Support.temporaryDirectory()
    rulesDir = dir.appendingPathComponent("rules")
    let fm = FileManager.default
    try fm.createDirectory(at: rulesDir, withIntermediateDirectories: true)
    for name in try fm.contentsOfDirectory(atPath: Support.rulesDir) where name.hasSuffix(".yaml") || name == "keywords"
    {
      try fm.copyItem(
        atPath: Support.rulesDir + "/" + name, toPath: rulesDir.appendingPathComponent(name).path)
    }
    try Self.roles.write(to: rulesDir.appendingPathComponent("roles.yaml"), atomically: true, encoding: .utf8)
    if let duties {
      let url = rulesDir.appendingPathComponent("duties.yaml")
      try duties(try String(contentsOf: url, encoding: .utf8)).write(to: url, atomically: true, encoding: .utf8)
    }
    let loaded = RuleSetLoader.load(paths: [rulesDir.path])
    let set = try #require(loaded.ruleSet, "\(loaded.diagnostics.map(\.description))")
    let rules = try CompiledRules(set)
    storePath = dir.appendingPathComponent("store.sqlite").path
    switch kind {
    case .sqlite: store = try await CaseStore(path: storePath, rules: rules)
    case .postgres:
      let server = try #require(try PostgresServer.available())
      let runner = try #require(runner)
      store = try await runner.store(url: try server.newDatabase(), rules: rules)
    }
    clock = NIOLockedValueBox(0)
    notificationsFile = dir.appendingPathComponent("notifications.jsonl").path
  }

  func environment(_ server: TestHTTPServer?, port: Int? = nil) -> [String: String] {
    [
      "OMBUDS_TEST_HOOK_URL": server?.url ?? "http://127.0.0.1:\(port ?? 9)/hook",
      "OMBUDS_TEST_CSC_SECRET": Self.secret,
    ]
  }

  func dispatcher(
    url: String, maxAttempts: Int = 8, store: CaseStore? = nil, batch: Int = 32
  ) -> Dispatcher {
    var configuration = DispatcherConfiguration()
    configuration.maxAttempts = maxAttempts
    configuration.baseDelay = 1_000
    configuration.maxDelay = 4_000
    configuration.batchSize = batch
    let env = ["OMBUDS_TEST_HOOK_URL": url, "OMBUDS_TEST_CSC_SECRET": Self.secret]
    let clock = self.clock
    return Dispatcher(
      stores: StoreBox(store ?? self.store),
      channels: [
        "webhook": WebhookChannel(defaultTimeout: .milliseconds(400), environment: { env[$0] }),
        "file": FileChannel(defaultPath: notificationsFile),
        "log": LogChannel(),
      ],
      configuration: configuration, clock: { clock.withLockedValue { $0 } }, random: { 0.5 })
  }

  func set(_ time: String) { clock.withLockedValue { $0 = Support.time(time) } }
  func advance(_ ms: Millis) { clock.withLockedValue { $0 += ms } }

  /// The lines the `file` channel wrote, parsed.
  func fileLines() throws -> [[String: Any]] {
    guard let data = FileManager.default.contents(atPath: notificationsFile) else { return [] }
    return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }
}

func event(
  _ id: String, _ c: String, _ kind: CaseEvent.Kind, _ at: String, actor: String = "intake",
  _ fields: [String: Any] = [:]
) -> CaseEvent {
  CaseEvent(eventID: id, caseID: c, kind: kind, at: Support.time(at), actor: actor, fields: fields)
}

func received(_ id: String, _ at: String, _ fields: [String: Any] = [:]) -> CaseEvent {
  var f = fields
  f["received_at"] = at
  return event("\(id)-r", id, .received, at, f)
}

/// The notifier: routes from the rules, delivery through real channels (a real HTTP server on
/// 127.0.0.1 for webhooks), retries, dead letters, crash recovery, timing.
@Suite(.serialized) struct NotifierTests {
  @Test func aWebhookIsSignedKeyedAndCarriesNoIdentity() async throws {
    let f = try await NotifierFixture()
    let server = try TestHTTPServer()
    defer { server.shutdown() }
    let t = "2025-10-09T10:00:00+08:00"
    try await f.store.apply(
      received("C", t, ["litigation": "filed", "complainant_id": "张三", "contact": "13800000000"]))
    f.set(t)
    let report = try await f.dispatcher(url: server.url).drain()
    #expect(
      report
        == {
          var r = DispatchReport()
          r.delivered = 4
          return r
        }())
    let requests = server.requests
    try #require(requests.count == 1)
    let r = requests[0]
    #expect(r.method == "POST")
    #expect(r.header("Idempotency-Key") == "C/enter/major/0/customer_service_center/webhook")
    let mac = HMAC<SHA256>.authenticationCode(
      for: r.body, using: SymmetricKey(data: Array(NotifierFixture.secret.utf8)))
    #expect(r.header("Ombuds-Signature") == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
    let body = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
    #expect(body["case"] as? String == "C")
    #expect(body["level"] as? String == "major")
    #expect(body["on"] as? String == "enter")
    #expect(body["summary"] as? String == "重大投诉 C: entered level major")
    let reasons = try #require(body["reasons"] as? [[String: String]])
    #expect(reasons.map { $0["condition"] } == ["litigation == filed"])
    #expect(reasons.first?["source"]?.hasSuffix("severity.yaml:7:9") == true)
    let text = String(decoding: r.body, as: UTF8.self)
    #expect(!text.contains("13800000000") && !text.contains("张三"))
    // The other recipients by file: administration/PR, leadership, the emergency group.
    let lines = try f.fileLines()
    #expect(Set(lines.compactMap { $0["recipient"] as? String }) == ["admin_pr", "leadership", "emergency_group"])
    #expect(try await f.store.outboxItems().allSatisfy { $0.status == .delivered && $0.attempts == 1 })
  }

  enum Failure: String, CaseIterable, Sendable { case status500, timeout, refused }

  @Test(arguments: Failure.allCases) func failedAttemptsAreRetriedUntilDelivered(_ failure: Failure) async throws {
    let f = try await NotifierFixture()
    let t = "2025-10-09T10:00:00+08:00"
    try await f.store.apply(received("C", t, ["media": "exposed"]))
    f.set(t)
    let port = try TestHTTPServer.unusedPort()
    var server: TestHTTPServer?
    switch failure {
    case .status500: server = try TestHTTPServer(port: port) { n, _ in n <= 2 ? .status(500) : .status(200) }
    case .timeout: server = try TestHTTPServer(port: port) { n, _ in n <= 2 ? .late(.seconds(3), 200) : .status(200) }
    case .refused: server = nil
    }
    defer { server?.shutdown() }
    let dispatcher = f.dispatcher(url: "http://127.0.0.1:\(port)/hook")
    var attempts = 0
    var lastErrors: [String] = []
    while attempts < 6 {
      attempts += 1
      try await dispatcher.drain()
      let row = try #require(try await f.store.outboxItems().first { $0.channel == "webhook" })
      if row.status == .delivered { break }
      lastErrors.append(row.lastError ?? "")
      #expect(row.status == .pending)
      // The retry waits: nothing happens before it is due.
      #expect(try await dispatcher.drain() == DispatchReport())
      f.advance(5_000)
      if failure == .refused, attempts == 2 { server = try TestHTTPServer(port: port) }
    }
    let row = try #require(try await f.store.outboxItems().first { $0.channel == "webhook" })
    #expect(row.status == .delivered)
    #expect(row.attempts == 3)
    let expected =
      switch failure {
      case .status500: "HTTP 500"
      case .timeout: "timed out"
      case .refused: "connection refused"
      }
    #expect(lastErrors.count == 2 && lastErrors.allSatisfy { $0.contains(expected) }, "\(lastErrors)")
    // Every attempt the server saw carried the same key and the same body.
    let seen = try #require(server).requests
    #expect(Set(seen.map { $0.header("Idempotency-Key") ?? "" }).count == 1)
    #expect(Set(seen.map(\.body)).count == 1)
  }

  @Test func aNotificationIsDeadLetteredAfterItsAttemptsAndCanBeRequeued() async throws {
    let f = try await NotifierFixture()
    let healthy = NIOLockedValueBox(false)
    let server = try TestHTTPServer { _, _ in healthy.withLockedValue { $0 } ? .status(204) : .status(503) }
    defer { server.shutdown() }
    let t = "2025-10-09T10:00:00+08:00"
    try await f.store.apply(received("C", t, ["media": "exposed"]))
    f.set(t)
    let dispatcher = f.dispatcher(url: server.url, maxAttempts: 3)
    for _ in 0..<3 {
      try await dispatcher.drain()
      f.advance(10_000)
    }
    let dead = try await f.store.outboxItems(status: .dead)
    try #require(dead.count == 1)
    #expect(dead[0].attempts == 3)
    #expect(dead[0].lastError?.hasPrefix("POST \(server.url): HTTP 503") == true)
    // `ombuds outbox` lists it; `--retry ID` requeues it.
    let env = f.environment(server)
    let list = try Support.run(
      "ombuds", ["outbox", "--store", f.storePath, "--rules", f.rulesDir.path], environment: env)
    #expect(list.status == 0, "\(list.stderr)")
    let rows = list.stdout.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    #expect(rows.count == 1)
    #expect(rows.first?["status"] as? String == "dead")
    #expect(rows.first?["id"] as? Int == Int(dead[0].id))
    let retry = try Support.run(
      "ombuds", ["outbox", "--store", f.storePath, "--rules", f.rulesDir.path, "--retry", "\(dead[0].id)"],
      environment: env)
    #expect(retry.status == 0, "\(retry.stderr)")
    #expect(retry.stdout == "{\"requeued\":\(dead[0].id)}\n")
    healthy.withLockedValue { $0 = true }
    f.set("2030-01-01T00:00:00+08:00")
    try await dispatcher.drain()
    #expect(try await f.store.outboxItems(status: .delivered).count == 4)
    #expect(server.requests.count == 4)
    // A delivered row cannot be requeued.
    let again = try Support.run(
      "ombuds", ["outbox", "--store", f.storePath, "--rules", f.rulesDir.path, "--retry", "\(dead[0].id)"],
      environment: env)
    #expect(again.status == 2)
    #expect(again.stderr.contains("was delivered; nothing to retry"))
  }

  @Test func aKilledDispatcherDeliversEverythingWithDuplicatesOnlyUnderOneKey() async throws {
    let f = try await NotifierFixture()
    let server = try TestHTTPServer()
    defer { server.shutdown() }
    let t = "2025-10-09T10:00:00+08:00"
    for i in 0..<8 {
      try await f.store.apply(received("C\(i)", t, ["media": "exposed", "text": "case \(i)"]))
    }
    let total = try await f.store.outboxItems().count
    #expect(total == 32)
    // Kill the dispatcher at pseudo-random points (a fixed seed: the same run every time),
    // right after a send and before it is marked; restart it once the lease has run out.
    var seed: UInt64 = 0x5EED
    var now = Support.time(t)
    var runs = 0
    var killed = 0
    while try await f.store.outboxItems().contains(where: { $0.status != .delivered }), runs < 60 {
      runs += 1
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let killAt = Int(seed >> 61) + 1  // 1…8
      var env = f.environment(server)
      env["OMBUDS_FAULT_KILL_DISPATCH_AT"] = "\(killAt)"
      let run = try Support.run(
        "ombuds",
        [
          "dispatch", "--store", f.storePath, "--rules", f.rulesDir.path, "--notify-file", f.notificationsFile,
          "--now", RFC3339.format(now, offsetSeconds: 8 * 3600), "--lease", "1000",
        ], environment: env)
      if run.status == SIGKILL { killed += 1 } else { #expect(run.status == 0, "\(run.stderr)") }
      now += 1_500
    }
    #expect(killed > 0)
    let items = try await f.store.outboxItems()
    #expect(items.allSatisfy { $0.status == .delivered })
    // Webhooks: every key arrived, and a key that arrived twice carried the same body.
    let hooks = Dictionary(grouping: server.requests, by: { $0.header("Idempotency-Key") ?? "" })
    #expect(Set(hooks.keys) == Set(items.filter { $0.channel == "webhook" }.map(\.key)))
    for (_, copies) in hooks { #expect(Set(copies.map(\.body)).count == 1) }
    // Files: the same.
    let lines = Dictionary(grouping: try f.fileLines(), by: { $0["key"] as? String ?? "" })
    #expect(Set(lines.keys) == Set(items.filter { $0.channel == "file" }.map(\.key)))
    for (_, copies) in lines {
      #expect(Set(copies.map { ($0["summary"] as? String ?? "") + ($0["due_at"] as? String ?? "") }).count == 1)
    }
  }

  @Test(arguments: StoreKind.allCases) func anOpenMajorCaseIsReportedWeeklyOverASimulatedMonth(_ kind: StoreKind)
    async throws
  {
    if kind == .postgres, try PostgresServer.available() == nil { return }
    try await BackendRunner.run { (runner) async throws in
      let f = try await NotifierFixture(kind, runner: runner)
      let server = try TestHTTPServer()
      defer { server.shutdown() }
      let t = "2025-10-01T09:00:00+08:00"
      try await f.store.apply(received("C", t, ["litigation": "filed"]))
      let dispatcher = f.dispatcher(url: server.url)
      var deliveredOn: [String] = []
      for day in 1...31 {
        let noon = "2025-10-\(day < 10 ? "0" : "")\(day)T12:00:00+08:00"
        f.set(noon)
        try await f.store.runDue(at: Support.time(noon))
        try await dispatcher.drain()
        let progress = server.requests.filter { $0.header("Idempotency-Key")?.hasPrefix("C/repeat/") == true }
        if progress.count > deliveredOn.count { deliveredOn.append(String(noon.prefix(10))) }
      }
      // Weekly from receipt: 8, 15, 22, 29 October; the 8th is a holiday (National Day), so
      // that report goes out on the next working day.
      #expect(deliveredOn == ["2025-10-09", "2025-10-15", "2025-10-22", "2025-10-29"])
      let bodies = server.requests.filter { $0.header("Idempotency-Key")?.hasPrefix("C/repeat/") == true }.map {
        (try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any]) ?? [:]
      }
      #expect(bodies.allSatisfy { $0["report"] as? String == "progress" && $0["on"] as? String == "while_open" })
    }
  }

  @Test func aNoticeReceivedOnAHolidayEveningGoesOutTheNextWorkingDay() async throws {
    let f = try await NotifierFixture()
    let server = try TestHTTPServer()
    defer { server.shutdown() }
    // Hot (not urgent) on the evening of 1 October 2025, a public holiday to 8 October.
    try await f.store.apply(received("H", "2025-10-01T20:00:00+08:00", ["collective_size": 3]))
    // Major (urgent), the same evening.
    try await f.store.apply(received("M", "2025-10-01T20:05:00+08:00", ["collective_size": 12]))
    let dispatcher = f.dispatcher(url: server.url)
    func deliveredKeys() async throws -> Set<String> {
      Set(try await f.store.outboxItems(status: .delivered).map(\.key))
    }
    f.set("2025-10-01T20:05:00+08:00")
    try await dispatcher.drain()
    #expect(try await deliveredKeys().allSatisfy { $0.hasPrefix("M/") })
    #expect(try await deliveredKeys().count == 4)
    let hot = try await f.store.outboxItems().filter { $0.caseID == "H" }
    #expect(hot.count == 3)
    #expect(hot.allSatisfy { Support.format($0.dueAt) == "2025-10-09T09:00:00+08:00" })
    f.set("2025-10-09T08:59:59+08:00")
    #expect(try await dispatcher.drain() == DispatchReport())
    f.set("2025-10-09T09:00:00+08:00")
    #expect(try await dispatcher.drain().delivered == 3)
  }

  @Test func significantChangesDeadlinesAndApprovalsAreRouted() async throws {
    let f = try await NotifierFixture(duties: {
      $0.replacingOccurrences(
        of: "approval_requests:\n  - notify: [approver]\n",
        with: "approval_requests:\n  - notify: [approver]\n    include_identity: true\n")
    })
    let store = f.store
    // A significant change of a major case (快报); a change of its text alone is not one.
    let t = "2025-10-09T10:00:00+08:00"
    try await store.apply(received("M", t, ["collective_size": 12, "complainant_id": "李四"]))
    try await store.apply(event("M-u1", "M", .updated, "2025-10-09T11:00:00+08:00", ["text": "补充说明"]))
    try await store.apply(event("M-u2", "M", .updated, "2025-10-09T12:00:00+08:00", ["media": "exposed"]))
    let changes = try await store.outboxItems().filter { $0.key.hasPrefix("M/change/") }
    #expect(changes.map(\.key) == ["M/change/M-u2/0/customer_service_center/webhook"])
    let body = try #require(try JSONSerialization.jsonObject(with: Data(changes[0].payload.utf8)) as? [String: Any])
    #expect(body["changed"] as? [String] == ["media"])
    #expect(body["summary"] as? String == "重大投诉 M: significant change: media — 进展快报")

    // Deadline alerts of an ordinary case without compensation: due 24 hours after receipt.
    try await store.apply(received("D", "2025-10-09T10:00:00+08:00"))
    #expect(
      try await store.cases().first { $0.id == "D" }.flatMap { Support.format($0.nextReviewAt) }
        == "2025-10-10T06:00:00+08:00")
    try await store.runDue(at: Support.time("2025-10-10T06:00:00+08:00"))
    try await store.runDue(at: Support.time("2025-10-10T10:00:00+08:00"))
    try await store.runDue(at: Support.time("2025-10-12T00:00:00+08:00"))
    let alerts = try await store.outboxItems().filter { $0.caseID == "D" && $0.key.contains("/deadline/") }
    #expect(
      alerts.map { "\($0.recipient) \(Support.format($0.dueAt) ?? "")" } == [
        "functional_department 2025-10-10T06:00:00+08:00",
        "customer_service_center 2025-10-10T10:00:00+08:00",
        "responsible_leader 2025-10-10T10:00:00+08:00",
        // one working day after the breach ends on Saturday 11 October (a make-up working
        // day); not urgent, so it waits for Monday's office hours
        "leadership 2025-10-13T09:00:00+08:00",
      ])
    // Resolved in time: no breach alerts.
    try await store.apply(received("R", "2025-10-09T10:00:00+08:00"))
    try await store.apply(event("R-x", "R", .resolved, "2025-10-09T15:00:00+08:00"))
    try await store.runDue(at: Support.time("2025-10-12T00:00:00+08:00"))
    #expect(try await store.outboxItems().filter { $0.caseID == "R" && $0.key.contains("/deadline/") }.isEmpty)

    // An approval request goes to the compensation tier's approver, with the identity only
    // because this route allows it.
    try await store.apply(
      received(
        "A", "2025-10-09T10:00:00+08:00",
        ["compensation": ["amount": "650.00", "currency": "CNY"], "complainant_id": "王五", "contact": "139"]))
    try await store.apply(
      event("A-q", "A", .requestApproval, "2025-10-09T10:30:00+08:00", ["approver": "refund_approver"]))
    let asks = try await store.outboxItems().filter { $0.key.hasPrefix("A/approval/") }
    #expect(asks.map(\.recipient) == ["general_manager"])
    #expect(asks.first?.includeIdentity == true)
    f.set("2025-10-09T10:30:00+08:00")
    let server = try TestHTTPServer()
    defer { server.shutdown() }
    try await f.dispatcher(url: server.url).drain()
    let lines = try f.fileLines()
    let ask = try #require(lines.first { ($0["key"] as? String)?.hasPrefix("A/approval/") == true })
    #expect(ask["complainant"] as? [String: String] == ["complainant_id": "王五", "contact": "139"])
    // Nothing else carries the identity.
    #expect(lines.filter { $0["complainant"] != nil }.count == 1)
    #expect(server.requests.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains("李四") })
    await #expect(throws: StoreError.self) {
      try await store.apply(event("A-q2", "A", .requestApproval, "2025-10-09T10:30:00+08:00", ["approver": "nobody"]))
    }
  }

  @Test func severalDispatchersOnPostgreSQLDeliverEachNotificationOnce() async throws {
    guard let server = try PostgresServer.available() else { return }
    let url = try server.newDatabase()
    let f = try await NotifierFixture()
    try await BackendRunner.run { (runner) async throws in
      let first = try await runner.store(url: url, rules: f.store.rules)
      let second = try await runner.store(url: url, rules: f.store.rules)
      let t = "2025-10-09T10:00:00+08:00"
      for i in 0..<30 { try await first.apply(received("C\(i)", t, ["media": "exposed"])) }
      let http = try TestHTTPServer()
      defer { http.shutdown() }
      f.set(t)
      let a = f.dispatcher(url: http.url, store: first, batch: 3)
      let b = f.dispatcher(url: http.url, store: second, batch: 3)
      async let ra = a.drain()
      async let rb = b.drain()
      let (x, y) = try await (ra, rb)
      #expect(x.delivered + y.delivered == 120)
      #expect(x.delivered > 0 && y.delivered > 0)
      let keys = http.requests.map { $0.header("Idempotency-Key") ?? "" }
      #expect(keys.count == 30 && Set(keys).count == 30)
      #expect(try await first.outboxItems(status: .delivered).count == 120)
    }
  }
}

/// `ombuds serve` as an operator runs it: delivering, refusing a broken rule change while the
/// last good rules keep serving, taking a good one, and stopping cleanly on SIGTERM.
@Suite(.serialized) struct ServeTests {
  /// What the server process did: its log, and a condition signalled on every event (a log
  /// line, a webhook request, the exit), so that waiting wakes on events, not on a clock.
  final class Events: @unchecked Sendable {
    // @unchecked: `text` and `generation` are guarded by `condition`.
    let condition = NSCondition()
    var text = ""
    var generation = 0

    func append(_ data: Data) {
      condition.withLock { text += String(decoding: data, as: UTF8.self) }
      signal()
    }
    func signal() {
      condition.withLock {
        generation += 1
        condition.broadcast()
      }
    }
    var log: String { condition.withLock { text } }

    /// Waits for `holds`, checked again after every event; gives up after `seconds` (a bound
    /// for a broken build, not a timing).
    func wait(_ what: String, seconds: Double = 60, _ holds: () -> Bool) throws {
      let deadline = Date().addingTimeInterval(seconds)
      while true {
        let seen = condition.withLock { generation }
        if holds() { return }
        condition.lock()
        while generation == seen {
          if !condition.wait(until: deadline) {
            condition.unlock()
            Issue.record("no event brought \(what)")
            throw CaseError("no event brought \(what)")
          }
        }
        condition.unlock()
      }
    }
  }

  /// Starts `ombuds serve` on the fixture's store and rules, its log feeding `events`.
  static func serve(_ f: NotifierFixture, _ server: TestHTTPServer, _ events: Events) throws -> Process {
    guard let products = Support.productsDirectory() else { throw CaseError("built executables not found") }
    let process = Process()
    process.executableURL = products.appendingPathComponent("ombuds")
    process.arguments = [
      "serve", "--store", f.storePath, "--rules", f.rulesDir.path, "--notify-file", f.notificationsFile,
      "--review-interval", "1", "--listen", "127.0.0.1:0",
    ]
    process.environment = ProcessInfo.processInfo.environment.merging(f.environment(server)) { _, new in new }
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    err.fileHandleForReading.readabilityHandler = { h in events.append(h.availableData) }
    process.terminationHandler = { _ in events.signal() }
    try process.run()
    return process
  }

  @Test func serveDeliversReloadsRulesKeepsTheLastGoodOnesAndStopsOnSIGTERM() async throws {
    let f = try await NotifierFixture()
    let events = Events()
    let server = try TestHTTPServer(arrived: { events.signal() })
    defer { server.shutdown() }
    try await f.store.apply(received("C1", "2025-10-09T10:00:00+08:00", ["media": "exposed"]))
    let process = try Self.serve(f, server, events)
    defer { if process.isRunning { process.terminate() } }

    func delivered(_ key: String) -> Bool { server.requests.contains { $0.header("Idempotency-Key") == key } }
    try events.wait("the first delivery") { delivered("C1/enter/major/0/customer_service_center/webhook") }
    // A broken change: refused, logged with its position and code; the old rules keep serving.
    let severity = f.rulesDir.appendingPathComponent("severity.yaml")
    let good = try String(contentsOf: severity, encoding: .utf8)
    try (good + "\n  oops: [\n").write(to: severity, atomically: true, encoding: .utf8)
    try events.wait("the refusal") { events.log.contains("rules refused") }
    #expect(events.log.contains("severity.yaml"))
    #expect(events.log.contains("\"code\":\"yaml."))
    try await f.store.apply(received("C2", "2025-10-09T10:00:00+08:00", ["media": "exposed"]))
    try events.wait("delivery under the last good rules") {
      delivered("C2/enter/major/0/customer_service_center/webhook")
    }
    // A good change: taken.
    try good.replacingOccurrences(of: "collective_size >= 10", with: "collective_size >= 8")
      .write(to: severity, atomically: true, encoding: .utf8)
    try events.wait("the reload") { events.log.contains("rules reloaded") }
    // SIGTERM: a clean stop.
    process.terminate()
    try events.wait("the exit") { !process.isRunning }
    #expect(process.terminationReason == .exit)
    #expect(process.terminationStatus == 0)
    try events.wait("the last log line") { events.log.contains("\"message\":\"stopped\"") }
    // Every log line is a JSON object.
    for line in events.log.split(separator: "\n") {
      #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)")
    }
  }
}
