import Foundation
import HTTPTypes
import Hummingbird
import OmbudsEngine
import OmbudsStore

extension OmbudsAPI {
  /// `POST /v1/classify`: the `ombuds classify` contract over HTTP, stateless. One snapshot
  /// (`application/json`) answers one decision object; JSON Lines (`application/x-ndjson`)
  /// answer one decision per line. `?now=` fixes the evaluation time.
  func classify(_ request: Request, _ context: APIContext) async throws -> Response {
    try Self.onlyKnown(Query(request.uri.query), ["now"])
    let store = stores.store
    var now = clock()
    if let text = Query(request.uri.query).get("now") {
      guard let t = RFC3339.parse(RFC3339Lenient.fromQuery(text)) else {
        throw APIError(.invalidParameter, "`now`: `\(text)` is not an RFC 3339 time", field: "now")
      }
      now = t
    }
    let contentType = request.headers[.contentType]?.lowercased() ?? "application/json"
    let lines =
      contentType.hasPrefix("application/x-ndjson") || contentType.hasPrefix("application/jsonl")
      || contentType.hasPrefix("application/json-lines")
    guard lines || contentType.hasPrefix("application/json") else {
      throw APIError(
        .unsupportedMediaType,
        "send application/json (one case) or application/x-ndjson (JSON Lines), not \(contentType)")
    }
    var bytes = try await body(request)
    if !lines {
      // One object, however it is laid out: line breaks between tokens are only whitespace.
      for i in bytes.indices where bytes[i] == 0x0A || bytes[i] == 0x0D { bytes[i] = 0x20 }
      guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 }) else {
        throw APIError(.invalidCase, "the body holds no case")
      }
    }
    let batch = batches.batch(for: store.rules)
    let input = bytes
    let at = now
    let (output, rejections) = try await Self.offloadIfLarge(input.count) { batch.run(input, now: at) }
    if !rejections.isEmpty {
      let first = rejections[0]
      var e = APIError(.invalidCase, lines ? "line \(first.line): \(first.message)" : first.message)
      e.field = APIError.fieldNamed(in: first.message)
      if lines {
        e.extra = [
          (
            "rejections",
            J.array(rejections.map { J.object([("line", "\($0.line)"), ("error", J.str($0.message))]) })
          )
        ]
      }
      throw e
    }
    var text = String(decoding: output, as: UTF8.self)
    if !lines, text.hasSuffix("\n") { text.removeLast() }
    if lines {
      return Response(
        status: .ok, headers: [.contentType: "application/x-ndjson; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
    return Self.json(.ok, text)
  }

  /// Runs CPU-bound work for a large body off the cooperative pool (a dispatch queue), small
  /// ones inline.
  static func offloadIfLarge<T: Sendable>(_ size: Int, _ work: @escaping @Sendable () -> T) async throws -> T {
    if size < 64 * 1024 { return work() }
    return await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
  }

  /// `POST /v1/screen`: `{"text": "…"}` → the harmful-information matches of the rules'
  /// keyword lists, as spans of the text in Unicode scalars (`start` inclusive, `end` exclusive).
  func screen(_ request: Request, _ context: APIContext) async throws -> Response {
    let object = try await jsonObject(request)
    for key in object.keys where key != "text" {
      throw APIError(.invalidParameter, "unknown field `\(key)` (the body is {\"text\": \"…\"})", field: key)
    }
    guard let text = object["text"]?.string else {
      throw APIError(.invalidEvent, "field `text` is required (a string)", field: "text")
    }
    let rules = stores.store.rules
    let categories = rules.ruleSet.categories.map(\.id)
    var found: [String] = []
    var seen: [String] = []
    if let automaton = rules.screening {
      let matches = try await Self.offloadIfLarge(text.utf8.count) { automaton.matches(in: text) }
      for m in matches {
        let p = automaton.patterns[Int(m.pattern)]
        let category = Int(p.category) < categories.count ? categories[Int(p.category)] : "?"
        if !seen.contains(category) { seen.append(category) }
        found.append(
          J.object(
            [
              ("start", "\(m.start)"), ("end", "\(m.end)"), ("category", J.str(category)), ("keyword", J.str(p.text)),
            ] + (m.disguise.name.map { [("disguise", J.str($0))] } ?? [])))
      }
    }
    return Self.json(.ok, J.object([("categories", J.array(seen.map(J.str))), ("matches", J.array(found))]))
  }

  /// `GET /v1/rules`: the rule set in force.
  func rulesInfo(_ request: Request, _ context: APIContext) async throws -> Response {
    let rules = stores.store.rules
    let set = rules.ruleSet
    let body = J.object([
      ("rule_set", J.str(rules.contentHash)), ("name", J.str(set.name)), ("time_zone", J.str(set.timeZone)),
      ("files", J.array(set.files.map(J.str))),
      ("levels", J.array(set.levels.map { J.object([("id", J.str($0.id)), ("label", J.str($0.label))]) })),
      ("roles", J.array(set.roles.map { J.object([("id", J.str($0.id)), ("label", J.str($0.label))]) })),
      ("categories", J.array(set.categories.map { J.object([("id", J.str($0.id)), ("label", J.str($0.label))]) })),
      ("event_types", J.array(CaseEvent.Kind.allCases.map { J.str($0.rawValue) })),
      // The answers a `follow_up` may record (RuleLanguage.md §18).
      (
        "satisfaction",
        J.array(set.satisfaction.map { J.object([("id", J.str($0.id)), ("label", J.str($0.label))]) })
      ),
    ])
    return Self.json(.ok, body)
  }

  /// Refuses a token whose role the rules' `views` do not let see `view` (403 `forbidden`,
  /// naming the entry of `permissions`).
  func viewable(_ view: String, _ context: APIContext) throws {
    guard let token = context.token else { throw AuthMiddleware.unauthorized("no token") }
    do {
      try stores.store.checkView(view, token.principal)
    } catch let error as StoreError {
      throw APIError(error)
    }
  }

  /// `GET /v1/outbox`: notifications by due time; `status` (default: not yet delivered),
  /// `case`, `limit` (default 100, at most 1000).
  func listOutbox(_ request: Request, _ context: APIContext) async throws -> Response {
    try viewable("outbox", context)
    let parameters = Query(request.uri.query)
    try Self.onlyKnown(parameters, ["status", "case", "limit"])
    let status = parameters.get("status")
    if let status, status != "all", OutboxItem.Status(rawValue: status) == nil {
      throw APIError(
        .invalidParameter, "`status` is pending, sending, delivered, dead or all, not `\(status)`", field: "status")
    }
    var limit = 100
    if let l = parameters.get("limit") {
      guard let n = Int(l), (1...1000).contains(n) else {
        throw APIError(.invalidParameter, "`limit` is a whole number from 1 to 1000, not `\(l)`", field: "limit")
      }
      limit = n
    }
    let store = stores.store
    // One more than asked: whether the list was cut.
    let items = try await store.outboxItems(
      status: status.flatMap(OutboxItem.Status.init(rawValue:)), undeliveredOnly: status == nil,
      caseID: parameters.get("case"), limit: limit + 1)
    let shown = items.prefix(limit).map { outboxJSON($0, store) }
    return Self.json(.ok, J.object([("items", J.array(Array(shown))), ("truncated", J.bool(items.count > limit))]))
  }

  /// `POST /v1/outbox/{id}/retry`: requeues an undelivered notification.
  func retryOutbox(_ request: Request, _ context: APIContext) async throws -> Response {
    try viewable("outbox", context)
    let text = try Self.pathID(context)
    guard let id = Int64(text), id >= 1 else {
      throw APIError(.invalidParameter, "an outbox id is a whole number ≥ 1, not `\(text)`", field: "id")
    }
    let store = stores.store
    try await store.requeue(id, at: clock())
    guard let item = try await store.outboxItem(id) else { throw APIError(StoreError.notFound("no outbox row \(id)")) }
    return Self.json(.ok, outboxJSON(item, store))
  }

  /// `GET /readyz`: the store answers and a rule set is loaded.
  func readiness() async throws -> Response {
    let store = stores.store
    do {
      _ = try await store.outboxCounts()
    } catch {
      logger.warning("not ready", metadata: ["error": "\(error)"])
      throw APIError(.notReady, "the store does not answer")
    }
    return Self.json(.ok, J.object([("status", J.str("ready")), ("rule_set", J.str(store.rules.contentHash))]))
  }

  /// `GET /metrics`: Prometheus text.
  func metricsText(_ context: APIContext) async throws -> Response {
    try viewable("metrics", context)
    let counts = try await stores.store.outboxCounts()
    metrics.outbox(byStatus: counts.byStatus, failing: counts.failing)
    await refreshMeasures()
    return Response(
      status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
      body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
  }
}
