/// Finds the keywords whose categories allow disguises, written disguised: a trie over the
/// keywords' characters whose edges also accept, per enabled mode, the character's pinyin
/// syllables, homophones (any text character with one of its toneless syllables), its
/// component splits and its look-alikes. The text becomes a small graph (a Latin letter run
/// that splits wholly into pinyin syllables adds one edge per syllable; a character adds its
/// own edge and one per reading), walked left to right with the set of live trie states.
/// Reports only matches that undid at least one disguise: the automaton finds the rest.
final class DisguiseMatcher: @unchecked Sendable {
  // @unchecked: written in init only.
  struct Edge {
    var target: Int32
    var kind: Disguise
  }
  /// (state << 32 | token) → edges, as an open-addressing table: slot k holds `slotKey[k]`
  /// (`emptyKey` when free) and its edges `edgeList[slotStart[k] ..< slotStart[k] + slotCount[k]]`.
  /// Tokens: a character (its normalized scalar), `homophoneToken | id` (a character's
  /// commonest reading), or `pinyinToken | id` (a Latin syllable).
  let slotKey: [UInt64]
  let slotStart: [Int32]
  let slotCount: [Int32]
  let edgeList: [Edge]
  let slotShift: UInt64
  static let emptyKey = UInt64.max
  /// Per state: bit `(token * 0x9E3779B1) >> 26` set for each token it has an edge on, so
  /// most tokens are turned away without probing the table.
  let stateFilter: [UInt64]
  /// Root edges, dense: for root r (its index in `roots`) and token t, the table slot
  /// `rootSlot[r * rootWidth + denseIndex(t)]` (-1 none). Every position starts at every
  /// root, so this probe is the hot one.
  let rootSlot: [Int32]
  static let rootWidth = 0x10000 + 2048
  /// Per state s: the patterns that end there, `outputList[outputStart[s] ..< outputStart[s + 1]]`.
  let outputStart: [Int32]
  let outputList: [Int32]
  /// Per pattern: its length in keyword characters (folded), and those characters.
  let lengths: [Int]
  let folded: [[UInt32]]
  /// One root per distinct mode set.
  let roots: [Int32]
  let wantsHomophones: Bool
  let wantsPinyin: Bool
  /// Bit per token that labels some edge: a text token without one moves no state.
  let used: [UInt64]
  static let homophoneToken: UInt32 = 0x0040_0000
  static let pinyinToken: UInt32 = 0x0080_0000
  /// Tells which texts may hold a match at all (nil: too many keywords for its budget, and
  /// every text is walked).
  let detector: DisguiseDetector?

