import OmbudsSyntax

/// Finds levels whose conditions contradict their order: a higher level looser than a lower
/// one on the same measure (the lower condition can never decide), and levels no case can reach.
struct LevelAnalysis {
  let levels: [LevelDecl]
  let fields: [FieldDecl]

  /// A threshold on one measure: the values it admits, as a closed interval.
  struct Bound: Hashable {
    var measure: String
    var lo: Int64
    var hi: Int64
    /// Durations of calendar units have uncertain lengths; exact comparisons need one unit.
    var unit: RuleDuration.Unit?
    var loAmount: Int?
    /// `open_for > d` rather than `>= d`: a case at exactly `d` does not satisfy it.
    var strict = false
  }

  enum Atom: Hashable {
    case bound(Bound)
    case other(Cond)
  }

  /// The condition as a conjunction of atoms, or nil when it is not one.
  func conjunction(_ c: Cond) -> [Atom]? {
    switch c {
    case .and(let items):
      var atoms: [Atom] = []
      for i in items {
        guard let a = conjunction(i) else { return nil }
        atoms += a
      }
      return atoms
    case .or: return nil
    case .compare(let slot, let op, let k):
      if let b = bound("slot:\(slot)", op, k) { return [.bound(b)] }
      return [.other(c)]
    case .sameIssueComplainants(let w, let op, let k):
      if let b = bound("same_issue:\(w)", op, k) { return [.bound(b)] }
      return [.other(c)]
    case .openFor(let op, let d):
      guard op == .ge || op == .gt else { return [.other(c)] }
      let r = d.bounds
      return [
        .bound(
          Bound(
            measure: "open_for", lo: r.lowerBound, hi: Int64.max, unit: d.unit, loAmount: d.amount, strict: op == .gt))
      ]
    default:
      return [.other(c)]
    }
  }

  func bound(_ measure: String, _ op: CompareOp, _ k: Int64) -> Bound? {
    switch op {
    case .ge: Bound(measure: measure, lo: k, hi: .max)
    case .gt: Bound(measure: measure, lo: k &+ 1, hi: .max)
    case .le: Bound(measure: measure, lo: .min, hi: k)
    case .lt: Bound(measure: measure, lo: .min, hi: k &- 1)
    case .eq: Bound(measure: measure, lo: k, hi: k)
    case .ne: nil
    }
  }

  /// Does every case satisfying `inner` satisfy `outer`?
  func within(_ inner: Bound, _ outer: Bound) -> Bool {
    guard inner.measure == outer.measure else { return false }
    if inner.measure == "open_for" {
      guard let iu = inner.unit, let ou = outer.unit, let ia = inner.loAmount, let oa = outer.loAmount else {
        return false
      }
      // At equal thresholds, `> d` lies within `>= d` but not the other way round.
      let edgeOK = inner.strict || !outer.strict
      if iu == ou { return ia > oa || (ia == oa && edgeOK) }
      // Different units: certain only when the shortest inner is at least the longest outer.
      let innerMin = RuleDuration(ia, iu).bounds.lowerBound
      let outerMax = RuleDuration(oa, ou).bounds.upperBound
      return innerMin > outerMax || (innerMin == outerMax && edgeOK)
    }
    return inner.lo >= outer.lo && inner.hi <= outer.hi
  }

  /// Does `d` imply `h` (every atom of h implied by some atom of d)?
  func implies(_ d: [Atom], _ h: [Atom]) -> Bool {
    h.allSatisfy { ha in
      d.contains { da in
        switch (da, ha) {
        case (.bound(let x), .bound(let y)): within(x, y)
        case (.other(let x), .other(let y)): x == y
        default: false
        }
      }
    }
  }

  /// No case satisfies the conjunction (an empty interval, or two different values of one enum).
  func unsatisfiable(_ atoms: [Atom]) -> Bool {
    var ranges: [String: (Int64, Int64)] = [:]
    for a in atoms {
      switch a {
      case .bound(let b) where b.measure != "open_for":
        let r = ranges[b.measure] ?? (.min, .max)
        let n = (max(r.0, b.lo), min(r.1, b.hi))
        if n.0 > n.1 { return true }
        ranges[b.measure] = n
      case .other(.constant(false)):
        return true
      default:
        continue
      }
    }
    return false
  }

