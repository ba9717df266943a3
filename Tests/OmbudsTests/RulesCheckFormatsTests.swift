import Foundation
import Testing

/// `rules-check --format sarif|github`, and failing rule tests that show each expectation
/// beside what the rules gave.
@Suite struct RulesCheckFormatsTests {
  /// The shipped rules with a rule test that fails on two fields, and beside them (its own
  /// rule set) a file with an unknown section and an awkward name.
  static func brokenRules() throws -> (dir: URL, bad: String) {
    let dir = try Support.temporaryDirectory().appendingPathComponent("rules")
    let fm = FileManager.default
    try fm.createDirectory(at: dir.appendingPathComponent("tests"), withIntermediateDirectories: true)
    for name in try fm.contentsOfDirectory(atPath: Support.rulesDir) where name.hasSuffix(".yaml") || name == "keywords"
    {
      try fm.copyItem(atPath: Support.rulesDir + "/" + name, toPath: dir.appendingPathComponent(name).path)
    }
    try """
    settings_extra: 1
    """.write(
      to: dir.deletingLastPathComponent().appendingPathComponent("zz, odd: name.yaml"), atomically: true,
      encoding: .utf8)
    try """
    now: 2025-10-20T12:00:00+08:00
    tests:
      - note: three people
        case:
          id: T1
          received_at: 2025-10-20T09:00:00+08:00
          collective_size: 3
        want:
          level: major
          deadlines: {resolve_by: 2025-10-22T09:00:00+08:00}
    """.write(to: dir.appendingPathComponent("tests/fail.yaml"), atomically: true, encoding: .utf8)
    return (dir, dir.deletingLastPathComponent().appendingPathComponent("zz, odd: name.yaml").path)
  }

