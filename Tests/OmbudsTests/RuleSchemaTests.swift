import Foundation
import OmbudsRules
import OmbudsSyntax
import Testing

/// The JSON Schema of rule files (`ombuds schema`): generated from the declarations the checker
/// uses, current in Documentation/, accepting every shipped rule file, and refusing, like
/// the checker, a key that is not declared.
@Suite struct RuleSchemaTests {
  static let committed = Support.root.appendingPathComponent("Documentation/rules.schema.json")
  static let validator = Support.root.appendingPathComponent("scripts/validate_rules_schema.py").path

  /// The shipped rule files: `rules/*.yaml` and every example's.
  static func shippedRuleFiles() throws -> [String] {
    var files = try RuleSetLoader.ruleFiles(at: Support.rulesDir)
    let examples = Support.root.appendingPathComponent("rules/examples")
    for name in try FileManager.default.contentsOfDirectory(atPath: examples.path).sorted() {
      let dir = examples.appendingPathComponent(name).path
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue {
        files += try RuleSetLoader.ruleFiles(at: dir)
      }
    }
    return files
  }

  /// python3 with `jsonschema` and `yaml` (.ci/run installs them).
  static var canValidate: Bool {
    (try? Support.run("/usr/bin/env", ["python3", "-c", "import jsonschema, yaml"]).status) == 0
  }

  static var validationEnabled: Bool { canValidate || ProcessInfo.processInfo.environment["CI"] == "true" }

  @Test func theCommittedSchemaIsTheCommandsOutput() throws {
    let run = try Support.run("ombuds", ["schema"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout == RuleSchema.json())
    if ProcessInfo.processInfo.environment["OMBUDS_REGENERATE_GOLDEN"] == "1" {
      try run.stdout.write(to: Self.committed, atomically: true, encoding: .utf8)
    }
    let committed = try String(contentsOf: Self.committed, encoding: .utf8)
    #expect(
      committed == run.stdout,
      "Documentation/rules.schema.json is stale: run `ombuds schema --out Documentation/rules.schema.json`")
  }

  @Test func theSchemaIsJSONWithEveryDeclaredSectionAndKey() throws {
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(RuleSchema.json().utf8)) as? [String: Any])
    let properties = try #require(object["properties"] as? [String: Any])
    #expect(Set(properties.keys) == Set(RuleShapes.sections.map(\.name)))
    let defs = try #require(object["$defs"] as? [String: Any])
    let field = try #require(defs["field"] as? [String: Any])
    let keys = try #require(field["properties"] as? [String: Any])
    #expect(Set(keys.keys) == Set(RuleShapes.field.allowed))
    #expect(field["required"] as? [String] == ["type"])
    #expect(field["additionalProperties"] as? Bool == false)
    let type = try #require(keys["type"] as? [String: Any])
    #expect(type["enum"] as? [String] == ["bool", "integer", "decimal", "enum", "money", "timestamp", "string"])
    #expect(type["description"] as? String == "the fact's type")
  }

  @Test(.enabled(if: validationEnabled, "needs python3 with jsonschema and yaml (.ci/run installs them)"))
  func everyShippedRuleFileIsValid() throws {
    let files = try Self.shippedRuleFiles()
    #expect(files.count >= 15)
    let run = try Support.run("/usr/bin/env", ["python3", Self.validator, Self.committed.path] + files)
    #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    #expect(run.stdout.hasPrefix("\(files.count) rule file(s) valid"))
  }

  /// A key nobody declared, put before every key of every mapping of the shipped rule files:
  /// the checker and the schema both refuse each mutant.
  @Test(.enabled(if: validationEnabled, "needs python3 with jsonschema and yaml (.ci/run installs them)"))
  func aKeyNobodyDeclaredIsRefusedByBoth() throws {
    let dir = try Support.temporaryDirectory()
    var mutants: [(file: String, rules: URL, line: Int)] = []
    for (n, file) in try Self.shippedRuleFiles().enumerated() {
      let lines = try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n")
      for (i, line) in lines.enumerated() {
        // `  key: value` or `  key:` (not a list item, not a comment, not a block scalar's text).
        let trimmed = line.drop { $0 == " " }
        guard let colon = trimmed.firstIndex(of: ":"), !trimmed.hasPrefix("#"), !trimmed.hasPrefix("-"),
          trimmed[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !trimmed[..<colon].isEmpty
        else { continue }
        let indent = String(repeating: " ", count: line.count - trimmed.count)
        var mutated = lines
        // Before the key, at its indentation: a sibling, whatever the key holds below it.
        mutated.insert(indent + "colour_of_the_sky: blue", at: i)
        // The mutant replaces its file in a copy of the file's rule set.
        let rules = dir.appendingPathComponent("m\(n)-\(i)")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        let source = URL(fileURLWithPath: file).deletingLastPathComponent()
        for other in try RuleSetLoader.ruleFiles(at: source.path) where other != file {
          try FileManager.default.copyItem(
            atPath: other, toPath: rules.appendingPathComponent(URL(fileURLWithPath: other).lastPathComponent).path)
        }
        if FileManager.default.fileExists(atPath: source.appendingPathComponent("keywords").path) {
          try FileManager.default.createSymbolicLink(
            at: rules.appendingPathComponent("keywords"), withDestinationURL: source.appendingPathComponent("keywords"))
        }
        let target = rules.appendingPathComponent(URL(fileURLWithPath: file).lastPathComponent)
        try mutated.joined(separator: "\n").write(to: target, atomically: true, encoding: .utf8)
        mutants.append((target.path, rules, i + 1))
      }
    }
    #expect(mutants.count > 200)
    var checkerRefuses: [String: Bool] = [:]
    var unknownKey = 0
    for m in mutants {
      let errors = RuleSetLoader.load(paths: [m.rules.path]).diagnostics.filter { $0.severity == .error }
      checkerRefuses[m.file] = !errors.isEmpty
      if errors.contains(where: { $0.code == DiagnosticCode.unknownKey.id && $0.location.line == m.line }) {
        unknownKey += 1
      }
    }
    let run = try Support.run("/usr/bin/env", ["python3", Self.validator, Self.committed.path] + mutants.map(\.file))
    #expect(run.status == 1)
    let schemaRefuses = Set(
      run.stdout.split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) })
    // The two agree everywhere: where the new key is undeclared, both refuse it; where it is a
    // new entry of a map of ids whose value may be text (a satisfaction answer, a report's
    // part), both accept it.
    for m in mutants {
      #expect(
        checkerRefuses[m.file] == schemaRefuses.contains(m.file),
        "line \(m.line) of \(m.file): checker refuses \(checkerRefuses[m.file] ?? false), schema refuses \(schemaRefuses.contains(m.file))"
      )
    }
    let refused = mutants.filter { checkerRefuses[$0.file] == true }.count
    #expect(refused * 10 > mutants.count * 9)
    // Most places are mappings with declared keys: `unknown key` at the very line.
    #expect(unknownKey * 2 > mutants.count)
  }
}
