import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmbudsEngine
import Testing

/// A real `ombuds serve` process on a fresh SQLite store (or a given `--store`), listening
/// on a free port, with real HTTP clients calling it.
final class LiveServer: Sendable {
  let process: Process
  let port: Int
  let storeArgument: String
  let rulesDir: String
  let directory: URL
  let log: LogLines

  /// The server's standard error, line by line, as it comes (no thread waits on it).
  final class LogLines: @unchecked Sendable {
    // @unchecked: `text` is only touched under `lock`; `continuation` is Sendable.
    private let lock = NSLock()
    private var text = ""
    let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    init() {
      (stream, continuation) = AsyncStream.makeStream(of: String.self)
    }
    /// Who waits for what: woken when it appears, or when the log ends.
    private var waiting: [(text: String, continuation: CheckedContinuation<Bool, Never>)] = []
    private var ended = false

    func append(_ data: Data) {
      if data.isEmpty {
        continuation.finish()
        let woken = lock.withLock {
          ended = true
          defer { waiting = [] }
          return waiting
        }
        for w in woken { w.continuation.resume(returning: false) }
        return
      }
      let s = String(decoding: data, as: UTF8.self)
      let woken = lock.withLock {
        text += s
        let found = waiting.filter { text.contains($0.text) }
        waiting.removeAll { text.contains($0.text) }
        return found
      }
      for w in woken { w.continuation.resume(returning: true) }
      continuation.yield(s)
    }
    var all: String { lock.withLock { text } }

    /// Waits until the log holds `needle` (true), or ends without it (false): on the log's
    /// own lines, not on a clock.
    func contains(_ needle: String) async -> Bool {
      await withCheckedContinuation { c in
        let answer: Bool? = lock.withLock {
          if text.contains(needle) { return true }
          if ended { return false }
          waiting.append((needle, c))
          return nil
        }
        if let answer { c.resume(returning: answer) }
      }
    }
  }

  /// Finishes when the process has exited.
  let exited: AsyncStream<Void>

  /// Starts `ombuds serve --listen 127.0.0.1:0 …` and waits for its `listening` log line.
  /// The review service looks for due work only at start and then once a day (`reviewInterval`),
  /// so that a test's cases change only by its own requests.
  init(
    store: String? = nil, rulesDir: String = Support.rulesDir, reviewInterval: Int = 86_400, extra: [String] = [],
    environment: [String: String] = [:]
  ) async throws {
    guard let products = Support.productsDirectory() else { throw CaseError("built executables not found") }
    directory = try Support.temporaryDirectory()
    storeArgument = store ?? directory.appendingPathComponent("http.sqlite").path
    self.rulesDir = rulesDir
    let process = Process()
    process.executableURL = products.appendingPathComponent("ombuds")
    process.arguments =
      [
        "serve", "--store", storeArgument, "--rules", rulesDir, "--listen", "127.0.0.1:0", "--notify-file",
        directory.appendingPathComponent("notifications.jsonl").path, "--review-interval", "\(reviewInterval)",
        "--token-cache", "0",
      ] + extra
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    let log = LogLines()
    err.fileHandleForReading.readabilityHandler = { h in log.append(h.availableData) }
    let (exited, exit) = AsyncStream.makeStream(of: Void.self)
    process.terminationHandler = { _ in exit.finish() }
    self.exited = exited
    try process.run()
    self.process = process
    self.log = log
    var seen = ""
    var port: Int?
    for await chunk in log.stream {
      seen += chunk
      if let line = seen.split(separator: "\n").first(where: { $0.contains("\"message\":\"listening\"") }),
        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        let p = (object["port"] as? String).flatMap(Int.init)
      {
        port = p
        break
      }
    }
    guard let port else {
      process.terminate()
      throw CaseError("ombuds serve did not start listening:\n\(log.all)")
    }
    self.port = port
  }

  /// A copy of the shipped rules whose customer-service center is told by a webhook at the
  /// URL in `OMBUDS_TEST_HOOK_URL` (signed with `OMBUDS_TEST_HOOK_SECRET`).
  static func rulesWithWebhook() throws -> String {
    let dir = try Support.temporaryDirectory().appendingPathComponent("rules")
    let fm = FileManager.default
    try fm.copyItem(atPath: Support.rulesDir, toPath: dir.path)
    let roles = dir.appendingPathComponent("roles.yaml")
    let text = try String(contentsOf: roles, encoding: .utf8)
    let from = "  customer_service_center:\n    label: 客服中心\n    channels: [log]\n"
    guard text.contains(from) else { throw CaseError("roles.yaml has no customer_service_center entry to patch") }
    try text.replacingOccurrences(
      of: from,
      with:
        "  customer_service_center:\n    label: 客服中心\n    channels: [webhook]\n    webhook: {url_env: OMBUDS_TEST_HOOK_URL, secret_env: OMBUDS_TEST_HOOK_SECRET}\n"
    ).write(to: roles, atomically: true, encoding: .utf8)
    return dir.path
  }

  deinit { if process.isRunning { process.terminate() } }

  /// SIGTERM, then waits for the exit (the process's termination handler, not a clock).
  func stop() async {
    if process.isRunning { process.terminate() }
    for await _ in exited {}
  }

  /// `ombuds token create --role ROLE --name NAME` on this server's store: the token.
  func token(role: String, name: String) throws -> String {
    let run = try Support.run(
      "ombuds", ["token", "create", "--store", storeArgument, "--rules", rulesDir, "--role", role, "--name", name])
    guard run.status == 0,
      let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
      let token = object["token"] as? String
    else { throw CaseError("token create failed: \(run.stderr)") }
    return token
  }

  /// One response, read whole.
  struct Reply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var text: String
    /// The body as a JSON object (nil when it is not one).
    var json: [String: any Sendable]? {
      (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: any Sendable]
    }
    /// `error.code` of a JSON error.
    var code: String? { (json?["error"] as? [String: Any])?["code"] as? String }
    var message: String? { (json?["error"] as? [String: Any])?["message"] as? String }
  }

  func call(
    _ method: HTTPMethod, _ path: String, token: String? = nil, body: String? = nil,
    headers: [(String, String)] = []
  ) async throws -> Reply {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = method
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    for (k, v) in headers { request.headers.add(name: k, value: v) }
    if let body {
      if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
        request.headers.add(name: "Content-Type", value: "application/json")
      }
      request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let buffer = try await response.body.collect(upTo: 64 << 20)
    return Reply(
      status: Int(response.status.code), headers: response.headers, text: String(buffer: buffer))
  }
}