  @Test func aFailingRuleTestShowsEachExpectationBesideWhatCameOut() throws {
    let (dir, _) = try Self.brokenRules()
    let run = try Support.run("rules-check", ["--test", dir.path])
    #expect(run.status == 1)
    let test = dir.appendingPathComponent("tests/fail.yaml").path
    #expect(
      run.stdout.contains(
        "\(test):3:5: error: test \"three people\" failed: level is `hot`, want `major`; resolve_by is 2025-10-21T09:00:00+08:00, want 2025-10-22T09:00:00+08:00 [test.failed]"
      ), "\(run.stdout)")
    #expect(run.stdout.contains("\(test):9:7: note: `level`: expected `major`, actual `hot`\n"))
    #expect(
      run.stdout.contains(
        "\(test):10:19: note: `deadlines.resolve_by`: expected 2025-10-22T09:00:00+08:00, actual 2025-10-21T09:00:00+08:00\n"
      ))
  }

  @Test func sarifNamesEveryDiagnosticWithItsRuleAndPlace() throws {
    let (dir, bad) = try Self.brokenRules()
    let run = try Support.run("rules-check", ["--format", "sarif", "--test", dir.path, bad])
    #expect(run.status == 1)
    let log = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(log["version"] as? String == "2.1.0")
    let runs = try #require(log["runs"] as? [[String: Any]])
    #expect(runs.count == 1)
    let driver = try #require((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
    #expect(driver["name"] as? String == "rules-check")
    let rules = try #require(driver["rules"] as? [[String: Any]])
    #expect(rules.contains { $0["id"] as? String == "rules.unknown-key" })
    #expect(runs[0]["columnKind"] as? String == "unicodeCodePoints")
    let results = try #require(runs[0]["results"] as? [[String: Any]])
    let unknown = try #require(results.first { $0["ruleId"] as? String == "rules.unknown-key" })
    #expect(unknown["level"] as? String == "error")
    let index = try #require(unknown["ruleIndex"] as? Int)
    #expect(rules[index]["id"] as? String == "rules.unknown-key")
    let place = try #require(
      ((unknown["locations"] as? [[String: Any]])?.first?["physicalLocation"]) as? [String: Any])
    // The path percent-encoded as a URI reference (the space; `,` and `:` may stay).
    #expect(
      (place["artifactLocation"] as? [String: Any])?["uri"] as? String
        == (dir.deletingLastPathComponent().path + "/zz,%20odd:%20name.yaml"))
    let region = try #require(place["region"] as? [String: Any])
    #expect(region["startLine"] as? Int == 1 && region["startColumn"] as? Int == 1)
    #expect(region["endColumn"] as? Int == 1 + "settings_extra".count)
    let failed = try #require(results.first { $0["ruleId"] as? String == "test.failed" })
    let notes = try #require(failed["relatedLocations"] as? [[String: Any]])
    #expect(
      notes.compactMap { ($0["message"] as? [String: Any])?["text"] as? String }.first
        == "`level`: expected `major`, actual `hot`")
    // As many results as the text format has diagnostics.
    let text = try Support.run("rules-check", ["--test", "--quiet", dir.path, bad])
    let lines = text.stdout.split(separator: "\n").filter {
      ($0.contains(": error: ") || $0.contains(": warning: ")) && $0.hasSuffix("]")
    }
    #expect(results.count == lines.count && lines.count >= 2)
  }

  /// The official SARIF 2.1.0 schema (OASIS), fetched once; nil when it cannot be (no network).
  static let sarifSchema: String? = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ombuds-sarif-schema-2.1.0.json").path
    if FileManager.default.fileExists(atPath: path) { return path }
    for url in [
      "https://json.schemastore.org/sarif-2.1.0.json",
      "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
    ] {
      let fetch = try? Support.run(
        "/usr/bin/env",
        [
          "python3", "-c",
          "import json, os, sys, urllib.request; d = urllib.request.urlopen(sys.argv[1], timeout=15).read(); json.loads(d); open(sys.argv[2] + '.part', 'wb').write(d); os.replace(sys.argv[2] + '.part', sys.argv[2])",
          url, path,
        ])
      if fetch?.status == 0, FileManager.default.fileExists(atPath: path) { return path }
    }
    return nil
  }()

  static var canValidate: Bool {
    guard sarifSchema != nil else { return false }
    return (try? Support.run("/usr/bin/env", ["python3", "-c", "import jsonschema"]).status) == 0
  }

  /// Skipped without the schema (it is fetched from the network) or python's `jsonschema`.
  @Test(.enabled(if: canValidate, "needs the SARIF schema (network) and python3's jsonschema"))
  func sarifIsValidAgainstTheOfficialSchema() throws {
    let (dir, bad) = try Self.brokenRules()
    let out = try Support.temporaryDirectory().appendingPathComponent("out.sarif").path
    let run = try Support.run("rules-check", ["--format", "sarif", "--test", dir.path, bad])
    try run.stdout.write(toFile: out, atomically: true, encoding: .utf8)
    let clean = try Support.run("rules-check", ["--format", "sarif", Support.rulesDir])
    let cleanOut = out + ".clean"
    try clean.stdout.write(toFile: cleanOut, atomically: true, encoding: .utf8)
    let schema = try #require(Self.sarifSchema)
    for file in [out, cleanOut] {
      let check = try Support.run(
        "/usr/bin/env",
        [
          "python3", "-c",
          "import json, sys, jsonschema; schema = json.load(open(sys.argv[1])); jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)(schema).validate(json.load(open(sys.argv[2])))",
          schema, file,
        ])
      #expect(check.status == 0, "\(file): \(check.stderr)")
    }
  }

  @Test func githubAnnotationsEscapeWhatWouldBreakThem() throws {
    let (dir, bad) = try Self.brokenRules()
    let run = try Support.run("rules-check", ["--format", "github", "--test", dir.path, bad])
    #expect(run.status == 1)
    let file = bad.replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(
      of: ",", with: "%2C")
    #expect(
      run.stdout.contains(
        "::error file=\(file),line=1,col=1,endColumn=15,title=rules.unknown-key::unknown section `settings_extra`"),
      "\(run.stdout)")
    let failed = try #require(run.stdout.split(separator: "\n").first { $0.contains("title=test.failed") })
    #expect(failed.contains("%0A") && failed.contains("note: `level`: expected `major`, actual `hot`"))
    #expect(run.stdout.hasSuffix("passed, 1 failed\n"))
  }
}
