/// Tells in one pass over a text's UTF-8 bytes whether it *may* hold a disguised keyword, so
/// that the disguise matcher's slower walk (live states over characters, readings and
/// syllables) runs only on the rare texts that do.
///
/// It is the disguise trie read over coarser symbols, compiled to a deterministic automaton:
/// every folded character is read as one *class* — a Latin letter (ü as `v`, tone marks
/// dropped) as its letter, a character with a pinyin reading as its commonest toneless
/// syllable, any other character the trie names as itself — and a pinyin syllable edge becomes
/// the path of its letters. Every disguised match the matcher can report is a path here
/// (a character's own edge and its homophone edge both read its syllable; a split's components
/// and a look-alike read their own classes; a syllable reads its letters), so "no hit" is
/// exact, and "a hit" is checked by the matcher, which alone knows syllable boundaries, which
/// character stood where, and which disguise was undone.
///
/// The subset construction runs when the rules compile, within a budget of states
/// (`budget`); a keyword list too large for it gets no detector, and the matcher then walks
/// every text, as before.
final class DisguiseDetector: @unchecked Sendable {
  // @unchecked: every buffer is written in init only and freed in deinit.
  /// Raw BMP scalar → class (0 none) or one of the special classes below.
  let classOf: UnsafeMutableBufferPointer<UInt16>
  /// Per class: the state reached from the start state.
  let rootRow: UnsafeMutableBufferPointer<Int32>
  /// Per state: its transitions that differ from the start state's,
  /// `exceptionClass/Target[start ..< end]` sorted by class, and a filter bit per class.
  struct Record {
    var start: Int32
    var end: Int32
    var filter: UInt64
  }
  let records: UnsafeMutableBufferPointer<Record>
  let exceptionClass: UnsafeMutableBufferPointer<UInt16>
  let exceptionTarget: UnsafeMutableBufferPointer<Int32>
  /// The class of a folded scalar, for the scalars outside the BMP and those an expansion
  /// yields (the slow path).
  let classes: Classes
  let stateCount: Int
  let trieStates: Int

  /// Set on a state (as stored in `rootRow` and `exceptionTarget`) in which some keyword may end.
  static let hitBit: Int32 = 1 << 30
  static let skipClass = KeywordAutomaton.skipClass
  static let breakClass = KeywordAutomaton.breakClass
  static let expandClass = KeywordAutomaton.expandClass
  /// Most automaton states the construction may make before it gives up, and most trie
  /// states (letter paths included) it starts from: about 1,000 keywords with every mode on,
  /// built in 0.6 s (500 in 0.1 s). Larger lists are walked without a detector.
  static let budget = 100_000
  static let trieBudget = 16_000

  /// The symbols: Latin letters; the characters the trie names (a keyword's own characters,
  /// split components, look-alikes), each its own; and syllables, for every other character
  /// with a reading.
  struct Classes {
    var letter = [UInt16](repeating: 0, count: 128)
    var reading: [UInt16] = Array(repeating: 0, count: DisguiseData.syllables.count)
    var character: [UInt32: UInt16] = [:]
    var count: UInt16 = 1

    /// The class a folded scalar of the text reads as (0: none the trie uses).
    func of(_ v: UInt32) -> UInt16 {
      if let l = DisguiseData.plainLetter(v) { return letter[Int(l)] }
      if let c = character[v] { return c }
      if let r = Self.commonestReading(v) { return reading[Int(r)] }
      return 0
    }

    /// The class of a character the trie names, made when missing.
    mutating func named(_ v: UInt32) -> UInt16 {
      if let l = DisguiseData.plainLetter(v) {
        if letter[Int(l)] == 0 { letter[Int(l)] = next() }
        return letter[Int(l)]
      }
      if let c = character[v] { return c }
      let c = next()
      character[v] = c
      return c
    }

    /// The class of the other characters read as syllable `r`, made when missing.
    mutating func syllable(_ r: UInt16) -> UInt16 {
      if reading[Int(r)] == 0 { reading[Int(r)] = next() }
      return reading[Int(r)]
    }

    private mutating func next() -> UInt16 {
      count += 1
      return count - 1
    }

    static func commonestReading(_ v: UInt32) -> UInt16? {
      if v < 0x10000 {
        let bmp = DisguiseData.bmp
        let k = Int(bmp.start[Int(v)])
        return k < Int(bmp.start[Int(v) + 1]) ? bmp.ids[k] : nil
      }
      return DisguiseData.readingsOf[v]?.first
    }
  }

