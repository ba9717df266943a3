/// A keyword or exception phrase to look for.
public struct Pattern: Sendable {
  /// The text as written in the rules (reported back in matches).
  public var text: String
  /// The category index (into the rule set's categories).
  public var category: Int32
  /// An exception phrase: it suppresses the matches of its category that it contains.
  public var isException: Bool
  /// The disguises its category allows (`match:` in the rules); empty: folding only.
  public var modes: MatchModes

  public init(text: String, category: Int32, isException: Bool, modes: MatchModes = []) {
    self.text = text
    self.category = category
    self.isException = isException
    self.modes = modes
  }
}

/// One match, as a span of the original text in Unicode scalars (`start` inclusive, `end`
/// exclusive), counted from the start of the scanned text (or line, for `scanLines`).
public struct Match: Sendable, Hashable {
  public var pattern: Int32
  public var start: Int
  public var end: Int
  /// The disguises undone to find it (empty: the keyword as written, folded).
  public var disguise: Disguise

  public init(pattern: Int32, start: Int, end: Int, disguise: Disguise = []) {
    self.pattern = pattern
    self.start = start
    self.end = end
    self.disguise = disguise
  }
}

/// One Aho–Corasick automaton over normalized text for every keyword of every category,
/// built once when the rules compile; one pass over the text finds all of them, overlapping
/// ones included.
public final class KeywordAutomaton: @unchecked Sendable {
  // @unchecked: every buffer is written in init only and freed in deinit.
  public let patterns: [Pattern]
  /// Normalized length of each pattern, in scalars.
  let lengths: UnsafeMutableBufferPointer<Int32>
  /// BMP scalar → class: 0 none, `skipClass`, `breakClass`, `expandClass`, else 1…
  let classOf: UnsafeMutableBufferPointer<UInt16>
  /// Classes of normalized scalars outside the BMP, and of expansion results.
  let wideClasses: [UInt32: UInt16]
  let classCount: Int
  /// Root transitions, dense by class.
  let rootNext: UnsafeMutableBufferPointer<Int32>
  /// Per state: edges `edgeStart[s] ..< edgeStart[s + 1]`, sorted by class.
  let edgeStart: UnsafeMutableBufferPointer<Int32>
  let edgeClass: UnsafeMutableBufferPointer<UInt16>
  let edgeTarget: UnsafeMutableBufferPointer<Int32>
  let fail: UnsafeMutableBufferPointer<Int32>
  /// Per state: the pattern ending exactly here (-1 none), and the next state on the
  /// failure chain that has one (-1 none).
  let output: UnsafeMutableBufferPointer<Int32>
  let outputLink: UnsafeMutableBufferPointer<Int32>
  /// What the scan loop reads per state, in one 16-byte record: edges, failure, first output.
  struct StateRecord {
    var edgeStart: Int32
    var edgeEnd: Int32
    var fail: Int32
    /// This state if a pattern ends here, else the next output state on the failure chain, or -1.
    var firstOutput: Int32
    /// Bit `class & 63` set for every edge class: most misses end here, without a search.
    var filter: UInt64
  }
  let records: UnsafeMutableBufferPointer<StateRecord>
  /// Patterns that end at the same state as another one (identical normalized text).
  let sameText: [Int32: [Int32]]
  let ringMask: Int
  public let hasExceptions: Bool
  /// Patterns whose normalized text is empty (reported by the rules check, never matched).
  public let emptyPatterns: [Int]
  /// With a disguise detector: per BMP scalar, its class here (low 16 bits) and the
  /// detector's (high 16 bits), so the fused scan loads one table.
  let bothClasses: UnsafeMutableBufferPointer<UInt32>?
  /// The keywords and exceptions of categories with `match:` modes, matched disguised.
  let disguised: DisguiseMatcher?
  /// Whether some category matches disguises (then `matches(in:)` also runs the slower
  /// disguise matcher, and `scanRaw` alone is not the whole answer).
  public var hasDisguises: Bool { disguised != nil }
  public var stateCount: Int { fail.count }

  static let outputBit: Int32 = 1 << 30
  static let skipClass: UInt16 = 0xFFFF
  static let breakClass: UInt16 = 0xFFFE
  static let expandClass: UInt16 = 0xFFFD

