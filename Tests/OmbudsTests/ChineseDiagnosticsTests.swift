import Foundation
import OmbudsRules
import OmbudsSyntax
import Testing

/// Diagnostics in Chinese (`rules-check --lang zh-CN`, or a `zh` locale): every diagnostic
/// the checks produce has its message, help and notes in Chinese, ids show their labels, and
/// the English stays as it was.
@Suite struct ChineseDiagnosticsTests {
  /// Text outside code spans, for looking for English left in the Chinese.
  static func prose(_ s: String) -> String {
    var out = ""
    var inCode = false
    for c in s {
      if c == "`" {
        inCode.toggle()
        out.append(" ")
      } else if !inCode {
        out.append(c)
      }
    }
    return out
  }

  /// Three English words in a row outside code spans: an English sentence left in the Chinese.
  static func englishLeft(_ s: String) -> String? {
    let p = prose(s)
    guard let r = p.range(of: #"[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}"#, options: .regularExpression) else {
      return nil
    }
    return String(p[r])
  }

  static func problems(_ d: Diagnostic) -> [String] {
    var found: [String] = []
    if !d.isTranslated { found.append("no Chinese") }
    var texts = [("message", d.message(.zhCN))]
    if let h = d.help(.zhCN) { texts.append(("help", h)) }
    for r in d.related { texts.append(("note", r.text.zh)) }
    for (what, text) in texts {
      if !containsCJK(text) { found.append("\(what) has no Chinese: \(text)") }
      if let english = englishLeft(text) { found.append("\(what) has English left (\(english)): \(text)") }
    }
    return found
  }

  @Test func everyGoldenDiagnosticIsInChinese() throws {
    var count = 0
    for name in GoldenDiagnosticsTests.inputs {
      let input = GoldenDiagnosticsTests.directory.appendingPathComponent("\(name).yaml")
      for d in RuleSetLoader.load(paths: [input.path]).diagnostics {
        count += 1
        let problems = Self.problems(d)
        #expect(problems.isEmpty, "\(name): \(d.code) \(d.message): \(problems)")
        // Codes, severities and positions are the same in both languages.
        #expect(d.description(.zhCN).hasSuffix("[\(d.code)]"))
      }
    }
    #expect(count > 100)
  }

  @Test func everyDiagnosticOfMutatedRulesIsInChinese() throws {
    let files = try RuleSetLoader.ruleFiles(at: Support.rulesDir)
    let originals = try files.map { path -> SourceFile in
      SourceFile(path: path, bytes: [UInt8](try #require(FileManager.default.contents(atPath: path))))
    }
    var rng = MutationTests.Rng(state: 20_251_130)
    var codes = Set<String>()
    for _ in 0..<200 {
      var sources = originals
      let victim = rng.below(sources.count)
      sources[victim] = SourceFile(
        path: sources[victim].path, bytes: MutationTests().mutate(sources[victim].bytes, &rng))
      for d in RuleSetLoader.check(sources: sources).diagnostics {
        codes.insert(d.code)
        let problems = Self.problems(d)
        #expect(problems.isEmpty, "\(d.code) \(d.message): \(problems)")
      }
    }
    #expect(codes.count > 5)
  }

  @Test func idsShowTheirLabelsInChinese() throws {
    let yaml = """
      levels:
        hot:
          label: 热点投诉
          any: [collective_size >= 3]
        normal:
          label: 一般投诉
          otherwise: true
      duties:
        hott:
          on_enter: [{notify: nobody}]
      """
    let result = RuleSetLoader.check(sources: [SourceFile(path: "labels.yaml", bytes: Array(yaml.utf8))])
    let undefined = try #require(result.diagnostics.first { $0.code == "rules.undefined-level" })
    #expect(undefined.message == "undefined level `hott`")
    #expect(undefined.help == "did you mean `hot`?")
    #expect(undefined.message(.zhCN) == "未定义的级别 `hott`")
    #expect(undefined.help(.zhCN) == "您是不是想写 `hot`（热点投诉）？")
  }

  @Test func languagesAreChosenByArgumentAndLocale() {
    for a in ["zh-CN", "zh", "zh_CN", "ZH-cn", "zh_CN.UTF-8"] { #expect(Language(argument: a) == .zhCN) }
    for a in ["en", "en-US", "C"] { #expect(Language(argument: a) == .en) }
    #expect(Language(argument: "fr") == nil)
    #expect(Language.fromEnvironment(["LANG": "zh_CN.UTF-8"]) == .zhCN)
    #expect(Language.fromEnvironment(["LANG": "en_US.UTF-8"]) == .en)
    #expect(Language.fromEnvironment([:]) == .en)
    #expect(Language.fromEnvironment(["LC_ALL": "C", "LANG": "zh_CN.UTF-8"]) == .en)
    #expect(Language.fromEnvironment(["LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_US"]) == .zhCN)
  }

  static var golden: String { GoldenDiagnosticsTests.directory.appendingPathComponent("rules-unknown-key.yaml").path }

  @Test func rulesCheckSpeaksChineseWithLangOrLocale() throws {
    let english = try Support.run("rules-check", [Self.golden])
    #expect(english.status == 1)
    #expect(english.stdout.contains("error: unknown key `lable` in level `major` [rules.unknown-key]"))
    #expect(english.stdout.hasSuffix("1 error, 0 warnings\n"))
    for run in [
      try Support.run("rules-check", ["--lang", "zh-CN", Self.golden]),
      try Support.run("rules-check", [Self.golden], environment: ["LANG": "zh_CN.UTF-8"]),
    ] {
      #expect(run.status == 1)
      #expect(run.stdout.contains("error: 未知的键 `lable`（位于级别 `major`） [rules.unknown-key]"), "\(run.stdout)")
      #expect(run.stdout.contains("  = 帮助：您是不是想写 `label`？\n"))
      #expect(run.stdout.contains("rules-unknown-key.yaml: 未通过（1 个错误，0 个警告）\n"))
      #expect(run.stdout.hasSuffix("1 个错误，0 个警告\n"))
    }
    let forced = try Support.run("rules-check", ["--lang", "en", Self.golden], environment: ["LANG": "zh_CN.UTF-8"])
    #expect(forced.stdout == english.stdout)
    let bad = try Support.run("rules-check", ["--lang", "fr", Self.golden])
    #expect(bad.status == 2)
  }

  @Test func jsonCarriesTheChineseAndKeepsItsKeys() throws {
    let run = try Support.run("rules-check", ["--format", "json", "--lang", "zh-CN", Self.golden])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
    #expect(diagnostics.first?["message"] as? String == "未知的键 `lable`（位于级别 `major`）")
    #expect(diagnostics.first?["code"] as? String == "rules.unknown-key")
    let files = try #require(object["files"] as? [[String: Any]])
    #expect(files.first?["status"] as? String == "FAILED")
  }

  @Test func ruleTestResultsInChinese() throws {
    let run = try Support.run("rules-check", ["--test", "--lang", "zh-CN", Support.rulesDir])
    #expect(run.status == 0)
    #expect(run.stdout.contains("0 个错误，0 个警告\n"))
    #expect(run.stdout.contains("规则测试："))
    let coverage = try Support.run("rules-check", ["--test", "--coverage", "--lang", "zh-CN", Support.rulesDir])
    #expect(coverage.stdout.contains(" 的规则测试覆盖率："), "\(coverage.stdout)")
  }
}
