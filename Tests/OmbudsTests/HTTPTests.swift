import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

/// The HTTP API of a real `ombuds serve`, called by a real HTTP client: what a Java, PHP,
/// Python or Go service sees.
@Suite(.serialized) struct HTTPTests {
  static let t0 = "2025-10-20T09:00:00+08:00"

  static func received(_ id: String, _ at: String, _ extra: String = "") -> String {
    #"{"event_id":"\#(id)-r","type":"received","at":"\#(at)","received_at":"\#(at)","channel":"web"\#(extra)}"#
  }

  @Test func eventsGoInDecisionsComeOutAndRepeatsAnswerTheSame() async throws {
    let s = try await LiveServer()
    let token = try s.token(role: "customer_service_center", name: "王芳")
    let body = Self.received("C-1", Self.t0, #","media":"exposed","complainant_id":"13800000000""#)
    let first = try await s.call(.POST, "/v1/cases/C-1/events", token: token, body: body)
    #expect(first.status == 201, "\(first.text)")
    #expect(first.headers.first(name: "ETag") == "\"1\"")
    let json = try #require(first.json)
    #expect(json["version"] as? Int == 1)
    #expect(json["level"] as? String == "major")
    #expect(json["replayed"] as? Bool == false)
    let decision = try #require(json["decision"] as? [String: Any])
    let reasons = try #require(decision["reasons"] as? [[String: Any]])
    #expect(reasons.first?["condition"] as? String == "media == exposed")
    #expect((reasons.first?["source"] as? String)?.hasSuffix("rules/severity.yaml:8:9") == true)
    #expect(!first.text.contains("13800000000"))

    // The same event again: the first answer, marked as a replay; nothing changes.
    let again = try await s.call(.POST, "/v1/cases/C-1/events", token: token, body: body)
    #expect(again.status == 201)
    #expect(again.json?["version"] as? Int == 1)
    #expect(again.json?["replayed"] as? Bool == true)
    #expect(
      (again.json?["decision"] as? [String: Any]).map { NSDictionary(dictionary: $0) }
        == NSDictionary(dictionary: decision))

    // A stale expected version: 409 with the current one.
    let stale = try await s.call(
      .POST, "/v1/cases/C-1/events", token: token, body: #"{"event_id":"C-1-g","type":"register","expected_version":5}"#
    )
    #expect(stale.status == 409)
    #expect(stale.code == "version_conflict")
    #expect((stale.json?["error"] as? [String: Any])?["current_version"] as? Int == 1)
    #expect(stale.message == "case `C-1` is at version 1, not 5: it changed in the meantime (reload and retry)")
    // If-Match carries the expected version too.
    let staleHeader = try await s.call(
      .POST, "/v1/cases/C-1/events", token: token, body: #"{"event_id":"C-1-g","type":"register"}"#,
      headers: [("If-Match", "\"4\"")])
    #expect(staleHeader.status == 409)
    let registered = try await s.call(
      .POST, "/v1/cases/C-1/events", token: token, body: #"{"event_id":"C-1-g","type":"register"}"#,
      headers: [("If-Match", "\"1\"")])
    #expect(registered.status == 201, "\(registered.text)")
    #expect(registered.json?["version"] as? Int == 2)

    // The store's refusals, with the store's own messages.
    let early = try await s.call(
      .POST, "/v1/cases/C-1/events", token: token, body: #"{"event_id":"C-1-i","type":"closed"}"#)
    #expect(early.status == 409)
    #expect(early.code == "transition_refused")
    #expect(early.message == "case `C-1` is registered: `closed` is not allowed")
    let wrongType = try await s.call(.POST, "/v1/cases/C-1/events", token: token, body: #"{"event_id":"x","type":5}"#)
    #expect(wrongType.status == 422)
    #expect(wrongType.code == "invalid_event")
    #expect((wrongType.json?["error"] as? [String: Any])?["field"] as? String == "type")
    let unknownCase = try await s.call(
      .POST, "/v1/cases/C-404/events", token: token, body: #"{"event_id":"y","type":"register"}"#)
    #expect(unknownCase.status == 404)
    #expect(unknownCase.code == "case_not_found")
    let exists = try await s.call(
      .POST, "/v1/cases/C-1/events", token: token,
      body: Self.received("C-1b", Self.t0).replacingOccurrences(
        of: "C-1b-r", with: "C-1-r2"))
    #expect(exists.status == 409)
    #expect(exists.code == "case_exists")

    // The case: stage, version, the timeline oldest first, the notifications.
    let c = try await s.call(.GET, "/v1/cases/C-1", token: token)
    #expect(c.status == 200)
    let caseJSON = try #require(c.json)
    #expect(caseJSON["version"] as? Int == 2)
    #expect(caseJSON["stage"] as? String == "registered")
    #expect(caseJSON["level"] as? String == "major")
    // The customer-service center must contact the complainant: it sees who they are.
    #expect(caseJSON["identity_included"] as? Bool == true)
    #expect((caseJSON["snapshot"] as? [String: Any])?["complainant_id"] as? String == "13800000000")
    let timeline = try #require(caseJSON["timeline"] as? [[String: Any]])
    #expect(timeline.map { $0["kind"] as? String } == ["event", "decision", "event", "decision"])
    #expect(timeline.compactMap { $0["type"] as? String } == ["received", "register"])
    #expect(timeline.first?["actor"] as? String == "customer_service_center")
    let notifications = try #require(caseJSON["notifications"] as? [[String: Any]])
    // A major case: the customer-service center, admin/PR, leadership and the emergency group at once.
    #expect(
      Set(notifications.compactMap { $0["recipient"] as? String }).isSuperset(of: [
        "customer_service_center", "admin_pr", "leadership", "emergency_group",
      ]))
    // The dispatcher runs beside the API: each is pending, being sent or delivered (to the log).
    #expect(notifications.allSatisfy { ["pending", "sending", "delivered"].contains($0["status"] as? String ?? "") })
    let missing = try await s.call(.GET, "/v1/cases/nope", token: token)
    #expect(missing.status == 404)
    #expect(missing.code == "case_not_found")
    await s.stop()
  }

  /// A batch whose lines fail in different ways — a line the server cannot read as an event,
  /// an event the store refuses — answers each line in order, and every other line is
  /// applied in its own transaction as if sent alone.
  @Test func aBatchAnswersEveryLineInOrderWhateverFails() async throws {
    let s = try await LiveServer()
    let token = try s.token(role: "customer_service_center", name: "王芳")
    func line(_ id: String, _ extra: String = "") -> String {
      Self.received(id, Self.t0, extra).replacingOccurrences(
        of: "{\"event_id\"", with: "{\"case\":\"\(id)\",\"event_id\"")
    }
    let lines = [
      line("A"), #"{"event_id":"no-case","type":"received","at":"2025-10-13T09:00:00+08:00"}"#,
      line("B", #","media":"exposed""#), line("A"), #"{"case":"Z","event_id":"z1","type":"resolved"}"#,
      line("C"),
    ]
    let batch = try await s.call(.POST, "/v1/events", token: token, body: "[" + lines.joined(separator: ",") + "]")
    #expect(batch.status == 200, "\(batch.text)")
    let results = try #require(batch.json?["results"] as? [[String: Any]])
    #expect(results.map { $0["status"] as? Int } == [201, 422, 201, 201, 404, 201])
    #expect(results.map { $0["event_id"] as? String } == ["A-r", "no-case", "B-r", "A-r", "z1", "C-r"])
    #expect(((results[1]["error"] as? [String: Any])?["field"] as? String) == "case")
    #expect(results[2]["level"] as? String == "major")
    // The same event again in one batch: the second answers the first's answer.
    #expect(results[3]["replayed"] as? Bool == true)
    #expect(results[3]["version"] as? Int == 1)
    #expect(((results[4]["error"] as? [String: Any])?["code"] as? String) == "case_not_found")
    #expect(results[5]["version"] as? Int == 1)
    let listed = try await s.call(.GET, "/v1/cases", token: token)
    #expect(
      (listed.json?["cases"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted() == ["A", "B", "C"])
    await s.stop()
  }

  @Test func batchesListsFiltersAndPages() async throws {
    let s = try await LiveServer()
    let token = try s.token(role: "customer_service_center", name: "王芳")
    // Five cases a day apart; B and D are major. One line names an unknown case.
    var lines: [String] = []
    for (i, id) in ["A", "B", "C", "D", "E"].enumerated() {
      let day = String(format: "2025-10-%02dT09:00:00+08:00", 13 + i)
      let extra = (id == "B" || id == "D") ? #","media":"exposed""# : ""
      lines.append(
        Self.received(id, day, extra).replacingOccurrences(
          of: "{\"event_id\"", with: "{\"case\":\"\(id)\",\"event_id\""))
    }
    lines.append(#"{"case":"Z","event_id":"z1","type":"register"}"#)
    let batch = try await s.call(
      .POST, "/v1/events", token: token, body: lines.joined(separator: "\n"),
      headers: [("Content-Type", "application/x-ndjson")])
    #expect(batch.status == 200, "\(batch.text)")
    let results = try #require(batch.json?["results"] as? [[String: Any]])
    #expect(results.map { $0["status"] as? Int } == [201, 201, 201, 201, 201, 404])
    #expect(results.map { $0["index"] as? Int } == [0, 1, 2, 3, 4, 5])
    #expect(results[1]["level"] as? String == "major")
    #expect(((results[5]["error"] as? [String: Any])?["code"] as? String) == "case_not_found")
    // The same batch as a JSON array: every event a replay.
    let array = try await s.call(.POST, "/v1/events", token: token, body: "[" + lines.joined(separator: ",") + "]")
    let replays = try #require(array.json?["results"] as? [[String: Any]])
    #expect(replays.prefix(5).allSatisfy { $0["replayed"] as? Bool == true })

    // Pages of two, by receipt time: A B | C D | E.
    var ids: [String] = []
    var cursor: String?
    var pages = 0
    repeat {
      let path = "/v1/cases?limit=2" + (cursor.map { "&after=\($0)" } ?? "")
      let page = try await s.call(.GET, path, token: token)
      #expect(page.status == 200, "\(page.text)")
      ids += (page.json?["cases"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
      cursor = page.json?["next"] as? String
      pages += 1
    } while cursor != nil && pages < 10
    #expect(ids == ["A", "B", "C", "D", "E"])
    #expect(pages == 3)
    func list(_ query: String) async throws -> [String] {
      let r = try await s.call(.GET, "/v1/cases?\(query)", token: token)
      #expect(r.status == 200, "\(query): \(r.text)")
      return (r.json?["cases"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }
    #expect(try await list("level=major") == ["B", "D"])
    #expect(try await list("sort=-received_at&limit=3") == ["E", "D", "C"])
    #expect(
      try await list("received_from=2025-10-14T00:00:00%2B08:00&received_before=2025-10-16T00:00:00%2B08:00") == [
        "B", "C",
      ])
    // Every deadline of 2025 has passed by the server's clock: all are overdue, until resolved.
    #expect(try await list("overdue=true") == ["A", "B", "C", "D", "E"])
    let resolved = try await s.call(
      .POST, "/v1/cases/C/events", token: token,
      body: #"{"event_id":"C-done","type":"resolved","at":"2025-10-16T10:00:00+08:00"}"#)
    #expect(resolved.status == 201, "\(resolved.text)")
    #expect(try await list("overdue=true") == ["A", "B", "D", "E"])
    #expect(try await list("overdue=false") == ["C"])
    #expect(try await list("state=resolved") == ["C"])
    #expect(try await list("due_before=2025-10-15T12:00:00%2B08:00&sort=due_at").count == 2)
    // Mistakes: named, with the likely meaning.
    let typo = try await s.call(.GET, "/v1/cases?levle=major", token: token)
    #expect(typo.status == 400)
    #expect(typo.code == "invalid_parameter")
    #expect(typo.message?.contains("did you mean `level`?") == true)
    let badLevel = try await s.call(.GET, "/v1/cases?level=majr", token: token)
    #expect(badLevel.status == 400)
    #expect(badLevel.message?.contains("did you mean `major`?") == true)
    let badCursor = try await s.call(.GET, "/v1/cases?after=garbage", token: token)
    #expect(badCursor.status == 400)
    let badLimit = try await s.call(.GET, "/v1/cases?limit=0", token: token)
    #expect(badLimit.status == 400)
    await s.stop()
  }

  @Test func everyRouteButTheHealthChecksNeedsALiveToken() async throws {
    let s = try await LiveServer()
    let token = try s.token(role: "customer_service_center", name: "王芳")
    #expect(try await s.call(.GET, "/healthz").status == 200)
    let ready = try await s.call(.GET, "/readyz")
    #expect(ready.status == 200)
    #expect((ready.json?["rule_set"] as? String)?.hasPrefix("sha256:") == true)
    for (method, path) in [
      (HTTPMethod.GET, "/v1/cases"), (.GET, "/v1/cases/A"), (.POST, "/v1/cases/A/events"), (.POST, "/v1/events"),
      (.POST, "/v1/classify"), (.POST, "/v1/screen"), (.GET, "/v1/rules"), (.GET, "/v1/outbox"),
      (.POST, "/v1/outbox/1/retry"), (.GET, "/metrics"),
    ] {
      let r = try await s.call(method, path, body: method == .POST ? "{}" : nil)
      #expect(r.status == 401, "\(path)")
      #expect(r.code == "unauthorized", "\(path)")
      #expect(r.headers.first(name: "WWW-Authenticate") == "Bearer realm=\"ombuds\"")
    }
    let forged = "omb_00000000_" + String(repeating: "ab", count: 32)
    #expect(try await s.call(.GET, "/v1/rules", token: forged).status == 401)
    #expect(try await s.call(.GET, "/v1/rules", token: "not-a-token").status == 401)
    #expect(try await s.call(.GET, "/v1/rules", token: token).status == 200)
    // The actor is the token's: a body may repeat it, not change it.
    let same = try await s.call(
      .POST, "/v1/cases/A/events", token: token,
      body: Self.received("A", Self.t0).replacingOccurrences(of: "{", with: #"{"actor":"王芳","#))
    #expect(same.status == 201, "\(same.text)")
    let forgedActor = try await s.call(
      .POST, "/v1/cases/A/events", token: token,
      body: #"{"event_id":"A-x","type":"register","actor":"general_manager"}"#)
    #expect(forgedActor.status == 403)
    #expect(forgedActor.code == "actor_mismatch")
    // Revoked: refused at once (this server trusts no cached token).
    let list = try Support.run("ombuds", ["token", "list", "--store", s.storeArgument, "--rules", s.rulesDir])
    #expect(list.status == 0)
    #expect(!list.stdout.contains(token))
    let id = String(token.dropFirst(4).prefix(8))
    #expect(list.stdout.contains("\"id\":\"\(id)\""))
    let revoke = try Support.run("ombuds", ["token", "revoke", "--store", s.storeArgument, "--rules", s.rulesDir, id])
    #expect(revoke.status == 0, "\(revoke.stderr)")
    #expect(try await s.call(.GET, "/v1/rules", token: token).status == 401)
    let unknownRole = try Support.run(
      "ombuds", ["token", "create", "--store", s.storeArgument, "--rules", s.rulesDir, "--role", "boss", "--name", "x"])
    #expect(unknownRole.status != 0)
    #expect(unknownRole.stderr.contains("unknown role `boss`"))
    await s.stop()
  }

  @Test func hostileInputGetsJSONErrorsAndNothingInternal() async throws {
    let s = try await LiveServer(extra: ["--max-body", "2048", "--max-batch", "3"])
    let token = try s.token(role: "customer_service_center", name: "王芳")
    var replies: [LiveServer.Reply] = []
    func expect(
      _ method: HTTPMethod, _ path: String, _ body: String?, _ status: Int, _ code: String,
      headers: [(String, String)] = []
    ) async throws {
      let r = try await s.call(method, path, token: token, body: body, headers: headers)
      #expect(r.status == status, "\(method) \(path): \(r.text)")
      #expect(r.code == code, "\(method) \(path): \(r.text)")
      #expect(r.headers.first(name: "Content-Type")?.hasPrefix("application/json") == true)
      replies.append(r)
    }
    let big = #"{"event_id":"b","type":"received","summary":""# + String(repeating: "x", count: 4000) + #""}"#
    try await expect(.POST, "/v1/cases/A/events", big, 413, "payload_too_large")
    try await expect(.POST, "/v1/cases/A/events", #"{"event_id":"#, 400, "invalid_json")
    try await expect(.POST, "/v1/cases/A/events", "[1,2]", 400, "invalid_json")
    try await expect(.POST, "/v1/cases/A/events", #"{"type":"received"}"#, 422, "invalid_event")
    try await expect(.POST, "/v1/cases/A/events", #"{"event_id":"e","type":"nope"}"#, 422, "invalid_event")
    try await expect(
      .POST, "/v1/cases/A/events", #"{"event_id":"e","type":"register","at":"yesterday"}"#, 422, "invalid_event")
    try await expect(
      .POST, "/v1/cases/A/events",
      #"{"event_id":"e","type":"received","received_at":"2025-10-20T09:00:00+08:00","collective_size":"many"}"#,
      422, "invalid_case")
    try await expect(
      .POST, "/v1/events", "[" + Array(repeating: #"{"case":"A"}"#, count: 4).joined(separator: ",") + "]", 413,
      "batch_too_large")
    try await expect(.POST, "/v1/events", "", 422, "invalid_event")
    try await expect(.GET, "/v1/nothing", nil, 404, "not_found")
    try await expect(.GET, "/", nil, 404, "not_found")
    try await expect(.DELETE, "/v1/cases/A", nil, 405, "method_not_allowed")
    try await expect(.GET, "/v1/events", nil, 405, "method_not_allowed")
    try await expect(.POST, "/v1/outbox/abc/retry", nil, 400, "invalid_parameter")
    try await expect(.POST, "/v1/outbox/99/retry", nil, 404, "not_found")
    try await expect(
      .POST, "/v1/classify", "hello", 415, "unsupported_media_type", headers: [("Content-Type", "text/plain")])
    try await expect(.POST, "/v1/screen", #"{"txt":"x"}"#, 400, "invalid_parameter")
    #expect(replies[11].headers.first(name: "Allow") == "GET, HEAD")
    // What a field error names.
    #expect((replies[3].json?["error"] as? [String: Any])?["field"] as? String == "event_id")
    #expect((replies[6].json?["error"] as? [String: Any])?["field"] as? String == "collective_size")
    for r in replies {
      for leak in ["SELECT", "sqlite", "Swift/", ".swift:", "Fatal", "GRDB", "PSQL"] {
        #expect(!r.text.contains(leak), "\(r.text)")
      }
    }
    #expect(s.process.isRunning)
    await s.stop()
  }

  @Test func classifyScreenRulesOutboxAndMetrics() async throws {
    // The customer-service center's webhook is dead: its notifications fail and wait for a retry.
    let s = try await LiveServer(
      rulesDir: try LiveServer.rulesWithWebhook(),
      environment: ["OMBUDS_TEST_HOOK_URL": "http://127.0.0.1:1/dead", "OMBUDS_TEST_HOOK_SECRET": "s"])
    let token = try s.token(role: "customer_service_center", name: "王芳")
    // POST /v1/classify answers exactly what `ombuds classify` prints.
    let cases = [
      #"{"id":"k1","received_at":"2025-10-20T09:00:00+08:00","channel":"web","media":"exposed"}"#,
      #"{"id":"k2","received_at":"2025-10-20T09:30:00+08:00","channel":"phone","compensation":{"amount":"800.00","currency":"CNY"}}"#,
    ]
    let now = "2025-10-20T12:00:00+08:00"
    let cli = try Support.run(
      "ombuds", ["classify", "--rules", s.rulesDir, "--now", now], stdin: cases.joined(separator: "\n") + "\n")
    #expect(cli.status == 0)
    let nowQuery = "now=2025-10-20T12:00:00%2B08:00"
    let lines = try await s.call(
      .POST, "/v1/classify?\(nowQuery)", token: token, body: cases.joined(separator: "\n"),
      headers: [("Content-Type", "application/x-ndjson")])
    #expect(lines.status == 200)
    #expect(lines.text == cli.stdout)
    // Classified alone, k2 is judged without k1 as history: here that changes nothing.
    let one = try await s.call(.POST, "/v1/classify?\(nowQuery)", token: token, body: cases[1])
    #expect(one.status == 200)
    let cliLines = cli.stdout.split(separator: "\n")
    #expect(one.text == (cliLines.count == 2 ? String(cliLines[1]) + "\n" : "?"))
    #expect(one.json?["refund_approver"] as? String == "general_manager")
    let bad = try await s.call(.POST, "/v1/classify", token: token, body: #"{"id":"k3"}"#)
    #expect(bad.status == 422)
    #expect(bad.code == "invalid_case")
    #expect((bad.json?["error"] as? [String: Any])?["field"] as? String == "received_at")

    // Screening: the category and the span of the keyword, in Unicode scalars.
    let screened = try await s.call(.POST, "/v1/screen", token: token, body: #"{"text":"他说有人卖冰毒"}"#)
    #expect(screened.status == 200)
    let match = try #require((screened.json?["matches"] as? [[String: Any]])?.first)
    #expect(match["keyword"] as? String == "冰毒")
    #expect(match["start"] as? Int == 5)
    #expect(match["end"] as? Int == 7)
    #expect(screened.json?["categories"] as? [String] == [match["category"] as? String ?? "?"])
    #expect(match["disguise"] == nil)  // found as written
    // A disguise undone says which.
    let disguised = try await s.call(.POST, "/v1/screen", token: token, body: #"{"text":"这里有dubo网站"}"#)
    let dm = try #require((disguised.json?["matches"] as? [[String: Any]])?.first)
    #expect(dm["keyword"] as? String == "赌博")
    #expect(dm["disguise"] as? String == "pinyin")
    #expect(dm["start"] as? Int == 3)
    #expect(dm["end"] as? Int == 7)

    let rules = try await s.call(.GET, "/v1/rules", token: token)
    #expect(rules.status == 200)
    #expect(
      (rules.json?["levels"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [
        "major", "hot", "important", "ordinary",
      ])
    #expect((rules.json?["event_types"] as? [String])?.contains("carry_out") == true)
    #expect(
      (rules.json?["satisfaction"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [
        "satisfied", "fairly_satisfied", "dissatisfied",
      ])

    // The outbox of a major case: the webhook's row fails; a retry starts its attempts again.
    let r = try await s.call(
      .POST, "/v1/cases/M/events", token: token, body: Self.received("M", Self.t0, #","media":"exposed""#))
    #expect(r.status == 201)
    // The dispatcher logs the failed attempt after it has recorded it.
    #expect(await s.log.contains("delivery failed; will retry"))
    let outbox = try await s.call(.GET, "/v1/outbox?case=M&status=all", token: token)
    let failed = (outbox.json?["items"] as? [[String: Any]])?.first {
      $0["recipient"] as? String == "customer_service_center" && $0["last_error"] is String
    }
    let row = try #require(failed, "no failed delivery to the dead webhook")
    // A page of one: cut, and said so.
    let page = try await s.call(.GET, "/v1/outbox?status=all&limit=1", token: token)
    #expect((page.json?["items"] as? [[String: Any]])?.count == 1)
    #expect(page.json?["truncated"] as? Bool == true)
    #expect((row["last_error"] as? String)?.isEmpty == false)
    #expect(row["channel"] as? String == "webhook")
    let id = try #require(row["id"] as? Int)
    let retried = try await s.call(.POST, "/v1/outbox/\(id)/retry", token: token)
    #expect(retried.status == 200, "\(retried.text)")
    // Requeued: pending with its attempts from zero (or already claimed again by the dispatcher).
    #expect(["pending", "sending"].contains(retried.json?["status"] as? String ?? ""))
    #expect((retried.json?["attempts"] as? Int ?? 9) <= 1)

    // Metrics: requests by route and status, decisions by level, the outbox backlog.
    let metrics = try await s.call(.GET, "/metrics", token: token)
    #expect(metrics.status == 200)
    #expect(metrics.headers.first(name: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
    #expect(
      metrics.text.contains(#"ombuds_http_requests_total{route="/v1/cases/{id}/events",method="POST",status="201"} 1"#))
    #expect(metrics.text.contains(#"ombuds_decisions_total{level="major"} 1"#))
    #expect(metrics.text.contains(#"ombuds_http_request_duration_seconds_count{route="/v1/classify"} 3"#))
    #expect(metrics.text.contains(#"ombuds_outbox_notifications{status="pending"}"#))
    #expect(!metrics.text.contains("ombuds_outbox_failing 0"))
    await s.stop()
  }

  @Test func theRulesDecideWhoMayPostAndWhoSeesTheComplainant() async throws {
    let s = try await LiveServer()
    let center = try s.token(role: "customer_service_center", name: "王芳")
    let handler1 = try s.token(role: "handler", name: "h-1")
    let handler2 = try s.token(role: "handler", name: "h-2")
    let market = try s.token(role: "market_management", name: "周敏")
    let respondent = try s.token(role: "customer_service_center", name: "李四")
    let manager = try s.token(role: "general_manager", name: "总经理")
    func post(_ token: String, _ caseID: String, _ body: String) async throws -> LiveServer.Reply {
      try await s.call(.POST, "/v1/cases/\(caseID)/events", token: token, body: body)
    }
    func rule(_ r: LiveServer.Reply) -> String? { (r.json?["error"] as? [String: Any])?["rule"] as? String }
    // A case about 李四, with the complainant's number and 800 CNY of compensation.
    let received = Self.received(
      "P", Self.t0,
      #","complainant_id":"13800000000","contact":"13800000000","respondent":"李四","compensation":{"amount":"800.00","currency":"CNY"}"#
    )
    #expect(try await post(handler1, "P", received.replacingOccurrences(of: "P-r", with: "P-r0")).status == 403)
    #expect(try await post(center, "P", received).status == 201)
    // The person complained about never acts on their own case, whatever their role.
    let own = try await post(respondent, "P", #"{"event_id":"P-g0","type":"register"}"#)
    #expect(own.status == 403)
    #expect(own.code == "forbidden")
    #expect(own.message?.contains("never acts on their own case") == true)
    #expect(rule(own)?.hasSuffix("rules/permissions.yaml:9:3") == true)
    for (i, type) in ["register", "accept"].enumerated() {
      let r = try await post(center, "P", #"{"event_id":"P-\#(i)","type":"\#(type)"}"#)
      #expect(r.status == 201, "\(type): \(r.text)")
    }
    #expect(try await post(center, "P", #"{"event_id":"P-a","type":"assign","assignee":"h-1"}"#).status == 201)
    // Only the assignee investigates.
    let other = try await post(handler2, "P", #"{"event_id":"P-i2","type":"investigate"}"#)
    #expect(other.status == 403)
    #expect(other.message?.contains("`h-2` (role `handler`) may not post `investigate`") == true)
    #expect(rule(other)?.hasSuffix("rules/permissions.yaml:49:5") == true)
    #expect(try await post(handler1, "P", #"{"event_id":"P-i1","type":"investigate"}"#).status == 201)
    #expect(try await post(handler1, "P", #"{"event_id":"P-p","type":"propose"}"#).status == 201)
    // 800 CNY: the general manager's approval, not the market department's.
    let notMine = try await post(market, "P", #"{"event_id":"P-m","type":"approve"}"#)
    #expect(notMine.status == 403)
    #expect(notMine.code == "forbidden")
    let approved = try await post(manager, "P", #"{"event_id":"P-ok","type":"approve"}"#)
    #expect(approved.status == 201, "\(approved.text)")
    // Only the center overrides a level.
    let override = try await post(handler1, "P", #"{"event_id":"P-o","type":"override","level":"major","reason":"x"}"#)
    #expect(override.status == 403)

    // Who sees the complainant: the center and the assignee; not the others.
    func sees(_ token: String) async throws -> (Bool?, String?) {
      let r = try await s.call(.GET, "/v1/cases/P", token: token)
      #expect(r.status == 200, "\(r.text)")
      return (
        r.json?["identity_included"] as? Bool, (r.json?["snapshot"] as? [String: Any])?["complainant_id"] as? String
      )
    }
    #expect(try await sees(center) == (true, "13800000000"))
    #expect(try await sees(handler1) == (true, "13800000000"))
    #expect(try await sees(handler2) == (false, nil))
    #expect(try await sees(market) == (false, nil))
    #expect(try await sees(respondent) == (false, nil))
    // The timeline names who acted: the role as actor.
    let timeline = try await s.call(.GET, "/v1/cases/P", token: center)
    let actors = (timeline.json?["timeline"] as? [[String: Any]] ?? []).compactMap { $0["actor"] as? String }
    #expect(actors.contains("general_manager") && actors.contains("handler"))
    #expect(
      !timeline.text.contains("\"contact\":\"13800000000\"") || timeline.json?["identity_included"] as? Bool == true)
    // A protected complainant (asked for confidentiality): the center alone.
    let secret = Self.received("Q", Self.t0, #","complainant_id":"13900000000","confidential":true"#)
    #expect(try await post(center, "Q", secret).status == 201)
    for (i, t) in ["register", "accept"].enumerated() {
      #expect(try await post(center, "Q", #"{"event_id":"Q-\#(i)","type":"\#(t)"}"#).status == 201)
    }
    #expect(try await post(center, "Q", #"{"event_id":"Q-a","type":"assign","assignee":"h-1"}"#).status == 201)
    let q1 = try await s.call(.GET, "/v1/cases/Q", token: handler1)
    #expect(q1.json?["identity_included"] as? Bool == false)
    #expect(!q1.text.contains("13900000000"))
    let q0 = try await s.call(.GET, "/v1/cases/Q", token: center)
    #expect(q0.json?["identity_included"] as? Bool == true)
    await s.stop()
  }

  /// The server's resident memory in kB (Linux), or nil.
  static func residentKB(_ pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
    return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
  }

  /// Requests that end before their timeout leave nothing behind: a cancelled `Task.sleep`
  /// per request used to keep ~750 bytes each until the timeout (30 s), 170 MB a minute at
  /// 45,000 requests a second.
  @Test func manyRequestsLeaveTheServersMemoryAsItWas() async throws {
    let s = try await LiveServer()
    guard Self.residentKB(s.process.processIdentifier) != nil else {
      try Test.cancel("skipped: no /proc/PID/status to read the server's memory from")
    }
    func burst(_ n: Int) async throws {
      try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<16 {
          group.addTask {
            for _ in stride(from: worker, to: n, by: 16) {
              let status = try await s.call(.GET, "/healthz").status
              #expect(status == 200)
            }
          }
        }
        try await group.waitForAll()
      }
    }
    try await burst(2_000)
    let before = try #require(Self.residentKB(s.process.processIdentifier))
    try await burst(30_000)
    let after = try #require(Self.residentKB(s.process.processIdentifier))
    // 30,000 requests: 22 MB with the sleeping timers; a few hundred kB without.
    #expect(after - before < 8_000, "resident memory grew from \(before) kB to \(after) kB")
    await s.stop()
  }

  /// What schemathesis found: ids and query values as clients encode them, and times RFC 3339
  /// can write, whatever the year.
  @Test func idsAndQueriesAreDecodedAndEveryTimeIsRFC3339() async throws {
    let s = try await LiveServer()
    let token = try s.token(role: "customer_service_center", name: "王芳")
    // A case id with a space, and one in Chinese: reached by their percent-encoded paths.
    let spaced = try await s.call(
      .POST, "/v1/cases/A%20B/events", token: token,
      body: Self.received("AB", Self.t0, #","issue_key":"route 12""#))
    #expect(spaced.status == 201, "\(spaced.text)")
    #expect(spaced.json?["case"] as? String == "A B")
    let chinese = try await s.call(
      .POST, "/v1/cases/%E6%8A%95%E8%AF%89-1/events", token: token, body: Self.received("t1", Self.t0))
    #expect(chinese.json?["case"] as? String == "投诉-1")
    #expect(try await s.call(.GET, "/v1/cases/%E6%8A%95%E8%AF%89-1", token: token).status == 200)
    // `+` is a space in a query (a literal plus is %2B); a raw + in a time's offset still works.
    let plus = try await s.call(.GET, "/v1/cases?issue=route+12", token: token)
    #expect((plus.json?["cases"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["A B"])
    let rawPlus = try await s.call(.GET, "/v1/cases?received_from=2025-10-01T00:00:00+08:00", token: token)
    #expect(rawPlus.status == 200, "\(rawPlus.text)")
    #expect((rawPlus.json?["cases"] as? [[String: Any]])?.count == 2)
    // Times the store derives past year 9999, or from year 3, are still RFC 3339.
    let late = try await s.call(
      .POST, "/v1/cases/Y9/events", token: token,
      body: #"{"event_id":"y9","type":"received","at":"9999-12-31T23:59:59Z","received_at":"9999-12-31T23:59:59Z"}"#)
    #expect(late.status == 201)
    let deadline =
      ((late.json?["decision"] as? [String: Any])?["deadlines"] as? [String: Any])?["resolve_by"] as? String
    #expect(deadline == "9999-12-31T23:59:59.999+08:00")
    let early = try await s.call(
      .POST, "/v1/classify", token: token, body: #"{"id":"k","received_at":"0003-01-04T01:46:01-22:14"}"#)
    let earlyDeadline = ((early.json?["deadlines"] as? [String: Any])?["resolve_by"] as? String) ?? "?"
    #expect(earlyDeadline.hasPrefix("0003-01-0"), "\(early.text)")
    // The lifecycle's instants too.
    let c = try await s.call(.GET, "/v1/cases/A%20B", token: token)
    #expect((c.json?["lifecycle"] as? [String: Any])?["level_since"] as? String == Self.t0)
    await s.stop()
  }
}
