import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax
import Testing

/// Every number a rule file can hold, at and beyond the limits of `Int64` and of the money
/// scale, negative, zero, with many digits or decimals: the checker ends in a verdict — a
/// rule set, or an error at the number's line — and never traps. What it accepts compiles and
/// decides cases. Positions are found, not listed: every scalar with a digit in the shipped
/// rules, the examples and a fixture holding the positions those lack (Fixtures/numbers).
@Suite struct NumberSweepTests {
  /// A rule set to sweep: its files, and the files read through `readFile` (keyword lists).
  struct Subject: CustomTestStringConvertible, Sendable {
    var name: String
    var sources: [SourceFile]
    var testDescription: String { name }
  }

  /// Replacements for each run of digits inside a scalar (`10` in `collective_size >= 10`,
  /// each part of `2025-10-01`, both sides of `7.10`).
  static let digitRuns = [
    "0", "999999", "2147483648", "9223372036854775807", "9223372036854775808", "18446744073709551616",
    "99999999999999999999999999999999999999",
  ]
  /// Replacements for a scalar's leading number (`500` in `500 CNY`, `24` in `24 hours`).
  static let leadingNumbers = [
    "-9223372036854775808", "-9223372036854775809", "-1", "-0", "922337203685477.5807", "922337203685477.5808",
    "99999999999999999.99", "0.000000000000000000001", "1e400", "+7", ".5", "7.", "1_000", "0x7f", "９",
  ]

  static func subjects() -> [Subject] {
    var result: [Subject] = []
    func files(_ dir: String) -> [SourceFile] {
      ((try? RuleSetLoader.ruleFiles(at: dir)) ?? []).compactMap { path in
        FileManager.default.contents(atPath: path).map { SourceFile(path: path, bytes: [UInt8]($0)) }
      }
    }
    let rules = Support.rulesDir
    var shipped = files(rules)
    // The currency equivalents are a number position the default policy does not use.
    if let i = shipped.firstIndex(where: { $0.path.hasSuffix("refunds.yaml") }) {
      let text = String(decoding: shipped[i].bytes, as: UTF8.self).replacingOccurrences(
        of: "currency: CNY\n", with: "currency: CNY\n  equivalents:\n    USD: \"7.10\"\n    EUR: 7.7321\n")
      shipped[i] = SourceFile(path: shipped[i].path, text: text)
    }
    let extras = Support.tests.appendingPathComponent("Fixtures/numbers/extras.yaml").path
    result.append(Subject(name: "rules + Fixtures/numbers", sources: shipped + files(extras)))
    let examples = rules + "/examples"
    for name in ((try? FileManager.default.contentsOfDirectory(atPath: examples)) ?? []).sorted() {
      let dir = examples + "/" + name
      if !files(dir).isEmpty { result.append(Subject(name: "examples/\(name)", sources: files(dir))) }
    }
    return result
  }

  /// A scalar holding a digit: where its text starts in the file, and a name for its place
  /// (the keys above it) so that lists of like items are swept once.
  struct Position {
    var offset: Int
    var text: String
    var line: Int
    var place: String
  }

  static func positions(in source: SourceFile) -> [Position] {
    guard let root = YAMLParser().parse(source).0 else { return [] }
    var found: [Position] = []
    var seen = Set<String>()
    func walk(_ node: YAMLNode, _ place: String) {
      switch node {
      case .scalar(let s, let style):
        guard style == .plain || style == .singleQuoted || style == .doubleQuoted, node.isSingleLineSpan,
          s.value.utf8.contains(where: { $0 >= 0x30 && $0 <= 0x39 })
        else { return }
        // Items of one shape under one place are swept once (the calendar's many dates).
        let shape = String(s.value.map { $0.isNumber ? "9" : $0 })
        guard seen.insert(place + "|" + shape).inserted else { return }
        let start = node.contentLocation.offset
        let bytes = Array(s.value.utf8)
        guard start + bytes.count <= source.bytes.count, Array(source.bytes[start..<start + bytes.count]) == bytes
        else { return }
        found.append(Position(offset: start, text: s.value, line: s.location.line, place: place))
      case .sequence(let items, _):
        for item in items { walk(item, place + "[]") }
      case .mapping(let pairs, _):
        for pair in pairs { walk(pair.value, place + "." + pair.key.value) }
      }
    }
    walk(root, "")
    return found
  }

