import Foundation
import HTTPTypes
import Hummingbird
import OmbudsEngine
import OmbudsStore

extension OmbudsAPI {
  /// `POST /v1/cases/{id}/events`: one event; the case from the path, the actor from the token.
  func postEvent(_ request: Request, _ context: APIContext) async throws -> Response {
    let caseID = try Self.pathID(context)
    let object = try await jsonObject(request)
    let store = stores.store
    let event = try makeEvent(object, caseID: caseID, ifMatch: request.headers[.ifMatch], context, store)
    let answer = try await apply(event, context, store)
    var headers: HTTPFields = [:]
    headers[.eTag] = "\"\(answer.version)\""
    if answer.replayed { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
    return Self.json(.created, answer.json, headers: headers)
  }

  /// `POST /v1/events`: a batch, as a JSON array or JSON Lines; each event names its `case`.
  /// Applied in order, each in its own transaction (on SQLite all in one visit to the
  /// writer); one result per event. A failure of the server itself (`internal`, `busy`,
  /// `timeout`) answers the whole request with its error; the events are idempotent by
  /// `event_id`, so the batch can be sent again.
  func postEvents(_ request: Request, _ context: APIContext) async throws -> Response {
    let bytes = try await body(request)
    let items = try Self.batchItems(bytes, limit: configuration.maxBatch)
    let store = stores.store
    guard let token = context.token else { throw AuthMiddleware.unauthorized("no token") }
    // Each item's event, or what is wrong with it; the events go to the store together.
    let prepared: [Result<CaseEvent, any Error>] = items.map { item in
      Result {
        let object = try item.get()
        guard let caseID = object["case"]?.string, !caseID.isEmpty else {
          throw APIError(.invalidEvent, "field `case` is required (a string)", field: "case")
        }
        return try makeEvent(object, caseID: caseID, ifMatch: nil, context, store)
      }
    }
    let events = prepared.compactMap { try? $0.get() }
    var applied = await store.applyAnswering(contentsOf: events, by: token.principal).makeIterator()
    var results: [String] = []
    results.reserveCapacity(items.count)
    for (index, (item, event)) in zip(items, prepared).enumerated() {
      do {
        _ = try event.get()
        guard let outcome = applied.next() else { throw CancellationError() }
        let (answer, replayed) = try outcome.get()
        if !replayed, let level = answer.level { metrics.decision(level: level) }
        results.append(
          J.object([
            ("index", "\(index)"), ("status", "201"), ("event_id", J.str(try event.get().eventID)),
            ("case", J.str(answer.caseID)),
            ("version", "\(answer.version)"), ("level", J.str(answer.level ?? "")), ("replayed", J.bool(replayed)),
          ]))
      } catch {
        let e = Self.apiError(error)
        if e.code == .internal || e.code == .busy || e.code == .timeout { throw error }
        var pairs: [(String, String?)] = [("index", "\(index)"), ("status", "\(e.code.status.code)")]
        if case .success(let o) = item, let id = o["event_id"]?.string { pairs.append(("event_id", J.str(id))) }
        pairs.append(("error", String(e.json.dropFirst("{\"error\":".count).dropLast())))
        results.append(J.object(pairs))
      }
    }
    return Self.json(.ok, J.object([("results", J.array(results))]))
  }

  static func apiError(_ error: any Error) -> APIError {
    switch error {
    case let e as APIError: e
    case let e as StoreError: APIError(e)
    default: APIError(.internal, "the request failed; the server log has the details")
    }
  }

  /// The events of a batch body: a JSON array of objects, or one object per line.
  static func batchItems(_ bytes: [UInt8], limit: Int) throws -> [Result<[String: JSONValue], APIError>] {
    let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
    var items: [Result<[String: JSONValue], APIError>] = []
    if first == UInt8(ascii: "[") {
      let value: JSONValue
      do {
        value = try StoreJSON.decode(JSONValue.self, from: bytes)
      } catch {
        throw APIError(.invalidJSON, "the body is not a JSON array: \(CaseEvent.reason(error))")
      }
      guard case .array(let list) = value else { throw APIError(.invalidJSON, "the body is not a JSON array") }
      guard list.count <= limit else {
        throw APIError(.batchTooLarge, "the batch holds \(list.count) events; the limit is \(limit)")
      }
      for element in list {
        if case .object(let o) = element {
          items.append(.success(o))
        } else {
          items.append(.failure(APIError(.invalidEvent, "an event must be a JSON object")))
        }
      }
    } else {
      let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).filter {
        $0.contains { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }
      }
      guard lines.count <= limit else {
        throw APIError(.batchTooLarge, "the batch holds \(lines.count) events; the limit is \(limit)")
      }
      for line in lines {
        do {
          items.append(.success(try object(Array(line))))
        } catch let e as APIError {
          items.append(.failure(e))
        }
      }
    }
    if items.isEmpty { throw APIError(.invalidEvent, "the batch holds no events") }
    return items
  }

