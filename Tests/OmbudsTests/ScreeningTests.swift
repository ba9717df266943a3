import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsScreening
import OmbudsSyntax
import Testing

/// Harmful-content screening: normalization against evasion, spans, exceptions, overlaps.
@Suite struct ScreeningTests {
  static func automaton(_ keywords: [(String, Int32)], exceptions: [(String, Int32)] = []) -> KeywordAutomaton {
    KeywordAutomaton(
      patterns: keywords.map { Pattern(text: $0.0, category: $0.1, isException: false) }
        + exceptions.map { Pattern(text: $0.0, category: $0.1, isException: true) })
  }

  /// (text, expected spans of 赌博 in Unicode scalars)
  @Test(arguments: [
    ("我们赌博", [2..<4]),  // plain
    ("赌 博", [0..<3]),  // a space
    ("赌*博", [0..<3]),  // punctuation
    ("赌\u{200B}博", [0..<3]),  // zero-width space
    ("賭博", [0..<2]),  // traditional
    ("賭，　博！", [0..<4]),  // traditional, full-width comma and ideographic space
    ("赌😀博", [0..<3]),  // an emoji between
    ("赌\n博", []),  // a line break ends a keyword
    ("赌钱博", []),  // a letter between is not evasion
  ])
  func evasionIsDefeated(_ text: String, _ spans: [Range<Int>]) {
    let a = Self.automaton([("赌博", 0)])
    #expect(a.matches(in: text).map { $0.start..<$0.end } == spans)
  }

  @Test func fullWidthAndCaseFoldLatin() {
    let a = Self.automaton([("Baccarat", 0), ("VPN翻墙", 1)])
    let text = "玩ＢＡＣＣＡＲＡＴ，用vpn 翻 墙"
    let m = a.matches(in: text)
    #expect(m.map(\.pattern) == [0, 1])
    #expect(m.map { $0.start..<$0.end } == [1..<9, 11..<18])
  }

  @Test func spansCountUnicodeScalarsInMixedText() {
    let a = Self.automaton([("诈骗", 0)])
    // "Hi 👋🏽 " is 6 scalars (H, i, space, 👋, skin tone, space).
    let text = "Hi 👋🏽 这是詐·騙！"
    let m = a.matches(in: text)
    #expect(m.count == 1)
    #expect(m.first.map { $0.start..<$0.end } == 8..<11)
    let scalars = Array(text.unicodeScalars)
    #expect(String(String.UnicodeScalarView(scalars[8..<11])) == "詐·騙")
  }

  @Test func exceptionsSuppressOnlyWhatTheyContainInTheirCategory() {
    let a = Self.automaton([("暴力", 0), ("分拣", 1)], exceptions: [("暴力分拣", 0)])
    let m = a.matches(in: "快递暴力分拣，还扬言暴力解决")
    #expect(m.map { $0.start..<$0.end } == [4..<6, 10..<12])  // 分拣 (other category), the second 暴力
    #expect(m.map(\.pattern) == [1, 0])
  }

  @Test func overlappingKeywordsAreAllReported() {
    let a = Self.automaton([("颠覆国家政权", 0), ("国家政权", 0), ("政权", 1), ("颠覆", 2)])
    let m = a.matches(in: "煽动颠覆国家政权")
    #expect(Set(m.map { "\($0.pattern):\($0.start)-\($0.end)" }) == ["3:2-4", "0:2-8", "1:4-8", "2:6-8"])
  }

  @Test func identicalKeywordsInTwoCategoriesAreBothReported() {
    let a = Self.automaton([("诽谤", 0), ("誹謗", 1)])
    #expect(a.matches(in: "恶意诽谤").map(\.pattern).sorted() == [0, 1])
  }

