import OmbudsRules

/// A condition leaf in one uniform shape, so that most conditions evaluate without a
/// per-kind dispatch: fetch a value, test it against an interval (and a bit mask), flip.
struct UniformLeaf {
  /// ≥ 0: a numeric slot. `elapsed`: time open in ms. `sameIssue`: the aggregate.
  /// `calendarBase - j`: time open minus calendar duration j (≥ 0 once it has passed).
  var source: Int32
  var lo: Int64
  var hi: Int64
  var mask: UInt64
  var negate: Bool
  /// The result when the value is null (absent).
  var onNull: Bool

  static let elapsed: Int32 = -1
  static let sameIssue: Int32 = -2
  static let calendarBase: Int32 = -3

  static func interval(_ op: CompareOp, _ k: Int64) -> (lo: Int64, hi: Int64, negate: Bool) {
    // Int64.min is the null sentinel, so real values start at Int64.min + 1.
    switch op {
    case .eq: (k, k, false)
    case .ne: (k, k, true)
    case .ge: (k, .max, false)
    case .gt: (k == .max ? 1 : k + 1, k == .max ? 0 : .max, false)
    case .le: (.min + 1, k, false)
    case .lt: (.min + 1, k &- 1, false)
    }
  }

  init(source: Int32, _ op: CompareOp, _ k: Int64) {
    let r = Self.interval(op, k)
    self.init(source: source, lo: r.lo, hi: r.hi, mask: .max, negate: r.negate, onNull: false)
  }

  init(source: Int32, lo: Int64, hi: Int64, mask: UInt64, negate: Bool, onNull: Bool) {
    self.source = source
    self.lo = lo
    self.hi = hi
    self.mask = mask
    self.negate = negate
    self.onNull = onNull
  }

  var negated: UniformLeaf {
    var l = self
    l.negate.toggle()
    l.onNull.toggle()
    return l
  }

  @inline(__always)
  func test(_ v: Int64) -> Bool {
    if v == CaseFacts.null { return onNull }
    let inside = v >= lo && v <= hi && (mask >> (UInt64(truncatingIfNeeded: v) & 63)) & 1 != 0
    return inside != negate
  }

  /// `test(v)` as 0 or 1, computed without branches.
  @inline(__always)
  func bit(_ v: Int64) -> UInt64 {
    let isNull: UInt64 = v == CaseFacts.null ? 1 : 0
    let inRange: UInt64 = (v >= lo ? 1 : 0) & (v <= hi ? 1 : 0) & ((mask >> (UInt64(truncatingIfNeeded: v) & 63)) & 1)
    let value = inRange ^ (negate ? 1 : 0)
    return (isNull & (onNull ? 1 : 0)) | ((isNull ^ 1) & value)
  }
}

/// A uniform leaf as the bit-mask pass tests it: `UniformLeaf.bit` in fewer operations — one
/// unsigned comparison for the interval, the set's bit, a flip, and a correction for null
/// where the formula alone would give the wrong answer (`isNull` leaves).
struct MaskLeaf {
  var lo: Int64
  /// `hi - lo` as unsigned: `v` is inside when `v - lo` (wrapping) is at most this.
  var span: UInt64
  var set: UInt64
  var source: Int32
  /// Bit 0: flip the result (a negated leaf); bit 1: flip it again for null.
  var flags: UInt32

  init(_ leaf: UniformLeaf) {
    if leaf.lo <= leaf.hi {
      lo = leaf.lo
      span = UInt64(bitPattern: leaf.hi &- leaf.lo)
      set = leaf.mask
    } else {  // an empty interval: nothing is inside
      lo = 0
      span = 0
      set = 0
    }
    source = leaf.source
    flags = leaf.negate ? 1 : 0
    if bit(CaseFacts.null) != (leaf.onNull ? 1 : 0) { flags |= 2 }
  }

  /// Whether the leaf is an interval alone: no set, no flip, and null (below every interval
  /// that does not start at the null sentinel) outside it — then `bit(v)` is `plainBit(v)`.
  var isPlain: Bool { self.set == .max && flags == 0 && plainBit(CaseFacts.null) == 0 }

