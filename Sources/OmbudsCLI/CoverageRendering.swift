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
  public static func text(_ c: RuleCoverage, ruleSet: String, minimum: Double?) -> String {
    var out = "coverage of \(ruleSet): \(c.covered)/\(c.total) (\(percent(c.covered, c.total)))"
    if let minimum, c.percent < minimum { out += " — below the minimum of \(String(format: "%g", minimum))%" }
    out += "\n"
    for f in c.files { out += "  \(f.file): \(f.covered)/\(f.total) (\(percent(f.covered, f.total)))\n" }
    let missing = c.uncovered
    if !missing.isEmpty {
      out += "not exercised by any rule test:\n"
      for item in missing {
        out += "  \(item.location): \(item.kind.label) \(item.what) — \(item.kind.never)\n"
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
  public static func github(_ c: RuleCoverage) -> String {
    c.uncovered.map {
      "::notice file=\($0.location.file),line=\($0.location.line),col=\($0.location.column),title=not covered by rule tests::\($0.kind.label) \($0.what) — \($0.kind.never)\n"
    }.joined()
  }
}
