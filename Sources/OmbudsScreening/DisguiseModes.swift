/// The disguises a category's keywords may be matched through, beyond the always-on folding
/// (separators, full-width forms, case, traditional characters). Each costs some precision,
/// so each category chooses its own (`match:` in the rules).
public struct MatchModes: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// Keyword characters written in pinyin (`dubo`, `dǔ bó`, `du博`), on syllable boundaries.
  public static let pinyin = MatchModes(rawValue: 1)
  /// A character with the same toneless syllable (堵博 for 赌博).
  public static let homophones = MatchModes(rawValue: 2)
  /// A character written as its components (拆字: 贝者 for 赌).
  public static let split = MatchModes(rawValue: 4)
  /// A character that looks like it (己/已, Cyrillic а for a).
  public static let lookalike = MatchModes(rawValue: 8)

  public static let all: MatchModes = [.pinyin, .homophones, .split, .lookalike]

  /// The names the rules use, in order.
  public static let names: [(String, MatchModes)] = [
    ("pinyin", .pinyin), ("homophones", .homophones), ("split", .split), ("lookalike", .lookalike),
  ]

  public static func named(_ name: String) -> MatchModes? { names.first { $0.0 == name }?.1 }

  public var names: [String] { Self.names.filter { contains($0.1) }.map(\.0) }
}

/// Which disguises were undone to find one match (empty: the keyword as written, folded).
public struct Disguise: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let pinyin = Disguise(rawValue: 1)
  public static let homophone = Disguise(rawValue: 2)
  public static let split = Disguise(rawValue: 4)
  public static let lookalike = Disguise(rawValue: 8)

  static let order: [(String, Disguise)] = [
    ("pinyin", .pinyin), ("homophone", .homophone), ("split", .split), ("lookalike", .lookalike),
  ]

  /// `pinyin`, `homophone`, `split`, `lookalike`, or several joined with `+`
  /// (`split+pinyin` order is fixed: pinyin, homophone, split, lookalike); `nil` when none.
  public var name: String? {
    isEmpty ? nil : Self.order.filter { contains($0.1) }.map(\.0).joined(separator: "+")
  }
}

/// The generated data, parsed once per process.
enum DisguiseData {
  /// Toneless syllables; their index is the syllable id.
  static let syllables: [String] = readings.syllables
  static let syllableID: [String: UInt16] = Dictionary(
    syllables.enumerated().map { ($0.element, UInt16($0.offset)) }, uniquingKeysWith: { a, _ in a })
  /// Code point → syllable ids, commonest reading first.
  static let readingsOf: [UInt32: [UInt16]] = readings.table
  static let maxSyllableLength = 6
  /// The same readings, dense for the Basic Multilingual Plane: code point v's syllable ids
  /// are `bmpIDs[bmpStart[v] ..< bmpStart[v + 1]]`.
  static let bmp: (start: [UInt32], ids: [UInt16]) = {
    var start = [UInt32](repeating: 0, count: 0x10001)
    var ids: [UInt16] = []
    for v in 0..<0x10000 {
      start[v] = UInt32(ids.count)
      if let rs = readingsOf[UInt32(v)] { ids.append(contentsOf: rs) }
    }
    start[0x10000] = UInt32(ids.count)
    return (start, ids)
  }()