  /// Per automaton state, besides the trie state: whether some disguise was undone on the way
  /// (`disguisedFlag`: a keyword as written is the keyword automaton's), and whether some
  /// character was itself, its pinyin or its components (`anchoredFlag`: two homophones or
  /// look-alikes alone are not reported).
  static let disguisedFlag: Int32 = 1
  static let anchoredFlag: Int32 = 2

  /// `edges` are the matcher's: (state, token, target, disguise) with its tokens (a scalar,
  /// `homophoneToken | reading`, `pinyinToken | syllable`); `roots` start anywhere;
  /// `outputs` are the states where a keyword ends, `long` those where one of three characters
  /// or more does. Nil when over `budget` states.
  init?(
    stateCount: Int, edges: [(from: Int32, token: UInt32, to: Int32, kind: Disguise)], roots: [Int32],
    outputs: Set<Int32>, long: Set<Int32>
  ) {
    // 1. The matcher's trie over classes; syllables become letter paths. Each edge carries
    // the flags it sets.
    guard stateCount <= Self.trieBudget else { return nil }
    var classes = Classes()
    for e in edges where e.token & (DisguiseMatcher.pinyinToken | DisguiseMatcher.homophoneToken) == 0 {
      _ = classes.named(e.token)
    }
    var sameSyllable: [UInt16: [(UInt32, UInt16)]] = [:]  // syllable → the named characters and classes
    for (v, c) in classes.character {
      if let r = Classes.commonestReading(v) { sameSyllable[r, default: []].append((v, c)) }
    }
    func flags(_ kind: Disguise) -> UInt8 {
      if kind.isEmpty { return UInt8(Self.anchoredFlag) }
      if kind == .homophone || kind == .lookalike { return UInt8(Self.disguisedFlag) }
      return UInt8(Self.disguisedFlag | Self.anchoredFlag)
    }
    // A keyword character written as itself is not its own homophone: the matcher keeps
    // the better reading of the two (as itself), and so must the detector.
    var itself: [UInt64: UInt32] = [:]  // from << 32 | to → the character, of the edges on one as itself
    for e in edges where e.kind.isEmpty && e.token & (DisguiseMatcher.pinyinToken | DisguiseMatcher.homophoneToken) == 0
    {
      itself[UInt64(UInt32(bitPattern: e.from)) << 32 | UInt64(UInt32(bitPattern: e.to))] = e.token
    }
    var nfa: [(from: Int32, cls: UInt16, to: Int32, flags: UInt8)] = []
    nfa.reserveCapacity(edges.count * 2)
    var nfaCount = Int32(stateCount)
    var letterChild: [UInt64: Int32] = [:]
    for e in edges {
      let t = e.token
      let f = flags(e.kind)
      if t & DisguiseMatcher.pinyinToken != 0 {
        let letters = Array(DisguiseData.syllables[Int(t & 0xFFFF)].utf8)
        var at = e.from
        for (j, l) in letters.enumerated() {
          let cls = classes.named(UInt32(l))
          if j == letters.count - 1 {
            nfa.append((at, cls, e.to, f))
          } else {
            let key = UInt64(UInt32(bitPattern: at)) << 8 | UInt64(l)
            if let c = letterChild[key] {
              at = c
            } else {
              let c = nfaCount
              nfaCount += 1
              letterChild[key] = c
              nfa.append((at, cls, c, f))
              at = c
            }
          }
        }
      } else if t & DisguiseMatcher.homophoneToken != 0 {
        // Any character read as this syllable: those the trie names have their own classes.
        let r = UInt16(truncatingIfNeeded: t)
        nfa.append((e.from, classes.syllable(r), e.to, f))
        let pair = UInt64(UInt32(bitPattern: e.from)) << 32 | UInt64(UInt32(bitPattern: e.to))
        for (v, c) in sameSyllable[r] ?? [] where itself[pair] != v {
          nfa.append((e.from, c, e.to, f))
        }
      } else {
        nfa.append((e.from, classes.named(t), e.to, f))
      }
    }
    let classCount = Int(classes.count)
    guard classCount < Int(Self.expandClass), Int(nfaCount) <= Self.trieBudget else { return nil }
    nfa.sort { ($0.from, $0.cls, $0.to, $0.flags) < ($1.from, $1.cls, $1.to, $1.flags) }
    var edgeStart = [Int32](repeating: 0, count: Int(nfaCount) + 1)
    var edgeClass: [UInt16] = []
    var edgeTo: [Int32] = []
    for (k, e) in nfa.enumerated() where k == 0 || nfa[k - 1] != e {
      edgeStart[Int(e.from) + 1] += 1
      edgeClass.append(e.cls)
      // The target with the edge's flags, as an automaton member is written: state << 2 | flags.
      edgeTo.append(e.to << 2 | Int32(e.flags))
    }
    for s in 0..<Int(nfaCount) { edgeStart[s + 1] += edgeStart[s] }
    // A member (state << 2 | flags) is a hit when a keyword ends at the state, disguised, and
    // anchored or three characters long.
    var isOutput = [Bool](repeating: false, count: Int(nfaCount))
    var isLong = [Bool](repeating: false, count: Int(nfaCount))
    for s in outputs { isOutput[Int(s)] = true }
    for s in long { isLong[Int(s)] = true }
    func isHit(_ m: Int32) -> Bool {
      let s = Int(m >> 2)
      return isOutput[s] && m & Self.disguisedFlag != 0 && (m & Self.anchoredFlag != 0 || isLong[s])
    }

    // 2. Subset construction; every set holds the roots (a keyword may start anywhere).
    let rootSet = Array(Set(roots)).sorted().map { $0 << 2 }
    var sets: [[Int32]] = []
    var hits: [Bool] = []
    var ids: [[Int32]: Int32] = [:]
    var overBudget = false
    func intern(_ s: [Int32]) -> Int32 {
      if let i = ids[s] { return i }
      guard sets.count < Self.budget else {
        overBudget = true
        return 0
      }
      let i = Int32(sets.count)
      let hit = s.contains(where: isHit)
      let marked = hit ? i | Self.hitBit : i
      sets.append(s)
      hits.append(hit)
      ids[s] = marked
      return marked
    }
    var scratch: [Int32] = []
    func step(_ members: [Int32], _ c: UInt16) -> [Int32] {
      scratch.removeAll(keepingCapacity: true)
      scratch.append(contentsOf: rootSet)
      for m in members {
        // Lower bound of class c among the state's sorted edges.
        let s = Int(m >> 2)
        let f = m & 3
        var lo = Int(edgeStart[s])
        var hi = Int(edgeStart[s + 1])
        while lo < hi {
          let mid = (lo + hi) >> 1
          if edgeClass[mid] < c { lo = mid + 1 } else { hi = mid }
        }
        while lo < Int(edgeStart[s + 1]), edgeClass[lo] == c {
          scratch.append(edgeTo[lo] | f)
          lo += 1
        }
      }
      scratch.sort()
      var out: [Int32] = []
      out.reserveCapacity(scratch.count)
      for x in scratch where out.last != x { out.append(x) }
      return out
    }
    _ = intern(rootSet)
    var root = [Int32](repeating: 0, count: classCount)
    for c in 1..<classCount {
      root[c] = intern(step(rootSet, UInt16(c)))
      if overBudget { return nil }
    }
    var recs: [Record] = [Record(start: 0, end: 0, filter: 0)]
    var exClass: [UInt16] = []
    var exTarget: [Int32] = []
    var isRoot = [Bool](repeating: false, count: Int(nfaCount) << 2)
    for m in rootSet { isRoot[Int(m)] = true }
    // Per state: every (class, target) its members other than the roots reach, sorted; per
    // class, those targets merged with the start state's successor (the roots' moves and the
    // roots), which is where the state goes when none of its own members moves.
    var pairs: [UInt64] = []
    var targets: [Int32] = []
    var k = 1
    while k < sets.count {
      let members = sets[k]
      let start = Int32(exClass.count)
      var filter: UInt64 = 0
      // The scan stops at a hit: nothing leaves a hit state.
      if !hits[k] {
        pairs.removeAll(keepingCapacity: true)
        for m in members where !isRoot[Int(m)] {
          let s = Int(m >> 2)
          let f = m & 3
          for e in Int(edgeStart[s])..<Int(edgeStart[s + 1]) {
            pairs.append(UInt64(edgeClass[e]) << 32 | UInt64(UInt32(bitPattern: edgeTo[e] | f)))
          }
        }
        pairs.sort()
        var i = 0
        while i < pairs.count {
          let c = UInt16(truncatingIfNeeded: pairs[i] >> 32)
          targets.removeAll(keepingCapacity: true)
          var j = i
          while j < pairs.count, pairs[j] >> 32 == UInt64(c) {
            let t = Int32(bitPattern: UInt32(truncatingIfNeeded: pairs[j]))
            if targets.last != t { targets.append(t) }
            j += 1
          }
          i = j
          let fallback = sets[Int(root[Int(c)] & ~Self.hitBit)]
          let next = Self.merged(targets, fallback)
          if next.count == fallback.count { continue }  // nothing new: the start state's move
          let t = intern(next)
          if overBudget { return nil }
          exClass.append(c)
          exTarget.append(t)
          filter |= 1 << UInt64(c & 63)
        }
      }
      recs.append(Record(start: start, end: Int32(exClass.count), filter: filter))
      k += 1
    }

    // 3. The class of every raw BMP scalar, through the normalizer.
    let classOf = KeywordAutomaton.classTable { classes.of($0) }
    self.classOf = KeywordAutomaton.buffer(classOf)
    self.rootRow = KeywordAutomaton.buffer(root)
    self.records = KeywordAutomaton.buffer(recs)
    self.exceptionClass = KeywordAutomaton.buffer(exClass)
    self.exceptionTarget = KeywordAutomaton.buffer(exTarget)
    self.classes = classes
    self.stateCount = sets.count
    self.trieStates = Int(nfaCount)
  }