  /// The store's event for a request body: the case from the path, the role and person from
  /// the token, `at` defaulting to now, `If-Match` as the expected version.
  func makeEvent(
    _ object: [String: JSONValue], caseID: String, ifMatch: String?, _ context: APIContext, _ store: CaseStore
  ) throws -> CaseEvent {
    guard let token = context.token else { throw AuthMiddleware.unauthorized("no token") }
    var fields = object
    if let named = fields["case"] {
      guard named.string == caseID else {
        throw APIError(
          .invalidEvent, "field `case`: the body names another case than the path (`\(caseID)`)", field: "case")
      }
    }
    if let named = fields["person"], named.string != token.name {
      throw APIError(
        .actorMismatch, "field `person`: the token speaks for `\(token.name)`; a body cannot name another person",
        field: "person")
    }
    if let named = fields["actor"] {
      // The actor is whoever the token says; a body may repeat it, never change it.
      guard let s = named.string, s == token.name || s == token.role else {
        throw APIError(
          .actorMismatch,
          "field `actor`: the token speaks for `\(token.name)` as `\(token.role)`; a body cannot name another actor",
          field: "actor")
      }
    }
    fields["case"] = .string(caseID)
    fields["actor"] = .string(token.role)
    if fields["at"] == nil || fields["at"] == .null {
      let now = clock()
      fields["at"] = .string(RFC3339.format(now, offsetSeconds: store.rules.calendar.clock.offset(at: now)))
    }
    if let ifMatch {
      let digits = ifMatch.trimmingCharacters(in: CharacterSet(charactersIn: "W/\" "))
      guard let version = Int(digits), version >= 1 else {
        throw APIError(.invalidParameter, "If-Match must be a case version such as \"3\", not `\(ifMatch)`")
      }
      if let body = fields["expected_version"], body.int != Int64(version) {
        throw APIError(
          .invalidEvent, "field `expected_version` differs from If-Match (\(version))", field: "expected_version")
      }
      fields["expected_version"] = .int(Int64(version))
    }
    do {
      var event = try CaseEvent.parse(object: fields)
      event.actor = token.role
      event.person = token.name
      return event
    } catch {
      throw APIError(error)
    }
  }

  /// What one applied (or replayed) event answers.
  struct EventAnswer {
    var eventID: String
    var caseID: String
    var type: String
    var version: Int
    var level: String
    var replayed: Bool
    var decisionJSON: String?

    var json: String {
      J.object([
        ("event_id", J.str(eventID)), ("case", J.str(caseID)), ("type", J.str(type)), ("version", "\(version)"),
        ("level", J.str(level)), ("replayed", J.bool(replayed)), ("decision", J.raw(decisionJSON)),
      ])
    }
  }

  /// Applies an event as the token's principal; a repeated `event_id` answers what the first
  /// one did.
  func apply(_ event: CaseEvent, _ context: APIContext, _ store: CaseStore) async throws -> EventAnswer {
    guard let token = context.token else { throw AuthMiddleware.unauthorized("no token") }
    let (applied, replayed) = try await store.applyAnswering(event, by: token.principal)
    if !replayed, let level = applied.level { metrics.decision(level: level) }
    return EventAnswer(
      eventID: event.eventID, caseID: applied.caseID, type: applied.type, version: applied.version,
      level: applied.level ?? "", replayed: replayed, decisionJSON: applied.decisionJSON)
  }
}