  @Test func aHundredThousandKeywordsBuildAndMatch() {
    // Deterministic 4-character keywords from a block of common ideographs.
    var rng: UInt64 = 42
    func next() -> UInt32 {
      rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt32(truncatingIfNeeded: rng >> 33)
    }
    var keywords: [String] = []
    var seen = Set<String>()
    while keywords.count < 100_000 {
      var s = ""
      for _ in 0..<4 { s.unicodeScalars.append(Unicode.Scalar(0x4E00 + next() % 3000) ?? "一") }
      if seen.insert(s).inserted { keywords.append(s) }
    }
    let a = KeywordAutomaton(
      patterns: keywords.enumerated().map { Pattern(text: $1, category: Int32($0 % 9), isException: false) })
    #expect(a.emptyPatterns.isEmpty)
    // Every 1,000th keyword, planted in filler text, is found at its position.
    for i in stride(from: 0, to: 100_000, by: 1_000) {
      let text = "。。" + keywords[i] + "。"
      let found = a.matches(in: text).filter { $0.pattern == Int32(i) }
      #expect(found.map { $0.start..<$0.end } == [2..<6], "keyword \(i)")
    }
  }

  @Test func defaultRulesScreenCaseText() throws {
    let rules = try Support.defaultRules()
    let facts = try Support.facts(
      rules,
      #"{"id":"T","received_at":"2025-10-19T09:00:00+08:00","text":"快递暴力分拣。有人宣传賭 博，还要推翻政府"}"#)
    let d = rules.evaluate(facts, at: Support.time("2025-10-20T09:00:00+08:00"))
    let categories = Set(
      d.matches.map { rules.ruleSet.categories[Int(rules.screening?.patterns[Int($0.pattern)].category ?? 0)].id })
    #expect(categories == ["vice_and_violence", "subversion"])
    #expect(rules.hasMajorCategory(d))
    #expect(d.matches.map { $0.start..<$0.end } == [11..<14, 17..<21])
  }

  @Test func classifyPrintsSortedCategoriesAndMatches() throws {
    let rules = try Support.defaultRules()
    let line = #"{"id":"T","received_at":"2025-10-19T09:00:00+08:00","text":"推翻政府！还有賭博"}"#
    let (out, _) = ClassifyBatch(rules: rules).run(Array(line.utf8), now: Support.time("2025-10-20T09:00:00+08:00"))
    let obj = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
    #expect(obj["categories"] as? [String] == ["subversion", "vice_and_violence"])
    let matches = try #require(obj["matches"] as? [[String: Any]])
    #expect(matches.map { $0["keyword"] as? String } == ["推翻政府", "赌博"])
    #expect(matches.map { $0["start"] as? Int } == [0, 7])
    let actions = try #require(obj["actions"] as? [[String: Any]])
    #expect(
      actions.contains { ($0["to"] as? [String]) == ["supervising_leader"] && $0["when"] as? String == "immediately" })
  }
}

/// Issue 12: pinyin, homophones, split characters and look-alikes, chosen per category.
@Suite struct DisguiseTests {
  /// The issue's lines, tried with the shipped rules: (text, category, keyword, span, disguise).
  @Test(arguments: [
    ("这里有dubo网站", "vice_and_violence", "赌博", 3..<7, "pinyin"),
    ("这里有du博网站", "vice_and_violence", "赌博", 3..<6, "pinyin"),
    ("这里有赌bo网站", "vice_and_violence", "赌博", 3..<6, "pinyin"),
    ("这里有堵博网站", "vice_and_violence", "赌博", 3..<5, "homophone"),
    ("这里有贝者博网站", "vice_and_violence", "赌博", 3..<6, "split"),
    ("宣扬涩情内容", "vice_and_violence", "色情", 2..<4, "homophone"),
    ("宣扬se情内容", "vice_and_violence", "色情", 2..<5, "pinyin"),
    ("宣扬sè qíng内容", "vice_and_violence", "色情", 2..<9, "pinyin"),
    ("炸骗电话", "other_illegal", "诈骗", 0..<2, "homophone"),
    ("zhapian电话", "other_illegal", "诈骗", 0..<7, "pinyin"),
  ])
  func issueLinesAreFlaggedWithTheShippedRules(
    _ text: String, _ category: String, _ keyword: String, _ span: Range<Int>, _ disguise: String
  ) throws {
    let rules = try Support.defaultRules()
    let screening = try #require(rules.screening)
    let found = screening.matches(in: text).map { m in
      let p = screening.patterns[Int(m.pattern)]
      return "\(rules.ruleSet.categories[Int(p.category)].id) \(p.text) \(m.start)..<\(m.end) \(m.disguise.name ?? "-")"
    }
    #expect(found == ["\(category) \(keyword) \(span) \(disguise)"])
  }