  deinit {
    classOf.deallocate()
    rootRow.deallocate()
    records.deallocate()
    exceptionClass.deallocate()
    exceptionTarget.deallocate()
  }

  /// The union of two sorted lists without repeats, sorted.
  static func merged(_ a: [Int32], _ b: [Int32]) -> [Int32] {
    var out: [Int32] = []
    out.reserveCapacity(a.count + b.count)
    var i = 0
    var j = 0
    while i < a.count || j < b.count {
      let x: Int32
      if j == b.count || (i < a.count && a[i] < b[j]) {
        x = a[i]
        i += 1
      } else if i == a.count || b[j] < a[i] {
        x = b[j]
        j += 1
      } else {
        x = a[i]
        i += 1
        j += 1
      }
      if out.last != x { out.append(x) }
    }
    return out
  }

  @inline(__always)
  func next(_ state: Int32, _ c: UInt16) -> Int32 {
    let r = records[Int(state & ~Self.hitBit)]
    if r.filter & (1 << UInt64(c & 63)) != 0 {
      var lo = Int(r.start)
      var hi = Int(r.end)
      while lo < hi {
        let mid = (lo + hi) >> 1
        if exceptionClass[mid] < c { lo = mid + 1 } else { hi = mid }
      }
      if lo < Int(r.end), exceptionClass[lo] == c { return exceptionTarget[lo] }
    }
    return rootRow[Int(c)]
  }

  /// Whether some disguised keyword may end in `bytes` (false: certainly none does).
  func mayMatch(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return false }
    let n = bytes.count
    var state: Int32 = 0
    var i = 0
    while i < n {
      let v = UTF8Decoding.next(base, n, &i)
      let c: UInt16 = v < 0x10000 ? classOf[Int(v)] : Self.expandClass
      if c < Self.expandClass {
        state = c == 0 ? 0 : next(state, c)
        if state & Self.hitBit != 0 { return true }
      } else if c == Self.breakClass {
        state = 0
      } else if c == Self.expandClass {
        if slowScalar(v, &state) { return true }
      }  // else: skipped
    }
    return false
  }

  /// A scalar outside the BMP or one that expands: steps `state` through what it folds to;
  /// true on a hit.
  @inline(never)
  func slowScalar(_ v: UInt32, _ state: inout Int32) -> Bool {
    guard let s = Unicode.Scalar(v) else { return false }
    switch Normalizer.action(s) {
    case .skip: return false
    case .lineBreak:
      state = 0
      return false
    case .scalars(let xs):
      for x in xs {
        let c = classes.of(x)
        state = c == 0 ? 0 : next(state, c)
        if state & Self.hitBit != 0 { return true }
      }
      return false
    }
  }
}