  /// `detector: false` leaves the disguise detector out, so the disguise matcher walks every
  /// text (for benchmarks and tests: the matches are the same, only slower).
  public init(patterns: [Pattern], detector: Bool = true) {
    self.patterns = patterns
    // 1. Normalize every pattern and give each distinct scalar a class.
    var classes: [UInt32: UInt16] = [:]
    var folded: [[UInt16]] = []
    var foldedScalars: [[UInt32]] = []
    var empty: [Int] = []
    for (i, p) in patterns.enumerated() {
      var seq: [UInt16] = []
      let scalars = Normalizer.fold(p.text).filter { $0 != 0x0A }
      foldedScalars.append(scalars)
      for v in scalars {
        if let c = classes[v] {
          seq.append(c)
        } else {
          let c = UInt16(min(classes.count + 1, 0xFFF0))
          classes[v] = c
          seq.append(c)
        }
      }
      if seq.isEmpty { empty.append(i) }
      folded.append(seq)
    }
    emptyPatterns = empty
    disguised =
      patterns.contains { !$0.modes.isEmpty }
      ? DisguiseMatcher(patterns: patterns, folded: foldedScalars, detector: detector) : nil
    classCount = classes.count + 1
    // 2. The class of every BMP scalar, through the normalizer.
    let table = Normalizer.tables
    let classOf = Self.classTable { classes[$0] ?? 0 }
    var wide: [UInt32: UInt16] = [:]
    for (v, c) in classes where v >= 0x10000 { wide[v] = c }
    // Expansion results (e.g. ㈱ → (株)) look their classes up by scalar at scan time.
    for e in table.expansions { for v in e { if let c = classes[v] { wide[v] = c } } }
    wideClasses = wide

    // 3. The trie.
    var goto: [UInt64: Int32] = [:]
    var outputs: [Int32] = [-1]
    var same: [Int32: [Int32]] = [:]
    var depth: [Int32] = [0]
    var edges: [(parent: Int32, cls: UInt16, child: Int32)] = []
    var maxLength = 1
    for (i, seq) in folded.enumerated() where !seq.isEmpty {
      var s: Int32 = 0
      for c in seq {
        let key = UInt64(s) << 16 | UInt64(c)
        if let t = goto[key] {
          s = t
        } else {
          let t = Int32(outputs.count)
          outputs.append(-1)
          depth.append(depth[Int(s)] + 1)
          goto[key] = t
          edges.append((s, c, t))
          s = t
        }
      }
      if outputs[Int(s)] < 0 { outputs[Int(s)] = Int32(i) } else { same[outputs[Int(s)], default: []].append(Int32(i)) }
      maxLength = max(maxLength, seq.count)
    }
    sameText = same
    let states = outputs.count
    edges.sort { ($0.parent, $0.cls) < ($1.parent, $1.cls) }
    var start = [Int32](repeating: 0, count: states + 1)
    for e in edges { start[Int(e.parent) + 1] += 1 }
    for s in 0..<states { start[s + 1] += start[s] }
    // 4. Failure and output links, breadth first.
    var failArr = [Int32](repeating: 0, count: states)
    var link = [Int32](repeating: -1, count: states)
    var queue: [Int32] = []
    queue.reserveCapacity(states)
    for e in edges where e.parent == 0 { queue.append(e.child) }
    var head = 0
    while head < queue.count {
      let s = queue[head]
      head += 1
      for k in Int(start[Int(s)])..<Int(start[Int(s) + 1]) {
        let (_, c, t) = edges[k]
        var f = failArr[Int(s)]
        while true {
          if let g = goto[UInt64(f) << 16 | UInt64(c)] {
            failArr[Int(t)] = g
            break
          }
          if f == 0 {
            failArr[Int(t)] = 0
            break
          }
          f = failArr[Int(f)]
        }
        let ft = Int(failArr[Int(t)])
        link[Int(t)] = outputs[ft] >= 0 ? Int32(ft) : link[ft]
        queue.append(t)
      }
    }
    var root = [Int32](repeating: 0, count: classCount)
    for e in edges where e.parent == 0 { root[Int(e.cls)] = e.child }
    // A target state that ends a pattern (itself or down its failure chain) carries
    // `outputBit`, so the scan learns it without reading the state's record.
    func marked(_ t: Int32) -> Int32 { outputs[Int(t)] >= 0 || link[Int(t)] >= 0 ? t | Self.outputBit : t }
    root = root.map { $0 == 0 ? 0 : marked($0) }
    self.classOf = Self.buffer(classOf)
    if let detector = disguised?.detector {
      self.bothClasses = Self.buffer((0..<0x10000).map { UInt32(detector.classOf[$0]) << 16 | UInt32(classOf[$0]) })
    } else {
      self.bothClasses = nil
    }
    self.rootNext = Self.buffer(root)
    self.edgeStart = Self.buffer(start)
    self.edgeClass = Self.buffer(edges.map(\.cls))
    self.edgeTarget = Self.buffer(edges.map { marked($0.child) })
    self.fail = Self.buffer(failArr)
    self.output = Self.buffer(outputs)
    self.outputLink = Self.buffer(link)
    self.lengths = Self.buffer(folded.map { Int32($0.count) })
    var recordList: [StateRecord] = []
    recordList.reserveCapacity(states)
    for st in 0..<states {
      var filter: UInt64 = 0
      for k in Int(start[st])..<Int(start[st + 1]) { filter |= 1 << UInt64(edges[k].cls & 63) }
      let first: Int32 = outputs[st] >= 0 ? Int32(st) : link[st]
      recordList.append(
        StateRecord(edgeStart: start[st], edgeEnd: start[st + 1], fail: failArr[st], firstOutput: first, filter: filter)
      )
    }
    self.records = Self.buffer(recordList)
    var ring = 1
    while ring < maxLength + 1 { ring <<= 1 }
    self.ringMask = ring - 1
    self.hasExceptions = patterns.contains { $0.isException }
  }

