import Foundation
import OmbudsRules
import OmbudsSyntax
import Testing

/// Golden diagnostics: each `Golden/NAME.yaml` is checked alone as a rule set and its
/// diagnostics compared with `Golden/NAME.expected` by code, position, message and the
/// underlined text. `OMBUDS_REGENERATE_GOLDEN=1 swift test` rewrites the expected files.
@Suite struct GoldenDiagnosticsTests {
  static let directory = Support.tests.appendingPathComponent("Golden")

  static var inputs: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
  }

  /// One line per diagnostic: `line:column severity code "underlined" message`, then its
  /// related notes and help indented.
  static func render(_ diagnostics: [Diagnostic], _ sources: [String: SourceFile], _ language: Language = .en)
    -> String
  {
    var out = ""
    for d in diagnostics {
      var underlined = ""
      if let source = sources[d.location.file] {
        underlined = String(
          source.lineText(d.location.line).unicodeScalars.dropFirst(d.location.column - 1).prefix(d.length).map(
            Character.init))
      }
      let file = (d.location.file as NSString).lastPathComponent
      out +=
        "\(file):\(d.location.line):\(d.location.column) \(d.severity.rawValue) \(d.code) \"\(underlined)\" \(d.message(language))\n"
      for r in d.related { out += "  note \(r.location.line):\(r.location.column) \(r.text.string(language))\n" }
      if let h = d.help(language) { out += "  help \(h)\n" }
    }
    return out
  }

  @Test(arguments: inputs)
  func golden(_ name: String) throws {
    let input = Self.directory.appendingPathComponent("\(name).yaml")
    let expectedURL = Self.directory.appendingPathComponent("\(name).expected")
    let result = RuleSetLoader.load(paths: [input.path])
    let got = Self.render(result.diagnostics, result.sources)
    // The same diagnostics in Chinese, beside: `NAME.expected.zh-CN`.
    let zhURL = Self.directory.appendingPathComponent("\(name).expected.zh-CN")
    let gotZH = Self.render(result.diagnostics, result.sources, .zhCN)
    if ProcessInfo.processInfo.environment["OMBUDS_REGENERATE_GOLDEN"] == "1" {
      try got.write(to: expectedURL, atomically: true, encoding: .utf8)
      try gotZH.write(to: zhURL, atomically: true, encoding: .utf8)
      return
    }
    let expected = try String(contentsOf: expectedURL, encoding: .utf8)
    #expect(got == expected, "diagnostics of \(name).yaml changed")
    let expectedZH = try String(contentsOf: zhURL, encoding: .utf8)
    #expect(gotZH == expectedZH, "Chinese diagnostics of \(name).yaml changed")
    // Every golden input exists to show one kind of diagnostic.
    let code = try #require(Self.codes[name], "add \(name) to GoldenDiagnosticsTests.codes")
    #expect(result.diagnostics.contains { $0.code == code }, "\(name).yaml shows no \(code) diagnostic")
  }

  static let codes: [String: String] = [
    "rules-routes": "rules.undefined-deadline", "rules-invalid-url": "rules.invalid-url",
    "rules-unused-channel": "rules.unused-channel", "rules-too-many-levels": "rules.too-many-levels",
    "rules-condition-too-long": "rules.expr-syntax",
    "yaml-complex-key": "yaml.complex-key", "rules-too-many-conditions": "rules.too-many-conditions",
    "rules-too-many-categories": "rules.too-many-categories",
    "yaml-syntax": "yaml.syntax", "yaml-duplicate-key": "yaml.duplicate-key", "yaml-alias": "yaml.alias",
    "yaml-tab": "yaml.tab", "yaml-multiple-documents": "yaml.multiple-documents", "yaml-too-deep": "yaml.too-deep",
    "yaml-invalid-utf8": "yaml.invalid-utf8", "rules-unknown-section": "rules.unknown-key",
    "rules-unknown-key": "rules.unknown-key", "rules-missing-key": "rules.missing-key", "rules-type": "rules.type",
    "rules-duplicate-definition": "rules.duplicate-definition", "rules-expr-syntax": "rules.expr-syntax",
    "rules-expr-single-equals": "rules.expr-syntax", "rules-unknown-field": "rules.unknown-field",
    "rules-unknown-value": "rules.unknown-value", "rules-type-mismatch": "rules.type-mismatch",
    "rules-unknown-function": "rules.unknown-function", "rules-undefined-level": "rules.undefined-level",
    "rules-undefined-role": "rules.undefined-role", "rules-undefined-calendar": "rules.undefined-calendar",
    "rules-undefined-report": "rules.undefined-report", "rules-level-inversion": "rules.level-inversion",
    "rules-level-inversion-duration": "rules.level-inversion", "rules-shadowed-condition": "rules.shadowed-condition",
    "rules-unreachable-level": "rules.unreachable-level", "rules-no-fallback-level": "rules.no-fallback-level",
    "rules-tier-gap": "rules.tier-gap", "rules-tier-overlap": "rules.tier-overlap",
    "rules-tier-open-top": "rules.tier-gap", "rules-tier-currency": "rules.tier-currency",
    "rules-undefined-approver": "rules.undefined-role", "rules-non-positive-duration": "rules.non-positive-duration",
    "rules-invalid-date": "rules.invalid-date", "rules-holiday-conflict": "rules.holiday-conflict",
    "rules-date-range": "rules.date-range", "rules-unknown-time-zone": "rules.unknown-time-zone",
    "rules-level-in-level-condition": "rules.level-in-level-condition",
    "rules-calendar-coverage": "rules.calendar-coverage", "rules-deadline-not-timestamp": "rules.type-mismatch",
    "rules-keyword-checks": "rules.keyword-swallowed", "rules-now-in-condition": "rules.type-mismatch",
    "rules-invalid-id": "rules.invalid-id",
    "rules-unknown-type": "rules.unknown-type",
    "rules-empty-enum": "rules.empty-enum",
    "rules-too-many-values": "rules.too-many-values",
    "rules-invalid-default": "rules.invalid-default",
    "rules-default-out-of-range": "rules.default-out-of-range",
    "rules-condition-shape": "rules.condition-shape",
    "rules-true-only": "rules.true-only",
    "rules-invalid-currency": "rules.invalid-currency",
    "rules-invalid-env-name": "rules.invalid-env-name",
    "rules-invalid-time": "rules.invalid-time",
    "rules-keyword-line": "rules.keyword-line",
    "yaml-errors-first": "yaml.tab", "rules-number-range": "rules.number-range",
    "rules-unknown-event-type": "rules.unknown-event-type",
    "rules-override-permission": "rules.override-permission",
    "rules-override-permission-unset": "rules.override-permission",
    "rules-duplicate-permission": "rules.duplicate-permission",
    "rules-measures": "rules.unknown-event-type", "rules-undefined-satisfaction": "rules.undefined-satisfaction",
    "rules-measure-floor": "rules.measure-floor",
    "rules-permissions-undefined-role": "rules.undefined-role",
    "rules-permissions-shape": "rules.unknown-key",
    "rules-permissions-protect-identity": "rules.type-mismatch",
    "rules-permissions-protect-aggregate": "rules.type-mismatch",
    "rules-permissions-protect-empty": "rules.missing-key",
  ]
}
