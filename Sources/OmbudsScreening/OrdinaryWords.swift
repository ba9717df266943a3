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

  /// The dictionary's words' hashes, folded as text is (traditional entries read as
  /// simplified), sorted and unique. Parsed once per process, at the first homophone match.
  static let hashes: [UInt64] = parse(CommonWords.data, capacity: 110_000)

  /// The written words' hashes, as `hashes`.
  static let writtenHashes: [UInt64] = parse(WrittenWords.data, capacity: 220_000)

  static func parse(_ data: String, capacity: Int) -> [UInt64] {
    var out: [UInt64] = []
    out.reserveCapacity(capacity)
    let table = Normalizer.tables.bmp
    var h = seed
    var count = 0
    for s in data.unicodeScalars {
      if s == " " || s == "\n" {
        if count >= shortest && count <= longest { out.append(h) }
        h = seed
        count = 0
        continue
      }
      // Words are CJK characters: each folds to one scalar (traditional to simplified).
      let code = s.value < 0x10000 ? table[Int(s.value)] : s.value
      h = step(h, code & Normalizer.expansionFlag == 0 ? code : s.value)
      count += 1
    }
    if count >= shortest && count <= longest { out.append(h) }
    out.sort()
    var unique: [UInt64] = []
    unique.reserveCapacity(out.count)
    for h in out where unique.last != h { unique.append(h) }
    return unique
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

  static func contains(_ h: UInt64, in hashes: [UInt64]) -> Bool {
    var lo = 0
    var hi = hashes.count
    while lo < hi {
      let mid = (lo + hi) >> 1
      if hashes[mid] < h { lo = mid + 1 } else { hi = mid }
    }
    return lo < hashes.count && hashes[lo] == h
  }

  /// Whether `scalars` (no line break among them) are a dictionary word.
  static func isWord(_ scalars: some Collection<UInt32>) -> Bool {
    scalars.count >= shortest && scalars.count <= longest && contains(hash(scalars), in: hashes)
  }

  /// Whether `scalars` (no line break among them) are a dictionary or a written word.
  static func isWrittenWord(_ scalars: some Collection<UInt32>) -> Bool {
    guard scalars.count >= shortest && scalars.count <= longest else { return false }
    let h = hash(scalars)
    return contains(h, in: hashes) || contains(h, in: writtenHashes)
  }
}
