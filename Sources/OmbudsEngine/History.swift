import OmbudsRules

/// What the evaluator asks about other cases. The evaluator stays pure: `ombuds classify`
/// answers from the cases it was given, the case store from its tables.
public protocol CaseHistory: AnyObject, Sendable {
  /// The largest number of distinct complainants among cases with the same `issue_key` as
  /// `facts` received inside one window of length `window` that contains `facts.receivedAt`,
  /// counting only cases received at or before `asOf`. The case itself counts.
  func sameIssueComplainants(of facts: CaseFacts, window: RuleDuration, asOf: Millis) -> Int
}

/// A history of one batch of cases held in memory, with every answer precomputed so that it
/// can be shared by many threads.
public final class InMemoryHistory: CaseHistory {
  /// The windows asked about, and the counts: `counts[w * caseCount + ordinal]`.
  let windows: [RuleDuration]
  let counts: [Int32]
  let caseCount: Int

  /// - Parameters:
  ///   - cases: the batch; `ordinal` must be each case's index in it.
  ///   - windows: the aggregate windows the rules use (`CompiledRules.aggregateWindows`).
  public init(cases: [CaseFacts], windows: [RuleDuration], asOf: Millis, calendar: BusinessCalendar) {
    var groups: [String: [Int]] = [:]
    for (i, c) in cases.enumerated() {
      guard let key = c.issueKey, c.receivedAt <= asOf else { continue }
      // Anonymous cases cannot be told apart from other complainants: they are not counted.
      groups[key, default: []].append(i)
    }
    var counts: [Int32] = []
    counts.reserveCapacity(windows.count * cases.count)
    for w in windows {
      var out = cases.map { Int32($0.complainantID == nil ? 0 : 1) }
      for (_, members) in groups {
        let sorted = members.sorted { cases[$0].receivedAt < cases[$1].receivedAt }
        let times = sorted.map { cases[$0].receivedAt }
        let who = sorted.map { cases[$0].complainantID }
        let ends = times.map { w.added(to: $0, calendar: calendar) }
        // distinct[i]: distinct complainants in [times[i], ends[i]).
        var distinct = [Int32](repeating: 0, count: sorted.count)
        var inWindow: [String: Int] = [:]
        var hi = 0
        for lo in 0..<sorted.count {
          while hi < sorted.count, times[hi] < ends[lo] {
            if let w = who[hi] { inWindow[w, default: 0] += 1 }
            hi += 1
          }
          distinct[lo] = Int32(inWindow.count)
          if let w = who[lo], let n = inWindow[w] {
            if n == 1 { inWindow[w] = nil } else { inWindow[w] = n - 1 }
          }
        }
        // A case at t is covered by windows starting at receipts s <= t with end(s) > t.
        var first = 0
        for k in 0..<sorted.count {
          while ends[first] <= times[k] { first += 1 }
          var best: Int32 = who[k] == nil ? 0 : 1
          var s = first
          while s < sorted.count, times[s] <= times[k] {
            best = max(best, distinct[s])
            s += 1
          }
          out[sorted[k]] = best
        }
      }
      counts.append(contentsOf: out)
    }
    self.windows = windows
    self.counts = counts
    self.caseCount = cases.count
  }

  public func sameIssueComplainants(of facts: CaseFacts, window: RuleDuration, asOf: Millis) -> Int {
    let w = windows.count == 1 && windows[0] == window ? 0 : (windows.firstIndex(of: window) ?? -1)
    guard facts.ordinal >= 0, w >= 0, facts.ordinal < caseCount else {
      return facts.strings[BuiltinFields.complainantID] == nil ? 0 : 1
    }
    return Int(counts[w * caseCount + facts.ordinal])
  }
}

/// The same-issue count for one case, from the receipts of its issue: the building block for
/// histories that look cases up on demand (the case store).
public enum SameIssue {
  /// The largest number of distinct named complainants among `receipts` (sorted by time, all
  /// of one issue, received no later than the evaluation time) inside one window
  /// `[s, s + window)` that contains `t`, for `s` a receipt time.
  public static func count(
    receipts: [(time: Millis, who: String?)], at t: Millis, window: RuleDuration, calendar: BusinessCalendar
  ) -> Int {
    // Each complainant as a small number, hashed once: the windows below count marks, not
    // strings (a pseudonym is 64 characters, and each window would hash it again).
    var numbers: [String: Int] = [:]
    let who = receipts.map { r -> Int in
      guard let w = r.who else { return -1 }
      if let n = numbers[w] { return n }
      numbers[w] = numbers.count
      return numbers.count - 1
    }
    // `seen[n] == s`: complainant n counted in the window starting at receipt s.
    var seen = [Int](repeating: -1, count: numbers.count)
    var best = 0
    for (s, start) in receipts.enumerated() where start.time <= t {
      let end = window.added(to: start.time, calendar: calendar)
      guard end > t else { continue }
      var distinct = 0
      for (j, r) in receipts.enumerated() where r.time >= start.time && r.time < end {
        let n = who[j]
        if n >= 0, seen[n] != s {
          seen[n] = s
          distinct += 1
        }
      }
      best = max(best, distinct)
    }
    return best
  }
}