  @inline(__always)
  func plainBit(_ v: Int64) -> UInt64 { UInt64(bitPattern: v &- lo) <= span ? 1 : 0 }

  /// 1 when the leaf holds for `v`, else 0; the same answer as `UniformLeaf.bit`, without branches.
  @inline(__always)
  func bit(_ v: Int64) -> UInt64 {
    let inRange: UInt64 = UInt64(bitPattern: v &- lo) <= span ? 1 : 0
    let inside = inRange & (set &>> UInt64(truncatingIfNeeded: v))
    let isNull: UInt64 = v == CaseFacts.null ? 1 : 0
    let f = UInt64(flags)
    return (inside & 1) ^ (f & 1) ^ (isNull & (f &>> 1))
  }
}

/// Conditions in disjunctive normal form over uniform leaves: an item holds when every leaf
/// of one of its terms holds.
struct TermTable {
  var leaves: [UniformLeaf] = []
  /// Per term: the range of its leaves.
  var terms: [(start: Int32, end: Int32)] = []
  /// The calendar durations the leaves subtract, by index.
  var calendarDurations: [RuleDuration] = []
  var usesSameIssue = false

  static let maxTerms = 32

  /// The condition's terms, or nil when it does not fit (strings, levels, several windows, too many terms).
  mutating func dnf(_ c: Cond, windows: [RuleDuration]) -> [[UniformLeaf]]? {
    switch c {
    case .constant(let b):
      return b ? [[]] : []
    case .flag(let slot):
      return [[UniformLeaf(source: Int32(slot), .eq, 1)]]
    case .compare(let slot, let op, let k):
      return [[UniformLeaf(source: Int32(slot), op, k)]]
    case .isNull(let slot):
      return [[UniformLeaf(source: Int32(slot), lo: 1, hi: 0, mask: .max, negate: false, onNull: true)]]
    case .oneOf(let slot, let mask):
      return [[UniformLeaf(source: Int32(slot), lo: 0, hi: 63, mask: mask, negate: false, onNull: false)]]
    case .openFor(let op, let d):
      if let s = d.fixedSeconds { return [[UniformLeaf(source: UniformLeaf.elapsed, op, s * 1000)]] }
      var j = calendarDurations.firstIndex(of: d)
      if j == nil {
        if calendarDurations.count == 4 { return nil }
        calendarDurations.append(d)
        j = calendarDurations.count - 1
      }
      return [[UniformLeaf(source: UniformLeaf.calendarBase - Int32(j ?? 0), op, 0)]]
    case .sameIssueComplainants(let w, let op, let k):
      guard windows.count == 1, windows[0] == w else { return nil }
      usesSameIssue = true
      return [[UniformLeaf(source: UniformLeaf.sameIssue, op, k)]]
    case .and(let cs):
      var result: [[UniformLeaf]] = [[]]
      for child in cs {
        guard let d = dnf(child, windows: windows) else { return nil }
        var next: [[UniformLeaf]] = []
        for a in result { for b in d { next.append(a + b) } }
        if next.count > Self.maxTerms { return nil }
        result = next
      }
      return result
    case .or(let cs):
      var result: [[UniformLeaf]] = []
      for child in cs {
        guard let d = dnf(child, windows: windows) else { return nil }
        result += d
        if result.count > Self.maxTerms { return nil }
      }
      return result
    case .not(let x):
      switch x {
      case .not(let y): return dnf(y, windows: windows)
      case .and(let cs): return dnf(.or(cs.map { .not($0) }), windows: windows)
      case .or(let cs): return dnf(.and(cs.map { .not($0) }), windows: windows)
      case .constant(let b): return dnf(.constant(!b), windows: windows)
      default:
        guard let d = dnf(x, windows: windows), d.count == 1, d[0].count == 1 else { return nil }
        return [[d[0][0].negated]]
      }
    case .stringEquals, .stringIsNull, .level:
      return nil
    }
  }