  /// Whether the atoms share a measure with different thresholds (a real inversion), or are equal.
  func differsInThreshold(_ d: [Atom], _ h: [Atom]) -> Bool {
    for case .bound(let hb) in h {
      for case .bound(let db) in d where db.measure == hb.measure && db != hb { return true }
    }
    return false
  }

  func run(_ reader: inout Reader) {
    for (j, lower) in levels.enumerated() where lower.mode != .otherwise {
      var dead = 0
      for item in lower.items {
        guard let d = conjunction(item.cond) else { continue }
        if unsatisfiable(d) {
          reader.error(
            .unreachableLevel, LocalizedText(en: "no case can satisfy `\(item.text)`", zh: "没有案件能满足 `\(item.text)`"),
            at: item.location, length: item.length)
          dead += 1
          continue
        }
        guard lower.mode == .any else { continue }
        var shadowed = false
        search: for higher in levels[..<j] where higher.mode == .any {
          for h in higher.items {
            guard let ha = conjunction(h.cond), implies(d, ha) else { continue }
            shadowed = true
            if differsInThreshold(d, ha) {
              reader.error(
                .levelInversion,
                LocalizedText(
                  en:
                    "`\(higher.id)` is looser than `\(lower.id)` on the same measure: every case matching `\(item.text)` already matches `\(h.text)`, so this condition can never decide `\(lower.id)`",
                  zh:
                    "在同一指标上，\(.level, higher.id) 比 \(.level, lower.id) 更宽松：凡满足 `\(item.text)` 的案件都已满足 `\(h.text)`，所以这个条件永远定不出 \(.level, lower.id)"
                ),
                at: item.location, length: item.length,
                related: [.init(Messages.conditionOf(higher.id), at: h.location)],
                help: LocalizedText(
                  en: "make the higher level's threshold stricter than the lower level's",
                  zh: "请让较高级别的门槛比较低级别更严格"))
            } else {
              reader.warning(
                .shadowedCondition,
                LocalizedText(
                  en: "`\(item.text)` can never decide `\(lower.id)`: `\(higher.id)` already has `\(h.text)`",
                  zh: "`\(item.text)` 永远定不出 \(.level, lower.id)：\(.level, higher.id) 已有 `\(h.text)`"),
                at: item.location, length: item.length,
                related: [.init(Messages.conditionOf(higher.id), at: h.location)])
            }
            break search
          }
        }
        if shadowed { dead += 1 }
      }
      if !lower.items.isEmpty, dead == lower.items.count, lower.mode == .any {
        reader.error(
          .unreachableLevel,
          LocalizedText(
            en:
              "no case can reach level `\(lower.id)`: every condition of it is decided by a level above or can never hold",
            zh: "没有案件能到达级别 \(.level, lower.id)：它的每个条件要么已由上面的级别决定，要么永远不成立"),
          at: lower.location, length: lower.id.unicodeScalars.count)
      }
      if lower.mode == .all, let d = conjunction(.and(lower.items.map(\.cond))), unsatisfiable(d) {
        reader.error(
          .unreachableLevel,
          LocalizedText(
            en: "no case can reach level `\(lower.id)`: its conditions contradict each other",
            zh: "没有案件能到达级别 \(.level, lower.id)：它的条件相互矛盾"),
          at: lower.location, length: lower.id.unicodeScalars.count)
      }
      if lower.items.count == 1, case .constant(false) = lower.items[0].cond {
        reader.error(
          .unreachableLevel,
          LocalizedText(en: "level `\(lower.id)` has the condition `false`", zh: "级别 \(.level, lower.id) 的条件是 `false`"),
          at: lower.location, length: lower.id.unicodeScalars.count)
      }
    }
  }
}
