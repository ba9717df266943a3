/// Ordinary Chinese words: a homophone or look-alike that makes one of them with the
/// characters around it is no disguise — 凶煞 is a word, not 凶杀 written with another 煞;
/// 巴符州 is a place, not 符咒. Two lists:
///
/// - `CommonWords`, a dictionary's headwords (CC-CEDICT): any of them that covers a replaced
///   character clears the match.
/// - `WrittenWords`, what people write that the dictionary lacks (wordfreq's Chinese list:
///   西毒 in 东邪西毒, 宝力 the place, 私财): a frequency list also counts fragments of
///   segmentation (有炸, 他入), so one of these clears a homophone match only when it holds the
///   whole of it; and typos (未日 for 末日), so it never clears a look-alike.
enum OrdinaryWords {
  static let shortest = 2
  static let longest = 4

  /// The dictionary's words, folded as text is (traditional entries read as simplified).
  /// Parsed once per process, at the first homophone match.
  static let dictionary = WordSet(parsing: CommonWords.data)

  /// The written words, as `dictionary`.
  static let written = WordSet(parsing: WrittenWords.data)

  /// Words by their hashes, in an open-addressing table (linear probing, at most half full):
  /// built in one pass over the text, without sorting, and found in about one probe.
  struct WordSet: Sendable {
    let slots: [UInt64]
    let shift: UInt64

    /// The words of `data` (separated by spaces and line breaks; words outside
    /// `shortest ... longest` characters are left out).
    init(parsing data: String) {
      var hashes: [UInt64] = []
      hashes.reserveCapacity(data.utf8.count / 8)
      let table = Normalizer.tables.bmp
      var h = seed
      var count = 0
      for s in data.unicodeScalars {
        if s == " " || s == "\n" {
          if count >= shortest && count <= longest { hashes.append(h) }
          h = seed
          count = 0
          continue
        }
        // Words are CJK characters: each folds to one scalar (traditional to simplified).
        let code = s.value < 0x10000 ? table[Int(s.value)] : s.value
        h = step(h, code & Normalizer.expansionFlag == 0 ? code : s.value)
        count += 1
      }
      if count >= shortest && count <= longest { hashes.append(h) }
      var bits: UInt64 = 4
      while (1 << bits) < 2 * hashes.count { bits += 1 }
      shift = 64 - bits
      var slots = [UInt64](repeating: 0, count: 1 << bits)
      let mask = slots.count - 1
      for h in hashes {
        let key = h == 0 ? 1 : h  // 0 marks an empty slot
        var i = Self.index(key, shift)
        while slots[i] != 0 && slots[i] != key { i = (i + 1) & mask }
        slots[i] = key
      }
      self.slots = slots
    }

    @inline(__always)
    static func index(_ key: UInt64, _ shift: UInt64) -> Int {
      Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)  // Fibonacci hashing
    }

    func contains(_ h: UInt64) -> Bool {
      let key = h == 0 ? 1 : h
      let mask = slots.count - 1
      var i = Self.index(key, shift)
      while slots[i] != 0 {
        if slots[i] == key { return true }
        i = (i + 1) & mask
      }
      return false
    }
  }

  static let seed: UInt64 = 0xCBF2_9CE4_8422_2325

  @inline(__always)
  static func step(_ h: UInt64, _ v: UInt32) -> UInt64 { (h ^ UInt64(v)) &* 0x0000_0100_0000_01B3 }

  /// FNV-1a over the scalars (2^-64 odds of two words sharing a hash).
  @inline(__always)
  static func hash(_ scalars: some Collection<UInt32>) -> UInt64 {
    var h = seed
    for v in scalars { h = step(h, v) }
    return h
  }

  /// Whether `scalars` (no line break among them) are a dictionary word.
  static func isWord(_ scalars: some Collection<UInt32>) -> Bool {
    scalars.count >= shortest && scalars.count <= longest && dictionary.contains(hash(scalars))
  }

  /// Whether `scalars` (no line break among them) are a dictionary or a written word.
  static func isWrittenWord(_ scalars: some Collection<UInt32>) -> Bool {
    guard scalars.count >= shortest && scalars.count <= longest else { return false }
    let h = hash(scalars)
    return dictionary.contains(h) || written.contains(h)
  }
}
