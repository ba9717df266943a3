import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OmbudsEngine
import OmbudsNotifier
import OmbudsStore
import ServiceLifecycle

/// The HTTP API's settings (`ombuds serve --listen … --max-body … --max-batch … --request-timeout …`).
public struct HTTPConfiguration: Sendable {
  public var host = "127.0.0.1"
  public var port = 8080
  /// The largest request body, in bytes (413 beyond).
  public var maxBodyBytes = 1 << 20
  /// The most events one `POST /v1/events` may carry (413 beyond).
  public var maxBatch = 1_000
  /// A request still running after this long is answered 503 `timeout`.
  public var requestTimeout: Duration = .seconds(30)
  /// How long an accepted token is trusted before the store is asked again (so a revoked
  /// token stops working within this time on every instance).
  public var tokenCacheTTL: Duration = .seconds(5)

  public init() {}
}

/// What a request carries through the middlewares: the token it authenticated with.
public struct APIContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  public var token: APIToken?

  public init(source: ApplicationRequestContextSource) {
    self.coreContext = .init(source: source)
    self.token = nil
  }
}

/// The `/v1` API over the store: thin by design. It authenticates, turns JSON into the
/// store's events and queries, and the store's errors into JSON errors.
public final class OmbudsAPI: Sendable {
  let stores: StoreBox
  let configuration: HTTPConfiguration
  let metrics: APIMetrics
  let tokens: TokenCache
  let clock: @Sendable () -> Millis
  let logger: Logger
  let batches = BatchCache()
  let measureGauges = MeasureGauges()

  public init(
    stores: StoreBox, configuration: HTTPConfiguration = HTTPConfiguration(),
    clock: @escaping @Sendable () -> Millis = { Millis(Date().timeIntervalSince1970 * 1000) },
    logger: Logger = Logger(label: "ombuds.http")
  ) {
    self.stores = stores
    self.configuration = configuration
    self.metrics = APIMetrics()
    self.tokens = TokenCache(ttl: configuration.tokenCacheTTL)
    self.clock = clock
    self.logger = logger
  }

  /// Counts a rule reload (for `/metrics`).
  public func ruleSetReloaded() { metrics.ruleReload() }

  /// The paths that answer without a token.
  static let open: Set<String> = ["/healthz", "/readyz"]

  /// The router: every route, the JSON errors, the token check, the limits.
  public func router() -> Router<APIContext> {
    let router = Router(context: APIContext.self, options: [.autoGenerateHeadEndpoints])
    router.add(middleware: OutermostMiddleware(api: self))
    router.add(middleware: AuthMiddleware(api: self))
    var methods: [String: Set<HTTPRequest.Method>] = [:]
    func on(
      _ path: String, _ method: HTTPRequest.Method,
      _ handler: @escaping @Sendable (Request, APIContext) async throws -> Response
    ) {
      router.on(RouterPath(path), method: method, use: handler)
      methods[path, default: []].insert(method)
    }
    on("/healthz", .get) { _, _ in Self.json(.ok, #"{"status":"ok"}"#) }
    on("/readyz", .get) { [self] _, _ in try await readiness() }
    on("/metrics", .get) { [self] _, c in try await metricsText(c) }
    on("/v1/cases/{id}/events", .post) { [self] r, c in try await postEvent(r, c) }
    on("/v1/events", .post) { [self] r, c in try await postEvents(r, c) }
    on("/v1/cases", .get) { [self] r, c in try await listCases(r, c) }
    on("/v1/cases/{id}", .get) { [self] r, c in try await getCase(r, c) }
    on("/v1/classify", .post) { [self] r, c in try await classify(r, c) }
    on("/v1/screen", .post) { [self] r, c in try await screen(r, c) }
    on("/v1/rules", .get) { [self] r, c in try await rulesInfo(r, c) }
    on("/v1/outbox", .get) { [self] r, c in try await listOutbox(r, c) }
    on("/v1/outbox/{id}/retry", .post) { [self] r, c in try await retryOutbox(r, c) }
    on("/v1/reports", .get) { [self] r, c in try await reportData(r, c) }
    on("/reports/bulletin", .get) { [self] r, c in try await reportPage(r, c) }
    // A known path with another method: 405, naming the methods it takes.
    let all: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .options]
    for (path, allowed) in methods {
      var allow = allowed
      if allow.contains(.get) { allow.insert(.head) }
      let header = allow.map(\.rawValue).sorted().joined(separator: ", ")
      for m in all where !allowed.contains(m) {
        router.on(RouterPath(path), method: m) { request, _ -> Response in
          var e = APIError(
            .methodNotAllowed, "\(request.method.rawValue) is not allowed on \(path) (allowed: \(header))")
          e.headers[.allow] = header
          throw e
        }
      }
    }
    return router
  }

  /// The HTTP server as a service of `ombuds serve`'s group (on `router`, by default this
  /// API's). `listening` is told the address once it is bound (the real port when `port` is 0).
  public func service(
    router: Router<APIContext>? = nil, listening: @escaping @Sendable (String, Int) -> Void = { _, _ in }
  ) -> any Service {
    let logger = self.logger
    return Application(
      router: router ?? self.router(),
      configuration: .init(
        address: .hostname(configuration.host, port: configuration.port), serverName: nil, reuseAddress: true),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? -1
        let host = channel.localAddress?.ipAddress ?? "?"
        logger.notice("listening", metadata: ["host": "\(host)", "port": "\(port)"])
        listening(host, port)
      },
      logger: logger)
  }