  deinit {
    classOf.deallocate()
    bothClasses?.deallocate()
    rootNext.deallocate()
    edgeStart.deallocate()
    edgeClass.deallocate()
    edgeTarget.deallocate()
    fail.deallocate()
    output.deallocate()
    outputLink.deallocate()
    lengths.deallocate()
    records.deallocate()
  }

  /// Per raw BMP scalar, through the normalizer: `skipClass`, `breakClass`, `expandClass`, or
  /// the class `of` gives the scalar it folds to (the keyword automaton's and the disguise
  /// detector's tables).
  static func classTable(_ of: (UInt32) -> UInt16) -> [UInt16] {
    let table = Normalizer.tables.bmp
    var out = [UInt16](repeating: 0, count: 0x10000)
    for v in 0..<0x10000 {
      let code = table[v]
      if code == Normalizer.skipCode {
        out[v] = skipClass
      } else if code == Normalizer.breakCode {
        out[v] = breakClass
      } else if code & Normalizer.expansionFlag != 0 {
        out[v] = expandClass
      } else {
        out[v] = of(code)
      }
    }
    return out
  }

  /// A buffer holding `a`'s elements, freed by its owner's deinit.
  static func buffer<T>(_ a: [T]) -> UnsafeMutableBufferPointer<T> {
    let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, a.count))
    _ = b.initialize(from: a)
    return UnsafeMutableBufferPointer(rebasing: b[0..<a.count])
  }

  /// The state after reading class `c` in `state` (following failure links).
  @inline(__always)
  func next(_ state: Int32, _ c: UInt16) -> Int32 {
    var s = state & ~Self.outputBit
    while s != 0 {
      let r = records[Int(s)]
      if r.filter & (1 << UInt64(c & 63)) == 0 {
        s = r.fail & ~Self.outputBit
        continue
      }
      // Branch-free lower bound over the state's sorted edge classes.
      var base = Int(r.edgeStart)
      var n = Int(r.edgeEnd) - base
      while n > 1 {
        let half = n >> 1
        base = edgeClass[base + half] <= c ? base + half : base
        n -= half
      }
      if n == 1, edgeClass[base] == c { return edgeTarget[base] }
      s = r.fail & ~Self.outputBit
    }
    return rootNext[Int(c)]
  }

  /// Scans UTF-8 text and reports every pattern match (exceptions included, unfiltered) with
  /// its span in scalars from the start of `bytes`. Line breaks reset the automaton;
  /// `lineBreak` is called with the scalar index after each one.
  public func scanRaw(
    _ bytes: UnsafeBufferPointer<UInt8>, lineBreak: (Int) -> Void = { _ in }, _ report: (Match) -> Void
  ) {
    guard let base = bytes.baseAddress else { return }
    let n = bytes.count
    let ringSize = ringMask + 1
    withUnsafeTemporaryAllocation(of: Int.self, capacity: ringSize) { ring in
      var scan = Scan(ring: ring)
      var i = 0
      while i < n {
        let v = UTF8Decoding.next(base, n, &i)
        let c: UInt16 = v < 0x10000 ? classOf[Int(v)] : Self.expandClass
        if c < Self.expandClass {
          feed(c, &scan, report)
        } else if c == Self.breakClass {
          scan.state = 0
          lineBreak(scan.scalarIndex + 1)
        } else if c == Self.expandClass {
          slowScalar(v, &scan, lineBreak, report)
        }  // else: skipped between keyword characters
        scan.scalarIndex += 1
      }
    }
  }

  /// `scanRaw` and the disguise detector in one pass (one decoding, one table load per
  /// scalar); returns whether the detector saw where a disguised keyword may end.
  func scanRawDetecting(
    _ bytes: UnsafeBufferPointer<UInt8>, _ detector: DisguiseDetector, _ report: (Match) -> Void
  ) -> Bool {
    guard let base = bytes.baseAddress, let both = bothClasses else { return false }
    let n = bytes.count
    var hit = false
    withUnsafeTemporaryAllocation(of: Int.self, capacity: ringMask + 1) { ring in
      var scan = Scan(ring: ring)
      var d: Int32 = 0
      var i = 0
      while i < n {
        let v = UTF8Decoding.next(base, n, &i)
        let cc: UInt32 = v < 0x10000 ? both[Int(v)] : UInt32(Self.expandClass)
        let c = UInt16(truncatingIfNeeded: cc)
        if c < Self.expandClass {
          feed(c, &scan, report)
          if !hit {
            let dc = UInt16(truncatingIfNeeded: cc >> 16)
            d = dc == 0 ? 0 : detector.next(d, dc)
            hit = d & DisguiseDetector.hitBit != 0
          }
        } else if c == Self.breakClass {
          scan.state = 0
          d = 0
        } else if c == Self.expandClass {
          slowScalar(v, &scan, { _ in }, report)
          if !hit { hit = detector.slowScalar(v, &d) }
        }  // else: skipped between keyword characters
        scan.scalarIndex += 1
      }
    }
    return hit
  }

  /// The scan's moving parts, kept together so they stay in registers.
  struct Scan {
    var state: Int32 = 0
    var position = 0
    var scalarIndex = 0
    let ring: UnsafeMutableBufferPointer<Int>
    init(ring: UnsafeMutableBufferPointer<Int>) { self.ring = ring }
  }

  @inline(__always)
  func feed(_ c: UInt16, _ scan: inout Scan, _ report: (Match) -> Void) {
    scan.position += 1
    if c == 0 {
      scan.state = 0
      return
    }
    scan.state = next(scan.state, c)
    scan.ring[scan.position & ringMask] = scan.scalarIndex
    guard scan.state & Self.outputBit != 0 else { return }
    var s = records[Int(scan.state & ~Self.outputBit)].firstOutput
    while s > 0 {
      let p = output[Int(s)]
      let begin = scan.ring[(scan.position - Int(lengths[Int(p)]) + 1) & ringMask]
      report(Match(pattern: p, start: begin, end: scan.scalarIndex + 1))
      if let more = sameText[p] {
        for q in more { report(Match(pattern: q, start: begin, end: scan.scalarIndex + 1)) }
      }
      s = outputLink[Int(s)]
    }
  }

  /// Scalars that expand (㈱ → (株)) or lie outside the BMP.
  @inline(never)
  func slowScalar(_ v: UInt32, _ scan: inout Scan, _ lineBreak: (Int) -> Void, _ report: (Match) -> Void) {
    guard let s = Unicode.Scalar(v) else { return }
    switch Normalizer.action(s) {
    case .skip: break
    case .lineBreak:
      scan.state = 0
      lineBreak(scan.scalarIndex + 1)
    case .scalars(let xs):
      for x in xs { feed(classOfNormalized(x), &scan, report) }
    }
  }

  /// The class of an already-normalized scalar.
  @inline(__always)
  func classOfNormalized(_ x: UInt32) -> UInt16 {
    if x < 0x10000 {
      let c = classOf[Int(x)]
      return c >= Self.expandClass ? (wideClasses[x] ?? 0) : c
    }
    return wideClasses[x] ?? 0
  }

  /// Every keyword match in `text`, exceptions applied: a keyword match inside an exception
  /// match of the same category is dropped. Sorted by start, then end, then pattern.
  public func matches(in text: String) -> [Match] {
    var t = text
    return t.withUTF8 { matches(in: $0) }
  }

  public func matches(in bytes: UnsafeBufferPointer<UInt8>) -> [Match] {
    filter(rawMatches(in: bytes))
  }

  /// Every match in `bytes` — keywords and exception phrases, plain and disguised — before
  /// the exceptions are applied.
  public func rawMatches(in bytes: UnsafeBufferPointer<UInt8>) -> [Match] {
    var found: [Match] = []
    guard let disguised else {
      scanRaw(bytes) { found.append($0) }
      return found
    }
    let walk: Bool
    if let detector = disguised.detector {
      walk = scanRawDetecting(bytes, detector) { found.append($0) }
    } else {
      scanRaw(bytes) { found.append($0) }
      walk = true
    }
    if walk { disguised.scan(String(decoding: bytes, as: UTF8.self)) { found.append($0) } }
    return found
  }

  /// The disguised matches of `bytes` found by walking it whatever the detector says
  /// (for tests: the detector must never turn a text away that has one).
  func disguisedMatchesWithoutDetector(in bytes: UnsafeBufferPointer<UInt8>) -> [Match] {
    var found: [Match] = []
    disguised?.scan(String(decoding: bytes, as: UTF8.self)) { found.append($0) }
    return found
  }

  /// Whether the detector lets `bytes` through (true without a detector), asked of the
  /// detector alone and of the fused scan: the two must agree (for tests).
  func detectorVerdicts(_ bytes: UnsafeBufferPointer<UInt8>) -> (alone: Bool, fused: Bool) {
    guard let detector = disguised?.detector else { return (true, true) }
    return (detector.mayMatch(bytes), scanRawDetecting(bytes, detector) { _ in })
  }

  /// The detector's state count (nil: none, over its budget).
  var detectorStates: Int? { disguised?.detector?.stateCount }

  /// Whether exception match `e` suppresses keyword match `m`: same category, `m` inside `e`.
  @inline(__always)
  public func suppresses(_ e: Match, _ m: Match) -> Bool {
    patterns[Int(e.pattern)].isException && !patterns[Int(m.pattern)].isException
      && patterns[Int(e.pattern)].category == patterns[Int(m.pattern)].category && e.start <= m.start
      && e.end >= m.end
  }

  /// The exception phrases (pattern indices) that suppress at least one keyword match of `raw`.
  public func suppressingExceptions(_ raw: [Match]) -> Set<Int32> {
    var out = Set<Int32>()
    for e in raw where patterns[Int(e.pattern)].isException && raw.contains(where: { suppresses(e, $0) }) {
      out.insert(e.pattern)
    }
    return out
  }

  /// Applies the exceptions to raw matches of one text or line.
  public func filter(_ found: [Match]) -> [Match] {
    var raw = found
    if disguised != nil {
      // One match per pattern and span: the one that undid the fewest disguises.
      raw.sort {
        ($0.pattern, $0.start, $0.end, $0.disguise.rawValue.nonzeroBitCount, $0.disguise.rawValue)
          < ($1.pattern, $1.start, $1.end, $1.disguise.rawValue.nonzeroBitCount, $1.disguise.rawValue)
      }
      var unique: [Match] = []
      for m in raw where unique.last.map({ $0.pattern != m.pattern || $0.start != m.start || $0.end != m.end }) ?? true
      {
        unique.append(m)
      }
      raw = unique
    }
    var keep: [Match] = []
    if hasExceptions {
      let exceptions = raw.filter { patterns[Int($0.pattern)].isException }
      for m in raw where !patterns[Int(m.pattern)].isException {
        if exceptions.contains(where: { suppresses($0, m) }) { continue }
        keep.append(m)
      }
    } else {
      keep = raw
    }
    keep.sort { ($0.start, $0.end, $0.pattern) < ($1.start, $1.end, $1.pattern) }
    return keep
  }
}

/// UTF-8 decoding for the scan loops: the scalar at `i` (U+FFFD for a truncated sequence),
/// `i` moved past it. Input is valid UTF-8 (Swift strings) or treated leniently.
enum UTF8Decoding {
  @inline(__always)
  static func next(_ base: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> UInt32 {
    let b0 = base[i]
    if b0 < 0x80 {
      i += 1
      return UInt32(b0)
    } else if b0 < 0xE0 {
      defer { i += 2 }
      return i + 1 < n ? (UInt32(b0 & 0x1F) << 6) | UInt32(base[i + 1] & 0x3F) : 0xFFFD
    } else if b0 < 0xF0 {
      defer { i += 3 }
      return i + 2 < n
        ? (UInt32(b0 & 0x0F) << 12) | (UInt32(base[i + 1] & 0x3F) << 6) | UInt32(base[i + 2] & 0x3F) : 0xFFFD
    } else {
      defer { i += 4 }
      return i + 3 < n
        ? (UInt32(b0 & 0x07) << 18) | (UInt32(base[i + 1] & 0x3F) << 12) | (UInt32(base[i + 2] & 0x3F) << 6)
          | UInt32(base[i + 3] & 0x3F) : 0xFFFD
    }
  }
}