  /// The texts a scalar is replaced with.
  static func variants(of text: String) -> [String] {
    let bytes = Array(text.utf8)
    var runs: [Range<Int>] = []
    var i = 0
    while i < bytes.count {
      if bytes[i] >= 0x30, bytes[i] <= 0x39 {
        let start = i
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
        runs.append(start..<i)
      } else {
        i += 1
      }
    }
    var result: [String] = []
    for run in runs {
      for replacement in digitRuns {
        result.append(
          String(decoding: bytes[..<run.lowerBound] + Array(replacement.utf8) + bytes[run.upperBound...], as: UTF8.self)
        )
      }
    }
    // A scalar that starts with a number: replace that number (digits, sign, point) whole.
    if let first = runs.first, first.lowerBound == 0 || (first.lowerBound == 1 && bytes[0] == UInt8(ascii: "-")) {
      var end = 0
      while end < bytes.count,
        (bytes[end] >= 0x30 && bytes[end] <= 0x39) || bytes[end] == UInt8(ascii: ".") || bytes[end] == UInt8(ascii: "-")
      {
        end += 1
      }
      for replacement in leadingNumbers {
        result.append(replacement + String(decoding: bytes[end...], as: UTF8.self))
      }
    }
    return result
  }

  /// Cases that reach numbers: money, counts, decimals, every timestamp field.
  static let cases = [
    #"{"id":"A","received_at":"2025-10-01T09:00:00+08:00"}"#,
    #"{"id":"B","received_at":"2025-12-24T17:30:00+08:00","collective_size":12,"compensation":{"amount":"650.00","currency":"CNY"},"materials_complete_at":"2025-12-26T10:00:00+08:00","delay_cause":"ours"}"#,
    #"{"id":"C","received_at":"2026-02-13T23:59:59+08:00","compensation":{"amount":"0.01","currency":"CNY"},"materials_complete_at":"2026-02-14T00:00:00+08:00","media":"exposed"}"#,
  ]

  @Test(arguments: subjects())
  func everyNumberEndsInADiagnosticOrARuleSetThatDecides(_ subject: Subject) throws {
    var checked = 0
    var accepted = 0
    var missingPosition: [String] = []
    let trace = ProcessInfo.processInfo.environment["OMBUDS_SWEEP_TRACE"] != nil
    for (index, source) in subject.sources.enumerated() {
      for position in Self.positions(in: source) {
        for variant in Self.variants(of: position.text) {
          var sources = subject.sources
          let bytes =
            source.bytes[..<position.offset] + Array(variant.utf8)
            + source.bytes[(position.offset + position.text.utf8.count)...]
          sources[index] = SourceFile(path: source.path, bytes: Array(bytes))
          let what = "\(source.path):\(position.line) \(position.place): `\(position.text)` → `\(variant)`"
          // A trap ends the test process: OMBUDS_SWEEP_TRACE=1 names the variant it died on.
          if trace { FileHandle.standardError.write(Data((what + "\n").utf8)) }
          let result = RuleSetLoader.check(sources: sources)
          checked += 1
          for d in result.diagnostics {
            #expect(d.location.line >= 1 && d.location.column >= 1, "\(what): \(d)")
          }
          guard let set = result.ruleSet else {
            // Refused: an error names the line that holds the number.
            let errors = result.diagnostics.filter { $0.severity == .error }
            #expect(!errors.isEmpty, "\(what): no rule set and no error")
            let places = errors.flatMap { [$0.location] + $0.related.map(\.location) }
            if !places.contains(where: { $0.file == source.path && $0.line == position.line }) {
              missingPosition.append("\(what): \(errors.map(\.description).prefix(2))")
            }
            continue
          }
          accepted += 1
          let rules = try CompiledRules(set)
          for json in Self.cases {
            guard let facts = try? Support.facts(rules, json) else { continue }
            for after in [0, 3_600_000, 86_400_000 * 40, 86_400_000 * 400] as [Int64] {
              _ = rules.evaluate(facts, at: facts.receivedAt + after)
            }
          }
        }
      }
    }
    #expect(
      missingPosition.isEmpty,
      "refused without an error at the number's line:\n\(missingPosition.joined(separator: "\n"))")
    #expect(checked > 100)
    #expect(accepted > 0)
  }
}