  /// Adds the condition; returns its term range, or nil when it must be interpreted.
  mutating func add(_ c: Cond, windows: [RuleDuration]) -> (start: Int32, end: Int32)? {
    let saved = (calendarDurations, usesSameIssue)
    guard let d = dnf(c, windows: windows) else {
      (calendarDurations, usesSameIssue) = saved
      return nil
    }
    let start = Int32(terms.count)
    for term in d {
      let s = Int32(leaves.count)
      // Cheap leaves first: slots, then elapsed time, then calendar arithmetic and aggregates.
      leaves += term.sorted { rank($0.source) < rank($1.source) }
      terms.append((s, Int32(leaves.count)))
    }
    return (start, Int32(terms.count))
  }

  func rank(_ source: Int32) -> Int {
    source >= 0 ? 0 : source == UniformLeaf.elapsed ? 1 : source == UniformLeaf.sameIssue ? 3 : 2
  }
}

/// The level conditions in the uniform form, in buffers that are read without reference
/// counting. Immutable after init.
final class FastLevels: @unchecked Sendable {
  // @unchecked: written only in init, freed in deinit, read-only in between.
  let leaves: UnsafeMutableBufferPointer<UniformLeaf>
  let terms: UnsafeMutableBufferPointer<(start: Int32, end: Int32)>
  /// Per item (all levels, in order): term range, or start -1 and the program root.
  let items: UnsafeMutableBufferPointer<(start: Int32, end: Int32, root: Int32)>
  /// Per level: item range and mode (0 any, 1 all, 2 otherwise).
  let levels: UnsafeMutableBufferPointer<(start: Int32, end: Int32, mode: UInt8)>
  let calendarDurations: [RuleDuration]
  let usesSameIssue: Bool
  /// When every leaf fits in one 64-bit mask: leaves are evaluated all at once, without
  /// branches, in groups by source (`slotLeaves` < `timeLeaves` < `calendarLeaves` = count).
  let bitmask: Bool
  let slotLeaves: Int
  /// The first slot leaves, up to here, are plain intervals (bit-mask layout).
  let plainSlotLeaves: Int
  let timeLeaves: Int
  /// Per term: the bits of its leaves that are not calendar leaves, and those that are.
  let termCheap: UnsafeMutableBufferPointer<UInt64>
  let termCalendar: UnsafeMutableBufferPointer<UInt64>
  /// Per item: when it is one term of non-calendar leaves, the bits that must all be set;
  /// `itemSimple` says whether that shortcut applies.
  let itemMask: UnsafeMutableBufferPointer<UInt64>
  let itemSimple: UnsafeMutableBufferPointer<Bool>
  /// Per item: one term, with calendar leaves: when its other leaves fail, it fails.
  let itemSingleTerm: UnsafeMutableBufferPointer<Bool>
  /// The bit-mask layout's leaves in the form `leafMask` tests them.
  let maskLeaves: UnsafeMutableBufferPointer<MaskLeaf>
  /// Per level (bit-mask layout): one non-calendar leaf bit of every term of its items, or
  /// 0 when a level cannot be ruled out that way (an interpreted item, a term without
  /// such a leaf, `otherwise`). No item of the level can hold when none of these bits is set.
  let levelNeeds: UnsafeMutableBufferPointer<UInt64>
  /// The bits of the same-issue leaves in the mask (bit-mask layout). `leafMask` leaves them
  /// out: the aggregate is asked for only once a level that reads it is reached
  /// (`levelSameIssue`), no higher level having held.
  let sameIssueBits: UInt64
  /// Per level: whether one of its terms reads the same-issue leaf.
  let levelSameIssue: UnsafeMutableBufferPointer<Bool>

