import ArgumentParser
import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax

/// `rules-check [PATH ...]`: checks rule sets and reports diagnostics.
public struct RulesCheckCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "rules-check",
    abstract: "Check Ombuds rule files and report every problem with its position.",
    discussion: """
      Each directory is one rule set (its *.yaml files); files named together form one rule set.
      Exit status: 0 clean (warnings allowed), 1 errors found, 2 bad usage.
      """)

  public enum Format: String, ExpressibleByArgument, Sendable, CaseIterable { case text, json, sarif, github }

  @Argument(help: "Rule files or directories (default: ./rules).")
  public var paths: [String] = []

  @Option(
    help: """
      Output format: text, json, sarif (SARIF 2.1.0, for code scanning) or github (GitHub Actions annotations).
      """)
  public var format: Format = .text

  @Flag(help: "Also run the rule tests in each rule set's tests/ directory.")
  public var test = false

  @Flag(help: "Print only diagnostics, no per-file summary.")
  public var quiet = false

  @Option(
    help: """
      Language of messages, helps and summaries: en or zh-CN (also zh, zh_CN). Default: Chinese when \
      LC_ALL, LC_MESSAGES or LANG starts with zh, else English. Codes never change.
      """)
  public var lang: String?

  /// The language asked for: `--lang`, else the environment.
  func language(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Language {
    guard let lang else { return Language.fromEnvironment(environment) }
    guard let language = Language(argument: lang) else {
      throw ValidationError("unknown language `\(lang)`: use en or zh-CN")
    }
    return language
  }

  @Flag(
    help: """
      With --test: report which condition items, levels, refund tiers, deadline rules, duties, gates, \
      keywords, exception phrases, holidays and make-up days the rule tests exercised, and list the others.
      """)
  public var coverage = false

  @Option(help: "With --coverage: exit 1 when a rule set's coverage is below this percentage (0–100).")
  public var coverageMin: Double?

  public init() {}

  public func validate() throws {
    if let coverageMin {
      guard coverageMin.isFinite, (0...100).contains(coverageMin) else {
        throw ValidationError("--coverage-min must be a percentage from 0 to 100, not \(coverageMin)")
      }
    }
    if (coverage || coverageMin != nil) && !test {
      throw ValidationError("--coverage needs --test (coverage is what the rule tests exercise)")
    }
  }

  /// The rule sets the arguments name: one per directory, plus one for all files together.
  func ruleSets() -> [[String]] {
    let given = paths.isEmpty ? ["rules"] : paths
    var sets: [[String]] = []
    var files: [String] = []
    for p in given {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue {
        sets.append([p])
      } else {
        files.append(p)
      }
    }
    if !files.isEmpty { sets.append(files) }
    return sets
  }

  public func run() throws {
    let language = try language()
    let words = SummaryWords(language)
    var errors = 0
    var warnings = 0
    var jsonDiagnostics: [String] = []
    var jsonFiles: [String] = []
    var all: [Diagnostic] = []
    var testsPassed = 0
    var testsFailed = 0
    var coverages: [(set: String, coverage: RuleCoverage)] = []
    let wantsCoverage = coverage || coverageMin != nil
    for set in ruleSets() {
      let result = RuleSetLoader.load(paths: set)
      var diagnostics = result.diagnostics
      var sources = result.sources
      var fileList = result.files
      if test, let ruleSet = result.ruleSet, set.count == 1 {
        do {
          let compiled = try CompiledRules(ruleSet)
          let outcome = RuleTestRunner(rules: compiled, coverage: wantsCoverage).run(
            files: RuleTestRunner.testFiles(forRuleSet: set[0]))
          if let c = outcome.coverage { coverages.append((set[0], c)) }
          testsPassed += outcome.passed
          testsFailed += outcome.failed
          diagnostics += outcome.diagnostics
          sources.merge(outcome.sources) { a, _ in a }
          fileList += outcome.files
        } catch {
          diagnostics.append(
            .error(
              .compile, RuleTestMessages.compileFailed("\(error)"),
              at: SourceLocation(file: set[0], line: 1, column: 1, offset: 0)))
        }
      }
      diagnostics.sort()
      errors += diagnostics.count { $0.severity == .error }
      warnings += diagnostics.count { $0.severity == .warning }
      switch format {
      case .sarif:
        all += diagnostics
      case .github:
        var text = ""
        for d in diagnostics { text += GitHubRenderer.render(d, language: language) + "\n" }
        Output.out(text)
      case .json:
        jsonDiagnostics += diagnostics.map { DiagnosticRenderer.json($0, language: language) }
        for f in fileList {
          let e = diagnostics.count { $0.location.file == f && $0.severity == .error }
          let w = diagnostics.count { $0.location.file == f && $0.severity == .warning }
          jsonFiles.append(
            "{\"path\":\(JSONText.quoted(f)),\"errors\":\(e),\"warnings\":\(w),\"status\":\"\(e == 0 ? "SUCCESS" : "FAILED")\"}"
          )
        }
      case .text:
        let renderer = DiagnosticRenderer(sources: sources, language: language)
        var text = ""
        for d in diagnostics { text += renderer.text(d) + "\n" }
        Output.out(text)
        if !quiet {
          var summary = ""
          let known = Set(fileList)
          for f in fileList {
            let e = diagnostics.count { $0.location.file == f && $0.severity == .error }
            let w = diagnostics.count { $0.location.file == f && $0.severity == .warning }
            let counts = e + w == 0 ? "" : words.fileCounts(errors: e, warnings: w)
            let status = e > 0 ? words.failed : result.checked ? words.success : words.notChecked
            summary += "\(f): \(status)\(counts)\n"
          }
          // Diagnostics about paths that are not files (a missing directory, say).
          for d in diagnostics where !known.contains(d.location.file) && d.severity == .error {
            summary += "\(d.location.file): \(words.failed)\n"
          }
          Output.out(summary)
        }
      }
    }
    let below = coverages.filter { c in coverageMin.map { c.coverage.percent < $0 } ?? false }
    let failed = errors > 0 || !below.isEmpty
    switch format {
    case .sarif:
      Output.out(SARIFRenderer.render(all, exitCode: failed ? 1 : 0, language: language))
    case .github:
      Output.out(words.totals(errors: errors, warnings: warnings) + "\n")
      if test { Output.out(words.tests(passed: testsPassed, failed: testsFailed) + "\n") }
      Output.out(coverages.map { CoverageRenderer.github($0.coverage, language: language) }.joined())
    case .json:
      var s =
        "{\"files\":[\(jsonFiles.joined(separator: ","))],\"diagnostics\":[\(jsonDiagnostics.joined(separator: ","))],\"errors\":\(errors),\"warnings\":\(warnings)"
      if test { s += ",\"tests\":{\"passed\":\(testsPassed),\"failed\":\(testsFailed)}" }
      if wantsCoverage {
        s +=
          ",\"coverage\":[\(coverages.map { CoverageRenderer.json($0.coverage, ruleSet: $0.set, minimum: coverageMin) }.joined(separator: ","))]"
      }
      Output.out(s + "}\n")
    case .text:
      if !quiet { Output.out(words.totals(errors: errors, warnings: warnings) + "\n") }
      if test { Output.out(words.tests(passed: testsPassed, failed: testsFailed) + "\n") }
      for c in coverages {
        Output.out(CoverageRenderer.text(c.coverage, ruleSet: c.set, minimum: coverageMin, language: language))
      }
    }
    if failed { throw ExitCode(1) }
  }

}

