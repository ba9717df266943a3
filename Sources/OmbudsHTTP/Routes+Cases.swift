import Foundation
import HTTPTypes
import Hummingbird
import OmbudsEngine
import OmbudsStore
import OmbudsSyntax

extension OmbudsAPI {
  /// The query parameters `GET /v1/cases` takes.
  static let caseListParameters: Set<String> = [
    "level", "stage", "state", "overdue", "due_before", "issue", "received_from", "received_before", "sort", "limit",
    "after",
  ]

  /// `GET /v1/cases`: filters, an order, a page.
  func listCases(_ request: Request, _ context: APIContext) async throws -> Response {
    let store = stores.store
    try readable(context, store)
    let query = try caseQuery(Query(request.uri.query), store)
    let page = try await store.cases(matching: query)
    let items = page.items.map { c in
      J.object([
        ("id", J.str(c.id)), ("version", "\(c.version)"), ("level", J.str(c.level)), ("stage", J.str(c.stage)),
        ("state", J.str(c.state)), ("received_at", time(c.receivedAt, store)), ("due_at", time(c.dueAt, store)),
        ("overdue", J.bool(c.dueAt.map { $0 < query.now } ?? false)),
        ("next_review_at", time(c.nextReviewAt, store)), ("issue", J.str(c.issue)),
      ])
    }
    return Self.json(.ok, J.object([("cases", J.array(items)), ("next", J.str(page.next))]))
  }

  /// Refuses (403) a token whose role the rules in force do not define.
  func readable(_ context: APIContext, _ store: CaseStore) throws {
    guard let token = context.token else { throw AuthMiddleware.unauthorized("no token") }
    try store.checkRead(token.principal)
  }

  /// A 400 for a query parameter the route does not take, with the likely one.
  static func onlyKnown(_ parameters: Query, _ known: Set<String>) throws {
    for (key, _) in parameters where !known.contains(key) {
      throw APIError(
        .invalidParameter,
        "unknown query parameter `\(key)`\(didYouMean(String(key), known.sorted())) (known: \(known.sorted().joined(separator: ", ")))",
        field: String(key))
    }
  }

  static func didYouMean(_ name: String, _ known: [String]) -> String {
    Suggest.closest(to: name, in: known).map { "; did you mean `\($0)`?" } ?? ""
  }

  func caseQuery(_ parameters: Query, _ store: CaseStore) throws -> CaseQuery {
    var q = CaseQuery()
    q.now = clock()
    try Self.onlyKnown(parameters, Self.caseListParameters)
    /// Values given as `a,b` or as repeated parameters.
    func list(_ name: String, known: [String]) throws -> [String] {
      let values = parameters.getAll(name).flatMap { $0.split(separator: ",").map(String.init) }
      for v in values where !known.contains(v) {
        throw APIError(
          .invalidParameter,
          "`\(name)`: unknown value `\(v)`\(Self.didYouMean(v, known)) (one of \(known.joined(separator: ", ")))",
          field: name)
      }
      return values
    }
    func instant(_ name: String) throws -> Millis? {
      guard let text = parameters.get(name) else { return nil }
      guard let t = RFC3339.parse(RFC3339Lenient.fromQuery(text)) else {
        throw APIError(
          .invalidParameter, "`\(name)`: `\(text)` is not an RFC 3339 time such as 2025-10-20T12:00:00+08:00",
          field: name)
      }
      return t
    }
    q.levels = try list("level", known: store.rules.levels.map(\.id))
    q.stages = try list("stage", known: Stage.allCases.map(\.rawValue))
    q.states = try list("state", known: ["open", "resolved", "closed"])
    if let o = parameters.get("overdue") {
      guard o == "true" || o == "false" else {
        throw APIError(.invalidParameter, "`overdue` is true or false, not `\(o)`", field: "overdue")
      }
      q.overdue = o == "true"
    }
    q.dueBefore = try instant("due_before")
    q.receivedFrom = try instant("received_from")
    q.receivedBefore = try instant("received_before")
    q.issue = parameters.get("issue")
    if let sort = parameters.get("sort") {
      let descending = sort.hasPrefix("-")
      guard let s = CaseQuery.Sort(rawValue: descending ? String(sort.dropFirst()) : sort) else {
        throw APIError(
          .invalidParameter, "`sort` is received_at, -received_at, due_at or -due_at, not `\(sort)`", field: "sort")
      }
      q.sort = s
      q.descending = descending
    }
    if let l = parameters.get("limit") {
      guard let n = Int(l), (1...CaseStore.maxPageSize).contains(n) else {
        throw APIError(
          .invalidParameter, "`limit` is a whole number from 1 to \(CaseStore.maxPageSize), not `\(l)`", field: "limit")
      }
      q.limit = n
    }
    q.after = parameters.get("after")
    return q
  }