  init(levels decls: [LevelDecl], roots: [[Int32]], windows: [RuleDuration]) {
    var table = TermTable()
    var items: [(start: Int32, end: Int32, root: Int32)] = []
    var levels: [(start: Int32, end: Int32, mode: UInt8)] = []
    for (li, level) in decls.enumerated() {
      let start = Int32(items.count)
      for (ii, item) in level.items.enumerated() {
        if let r = table.add(item.cond, windows: windows) {
          items.append((r.start, r.end, roots[li][ii]))
        } else {
          items.append((-1, -1, roots[li][ii]))
        }
      }
      let mode: UInt8 =
        switch level.mode {
        case .any: 0
        case .all: 1
        case .otherwise: 2
        }
      levels.append((start, Int32(items.count), mode))
    }
    // Order the leaves by source group, remembering where each went; among slot leaves, the
    // plain intervals (`MaskLeaf.isPlain`) first.
    func group(_ l: UniformLeaf) -> Int {
      l.source >= 0 ? 0 : (l.source == UniformLeaf.elapsed || l.source == UniformLeaf.sameIssue) ? 1 : 2
    }
    func key(_ i: Int) -> (Int, Int, Int) {
      let l = table.leaves[i]
      return (group(l), group(l) == 0 && MaskLeaf(l).isPlain ? 0 : 1, i)
    }
    let order = table.leaves.indices.sorted { key($0) < key($1) }
    var position = [Int](repeating: 0, count: table.leaves.count)
    for (newIndex, old) in order.enumerated() { position[old] = newIndex }
    let sorted = order.map { table.leaves[$0] }
    self.bitmask = sorted.count <= 64
    self.slotLeaves = sorted.count { group($0) == 0 }
    self.plainSlotLeaves = sorted.count { group($0) == 0 && MaskLeaf($0).isPlain }
    self.timeLeaves = slotLeaves + sorted.count { group($0) == 1 }
    var cheap: [UInt64] = []
    var cal: [UInt64] = []
    for t in table.terms {
      var c: UInt64 = 0
      var k: UInt64 = 0
      for l in Int(t.start)..<Int(t.end) where position[l] < 64 {
        if group(table.leaves[l]) == 2 { k |= 1 << UInt64(position[l]) } else { c |= 1 << UInt64(position[l]) }
      }
      cheap.append(c)
      cal.append(k)
    }
    self.termCheap = makeBuffer(cheap)
    self.termCalendar = makeBuffer(cal)
    let useMask = sorted.count <= 64
    let simple = items.map { it in
      useMask && it.start >= 0 && it.end == it.start + 1 && cal[Int(it.start)] == 0
    }
    self.itemSimple = makeBuffer(simple)
    self.itemSingleTerm = makeBuffer(items.map { it in useMask && it.start >= 0 && it.end == it.start + 1 })
    self.itemMask = makeBuffer(items.map { it in it.start >= 0 && it.end > it.start ? cheap[Int(it.start)] : 0 })
    self.maskLeaves = makeBuffer(bitmask ? sorted.map(MaskLeaf.init) : [])
    var sameIssueBits: UInt64 = 0
    for (i, l) in sorted.enumerated() where bitmask && l.source == UniformLeaf.sameIssue {
      sameIssueBits |= 1 << UInt64(i)
    }
    self.sameIssueBits = sameIssueBits
    var needs: [UInt64] = []
    var readsSameIssue: [Bool] = []
    for level in levels {
      var need: UInt64 = 0
      var possible = bitmask && level.mode != 2
      var reads = false
      for it in items[Int(level.start)..<Int(level.end)] {
        if it.start < 0 {
          possible = false
          continue
        }
        for t in Int(it.start)..<Int(it.end) {
          if cheap[t] & sameIssueBits != 0 { reads = true }
          // The term's lowest bit (slot leaves come first).
          if cheap[t] == 0 { possible = false } else { need |= cheap[t] & (~cheap[t] &+ 1) }
        }
      }
      needs.append(possible ? need : 0)
      readsSameIssue.append(reads)
    }
    self.levelNeeds = makeBuffer(needs)
    self.levelSameIssue = makeBuffer(readsSameIssue)
    self.leaves = makeBuffer(bitmask ? sorted : table.leaves)
    self.terms = makeBuffer(table.terms)
    self.items = makeBuffer(items)
    self.levels = makeBuffer(levels)
    self.levelCount = levels.count
    self.calendarDurations = table.calendarDurations
    self.usesSameIssue = table.usesSameIssue
  }

  let levelCount: Int

  deinit {
    leaves.deallocate()
    terms.deallocate()
    items.deallocate()
    levels.deallocate()
    termCheap.deallocate()
    termCalendar.deallocate()
    itemMask.deallocate()
    itemSimple.deallocate()
    itemSingleTerm.deallocate()
    maskLeaves.deallocate()
    levelNeeds.deallocate()
    levelSameIssue.deallocate()
  }
}