  // MARK: Shared pieces

  static func json(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
    var headers = headers
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
  }

  /// The request body, at most `maxBodyBytes` (413 beyond, before reading it when the
  /// length is declared).
  func body(_ request: Request) async throws -> [UInt8] {
    let limit = configuration.maxBodyBytes
    if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
      throw APIError(.payloadTooLarge, "the request body is \(declared) bytes; the limit is \(limit)")
    }
    var request = request
    do {
      let buffer = try await request.collectBody(upTo: limit)
      return Array(buffer.readableBytesView)
    } catch is NIOTooManyBytesError {
      throw APIError(.payloadTooLarge, "the request body is over the limit of \(limit) bytes")
    }
  }

  /// The `{id}` of the path, percent-decoded (case ids may hold spaces, slashes, Chinese).
  static func pathID(_ context: APIContext) throws -> String {
    let raw = try context.parameters.require("id")
    guard let id = raw.removingPercentEncoding, !id.isEmpty else {
      throw APIError(.invalidParameter, "the id in the path is not valid percent-encoding: `\(raw)`", field: "id")
    }
    return id
  }

  /// A JSON object body.
  func jsonObject(_ request: Request) async throws -> [String: JSONValue] {
    let bytes = try await body(request)
    return try Self.object(bytes)
  }

  static func object(_ bytes: [UInt8]) throws -> [String: JSONValue] {
    let value: JSONValue
    do {
      value = try StoreJSON.decode(JSONValue.self, from: bytes)
    } catch {
      throw APIError(.invalidJSON, "the body is not JSON: \(CaseEvent.reason(error))")
    }
    guard case .object(let o) = value else {
      throw APIError(.invalidJSON, "the body must be a JSON object")
    }
    return o
  }

  /// An instant as RFC 3339 in the rules' time zone.
  func time(_ t: Millis?, _ store: CaseStore) -> String {
    guard let t else { return "null" }
    return J.str(RFC3339.format(t, offsetSeconds: store.rules.calendar.clock.offset(at: t)))
  }
}

/// The outermost layer: request timeouts, every error as JSON, the request metrics.
struct OutermostMiddleware: RouterMiddleware {
  typealias Context = APIContext
  let api: OmbudsAPI

  func handle(
    _ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response
  ) async throws -> Response {
    let start = ContinuousClock.now
    let response: Response
    // The responder chain is not declared Sendable, but it is the router's immutable
    // responders: running it in the timeout's child task is safe.
    // `withTimeout` waits for its child tasks, so `next` does not outlive this call.
    do {
      response = try await withoutActuallyEscaping(next) { next in
        nonisolated(unsafe) let next = next
        return try await withTimeout(api.configuration.requestTimeout) { try await next(request, context) }
      }
    } catch {
      response = render(error, request: request, context: context)
    }
    let route = context.endpointPath ?? "unmatched"
    api.metrics.request(
      route: route == "NotFound" ? "unmatched" : route, method: request.method.rawValue,
      status: response.status.code, duration: ContinuousClock.now - start)
    return response
  }

  func render(_ error: any Error, request: Request, context: APIContext) -> Response {
    switch error {
    case let e as APIError:
      return e.response()
    case let e as StoreError:
      if case .database(let detail) = e {
        api.logger.error(
          "store failure", metadata: ["path": "\(request.uri.path)", "error": "\(detail)", "request": "\(context.id)"])
      }
      return APIError(e).response()
    case let e as HTTPError where e.status == .notFound:
      return APIError(.notFound, "no route \(request.method.rawValue) \(request.uri.path)").response()
    case let e as HTTPError where e.status == .contentTooLarge:
      return APIError(.payloadTooLarge, "the request body is over the limit").response()
    case is NIOTooManyBytesError:
      return APIError(.payloadTooLarge, "the request body is over the limit").response()
    case let e as HTTPError:
      return APIError(e.status.code >= 500 ? .internal : .invalidParameter, e.body ?? e.status.reasonPhrase)
        .response()
    default:
      api.logger.error(
        "request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)", "request": "\(context.id)"])
      return APIError(.internal, "the request failed; the server log has the details").response()
    }
  }

  /// Runs `body`, or answers 503 `timeout` when it takes longer than `limit`.
  func withTimeout(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> Response
  ) async throws -> Response {
    try await withThrowingTaskGroup(of: Response.self) { group in
      group.addTask { try await body() }
      group.addTask {
        // A timer on the event loop, removed at once when the request ends first (a cancelled
        // `Task.sleep` keeps its timer, and its memory, until the limit: ~750 bytes a request).
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(limit)) {}
        try await withTaskCancellationHandler {
          try await scheduled.futureResult.get()
        } onCancel: {
          scheduled.cancel()
        }
        throw APIError(
          .timeout, "the request took longer than \(limit); it may still complete (retry with the same event_id)")
      }
      defer { group.cancelAll() }
      guard let first = try await group.next() else { throw CancellationError() }
      return first
    }
  }
}

