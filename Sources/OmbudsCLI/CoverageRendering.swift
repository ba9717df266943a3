import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax

/// `rules-check --test --coverage` output: text, JSON and GitHub annotations.
public enum CoverageRenderer {
  static func percent(_ covered: Int, _ total: Int) -> String {
    String(format: "%.1f%%", total == 0 ? 100 : Double(covered) * 100 / Double(total))
  }

  /// ```
  /// coverage of rules: 150/152 (98.7%)
  ///   rules/calendar.yaml: 22/24 (91.7%)
  ///   …
  /// not exercised by any rule test:
  ///   rules/calendar.yaml:14:9: holiday `cn_mainland`: 春节 2025 — never crossed by a working-day deadline
  /// ```
  public static func text(_ c: RuleCoverage, ruleSet: String, minimum: Double?, language: Language = .en) -> String {
    let zh = language == .zhCN
    var out =
      zh
      ? "\(ruleSet) 的规则测试覆盖率：\(c.covered)/\(c.total)（\(percent(c.covered, c.total))）"
      : "coverage of \(ruleSet): \(c.covered)/\(c.total) (\(percent(c.covered, c.total)))"
    if let minimum, c.percent < minimum {
      out +=
        zh ? "——低于最低要求 \(String(format: "%g", minimum))%" : " — below the minimum of \(String(format: "%g", minimum))%"
    }
    out += "\n"
    for f in c.files { out += "  \(f.file): \(f.covered)/\(f.total) (\(percent(f.covered, f.total)))\n" }
    let missing = c.uncovered
    if !missing.isEmpty {
      out += zh ? "没有任何规则测试覆盖的：\n" : "not exercised by any rule test:\n"
      for item in missing {
        out +=
          zh
          ? "  \(item.location): \(item.kind.labelZH) \(item.what)——\(item.kind.neverZH)\n"
          : "  \(item.location): \(item.kind.label) \(item.what) — \(item.kind.never)\n"
      }
    }
    return out
  }

  /// `{"rule_set", "covered", "total", "percent", "minimum", "files": [{"path", "covered",
  /// "total", "percent"}], "items": [{"kind", "what", "path", "line", "column", "tests"}]}` —
  /// every item, exercised or not (`tests`: how many exercised it).
  public static func json(_ c: RuleCoverage, ruleSet: String, minimum: Double?) -> String {
    func number(_ covered: Int, _ total: Int) -> String {
      String(format: "%.1f", total == 0 ? 100 : Double(covered) * 100 / Double(total))
    }
    let files = c.files.map {
      "{\"path\":\(JSONText.quoted($0.file)),\"covered\":\($0.covered),\"total\":\($0.total),\"percent\":\(number($0.covered, $0.total))}"
    }
    let items = c.items.map {
      "{\"kind\":\"\($0.kind.rawValue)\",\"what\":\(JSONText.quoted($0.what)),\"path\":\(JSONText.quoted($0.location.file)),\"line\":\($0.location.line),\"column\":\($0.location.column),\"tests\":\($0.hits)}"
    }
    return
      "{\"rule_set\":\(JSONText.quoted(ruleSet)),\"covered\":\(c.covered),\"total\":\(c.total),\"percent\":\(number(c.covered, c.total)),\"minimum\":\(minimum.map { String(format: "%g", $0) } ?? "null"),\"files\":[\(files.joined(separator: ","))],\"items\":[\(items.joined(separator: ","))]}"
  }

  /// One `::notice` workflow annotation per item never exercised.
  public static func github(_ c: RuleCoverage, language: Language = .en) -> String {
    if language == .zhCN {
      return c.uncovered.map {
        "::notice file=\($0.location.file),line=\($0.location.line),col=\($0.location.column),title=没有规则测试覆盖::\($0.kind.labelZH) \($0.what)——\($0.kind.neverZH)\n"
      }.joined()
    }
    return c.uncovered.map {
      "::notice file=\($0.location.file),line=\($0.location.line),col=\($0.location.column),title=not covered by rule tests::\($0.kind.label) \($0.what) — \($0.kind.never)\n"
    }.joined()
  }
}

extension RuleCoverage.Kind {
  /// `label` in Chinese.
  var labelZH: String {
    switch self {
    case .condition: "条件"
    case .level: "级别"
    case .refundTier: "退款档位"
    case .deadlineRule: "期限规则"
    case .duty: "职责"
    case .gate: "关卡"
    case .keyword: "关键词"
    case .exception: "例外"
    case .holiday: "假日"
    case .makeUpDay: "调休工作日"
    }
  }

  /// `never` in Chinese.
  var neverZH: String {
    switch self {
    case .condition: "从未成立"
    case .level: "从未定级"
    case .refundTier: "没有落在本档位的赔付"
    case .deadlineRule: "从未给出期限"
    case .duty: "从未触发"
    case .gate: "从未生效"
    case .keyword: "从未匹配"
    case .exception: "从未排除过匹配"
    case .holiday: "没有按工作日计算的期限跨过它"
    case .makeUpDay: "没有按工作日计算的期限计入它"
    }
  }
}