/// The summary lines of `rules-check` in each language. The JSON `status` stays
/// `SUCCESS`/`FAILED` in every language: tools match on it.
struct SummaryWords {
  let language: Language
  init(_ language: Language) { self.language = language }

  var success: String { language == .en ? "SUCCESS" : "通过" }
  var failed: String { language == .en ? "FAILED" : "未通过" }
  var notChecked: String {
    language == .en ? "NOT CHECKED (fix the syntax errors first)" : "未检查（请先改正语法错误）"
  }

  func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

  /// ` (1 error, 0 warnings)` after a file's status.
  func fileCounts(errors: Int, warnings: Int) -> String {
    language == .en
      ? " (\(plural(errors, "error")), \(plural(warnings, "warning")))" : "（\(errors) 个错误，\(warnings) 个警告）"
  }

  /// `0 errors, 0 warnings`.
  func totals(errors: Int, warnings: Int) -> String {
    language == .en
      ? "\(plural(errors, "error")), \(plural(warnings, "warning"))" : "\(errors) 个错误，\(warnings) 个警告"
  }

  /// `86 passed, 0 failed`.
  func tests(passed: Int, failed: Int) -> String {
    language == .en ? "\(passed) passed, \(failed) failed" : "规则测试：\(passed) 项通过，\(failed) 项未通过"
  }
}

/// Runs a command and maps usage errors to exit status 2 (the contract), not 64. An
/// `AsyncParsableCommand` runs on the cooperative pool, awaited: no thread waits for it.
public func runMain<C: ParsableCommand>(_ type: C.Type, arguments: [String]? = nil) async -> Never {
  do {
    var command = try type.parseAsRoot(arguments)
    if var asynchronous = command as? any AsyncParsableCommand {
      try await asynchronous.run()
    } else {
      try command.run()
    }
    exit(0)
  } catch let code as ExitCode {
    exit(code.rawValue)
  } catch let error as CLIError {
    Output.err("error: \(error.message)\n")
    exit(2)
  } catch {
    let code = type.exitCode(for: error)
    if code == .success {
      Output.out(type.fullMessage(for: error) + "\n")
      exit(0)
    }
    Output.err(type.fullMessage(for: error) + "\n")
    if code == .validationFailure {
      Output.err(type.helpMessage().split(separator: "\n").prefix(3).joined(separator: "\n") + "\n")
    }
    exit(code == .validationFailure ? 2 : code.rawValue)
  }
}
