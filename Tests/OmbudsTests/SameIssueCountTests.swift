import OmbudsEngine
import OmbudsRules
import Testing

/// `SameIssue.count` (the store's same-issue aggregate) against the plain definition: the
/// most distinct named complainants in one window `[s, s + window)` that contains `t`, `s` a
/// receipt time.
@Suite struct SameIssueCountTests {
  /// The definition, written plainly (a set of names per window).
  static func reference(
    _ receipts: [(time: Millis, who: String?)], at t: Millis, window: RuleDuration, calendar: BusinessCalendar
  ) -> Int {
    var best = 0
    for start in receipts where start.time <= t {
      let end = window.added(to: start.time, calendar: calendar)
      guard end > t else { continue }
      best = max(best, Set(receipts.filter { $0.time >= start.time && $0.time < end }.compactMap(\.who)).count)
    }
    return best
  }

  @Test func countsAsTheDefinitionSaysOnRandomIssues() throws {
    let rules = try Support.defaultRules()
    let day: Millis = 86_400_000
    let base = Support.time("2025-10-01T09:00:00+08:00")
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next(_ n: Int) -> Int {
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((seed >> 33) % UInt64(n))
    }
    var nonZero = 0
    for window in [RuleDuration(1, .months), RuleDuration(7, .days), RuleDuration(3, .workingDays)] {
      for _ in 0..<300 {
        let receipts = (0..<next(14)).map { _ -> (time: Millis, who: String?) in
          (base + Millis(next(60)) * day / 2, next(5) == 0 ? nil : "P\(next(6))")
        }.sorted { $0.time < $1.time }
        let t = base + Millis(next(70)) * day / 2
        let got = SameIssue.count(receipts: receipts, at: t, window: window, calendar: rules.calendar)
        #expect(got == Self.reference(receipts, at: t, window: window, calendar: rules.calendar))
        if got > 0 { nonZero += 1 }
      }
    }
    // The draws reach windows with several complainants, not only empty ones.
    #expect(nonZero > 300)
  }

  @Test func aComplainantCountsOnceAndAnonymousReceiptsNotAtAll() throws {
    let rules = try Support.defaultRules()
    let t = Support.time("2025-10-10T09:00:00+08:00")
    let receipts: [(time: Millis, who: String?)] = [
      (t - 3_000, "A"), (t - 2_000, "A"), (t - 1_000, nil), (t, "B"),
    ]
    #expect(SameIssue.count(receipts: receipts, at: t, window: RuleDuration(1, .months), calendar: rules.calendar) == 2)
    #expect(SameIssue.count(receipts: [], at: t, window: RuleDuration(1, .months), calendar: rules.calendar) == 0)
  }
}
