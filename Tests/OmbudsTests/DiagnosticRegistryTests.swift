import Foundation
import OmbudsSyntax
import Testing

/// The registry of diagnostic codes (`DiagnosticCode.all`) and the catalogue
/// (`Documentation/Diagnostics.md`) say the same: the index lists exactly the registered
/// codes, in order, with their severities and one-line meanings (English and Chinese), and
/// each has its section.
@Suite struct DiagnosticRegistryTests {
  static let catalogue = Support.root.appendingPathComponent("Documentation/Diagnostics.md")

  struct Row: Equatable, CustomStringConvertible {
    var id: String
    var severities: [String]
    var meaning: String
    var meaningZH: String
    var description: String { "\(id) | \(severities.joined(separator: " / ")) | \(meaning) | \(meaningZH)" }
  }

  static func indexRows(_ text: String) -> [Row] {
    text.split(separator: "\n").compactMap { line -> Row? in
      guard line.hasPrefix("| [`") else { return nil }
      let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard cells.count >= 6, let open = cells[1].range(of: "[`"), let close = cells[1].range(of: "`]") else {
        return nil
      }
      let id = String(cells[1][open.upperBound..<close.lowerBound])
      return Row(
        id: id, severities: cells[2].split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) },
        meaning: cells[3], meaningZH: cells[4])
    }
  }

  @Test func theCatalogueIndexIsTheRegistry() throws {
    let text = try String(contentsOf: Self.catalogue, encoding: .utf8)
    let documented = Self.indexRows(text)
    let registered = DiagnosticCode.all.map {
      Row(id: $0.id, severities: $0.severities.map(\.rawValue), meaning: $0.meaning, meaningZH: $0.meaningZH)
    }
    #expect(documented == registered)
    for code in DiagnosticCode.all {
      #expect(text.contains("### `\(code.id)`"), "Diagnostics.md has no section for \(code.id)")
    }
    #expect(Set(registered.map(\.id)).count == registered.count, "a code registered twice")
  }

  /// Every code has its meaning in both languages: the English and a Chinese one (CJK).
  @Test func everyCodeHasBothTexts() {
    for code in DiagnosticCode.all {
      #expect(!code.meaning.isEmpty, "\(code.id) has no English meaning")
      #expect(containsCJK(code.meaningZH), "\(code.id) has no Chinese meaning")
      #expect(code.meaning(.en) == code.meaning && code.meaning(.zhCN) == code.meaningZH)
    }
  }

  @Test func everyCodeTheGoldensShowIsRegistered() throws {
    let directory = GoldenDiagnosticsTests.directory
    var seen = Set<String>()
    for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".expected") {
      let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
      for line in text.split(separator: "\n") where !line.hasPrefix(" ") {
        let words = line.split(separator: " ")
        guard words.count > 2 else { continue }
        seen.insert(String(words[2]))
        #expect(DiagnosticCode.named(String(words[2])) != nil, "\(name): \(words[2]) is not registered")
      }
    }
    for code in GoldenDiagnosticsTests.codes.values {
      #expect(DiagnosticCode.named(code) != nil, "\(code) is not registered")
    }
    #expect(seen.count > 40)
  }
}