  /// `folded[i]` is pattern i's normalized scalars; only patterns with modes are added.
  init(patterns: [Pattern], folded: [[UInt32]], detector: Bool = true) {
    var raw: [(key: UInt64, edge: Edge)] = []  // grouped by key below
    var outputs: [Int32: [Int32]] = [:]
    var stateCount: Int32 = 0
    var rootOf: [MatchModes: Int32] = [:]
    var children: [UInt64: Int32] = [:]  // the keyword-character trie: (state, scalar) → state
    func newState() -> Int32 {
      stateCount += 1
      return stateCount - 1
    }
    func add(_ from: Int32, _ token: UInt32, _ edge: Edge) {
      let key = UInt64(UInt32(bitPattern: from)) << 32 | UInt64(token)
      raw.append((key, edge))
    }
    var modesSeen: MatchModes = []
    // Per keyword character, computed once: its look-alikes and its splits, folded.
    var lookalikeMemo: [UInt32: [UInt32]] = [:]
    var splitMemo: [UInt32: [[UInt32]]] = [:]
    for (i, p) in patterns.enumerated() where !p.modes.isEmpty && !folded[i].isEmpty {
      // Exception phrases are real words: they are found through every mode but homophones,
      // or the exception 病毒 (a virus) would also cover the keyword 冰毒 written as itself.
      let modes = p.isException ? p.modes.subtracting(.homophones) : p.modes
      if modes.isEmpty { continue }
      modesSeen.formUnion(modes)
      let root: Int32
      if let r = rootOf[modes] {
        root = r
      } else {
        root = newState()
        rootOf[modes] = root
      }
      var s = root
      for k in folded[i] {
        let key = UInt64(UInt32(bitPattern: s)) << 32 | UInt64(k)
        let child: Int32
        if let c = children[key] {
          child = c
        } else {
          child = newState()
          children[key] = child
          add(s, k, Edge(target: child, kind: []))
          let readings = DisguiseData.readingsOf[k] ?? []
          if modes.contains(.homophones), let r = readings.first {
            // The commonest reading only, on both sides: rare readings of polyphones (暴 bó,
            // 大 dài) made ordinary words (一百里, 代码) read as keywords (暴力, 大麻).
            add(s, Self.homophoneToken | UInt32(r), Edge(target: child, kind: .homophone))
          }
          if modes.contains(.pinyin) {
            for r in readings { add(s, Self.pinyinToken | UInt32(r), Edge(target: child, kind: .pinyin)) }
          }
          if modes.contains(.lookalike) {
            if lookalikeMemo[k] == nil {
              lookalikeMemo[k] = (DisguiseData.lookalikes[k] ?? []).flatMap(Self.fold).filter { $0 != k }
            }
            for y in lookalikeMemo[k] ?? [] { add(s, y, Edge(target: child, kind: .lookalike)) }
          }
          if modes.contains(.split) {
            if splitMemo[k] == nil {
              // Components as the text will read after folding (貝 → 贝).
              splitMemo[k] = (DisguiseData.splits[k] ?? []).map { $0.flatMap(Self.fold) }.filter { $0.count >= 2 }
            }
            for seq in splitMemo[k] ?? [] {
              var at = s
              for (j, c) in seq.enumerated() {
                let next = j == seq.count - 1 ? child : newState()
                add(at, c, Edge(target: next, kind: .split))
                at = next
              }
            }
          }
        }
        s = child
      }
      outputs[s, default: []].append(Int32(i))
    }
    // Group the edges by key, each (key, target, kind) once.
    raw.sort { ($0.key, $0.edge.target, $0.edge.kind.rawValue) < ($1.key, $1.edge.target, $1.edge.kind.rawValue) }
    var groups: [(key: UInt64, start: Int, count: Int)] = []
    var list: [Edge] = []
    list.reserveCapacity(raw.count)
    for (i, r) in raw.enumerated() {
      if i > 0, raw[i - 1].key == r.key, raw[i - 1].edge.target == r.edge.target, raw[i - 1].edge.kind == r.edge.kind {
        continue
      }
      if let last = groups.last, last.key == r.key {
        groups[groups.count - 1].count += 1
      } else {
        groups.append((r.key, list.count, 1))
      }
      list.append(r.edge)
    }
    var capacity = 16
    while capacity < groups.count * 2 { capacity <<= 1 }
    var shift: UInt64 = 64
    while (1 << (64 - shift)) < capacity { shift -= 1 }
    var keys = [UInt64](repeating: Self.emptyKey, count: capacity)
    var starts = [Int32](repeating: 0, count: capacity)
    var counts = [Int32](repeating: 0, count: capacity)
    for g in groups {
      var k = Int(truncatingIfNeeded: (g.key &* 0x9E37_79B9_7F4A_7C15) >> shift)
      while keys[k] != Self.emptyKey { k = (k + 1) & (capacity - 1) }
      keys[k] = g.key
      starts[k] = Int32(truncatingIfNeeded: g.start)
      counts[k] = Int32(truncatingIfNeeded: g.count)
    }
    var filter = [UInt64](repeating: 0, count: Int(stateCount))
    for key in groups.map(\.key) {
      let state = Int(key >> 32)
      filter[state] |= 1 << Self.filterBit(UInt32(truncatingIfNeeded: key))
    }
    self.stateFilter = filter
    let rootList = rootOf.values.sorted()
    var dense = [Int32](repeating: -1, count: rootList.count * Self.rootWidth)
    for (r, root) in rootList.enumerated() {
      for k in 0..<capacity where keys[k] != Self.emptyKey && Int32(truncatingIfNeeded: keys[k] >> 32) == root {
        if let d = Self.denseIndex(UInt32(truncatingIfNeeded: keys[k])) {
          dense[r * Self.rootWidth + d] = Int32(truncatingIfNeeded: k)
        }
      }
    }
    self.rootSlot = dense
    self.slotKey = keys
    self.slotStart = starts
    self.slotCount = counts
    self.edgeList = list
    self.slotShift = shift
    self.lengths = folded.map(\.count)
    self.folded = folded
    var used = [UInt64](repeating: 0, count: Int(Self.pinyinToken >> 6) + 1024)
    for key in groups.map(\.key) {  // (the table above, by key)
      let t = Int(key & 0xFFFF_FFFF)
      if t >> 6 < used.count { used[t >> 6] |= 1 << UInt64(t & 63) }
    }
    self.used = used
    var outputStart = [Int32](repeating: 0, count: Int(stateCount) + 1)
    var outputList: [Int32] = []
    for s in 0..<Int(stateCount) {
      outputStart[s] = Int32(truncatingIfNeeded: outputList.count)
      outputList.append(contentsOf: outputs[Int32(truncatingIfNeeded: s)] ?? [])
    }
    outputStart[Int(stateCount)] = Int32(truncatingIfNeeded: outputList.count)
    self.outputStart = outputStart
    self.outputList = outputList
    self.roots = rootOf.values.sorted()
    self.wantsHomophones = modesSeen.contains(.homophones)
    self.wantsPinyin = modesSeen.contains(.pinyin)
    // (The matcher's trie alone over the detector's budget: no detector, and no time spent.)
    self.detector =
      !detector || Int(stateCount) > DisguiseDetector.trieBudget
      ? nil
      : DisguiseDetector(
        stateCount: Int(stateCount),
        edges: raw.map {
          (Int32(truncatingIfNeeded: $0.key >> 32), UInt32(truncatingIfNeeded: $0.key), $0.edge.target, $0.edge.kind)
        },
        roots: rootOf.values.sorted(), outputs: Set(outputs.keys),
        long: Set(outputs.filter { $0.value.contains { folded[Int($0)].count >= 3 } }.keys))
  }

