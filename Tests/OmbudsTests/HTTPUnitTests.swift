import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import OmbudsEngine
import OmbudsNotifier
import OmbudsStore
import Testing

@testable import OmbudsHTTP

/// The API's pieces in-process: every store error's status and code, and the request timeout.
@Suite struct HTTPUnitTests {
  /// Each store error, as the API answers it: the status, the code, the message kept.
  @Test(
    arguments: [
      (StoreError.invalidEvent("field `type` is required (a string)"), 422, "invalid_event", "type"),
      (.unknownCase("C"), 404, "case_not_found", nil),
      (.caseExists("C"), 409, "case_exists", nil),
      (.invalidCase("C", "field `media`: expected one of none"), 422, "invalid_case", "media"),
      (.conflict(case: "C", expected: 2, actual: 3), 409, "version_conflict", nil),
      (.illegalTransition(case: "C", state: "closed", event: "assign"), 409, "transition_refused", nil),
      (.gate(case: "C", transition: "close", missing: "the report"), 409, "gate_closed", nil),
      (.forbidden("must recuse"), 409, "refused", nil),
      (.notPermitted(case: "C", message: "no", rule: "rules/permissions.yaml:9:3"), 403, "forbidden", nil),
      (.invalidArgument("`limit` must be from 1 to 1000"), 400, "invalid_parameter", nil),
      (.notFound("no outbox row 9"), 404, "not_found", nil),
      (.retry("deadlock"), 503, "busy", nil),
      (.database("SELECT * FROM cases: disk I/O error"), 500, "internal", nil),
    ] as [(StoreError, Int, String, String?)])
  func storeErrorsMapToStatusesAndCodes(_ error: StoreError, _ status: Int, _ code: String, _ field: String?) {
    let e = APIError(error)
    #expect(Int(e.code.status.code) == status)
    #expect(e.code.rawValue == code)
    #expect(e.field == field)
    switch error {
    case .database, .retry:
      // Nothing of the database's own text reaches a response.
      #expect(!e.json.contains("SELECT") && !e.json.contains("disk") && !e.json.contains("deadlock"))
    case .invalidEvent(let m):
      // The code says it is an invalid event; the message is the store's own.
      #expect(e.message == m)
    default:
      #expect(e.message == error.description)
    }
    if case .notPermitted = error { #expect(e.rule == "rules/permissions.yaml:9:3") }
    if case .conflict = error { #expect(e.json.contains("\"current_version\":3")) }
  }

  /// Query values as forms write them: `+` a space, `%XX` a byte, a bad escape left as it came.
  @Test func queryValuesAreDecodedAsFormsWriteThem() {
    let q = Query("a=1+2&b=%E6%8A%95%E8%AF%89&c=%zz&d&e=%2B08:00&b=x&f=%FF")
    #expect(q.get("a") == "1 2")
    #expect(q.get("b") == "投诉")
    #expect(q.getAll("b") == ["投诉", "x"])
    #expect(q.get("c") == "%zz")
    #expect(q.get("d") == "")
    #expect(q.get("e") == "+08:00")
    #expect(q.get("f") == "%FF")
    #expect(q.get("g") == nil)
    #expect(Query(nil).pairs.isEmpty)
  }

  @Test(arguments: [
    ("Bearer omb_x", "omb_x"), ("bearer omb_x", "omb_x"), ("BEARER   omb_x  ", "omb_x"), ("Basic omb_x", nil),
    ("Bearer", nil), ("Bearer    ", nil), ("Bearerx omb_x", nil), ("", nil),
  ] as [(String, String?)])
  func theBearerTokenIsReadFromItsHeader(_ header: String, _ token: String?) {
    #expect(AuthMiddleware.bearer(header) == token)
  }

  @Test func aRequestOverTheTimeoutIsAnswered503AndTheServerGoesOn() async throws {
    let path = try Support.temporaryDirectory().appendingPathComponent("t.sqlite").path
    let store = try await CaseStore(path: path, rules: try Support.defaultRules())
    let (token, _) = try await store.createToken(name: "t", role: "customer_service_center", at: 0)
    var configuration = HTTPConfiguration()
    configuration.port = 0
    // Long enough for /v1/rules in a debug build on a loaded machine (300 ms was not, once).
    configuration.requestTimeout = .seconds(2)
    let api = OmbudsAPI(stores: StoreBox(store), configuration: configuration)
    let router = api.router()
    router.get("/v1/slow") { _, _ -> String in
      try await Task.sleep(for: .seconds(60))
      return "late"
    }
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let service = api.service(router: router) { _, port in continuation.yield(port) }
    let running = Task { try await service.run() }
    defer { running.cancel() }
    var iterator = ports.makeAsyncIterator()
    let port = try #require(await iterator.next())
    func get(_ path: String) async throws -> (Int, String) {
      var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
      request.headers.add(name: "Authorization", value: "Bearer \(token)")
      let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
      return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }
    // The handler sleeps a minute and the client waits 30 s: only the server's timeout answers.
    let (status, body) = try await get("/v1/slow")
    #expect(status == 503)
    #expect(body.contains("\"code\":\"timeout\""))
    #expect(try await get("/v1/rules").0 == 200)
  }
}
