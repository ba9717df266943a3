import Foundation
import NIOConcurrencyHelpers
import OmbudsStore
import Prometheus

/// The service's Prometheus metrics (`GET /metrics`): requests by route and status, latency
/// histograms by route, decisions by level, rule reloads; the outbox's backlog and failing
/// deliveries are read from the store at each scrape.
final class APIMetrics: Sendable {
  let registry = PrometheusCollectorRegistry()
  static let buckets: [Duration] = [
    .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
    .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
    .seconds(2.5), .seconds(5), .seconds(10),
  ]

  /// The request metrics by route, method and status, made once each (the registry's own
  /// lookup builds label lists and keys on every call).
  let perRequest = NIOLockedValueBox<[String: (Counter, DurationHistogram)]>([:])

  func request(route: String, method: String, status: Int, duration: Duration) {
    let key = "\(route) \(method) \(status)"
    let (counter, histogram) = perRequest.withLockedValue { known in
      if let found = known[key] { return found }
      let made = (
        registry.makeCounter(
          descriptor: Self.name("http_requests", "total", "HTTP requests by route, method and status"),
          labels: [("route", route), ("method", method), ("status", "\(status)")]),
        registry.makeDurationHistogram(
          descriptor: Self.name("http_request_duration", "seconds", "HTTP request latency by route"),
          labels: [("route", route)], buckets: Self.buckets)
      )
      known[key] = made
      return made
    }
    counter.increment()
    histogram.record(duration)
  }

  /// The decision counters by level, made once each.
  let perLevel = NIOLockedValueBox<[String: Counter]>([:])

  func decision(level: String) {
    perLevel.withLockedValue { known in
      if let found = known[level] { return found }
      let made = registry.makeCounter(
        descriptor: Self.name("decisions", "total", "Decisions made through the API, by level"),
        labels: [("level", level)])
      known[level] = made
      return made
    }.increment()
  }

  func ruleReload() {
    registry.makeCounter(descriptor: Self.name("rule_reloads", "total", "Rule sets swapped in since start"))
      .increment()
  }

  /// The outbox as it stands: rows by status, and undelivered rows whose last attempt failed.
  func outbox(byStatus: [String: Int], failing: Int) {
    for status in ["pending", "sending", "delivered", "dead"] {
      registry.makeGauge(
        descriptor: Self.name("outbox_notifications", "", "Outbox rows by delivery status"),
        labels: [("status", status)]
      ).set(Int64(byStatus[status] ?? 0))
    }
    registry.makeGauge(
      descriptor: Self.name(
        "outbox_failing", "", "Undelivered outbox rows whose last attempt failed (retrying or dead)")
    ).set(Int64(failing))
  }

  /// A measure of the current month (POLICY §7): numerator, denominator, the share (NaN
  /// without a denominator) and the units below its floor.
  func measure(id: String, value: Bulletin.Ratio, unitsBelowFloor: Int) {
    let labels = [("measure", id)]
    registry.makeGauge(
      descriptor: Self.name("measure_numerator", "", "The current month's measures: cases counted by the numerator"),
      labels: labels
    ).set(Int64(value.numerator))
    registry.makeGauge(
      descriptor: Self.name(
        "measure_denominator", "", "The current month's measures: cases counted by the denominator"),
      labels: labels
    ).set(Int64(value.denominator))
    registry.makeGauge(
      descriptor: Self.name(
        "measure_ratio", "", "The current month's measures: numerator ÷ denominator (NaN without a denominator)"),
      labels: labels
    ).set(value.denominator > 0 ? Double(value.numerator) / Double(value.denominator) : .nan)
    registry.makeGauge(
      descriptor: Self.name("measure_units_below_floor", "", "Handling units below the measure's floor this month"),
      labels: labels
    ).set(Int64(unitsBelowFloor))
  }

  static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(namespace: "ombuds", metricName: metric, unitName: unit, helpText: help)
  }

  func text() -> String { registry.emitToString() }
}
