import OmbudsRules
import OmbudsScreening
import OmbudsSyntax

/// Evaluation: levels and their reasons, screening, gates — the hot path.
extension CompiledRules {
  /// `start + durations[index]` on the calendar. Calendar arithmetic (months, working days)
  /// is the costliest leaf; the last answer per duration is remembered per thread.
  @inline(__always)
  func threshold(_ index: Int, _ start: Millis) -> Millis {
    program.durations[index].added(to: start, calendar: calendar)
  }

  /// Does node `i` hold for `facts` at `now`? Leaves are evaluated in line; only nested
  /// `and`/`or`/`not` recurse.
  @inline(__always)
  func holds(
    _ i: Int32, _ facts: borrowing CaseFacts, _ now: Millis, _ history: borrowing (any CaseHistory)?, _ level: Int
  )
    -> Bool
  {
    let node = program.nodes[Int(i)]
    switch node.kind {
    case .and, .or, .not:
      return branch(node, facts, now, history, level)
    default:
      return leaf(node, facts, now, history, level)
    }
  }

  @inline(never)
  func branch(
    _ node: Node, _ facts: borrowing CaseFacts, _ now: Millis, _ history: borrowing (any CaseHistory)?, _ level: Int
  )
    -> Bool
  {
    let first = Int(node.first)
    switch node.kind {
    case .and:
      for c in first..<(first + Int(node.count)) where !holds(program.children[c], facts, now, history, level) {
        return false
      }
      return true
    case .or:
      for c in first..<(first + Int(node.count)) where holds(program.children[c], facts, now, history, level) {
        return true
      }
      return false
    default:
      return !holds(program.children[first], facts, now, history, level)
    }
  }

  @inline(__always)
  func leaf(
    _ node: Node, _ facts: borrowing CaseFacts, _ now: Millis, _ history: borrowing (any CaseHistory)?, _ level: Int
  )
    -> Bool
  {
    switch node.kind {
    case .compare:
      let v = facts.numbers[Int(node.slot)]
      return v != CaseFacts.null && node.op.holds(v, node.k)
    case .flag:
      return facts.numbers[Int(node.slot)] == 1
    case .constant:
      return node.k != 0
    case .isNull:
      return facts.numbers[Int(node.slot)] == CaseFacts.null
    case .oneOf:
      let v = facts.numbers[Int(node.slot)]
      return v >= 0 && v < 64 && UInt64(bitPattern: node.k) & (1 << UInt64(v)) != 0
    case .openForFixed:
      let start = facts.receivedAt
      return node.op.holds(min(facts.resolvedAt ?? now, now) - start, node.k)
    case .openForCalendar:
      let start = facts.receivedAt
      let end = min(facts.resolvedAt ?? now, now)
      return node.op.holds(end - start, threshold(Int(node.first), start) - start)
    case .level:
      return node.op.holds(Int64(levelModes.count - 1 - level), node.k)
    default:
      return rareLeaf(node, facts, now, history)
    }
  }

  @inline(never)
  func rareLeaf(_ node: Node, _ facts: borrowing CaseFacts, _ now: Millis, _ history: (any CaseHistory)?) -> Bool {
    switch node.kind {
    case .stringEquals:
      return facts.strings[Int(node.slot)] == program.strings[Int(node.first)]
    case .stringIsNull:
      return facts.strings[Int(node.slot)] == nil
    case .sameIssue:
      return node.op.holds(sameIssueCount(node, facts, now, history), node.k)
    default:
      return false
    }
  }

  /// The value a `same_issue_complainants` node compares: distinct complainants of the case's
  /// issue in its window (the case alone when it has no issue or there is no history).
  func sameIssueCount(_ node: Node, _ facts: borrowing CaseFacts, _ now: Millis, _ history: (any CaseHistory)?)
    -> Int64
  {
    let own = facts.strings[BuiltinFields.complainantID] == nil ? 0 : 1
    if facts.strings[BuiltinFields.issueKey] == nil { return Int64(own) }
    return Int64(history?.sameIssueComplainants(of: facts, window: program.windows[Int(node.first)], asOf: now) ?? own)
  }