  static func automaton(_ keywords: [String], modes: MatchModes, exceptions: [String] = []) -> KeywordAutomaton {
    KeywordAutomaton(
      patterns: keywords.map { Pattern(text: $0, category: 0, isException: false, modes: modes) }
        + exceptions.map { Pattern(text: $0, category: 0, isException: true, modes: modes) })
  }

  static func describe(_ a: KeywordAutomaton, _ text: String) -> [String] {
    a.matches(in: text).map { "\(a.patterns[Int($0.pattern)].text)@\($0.start)-\($0.end):\($0.disguise.name ?? "-")" }
  }

  /// (text, matches of 赌博 / 强奸 with every mode on)
  @Test(arguments: [
    ("dubois先生", [String]()),  // pinyin only on syllable boundaries
    ("Dubo", ["赌博@0-4:pinyin"]),  // capitals
    ("DǓ BÓ", ["赌博@0-5:pinyin"]),  // tone marks, capitals, a space
    ("du bo", ["赌博@0-5:pinyin"]),
    ("贝者bo", ["赌博@0-4:pinyin+split"]),  // two disguises in one match
    ("弓虽奸", ["强奸@0-3:split"]),
    ("睹博", ["赌博@0-2:homophone"]),  // same syllable
    ("赌\nbo", [String]()),  // a line break still ends a keyword
    ("赌博", ["赌博@0-2:-"]),  // plain, reported once
    ("己经", [String]()),  // 已经 is no keyword here
    ("肚搏", [String]()),  // homophones only, two characters: not reported (学习 is no 血洗)
  ])
  func disguisesWithEveryMode(_ text: String, _ expected: [String]) {
    let a = Self.automaton(["赌博", "强奸"], modes: .all)
    #expect(Self.describe(a, text) == expected)
  }

  @Test func modesAreChosenPerCategory() {
    let a = KeywordAutomaton(patterns: [
      Pattern(text: "赌博", category: 0, isException: false, modes: [.pinyin]),
      Pattern(text: "诈骗", category: 1, isException: false, modes: [.homophones]),
      Pattern(text: "色情", category: 2, isException: false, modes: []),
    ])
    #expect(Self.describe(a, "dubo 堵博 zhapian 炸骗 seqing 涩情") == ["赌博@0-4:pinyin", "诈骗@16-18:homophone"])
  }

  @Test func homophonesOnlyNeedThreeCharacters() {
    let a = Self.automaton(["六合彩", "血洗"], modes: [.homophones])
    #expect(Self.describe(a, "六和采") == ["六合彩@0-3:homophone"])
    #expect(Self.describe(a, "溜禾睬") == ["六合彩@0-3:homophone"])  // every character a homophone
    #expect(Self.describe(a, "学习").isEmpty)  // two characters, both homophones: an ordinary word
    #expect(Self.describe(a, "血习") == ["血洗@0-2:homophone"])
  }

  /// A homophone (or look-alike) that makes an ordinary word (CC-CEDICT) with the characters
  /// around it is no disguise; a pinyin spelling is not checked against the words.
  @Test func homophonesThatMakeAnOrdinaryWordAreNoDisguise() {
    let a = Self.automaton(["凶杀", "血洗", "大麻"], modes: .all)
    #expect(Self.describe(a, "凶煞").isEmpty)  // 凶煞 is a word
    #expect(Self.describe(a, "他一脸凶煞地骂人").isEmpty)
    #expect(Self.describe(a, "凶傻") == ["凶杀@0-2:homophone"])  // no word: a disguise
    #expect(Self.describe(a, "化验血细胞").isEmpty)  // 细胞 is a word around the homophone 细
    #expect(Self.describe(a, "楼下的大妈").isEmpty)
    #expect(Self.describe(a, "大\n妈").isEmpty)  // (a line break: no match at all)
    #expect(Self.describe(a, "买dama") == ["大麻@1-5:pinyin"])
    #expect(Self.describe(a, "大麻") == ["大麻@0-2:-"])  // the keyword itself
  }