  /// What a scalar reads as after folding (nothing for skipped ones and line breaks).
  static func fold(_ v: UInt32) -> [UInt32] {
    guard let u = Unicode.Scalar(v), case .scalars(let out) = Normalizer.action(u) else { return [] }
    return out
  }

  /// One folded scalar of the text and where it came from.
  struct Unit {
    var scalar: UInt32
    /// Index of the original scalar it came from.
    var origin: Int
    /// Start of a line: no keyword continues across it.
    var lineStart: Bool
  }

  struct Live: Equatable {
    var state: Int32
    var start: Int32
    var kind: Disguise
    /// Some keyword character so far was itself, its pinyin or its components — not a
    /// homophone nor a look-alike, which both put another real character in its place. A match of homophones only is not reported for a keyword
    /// of two characters: 学习 is no disguise of 血洗, 联系前台 holds no 洗钱 (from three on,
    /// three syllables in a row rarely happen by chance).
    var anchored: Bool

    /// Reading the same state from the same start twice: keep the better reading.
    func isBetter(than other: Live) -> Bool {
      (anchored ? 0 : 1, kind.rawValue.nonzeroBitCount, kind.rawValue)
        < (other.anchored ? 0 : 1, other.kind.rawValue.nonzeroBitCount, other.kind.rawValue)
    }
  }

