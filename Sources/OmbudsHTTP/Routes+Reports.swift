import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import OmbudsEngine
import OmbudsReports
import OmbudsRules
import OmbudsStore

extension OmbudsAPI {
  /// The bulletin a request asks for: `from` and `to` (local days, `YYYY-MM-DD`, both
  /// included), `by` (department, level, channel or category).
  func bulletin(_ request: Request) async throws -> Bulletin {
    let parameters = Query(request.uri.query)
    try Self.onlyKnown(parameters, ["from", "to", "by"])
    func day(_ name: String) throws -> CivilDate {
      guard let text = parameters.get(name) else {
        throw APIError(
          .invalidParameter,
          "`\(name)` is required: the period's \(name == "from" ? "first" : "last") day (YYYY-MM-DD)", field: name)
      }
      guard let date = CivilDate(text) else {
        throw APIError(.invalidParameter, "`\(name)` is a date (YYYY-MM-DD), not `\(text)`", field: name)
      }
      return date
    }
    let first = try day("from")
    let last = try day("to")
    var grouping = Bulletin.Grouping.department
    if let by = parameters.get("by") {
      guard let g = Bulletin.Grouping(rawValue: by) else {
        throw APIError(
          .invalidParameter,
          "`by` is \(Bulletin.Grouping.allCases.map(\.rawValue).joined(separator: ", ")), not `\(by)`", field: "by")
      }
      grouping = g
    }
    do {
      return try await stores.store.bulletin(firstDay: first, lastDay: last, by: grouping, now: clock())
    } catch StoreError.invalidArgument(let message) {
      throw APIError(.invalidParameter, message, field: "to")
    }
  }

  /// `GET /v1/reports`: the bulletin's data (the JSON of `ombuds report --format json`).
  func reportData(_ request: Request, _ context: APIContext) async throws -> Response {
    try viewable("reports", context)
    let b = try await bulletin(request)
    return Self.json(.ok, BulletinJSON.render(b).dropLast().description)
  }

  /// `GET /reports/bulletin`: the bulletin as a page (the HTML of `ombuds report`).
  func reportPage(_ request: Request, _ context: APIContext) async throws -> Response {
    try viewable("reports", context)
    let b = try await bulletin(request)
    return Response(
      status: .ok,
      headers: [
        .contentType: "text/html; charset=utf-8", .cacheControl: "private, no-store",
        // The page fetches nothing: no script, style or image from anywhere else.
        .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
      ],
      body: ResponseBody(byteBuffer: ByteBuffer(string: BulletinHTML.render(b))))
  }

  /// The current month's measures (from its first day to today, in the rules' time zone) for
  /// `/metrics`, computed at most once every `MeasureGauges.refresh`.
  func refreshMeasures() async {
    let now = clock()
    guard measureGauges.due(now) else { return }
    let clock = stores.store.rules.calendar.clock
    let today = CivilDate(dayNumber: clock.local(now).day)
    let first = CivilDate(year: today.year, month: today.month, day: 1)
    do {
      let values = try await stores.store.measureValues(firstDay: first, lastDay: today)
      measureGauges.set(values, in: metrics, at: now)
    } catch {
      logger.warning("measures for /metrics failed", metadata: ["error": "\(error)"])
    }
  }
}

/// When `/metrics` last computed the measures.
final class MeasureGauges: Sendable {
  /// Scrapes within this time of the last computation show its values.
  static let refresh: Millis = 60_000
  let last = NIOLockedValueBox<Millis?>(nil)

  func due(_ now: Millis) -> Bool {
    last.withLockedValue { at in at.map { now - $0 >= Self.refresh || now < $0 } ?? true }
  }

  func set(
    _ values: [(measure: MeasureDecl, value: Bulletin.Ratio, unitsBelowFloor: Int)], in metrics: APIMetrics,
    at now: Millis
  ) {
    for v in values {
      metrics.measure(id: v.measure.id, value: v.value, unitsBelowFloor: v.unitsBelowFloor)
    }
    last.withLockedValue { $0 = now }
  }
}