  static let readings: (syllables: [String], table: [UInt32: [UInt16]]) = {
    var ids: [Substring: UInt16] = [:]
    var names: [String] = []
    var table: [UInt32: [UInt16]] = [:]
    table.reserveCapacity(42_000)
    for line in PinyinReadings.data.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard let first = fields.first, var cp = UInt32(first, radix: 16) else { continue }
      for field in fields.dropFirst() {
        if field != "-" {
          var list: [UInt16] = []
          for r in field.split(separator: ",") {
            if let id = ids[r] {
              list.append(id)
            } else {
              let id = UInt16(names.count)
              ids[r] = id
              names.append(String(r))
              list.append(id)
            }
          }
          table[cp] = list
        }
        cp &+= 1
      }
    }
    return (names, table)
  }()

  /// Character → its component splits (each 2 or 3 code points).
  static let splits: [UInt32: [[UInt32]]] = {
    var table: [UInt32: [[UInt32]]] = [:]
    table.reserveCapacity(21_000)
    for line in CharacterSplits.data.split(separator: "\n") {
      let scalars = Array(line.unicodeScalars.drop { $0 == " " })
      guard scalars.count >= 3, let c = scalars.first else { continue }
      let rest = String(String.UnicodeScalarView(scalars.dropFirst(2)))
      table[c.value] = rest.split(separator: "|").map { $0.unicodeScalars.map(\.value) }
    }
    return table
  }()

  /// Look-alike characters: for a keyword character, the characters written in its place.
  /// Hand-kept (small on purpose: each pair costs precision): CJK pairs that differ by a
  /// stroke, and Cyrillic/Greek letters and digits that pass for Latin letters.
  static let lookalikes: [UInt32: [UInt32]] = {
    let groups = [
      "己已巳", "未末", "土士", "日曰", "戊戌戍", "人入", "千干", "大太犬", "王玉", "贝见", "刀力",
      "天夭", "午牛", "由甲申", "白自", "拔拨", "候侯", "毫亳", "冶治", "徒徙", "祟崇", "茶荼",
      "侍待", "炙灸", "籍藉", "汩汨",
    ]
    let latin: [(Character, String)] = [
      ("a", "аα@4"), ("e", "е3"), ("o", "оο0"), ("p", "рρ"), ("c", "сϲ"), ("x", "хχ"), ("y", "уγ"),
      ("i", "іι1!"), ("l", "1|ӏ"), ("s", "ѕ5$"), ("b", "Ь6"), ("t", "т7+"), ("g", "9"), ("z", "2"),
      ("k", "кκ"), ("n", "ηп"), ("v", "νѵ"), ("h", "һ"), ("m", "м"),
    ]
    var table: [UInt32: [UInt32]] = [:]
    for g in groups {
      let cs = g.unicodeScalars.map(\.value)
      for c in cs { table[c, default: []].append(contentsOf: cs.filter { $0 != c }) }
    }
    for (letter, forms) in latin {
      guard let v = letter.unicodeScalars.first?.value else { continue }
      table[v, default: []].append(contentsOf: forms.unicodeScalars.map(\.value))
    }
    return table
  }()

  /// A Latin letter with a pinyin tone mark (or ü) → its plain ASCII letter (ü → v).
  static func plainLetter(_ v: UInt32) -> UInt8? {
    if v >= 0x61 && v <= 0x7A { return UInt8(v) }
    switch v {
    case 0xE0, 0xE1, 0x101, 0x1CE: return UInt8(ascii: "a")
    case 0xE8, 0xE9, 0x113, 0x11B, 0xEA: return UInt8(ascii: "e")
    case 0xEC, 0xED, 0x12B, 0x1D0: return UInt8(ascii: "i")
    case 0xF2, 0xF3, 0x14D, 0x1D2: return UInt8(ascii: "o")
    case 0xF9, 0xFA, 0x16B, 0x1D4: return UInt8(ascii: "u")
    case 0xFC, 0x1D6, 0x1D8, 0x1DA, 0x1DC: return UInt8(ascii: "v")
    case 0x144, 0x148, 0x1F9: return UInt8(ascii: "n")
    case 0x1E3F: return UInt8(ascii: "m")
    default: return nil
    }
  }
}

/// What `rules-check` asks of a keyword in pinyin mode.
public enum PinyinCheck {
  /// A keyword whose shortest pinyin spelling is shorter than this, or that is one syllable,
  /// is warned about: `du`, `bao li`… are everyday syllables.
  public static let minimumLetters = 4

  /// The letters in the shortest pinyin spelling of a folded keyword (a character without a
  /// reading, such as the K of K粉, counts as one letter: it must be written as it is), or nil
  /// when no character has a reading. A keyword that is one character and nothing else counts
  /// as at most `minimumLetters - 1`.
  public static func shortest(_ folded: [UInt32]) -> Int? {
    var total = 0
    var syllables = 0
    for v in folded {
      guard let rs = DisguiseData.readingsOf[v] else {
        total += 1
        continue
      }
      syllables += 1
      total += rs.map { DisguiseData.syllables[Int($0)].utf8.count }.min() ?? 0
    }
    if syllables == 0 { return nil }
    return folded.count == 1 ? min(total, minimumLetters - 1) : total
  }
}