  /// Every disguised match in `text` (exceptions not applied).
  func scan(_ text: String, _ report: (Match) -> Void) {
    // 1. The text as folded units with their origins; Latin letter runs.
    var units: [Unit] = []
    var letters: [UInt8] = []  // per unit: its plain pinyin letter, or 0
    var lineStart = true
    var index = 0
    var previousWasLetter = false
    var runBreaks: [Bool] = []  // per unit: a Latin run ends before it
    let table = Normalizer.tables.bmp
    func add(_ v: UInt32) {
      let letter = DisguiseData.plainLetter(v) ?? 0
      units.append(Unit(scalar: v, origin: index, lineStart: lineStart))
      letters.append(letter)
      runBreaks.append(!(previousWasLetter && letter != 0))
      previousWasLetter = letter != 0
      lineStart = false
    }
    for s in text.unicodeScalars {
      // The common case without building an action: a BMP scalar that maps to one scalar.
      if s.value < 0x10000 {
        let code = table[Int(s.value)]
        if code != Normalizer.skipCode && code != Normalizer.breakCode && code & Normalizer.expansionFlag == 0 {
          add(code)
          index += 1
          continue
        }
      }
      switch Normalizer.action(s) {
      case .skip:
        previousWasLetter = false
      case .lineBreak:
        lineStart = true
        previousWasLetter = false
      case .scalars(let vs):
        for v in vs { add(v) }
      }
      index += 1
    }
    let n = units.count
    guard n > 0 else { return }
    // 2. Pinyin syllable edges: each run of letters that splits wholly into syllables.
    var syllableEdges: [Int: [(end: Int, id: UInt16)]] = [:]
    if wantsPinyin {
      var i = 0
      while i < n {
        guard letters[i] != 0 else {
          i += 1
          continue
        }
        var j = i + 1
        while j < n, letters[j] != 0, !runBreaks[j] { j += 1 }
        addSyllables(letters, i, j, &syllableEdges)
        i = j
      }
    }
    // 3. Walk the units with the live states.
    // The live states waiting at unit p are in `ring[p & ringMask]`: a step moves at most
    // `maxSyllableLength` units on, so slots are free again before they are reused.
    var ring: [[Live]] = Array(repeating: [], count: Self.ringSize)
    var here: [Live] = []
    let bmp = DisguiseData.bmp
    // This unit's tokens that label some edge (most units have none): at most its character,
    // its reading and one syllable per length, so 16 slots are plenty.
    var tokenValue = [UInt32](repeating: 0, count: 16)
    var tokenTo = [Int](repeating: 0, count: 16)
    let hasSyllables = !syllableEdges.isEmpty
    for p in 0..<n {
      let slot = p & Self.ringMask
      if units[p].lineStart, !ring[slot].isEmpty { ring[slot].removeAll(keepingCapacity: true) }
      var count = 0
      func push(_ t: UInt32, _ to: Int) {
        if count < tokenValue.count, isUsed(t) {
          tokenValue[count] = t
          tokenTo[count] = to
          count += 1
        }
      }
      let v = units[p].scalar
      push(v, p + 1)
      if wantsHomophones {
        // A character's commonest reading (as on the keyword side).
        if v < 0x10000 {
          let k = Int(bmp.start[Int(v)])
          if k < Int(bmp.start[Int(v) + 1]) { push(Self.homophoneToken | UInt32(bmp.ids[k]), p + 1) }
        } else if let r = DisguiseData.readingsOf[v]?.first {
          push(Self.homophoneToken | UInt32(r), p + 1)
        }
      }
      if hasSyllables, let syl = syllableEdges[p] {
        for e in syl { push(Self.pinyinToken | UInt32(e.id), e.end) }
      }
      if count == 0 {
        if !ring[slot].isEmpty { ring[slot].removeAll(keepingCapacity: true) }
        continue
      }
      if !here.isEmpty { here.removeAll(keepingCapacity: true) }
      swap(&here, &ring[slot])
      for st in here {
        for j in 0..<count { step(st, tokenValue[j], tokenTo[j], &ring, units, report) }
      }
      for (r, root) in roots.enumerated() {
        let st = Live(state: root, start: Int32(p), kind: [], anchored: false)
        for j in 0..<count {
          if let d = Self.denseIndex(tokenValue[j]) {
            let k = rootSlot[r * Self.rootWidth + d]
            if k >= 0 { follow(Int(k), st, tokenTo[j], &ring, units, report) }
          } else {
            step(st, tokenValue[j], tokenTo[j], &ring, units, report)
          }
        }
      }
    }
  }

  /// A token's column in `rootSlot`: BMP characters, then readings, then pinyin syllables;
  /// nil for characters outside the BMP (probed through the table).
  @inline(__always)
  static func denseIndex(_ t: UInt32) -> Int? {
    if t < 0x10000 { return Int(t) }
    if t & homophoneToken != 0, t & 0xFFFF < 1024 { return 0x10000 + Int(t & 0xFFFF) }
    if t & pinyinToken != 0, t & 0xFFFF < 1024 { return 0x10000 + 1024 + Int(t & 0xFFFF) }
    return nil
  }

  @inline(__always)
  static func filterBit(_ token: UInt32) -> UInt64 { UInt64((token &* 0x9E37_79B1) >> 26) }

  static let ringSize = 8
  static let ringMask = ringSize - 1

  @inline(__always)
  func isUsed(_ t: UInt32) -> Bool {
    let w = Int(t >> 6)
    return w < used.count && used[w] & (1 << UInt64(t & 63)) != 0
  }

