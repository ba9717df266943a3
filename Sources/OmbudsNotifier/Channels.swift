import AsyncHTTPClient
import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import OmbudsRules
import OmbudsStore
import OmbudsSyntax

/// One notification on its way: the outbox row, the recipient as the rules define it, and the
/// exact body to send (the row's payload, plus the complainant's identity only where the
/// route allows it).
public struct Delivery: Sendable {
  public var item: OutboxItem
  public var role: RoleDecl
  public var body: [UInt8]
}

/// A way to reach a recipient. `deliver` returns once the notification is accepted; it
/// throws a `DeliveryError` otherwise, and the dispatcher retries.
public protocol NotificationChannel: Sendable {
  func deliver(_ delivery: Delivery) async throws
}

/// Why an attempt failed, for the outbox's `last_error`.
public struct DeliveryError: Error, CustomStringConvertible, Sendable {
  public var description: String
  /// False when retrying cannot help (no URL configured, say): the row goes dead at once.
  public var retryable: Bool

  public init(_ description: String, retryable: Bool = true) {
    self.description = description
    self.retryable = retryable
  }
}

/// Serializes appends to one file descriptor, each line whole. The writes (and `fsync`) run
/// on the writer's own dispatch queue; the caller's task waits suspended, so a slow disk or a
/// full pipe never holds a thread of the cooperative pool.
final class LineWriter: Sendable {
  let queue = DispatchQueue(label: "ombuds.notifier.line-writer")
  let fd: Int32

  init(fd: Int32) { self.fd = fd }

  func write(_ line: [UInt8], sync: Bool) async throws {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
      queue.async { c.resume(with: Result { try self.writeNow(line, sync: sync) }) }
    }
  }

  /// On `queue` only.
  func writeNow(_ line: [UInt8], sync: Bool) throws {
    var bytes = line
    if bytes.last != 0x0A { bytes.append(0x0A) }
    var written = 0
    while written < bytes.count {
      let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw DeliveryError("write failed: \(String(cString: strerror(errno)))")
      }
      written += n
    }
    if sync, fsync(fd) != 0, errno != EINVAL {
      throw DeliveryError("fsync failed: \(String(cString: strerror(errno)))")
    }
  }
}

/// `log`: one JSON line per notification on standard output (or another descriptor).
public struct LogChannel: NotificationChannel {
  let writer: LineWriter

  public init(fileDescriptor: Int32 = STDOUT_FILENO) { writer = LineWriter(fd: fileDescriptor) }

  public func deliver(_ delivery: Delivery) async throws {
    try await writer.write(delivery.body, sync: false)
  }
}

/// `file`: appends one JSON line per notification to the recipient's `file` (or the default
/// file), flushed to disk before the row counts as delivered.
public final class FileChannel: NotificationChannel {
  let defaultPath: String?
  let writers = NIOLockedValueBox<[String: LineWriter]>([:])

  public init(defaultPath: String?) { self.defaultPath = defaultPath }

  deinit {
    for (_, w) in writers.withLockedValue({ $0 }) { close(w.fd) }
  }

  public func deliver(_ delivery: Delivery) async throws {
    guard let path = delivery.role.file ?? defaultPath else {
      throw DeliveryError(
        "recipient `\(delivery.role.id)` has the `file` channel but no `file:` and no default file was given",
        retryable: false)
    }
    let writer = try writers.withLockedValue { open -> LineWriter in
      if let w = open[path] { return w }
      let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
      guard fd >= 0 else { throw DeliveryError("cannot open `\(path)`: \(String(cString: strerror(errno)))") }
      let w = LineWriter(fd: fd)
      open[path] = w
      return w
    }
    try await writer.write(delivery.body, sync: true)
  }
}

/// `webhook`: an HTTP POST of the JSON body through AsyncHTTPClient, with an
/// `Idempotency-Key` header (the outbox key) and an `Ombuds-Signature` header,
/// `sha256=` and the hex HMAC-SHA256 of the exact body under the recipient's secret (from the
/// environment variable the rules name). Any 2xx status is delivery; anything else, a
/// timeout or a refused connection is a failed attempt.
public final class WebhookChannel: NotificationChannel {
  public static let signatureHeader = "Ombuds-Signature"
  public static let idempotencyHeader = "Idempotency-Key"

  let client: HTTPClient
  let environment: @Sendable (String) -> String?
  let defaultTimeout: TimeAmount

  /// `environment` reads variables (the process environment by default; tests pass their own).
  public init(
    client: HTTPClient = .shared, defaultTimeout: TimeAmount = .seconds(10),
    environment: @escaping @Sendable (String) -> String? = { ProcessInfo.processInfo.environment[$0] }
  ) {
    self.client = client
    self.defaultTimeout = defaultTimeout
    self.environment = environment
  }

  /// The signature header's value for `body` under `secret`.
  public static func signature(body: [UInt8], secret: String) -> String {
    let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
    return "sha256=" + Hex.encode(mac)
  }

  public func deliver(_ delivery: Delivery) async throws {
    let role = delivery.role
    guard let target = role.webhook else {
      throw DeliveryError("recipient `\(role.id)` has no `webhook:` in the rules", retryable: false)
    }
    guard let url = target.url ?? target.urlEnvironment.flatMap(environment), !url.isEmpty else {
      throw DeliveryError(
        "recipient `\(role.id)`: the environment variable `\(target.urlEnvironment ?? "")` holding its webhook URL is not set"
      )
    }
    guard let name = target.secretEnvironment, let secret = environment(name), !secret.isEmpty else {
      throw DeliveryError(
        "recipient `\(role.id)`: the environment variable `\(target.secretEnvironment ?? "")` holding its webhook secret is not set"
      )
    }
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
    request.headers.add(name: "User-Agent", value: "ombuds-notifier")
    request.headers.add(name: Self.idempotencyHeader, value: delivery.item.key)
    request.headers.add(name: Self.signatureHeader, value: Self.signature(body: delivery.body, secret: secret))
    request.body = .bytes(ByteBuffer(bytes: delivery.body))
    let timeout = target.timeout.map { TimeAmount.milliseconds(Int64($0.fixedMilliseconds)) } ?? defaultTimeout
    let response: HTTPClientResponse
    do {
      response = try await client.execute(request, timeout: timeout)
    } catch {
      throw DeliveryError("POST \(url): \(Self.describe(error))")
    }
    // Read (and drop) the body so the connection can be reused; cap what we keep.
    let text = (try? await response.body.collect(upTo: 4096)).map { String(buffer: $0) } ?? ""
    guard (200..<300).contains(response.status.code) else {
      let excerpt = text.prefix(200).replacingOccurrences(of: "\n", with: " ")
      throw DeliveryError("POST \(url): HTTP \(response.status.code)\(excerpt.isEmpty ? "" : ": \(excerpt)")")
    }
  }

  static func describe(_ error: any Error) -> String {
    if let e = error as? HTTPClientError {
      switch e {
      case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout: return "timed out"
      default: return "\(e)"
      }
    }
    let text = String(describing: error)
    if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
    return text
  }
}

extension RuleDuration {
  /// A clock duration in milliseconds: fixed units exactly, calendar units at their shortest.
  var fixedMilliseconds: Int { Int((fixedSeconds ?? bounds.lowerBound) * 1000) }
}