/// Every route but the health checks needs `Authorization: Bearer <token>`.
struct AuthMiddleware: RouterMiddleware {
  typealias Context = APIContext
  let api: OmbudsAPI

  func handle(
    _ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response
  ) async throws -> Response {
    if OmbudsAPI.open.contains(request.uri.path) { return try await next(request, context) }
    // Pages are for browsers: they also take the token as a Basic password (any user name),
    // which a browser asks for by itself.
    let page = request.uri.path.hasPrefix("/reports/")
    guard let header = request.headers[.authorization] else {
      throw Self.unauthorized(
        "this route needs a token: `Authorization: Bearer <token>` (`ombuds token create`)", page: page)
    }
    guard let token = Self.bearer(header) ?? (page ? Self.basicPassword(header) : nil) else {
      throw Self.unauthorized("the Authorization header must be `Bearer <token>`", page: page)
    }
    guard let found = try await api.tokens.lookup(token, store: api.stores.store) else {
      throw Self.unauthorized("the token is not valid (unknown, malformed or revoked)", page: page)
    }
    var context = context
    context.token = found
    return try await next(request, context)
  }

  /// The token of `Bearer <token>` (the scheme in any case, spaces around the token), read in
  /// bytes: this runs on every request.
  static func bearer(_ header: String) -> String? {
    let b = Array(header.utf8)
    let scheme = Array("bearer".utf8)
    guard b.count > scheme.count, b[scheme.count] == 0x20 else { return nil }
    for (i, c) in scheme.enumerated() where b[i] | 0x20 != c { return nil }
    var start = scheme.count
    var end = b.count
    while start < end, b[start] == 0x20 || b[start] == 0x09 { start += 1 }
    while end > start, b[end - 1] == 0x20 || b[end - 1] == 0x09 { end -= 1 }
    guard start < end else { return nil }
    return String(decoding: b[start..<end], as: UTF8.self)
  }

  /// The password of `Basic base64(user:password)`.
  static func basicPassword(_ header: String) -> String? {
    let parts = header.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.count == 2, parts[0].lowercased() == "basic", let data = Data(base64Encoded: String(parts[1])),
      let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
    else { return nil }
    let password = String(text[text.index(after: colon)...])
    return password.isEmpty ? nil : password
  }

  static func unauthorized(_ message: String, page: Bool = false) -> APIError {
    var e = APIError(.unauthorized, message)
    e.headers[.wwwAuthenticate] =
      page ? "Basic realm=\"ombuds\", charset=\"UTF-8\"" : "Bearer realm=\"ombuds\""
    return e
  }
}

/// Accepted tokens, trusted for a short time (`tokenCacheTTL`) so that most requests cost no
/// database read. Keyed by the token's hash; unknown tokens are never cached.
final class TokenCache: Sendable {
  let ttl: Duration
  let entries = NIOLockedValueBox<[String: (token: APIToken, at: ContinuousClock.Instant)]>([:])

  init(ttl: Duration) { self.ttl = ttl }

  func lookup(_ token: String, store: CaseStore) async throws -> APIToken? {
    let key = CaseStore.tokenHash(token)
    let now = ContinuousClock.now
    if let hit = entries.withLockedValue({ $0[key] }), now - hit.at < ttl { return hit.token }
    let found = try await store.authenticate(token: token)
    entries.withLockedValue { entries in
      if entries.count > 10_000 { entries.removeAll() }
      entries[key] = found.map { ($0, now) }
    }
    return found
  }
}

/// One `ClassifyBatch` per rule set (building its renderer is not free).
final class BatchCache: @unchecked Sendable {
  // @unchecked: `current` is only touched under `lock`.
  private let lock = NIOLock()
  private var current: (hash: String, batch: ClassifyBatch)?

  func batch(for rules: CompiledRules) -> ClassifyBatch {
    lock.withLock {
      if let current, current.hash == rules.contentHash { return current.batch }
      let made = ClassifyBatch(rules: rules, workers: 1)
      current = (rules.contentHash, made)
      return made
    }
  }
}