  @inline(__always)
  func step(_ st: Live, _ token: UInt32, _ to: Int, _ ring: inout [[Live]], _ units: [Unit], _ report: (Match) -> Void)
  {
    guard stateFilter[Int(st.state)] & (1 << Self.filterBit(token)) != 0 else { return }
    let key = UInt64(UInt32(bitPattern: st.state)) << 32 | UInt64(token)
    let mask = slotKey.count - 1
    var k = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> slotShift)
    while slotKey[k] != key {
      if slotKey[k] == Self.emptyKey { return }
      k = (k + 1) & mask
    }
    follow(k, st, to, &ring, units, report)
  }

  /// Follows the edges of table slot `k` from `st` to unit `to`.
  @inline(__always)
  func follow(_ k: Int, _ st: Live, _ to: Int, _ ring: inout [[Live]], _ units: [Unit], _ report: (Match) -> Void) {
    let slot = to & Self.ringMask
    let first = Int(slotStart[k])
    for e in edgeList[first..<(first + Int(slotCount[k]))] {
      let next = Live(
        state: e.target, start: st.start, kind: st.kind.union(e.kind),
        anchored: st.anchored || (e.kind != .homophone && e.kind != .lookalike))
      if let j = ring[slot].firstIndex(where: { $0.state == next.state && $0.start == next.start }) {
        guard next.isBetter(than: ring[slot][j]) else { continue }
        ring[slot][j] = next
      } else {
        ring[slot].append(next)
      }
      let t = Int(e.target)
      if outputStart[t] < outputStart[t + 1], !next.kind.isEmpty {
        let out = outputList[Int(outputStart[t])..<Int(outputStart[t + 1])]
        let begin = units[Int(st.start)].origin
        let end = units[to - 1].origin + 1
        for q in out where next.anchored || lengths[Int(q)] >= 3 {
          if next.kind.isSubset(of: [.homophone, .lookalike]),
            makesOrdinaryWord(units, Int(st.start), to, folded[Int(q)], written: next.kind == .homophone)
          {
            continue
          }
          report(Match(pattern: q, start: begin, end: end, disguise: next.kind))
        }
      }
    }
  }

  /// Whether a character the match put in the keyword's place (a homophone or look-alike, one
  /// unit per keyword character) makes an ordinary word with the units around it, within
  /// its line: then it is no disguise. A dictionary word clears the match when it covers a
  /// replaced character (化验血细胞 holds no 血洗); a written word, consulted when `written`
  /// (homophones only), when it holds the whole match (东邪西毒 holds no 吸毒, but 有炸 does
  /// not clear 炸骗). Not for look-alikes: text is full of them as typos (未日 for 末日), so a
  /// frequency list counts them as words.
  func makesOrdinaryWord(_ units: [Unit], _ start: Int, _ end: Int, _ keyword: [UInt32], written: Bool) -> Bool {
    guard end - start == keyword.count else { return false }
    func unbroken(_ a: Int, _ length: Int) -> Bool {
      a + length <= units.count && !(a + 1..<a + length).contains(where: { units[$0].lineStart })
    }
    for p in start..<end where units[p].scalar != keyword[p - start] {
      for length in OrdinaryWords.shortest...OrdinaryWords.longest {
        for a in max(0, p - length + 1)...p where unbroken(a, length) {
          if OrdinaryWords.isWord(units[a..<a + length].lazy.map(\.scalar)) { return true }
        }
      }
    }
    guard written, end - start <= OrdinaryWords.longest else { return false }
    for length in max(OrdinaryWords.shortest, end - start)...OrdinaryWords.longest {
      for a in max(0, end - length)...start where unbroken(a, length) {
        if OrdinaryWords.isWrittenWord(units[a..<a + length].lazy.map(\.scalar)) { return true }
      }
    }
    return false
  }

  /// Adds the syllable edges of the letter run `i ..< j` when it splits wholly into syllables.
  func addSyllables(_ letters: [UInt8], _ i: Int, _ j: Int, _ out: inout [Int: [(end: Int, id: UInt16)]]) {
    let len = j - i
    guard len >= 1, len <= 4096 else { return }
    let maxLen = DisguiseData.maxSyllableLength
    func syllable(_ a: Int, _ b: Int) -> UInt16? {
      let s = String(decoding: letters[(i + a)..<(i + b)], as: UTF8.self)
      return DisguiseData.syllableID[s]
    }
    var forward = [Bool](repeating: false, count: len + 1)
    forward[0] = true
    for a in 0..<len where forward[a] {
      for b in (a + 1)...min(len, a + maxLen) where syllable(a, b) != nil { forward[b] = true }
    }
    guard forward[len] else { return }
    var backward = [Bool](repeating: false, count: len + 1)
    backward[len] = true
    for b in stride(from: len, through: 1, by: -1) where backward[b] {
      for a in max(0, b - maxLen)..<b where forward[a] && syllable(a, b) != nil { backward[a] = true }
    }
    for a in 0..<len where forward[a] && backward[a] {
      for b in (a + 1)...min(len, a + maxLen) where backward[b] {
        if let id = syllable(a, b) { out[i + a, default: []].append((i + b, id)) }
      }
    }
  }
}