  /// `GET /v1/cases/{id}`: the case, its latest decision, lifecycle, timeline and notifications.
  func getCase(_ request: Request, _ context: APIContext) async throws -> Response {
    let id = try Self.pathID(context)
    let store = stores.store
    guard let token = context.token else { throw AuthMiddleware.unauthorized("no token") }
    // The complainant's identity only for the roles the rules' permissions let see it.
    guard let c = try await store.storedCase(id, for: token.principal, now: clock()) else {
      throw APIError(StoreError.unknownCase(id))
    }
    async let timeline = store.timeline(of: id)
    async let notifications = store.outboxItems(caseID: id)
    let entries = try await timeline.map { e -> String in
      switch e.kind {
      case .event:
        J.object([
          ("kind", J.str("event")), ("at", time(e.at, store)), ("event_id", J.str(e.eventID)), ("type", J.str(e.type)),
          ("version", J.int(e.version)), ("actor", J.str(e.actor)), ("fields", J.raw(e.body)),
        ])
      case .decision:
        J.object([
          ("kind", J.str("decision")), ("at", time(e.at, store)), ("event_id", J.str(e.eventID)),
          ("level", J.str(e.level)), ("rule_set", J.str(e.ruleSet)),
          ("previous_rule_set", e.previousRuleSet.map(J.str)), ("decision", J.raw(e.body)),
        ])
      }
    }
    let sent = try await notifications.map { outboxJSON($0, store) }
    // `?explain=zh|en`: why the case has its level and deadlines, with its values (never the
    // identity the reader may not see).
    var explanation: String?
    if let lang = Query(request.uri.query).get("explain") {
      guard let language = ["zh": Language.zhCN, "en": .en][lang] else {
        throw APIError(.invalidParameter, "`explain` is zh or en, not `\(lang)`", field: "explain")
      }
      explanation = try await store.explanation(id, at: clock(), identityVisible: c.identityIncluded).map {
        ExplanationJSON(rules: store.rules, language: language).render($0)
      }
    }
    let body = J.object([
      ("id", J.str(c.id)), ("version", "\(c.version)"), ("stage", J.str(c.stage)), ("state", J.str(c.state)),
      ("level", J.str(c.level)), ("identity_included", J.bool(c.identityIncluded)), ("snapshot", J.raw(c.snapshotJSON)),
      ("decision", J.raw(c.decisionJSON)), ("lifecycle", lifecycleJSON(c.lifecycleJSON, store)),
      ("next_review_at", time(c.nextReviewAt, store)), ("timeline", J.array(entries)),
      ("notifications", J.array(sent)), ("explanation", explanation),
    ])
    var headers: HTTPFields = [:]
    headers[.eTag] = "\"\(c.version)\""
    return Self.json(.ok, body, headers: headers)
  }

  /// A lifecycle as the API shows it: its instants in RFC 3339, like every time of the API.
  func lifecycleJSON(_ text: String, _ store: CaseStore) -> String {
    guard var object = (try? StoreJSON.decode(JSONValue.self, from: Array(text.utf8)))?.object else {
      return J.raw(text)
    }
    if let since = object["level_since"]?.int {
      object["level_since"] = .string(
        RFC3339.format(since, offsetSeconds: store.rules.calendar.clock.offset(at: since)))
    }
    return J.value(.object(object))
  }

  /// An outbox row, as the API shows it.
  func outboxJSON(_ i: OutboxItem, _ store: CaseStore) -> String {
    J.object([
      ("id", "\(i.id)"), ("key", J.str(i.key)), ("case", J.str(i.caseID)), ("kind", J.str(i.kind)),
      ("recipient", J.str(i.recipient)), ("channel", J.str(i.channel)), ("status", J.str(i.status.rawValue)),
      ("attempts", "\(i.attempts)"), ("due_at", time(i.dueAt, store)), ("ready_at", time(i.readyAt, store)),
      ("delivered_at", time(i.deliveredAt, store)), ("last_error", J.str(i.lastError)),
    ])
  }
}