  /// Evaluates one case at `now` into `decision`, reusing its storage (no allocation once warm):
  /// level, reasons, refund approver, deadlines and the next review time.
  ///
  /// - Parameter floor: the lowest level index the case may take (the ratchet: a case's
  ///   current level from the store); nil in stateless classification.
  public func evaluate(
    _ facts: borrowing CaseFacts, at now: Millis, history: (any CaseHistory)? = nil, floor: Int? = nil,
    into decision: inout Decision
  ) {
    classify(facts, at: now, history: history, floor: floor, into: &decision)
    screen(facts, &decision)
    evaluateDeadlines(facts, now, history, &decision)
    decision.nextReviewAt = nextReview(facts, now, history, decision)
  }

  /// Values the uniform leaves read besides the slots, computed at most once per evaluation.
  struct Derived {
    var elapsed: Int64
    var end: Millis
    var now: Millis
    var sameIssue: Int64
    var calendar: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)
    var haveCalendar: UInt8 = 0
  }

  @inline(__always)
  func value(_ source: Int32, _ facts: borrowing CaseFacts, _ d: inout Derived) -> Int64 {
    if source >= 0 { return facts.numbers[Int(source)] }
    if source == UniformLeaf.elapsed { return d.elapsed }
    if source == UniformLeaf.sameIssue { return d.sameIssue }
    let j = Int(UniformLeaf.calendarBase - source)
    let bit = UInt8(1) << UInt8(j)
    if d.haveCalendar & bit == 0 {
      d.haveCalendar |= bit
      // Only the sign of `time open − duration` matters to the leaf (it compares with 0): a
      // case open for less than the duration's shortest possible length, or more than its
      // longest, needs no calendar arithmetic (a DST hour and a day of margin kept).
      let duration = fast.calendarDurations[j]
      let elapsed = d.end - facts.receivedAt
      let bounds = duration.bounds
      let shortest = (bounds.lowerBound - 3_600) * 1000
      let longest = (bounds.upperBound + 86_400) * 1000
      let v =
        elapsed < shortest
        ? elapsed - shortest
        : elapsed > longest ? elapsed - longest : d.end - duration.added(to: facts.receivedAt, calendar: calendar)
      switch j {
      case 0: d.calendar.0 = v
      case 1: d.calendar.1 = v
      case 2: d.calendar.2 = v
      default: d.calendar.3 = v
      }
    }
    switch j {
    case 0: return d.calendar.0
    case 1: return d.calendar.1
    case 2: return d.calendar.2
    default: return d.calendar.3
    }
  }

  /// Every non-calendar leaf but the same-issue ones at once, as a bit mask (the bit-mask
  /// layout only).
  @inline(__always)
  func leafMask(_ facts: borrowing CaseFacts, _ elapsed: Int64) -> UInt64 {
    var mask: UInt64 = 0
    let leaves = fast.maskLeaves
    facts.numbers.withUnsafeBufferPointer { numbers in
      for l in 0..<fast.plainSlotLeaves {
        let leaf = leaves[l]
        mask |= leaf.plainBit(numbers[Int(leaf.source)]) &<< UInt64(l)
      }
      for l in fast.plainSlotLeaves..<fast.slotLeaves {
        let leaf = leaves[l]
        mask |= leaf.bit(numbers[Int(leaf.source)]) &<< UInt64(l)
      }
    }
    // Elapsed-time leaves; the same-issue leaves among them are masked out and set later.
    for l in fast.slotLeaves..<fast.timeLeaves {
      mask |= leaves[l].bit(elapsed) &<< UInt64(l)
    }
    return mask & ~fast.sameIssueBits
  }

  /// The bits of the same-issue leaves for this case (the bit-mask layout).
  @inline(__always)
  func sameIssueMask(_ facts: borrowing CaseFacts, _ now: Millis, _ history: (any CaseHistory)?) -> UInt64 {
    let n = sameIssueForLevels(facts, now, history)
    var out: UInt64 = 0
    var bits = fast.sameIssueBits
    while bits != 0 {
      let l = bits.trailingZeroBitCount
      out |= fast.maskLeaves[l].bit(n) &<< UInt64(l)
      bits &= bits - 1
    }
    return out
  }

  /// The same-issue count the uniform leaves compare (one window): the history's answer, or
  /// the case alone when it has no issue or there is no history — as `sameIssueCount`.
  @inline(__always)
  func sameIssueForLevels(_ facts: borrowing CaseFacts, _ now: Millis, _ history: (any CaseHistory)?)
    -> Int64
  {
    if facts.strings[BuiltinFields.issueKey] != nil,
      let n = history?.sameIssueComplainants(of: facts, window: aggregateWindows[0], asOf: now)
    {
      return Int64(n)
    }
    return facts.strings[BuiltinFields.complainantID] == nil ? 0 : 1
  }

  /// Does item `index` hold, given the leaf mask? One-term items without calendar leaves are
  /// a single mask test; the rest go the longer way.
  @inline(__always)
  func itemByMask(
    _ index: Int, _ level: Int, _ facts: borrowing CaseFacts, _ d: inout Derived, _ mask: inout UInt64,
    _ history: borrowing (any CaseHistory)?
  ) -> Bool {
    let m = fast.itemMask[index]
    if fast.itemSimple[index] { return mask & m == m }
    if fast.itemSingleTerm[index], mask & m != m { return false }
    return itemByMaskSlow(index, level, facts, &d, &mask, history)
  }

  /// Calendar leaves are computed only for terms whose other leaves all hold.
  @inline(never)
  func itemByMaskSlow(
    _ index: Int, _ level: Int, _ facts: borrowing CaseFacts, _ d: inout Derived, _ mask: inout UInt64,
    _ history: borrowing (any CaseHistory)?
  ) -> Bool {
    let it = fast.items[index]
    if it.start < 0 { return complexItem(it.root, level, facts, d, history) }
    for t in Int(it.start)..<Int(it.end) {
      let cheap = fast.termCheap[t]
      guard mask & cheap == cheap else { continue }
      let cal = fast.termCalendar[t]
      if cal == 0 { return true }
      var bits = cal
      var all = true
      while bits != 0, all {
        all = leafHolds(bits.trailingZeroBitCount, facts, &d)
        bits &= bits - 1
      }
      if all { return true }
    }
    return false
  }

  /// Does uniform leaf `l` hold (its value read, derived values computed on first use)?
  @inline(__always)
  func leafHolds(_ l: Int, _ facts: borrowing CaseFacts, _ d: inout Derived) -> Bool {
    let leaf = fast.leaves[l]
    return leaf.test(value(leaf.source, facts, &d))
  }

  /// Does item `index` (over all levels) hold?
  @inline(__always)
  func item(
    _ index: Int, _ level: Int, _ facts: borrowing CaseFacts, _ d: inout Derived,
    _ history: borrowing (any CaseHistory)?
  ) -> Bool {
    let it = fast.items[index]
    if it.start < 0 { return complexItem(it.root, level, facts, d, history) }
    for t in Int(it.start)..<Int(it.end) {
      let term = fast.terms[t]
      var all = true
      var l = Int(term.start)
      while l < Int(term.end), all {
        all = leafHolds(l, facts, &d)
        l += 1
      }
      if all { return true }
    }
    return false
  }

  @inline(never)
  func complexItem(
    _ root: Int32, _ level: Int, _ facts: borrowing CaseFacts, _ d: Derived, _ history: (any CaseHistory)?
  )
    -> Bool
  {
    holds(root, facts, d.now, history, level)
  }

  /// The level, its reasons and the refund approver only (no deadlines, no next review):
  /// what a caller needs that only asks "how serious is it, and who approves?".
  public func classify(
    _ facts: borrowing CaseFacts, at now: Millis, history: (any CaseHistory)? = nil, floor: Int? = nil,
    into decision: inout Decision
  ) {
    var found: UInt64 = 0
    let end = min(facts.resolvedAt ?? now, now)
    var derived = Derived(elapsed: end - facts.receivedAt, end: end, now: now, sameIssue: 0)
    var chosen = fast.levelCount - 1
    let bitmask = fast.bitmask
    var mask: UInt64 = 0
    // Whether the same-issue leaves are in `mask` yet (bit-mask layout: asked for only when a
    // level that reads them is reached).
    var haveSameIssue = false
    if bitmask {
      mask = leafMask(facts, derived.elapsed)
    } else if fast.usesSameIssue {
      derived.sameIssue = sameIssueForLevels(facts, now, history)
    }
    search: for li in 0..<fast.levelCount {
      let level = fast.levels[li]
      let first = Int(level.start)
      if bitmask {
        if !haveSameIssue, fast.levelSameIssue[li] {
          haveSameIssue = true
          mask |= sameIssueMask(facts, now, history)
        }
        // Every term of the level needs one of these leaves: when none holds, no item can.
        let needs = fast.levelNeeds[li]
        if needs != 0, mask & needs == 0 { continue }
      }
      switch level.mode {
      case 2:
        found = 1
        chosen = li
        break search
      case 0:
        if bitmask {
          for i in first..<Int(level.end) where itemByMask(i, li, facts, &derived, &mask, history) {
            found |= 1 << UInt64(i - first)
          }
        } else {
          for i in first..<Int(level.end) where item(i, li, facts, &derived, history) {
            found |= 1 << UInt64(i - first)
          }
        }
      default:
        var all = level.end > level.start
        for i in first..<Int(level.end)
        where
          !(bitmask ? itemByMask(i, li, facts, &derived, &mask, history) : item(i, li, facts, &derived, history))
        {
          all = false
          break
        }
        if all {
          found = level.end - level.start >= 64 ? .max : (1 << UInt64(level.end - level.start)) - 1
        }
      }
      if found != 0 {
        chosen = li
        break search
      }
    }
    decision.reasonLevel = chosen
    decision.reasonItems = found
    if let floor, floor < chosen { chosen = floor }
    decision.level = chosen
    decision.refundApprover = tierApprover(facts)
  }

  /// `refundApprover(facts)`, read from the flat table.
  @inline(__always)
  func tierApprover(_ facts: borrowing CaseFacts) -> Int? {
    guard let slot = refundSlot else { return nil }
    let amount = facts.numbers[slot]
    if amount == CaseFacts.null { return nil }
    for tier in tables.refundTiers where amount > tier.above && amount <= tier.upTo {
      return tier.role < 0 ? nil : tier.role
    }
    return nil
  }

  /// Screens the case's text for harmful content.
  func screen(_ facts: borrowing CaseFacts, _ decision: inout Decision) {
    if !decision.matches.isEmpty { decision.matches.removeAll(keepingCapacity: true) }
    decision.categoryBits = 0
    guard let screening, let text = facts.strings[BuiltinFields.text], !text.isEmpty else { return }
    decision.matches = screening.matches(in: text)
    for m in decision.matches {
      let c = screening.patterns[Int(m.pattern)].category
      if c < 64 { decision.categoryBits |= 1 << UInt64(c) }
    }
  }

  /// Whether gate `index`'s `when` holds for a case at `level` (an index into `levels`).
  public func gateApplies(_ index: Int, _ facts: borrowing CaseFacts, at now: Millis, level: Int) -> Bool {
    holds(gateRoots[index], facts, now, nil, level)
  }

  /// Whether the decision's categories include one marked `major`.
  public func hasMajorCategory(_ decision: Decision) -> Bool { decision.categoryBits & majorCategoryBits != 0 }

  /// Convenience form of `evaluate(_:at:history:floor:into:)`.
  public func evaluate(
    _ facts: borrowing CaseFacts, at now: Millis, history: (any CaseHistory)? = nil, floor: Int? = nil
  ) -> Decision {
    var d = Decision()
    evaluate(facts, at: now, history: history, floor: floor, into: &d)
    return d
  }
}
