import Foundation
import OmbudsEngine
import Testing

@testable import OmbudsScreening

extension MutationTests.Rng {
  mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
}

/// The disguise detector decides which texts the disguise matcher walks: it must never turn
/// away a text that holds a disguised match, and it must exist for the shipped rules.
@Suite struct DisguiseDetectorTests {
  /// The mutation tests' seeded generator (SplitMix64), so failures reproduce.
  typealias Generator = MutationTests.Rng

  /// Characters by their commonest reading (for homophones).
  static let byReading: [UInt16: [UInt32]] = {
    var out: [UInt16: [UInt32]] = [:]
    for v in UInt32(0x4E00)...0x9FA5 {
      if let r = DisguiseData.readingsOf[v]?.first { out[r, default: []].append(v) }
    }
    return out
  }()

  static func string(_ scalars: [UInt32]) -> String {
    String(String.UnicodeScalarView(scalars.compactMap(Unicode.Scalar.init)))
  }

  /// Every way the matcher may read keyword character `k` (as text): itself, each pinyin
  /// reading (plain, capitalised, with a space after), a homophone, each split, each look-alike.
  static func variants(of k: UInt32, _ g: inout Generator) -> [String] {
    var out = [string([k])]
    for r in DisguiseData.readingsOf[k] ?? [] {
      let syllable = DisguiseData.syllables[Int(r)]
      out.append(syllable)
      out.append(syllable.prefix(1).uppercased() + syllable.dropFirst())
      out.append(syllable + " ")
    }
    if let r = DisguiseData.readingsOf[k]?.first, let same = byReading[r] {
      out.append(string([g.pick(same)]))
    }
    for split in DisguiseData.splits[k] ?? [] { out.append(string(split)) }
    for y in DisguiseData.lookalikes[k] ?? [] { out.append(string([y])) }
    return out
  }

  static let fillers = [
    "", "我", "投诉说", "abc", "du", "网站", "ing", "，", "\n", "了 ", "xian",
    "㈱", "𠮷", "ｄｕ", "Ⅻ", "😀", "\u{200B}",  // an expansion, outside the BMP, full-width, an emoji, a zero-width space
  ]

  /// Texts that disguise each keyword in many ways, between fillers.
  static func texts(for keywords: [String], perKeyword: Int, seed: UInt64) -> [String] {
    var g = Generator(state: seed)
    var out: [String] = []
    for keyword in keywords {
      let folded = Normalizer.fold(keyword).filter { $0 != 0x0A }
      let options = folded.map { variants(of: $0, &g) }
      for _ in 0..<perKeyword {
        // Mostly nothing between the characters, sometimes what the folding skips.
        let body = options.map { g.pick($0) }.joined(separator: g.pick(["", "", "", "*", " ", "😀", "\u{200B}"]))
        out.append(g.pick(fillers) + body + g.pick(fillers))
      }
    }
    return out
  }

  static func check(_ a: KeywordAutomaton, _ texts: [String]) -> (matched: Int, passed: Int) {
    var matched = 0
    var passed = 0
    for text in texts {
      var t = text
      t.withUTF8 { bytes in
        let full = a.disguisedMatchesWithoutDetector(in: bytes)
        let verdicts = a.detectorVerdicts(bytes)
        #expect(
          verdicts.alone == verdicts.fused, "the fused scan and the detector disagree on \(text.debugDescription)")
        let passes = verdicts.fused
        if passes { passed += 1 }
        if !full.isEmpty {
          matched += 1
          #expect(passes, "the detector turned away \(text.debugDescription), which holds \(full)")
        }
      }
    }
    return (matched, passed)
  }

  @Test func theShippedRulesHaveADetectorThatMissesNoDisguise() throws {
    let rules = try Support.defaultRules()
    let a = try #require(rules.screening)
    #expect(a.hasDisguises)
    let states = try #require(a.detectorStates, "the shipped rules' disguise detector went over its budget")
    #expect(states > 100)
    let keywords = a.patterns.filter { !$0.modes.isEmpty }.map(\.text)
    let texts = Self.texts(for: keywords, perKeyword: 40, seed: 20_261_130)
    let (matched, passed) = Self.check(a, texts)
    // Most of the generated texts hold a disguise; the detector saw every one of them.
    #expect(matched > texts.count / 2)
    #expect(passed >= matched)
  }

  @Test func everyModeOnGeneratedKeywordsMissesNoDisguise() {
    var g = Generator(state: 7)
    let common = Array(
      "的一是不了人我在有他这为之大来以个中上们到说时国和地要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵"
    )
    let keywords = (0..<300).map { _ in
      String((0..<(2 + Int(g.next() % 3))).map { _ in g.pick(common) })
    }
    let a = KeywordAutomaton(patterns: keywords.map { Pattern(text: $0, category: 0, isException: false, modes: .all) })
    #expect(a.detectorStates != nil)
    let texts = Self.texts(for: keywords, perKeyword: 12, seed: 99)
    let (matched, _) = Self.check(a, texts)
    #expect(matched > texts.count / 2)
  }

  /// Ordinary text with no keyword-like run is turned away, so the matcher does not walk it.
  @Test func plainTextIsTurnedAway() {
    let a = KeywordAutomaton(patterns: [Pattern(text: "赌博", category: 0, isException: false, modes: .all)])
    var clean = "今天去银行办理业务，工作人员态度很好。"
    var disguised = "今天去银行办理业务，有人说du博。"
    clean.withUTF8 { #expect(a.detectorVerdicts($0) == (false, false)) }
    disguised.withUTF8 { #expect(a.detectorVerdicts($0) == (true, true)) }
    #expect(DisguiseTests.describe(a, "今天去银行办理业务，有人说du博。") == ["赌博@13-16:pinyin"])
  }
}