  /// A word people write that the dictionary lacks (wordfreq's list) clears a homophone match
  /// only when it holds the whole match: frequency lists also count fragments such as 有炸 and
  /// 他入, which must not clear 炸骗 or 他人, and typos such as 未日, which must not clear the
  /// look-alike of 末日 (`lookalikesNeedTheirMode`).
  @Test func writtenWordsClearOnlyAWholeMatch() {
    let a = Self.automaton(["吸毒", "私彩", "诈骗", "侮辱他人", "六合彩"], modes: .all)
    #expect(Self.describe(a, "西毒").isEmpty)  // a name (东邪西毒), not 吸毒
    #expect(Self.describe(a, "东邪西毒").isEmpty)
    #expect(Self.describe(a, "私财").isEmpty)
    #expect(Self.describe(a, "六合采").isEmpty)
    #expect(Self.describe(a, "平台上有炸骗的事情") == ["诈骗@4-6:homophone"])  // 有炸 clears nothing
    #expect(Self.describe(a, "听说侮辱他入网站") == ["侮辱他人@2-6:lookalike"])  // nor does 他入
    #expect(Self.describe(a, "六和睬") == ["六合彩@0-3:homophone"])  // no word at all
  }

  @Test func lookalikesNeedTheirMode() {
    let latin = Self.automaton(["vpn翻墙"], modes: [.lookalike])
    #expect(Self.describe(latin, "用vрn翻墙") == ["vpn翻墙@1-6:lookalike"])  // Cyrillic р
    #expect(Self.describe(Self.automaton(["vpn翻墙"], modes: [.pinyin]), "用vрn翻墙").isEmpty)
    #expect(Self.describe(Self.automaton(["末日"], modes: [.lookalike]), "未日来了") == ["末日@0-2:lookalike"])
  }

  @Test func exceptionPhrasesStillWinOverDisguisedKeywords() {
    let a = Self.automaton(["暴力"], modes: .all, exceptions: ["暴力分拣"])
    #expect(Self.describe(a, "快递baoli分拣").isEmpty)  // the exception matches through pinyin too
    #expect(Self.describe(a, "扬言baoli解决") == ["暴力@2-7:pinyin"])
  }

  @Test func exceptionPhrasesAreNotMatchedThroughHomophones() {
    let a = Self.automaton(["冰毒"], modes: .all, exceptions: ["病毒"])
    #expect(Self.describe(a, "电脑中了病毒").isEmpty)  // the homophone match lies inside the exception
    #expect(Self.describe(a, "贩卖冰毒") == ["冰毒@2-4:-"])  // the exception does not sound its way over 冰毒
  }

  @Test func rulesCheckValidatesModesAndWarnsAboutShortPinyinKeywords() {
    let yaml = """
      categories:
        rumor:
          match: [pinyin, homophone]
          keywords: [谣, 散布谣言]
      """
    let result = RuleSetLoader.check(sources: [SourceFile(path: "c.yaml", text: yaml)])
    let found = result.diagnostics.map { "\($0.code) \($0.location.line):\($0.location.column)" }
    #expect(found.contains("rules.unknown-match-mode 3:21"))
    #expect(found.contains("rules.short-pinyin-keyword 4:16"))
    #expect(!found.contains("rules.short-pinyin-keyword 4:19"))
    #expect(result.diagnostics.contains { $0.help == "did you mean `homophones`?" })
  }

  @Test func decisionsNameTheDisguise() throws {
    let rules = try Support.defaultRules()
    let lines = [
      #"{"id":"A","received_at":"2025-10-19T09:00:00+08:00","text":"这里有dubo网站"}"#,
      #"{"id":"B","received_at":"2025-10-19T09:00:00+08:00","text":"赌博"}"#,
    ]
    let (out, _) = ClassifyBatch(rules: rules).run(
      Array(lines.joined(separator: "\n").utf8), now: Support.time("2025-10-20T09:00:00+08:00"))
    let text = String(decoding: out, as: UTF8.self)
    #expect(
      text.contains(
        #""matches":[{"category":"vice_and_violence","keyword":"赌博","start":3,"end":7,"disguise":"pinyin"}]"#))
    // A plain match keeps the existing shape: no `disguise` key.
    #expect(text.contains(#""matches":[{"category":"vice_and_violence","keyword":"赌博","start":0,"end":2}]"#))
  }
}
