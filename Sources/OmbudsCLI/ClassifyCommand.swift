import ArgumentParser
import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax

/// Loads and compiles a rule set, or throws with the diagnostics printed to standard error.
func loadRules(_ dir: String) throws -> CompiledRules {
  let result = RuleSetLoader.load(paths: [dir])
  let renderer = DiagnosticRenderer(sources: result.sources)
  let errors = result.diagnostics.filter { $0.severity == .error }
  if !errors.isEmpty || result.ruleSet == nil {
    var text = ""
    for d in errors { text += renderer.text(d) }
    Output.err(text)
    throw CLIError(
      "the rule set in `\(dir)` has \(errors.count) error\(errors.count == 1 ? "" : "s"); run `rules-check \(dir)`")
  }
  guard let ruleSet = result.ruleSet else { throw CLIError("no rule set") }
  if ruleSet.levels.isEmpty { throw CLIError("the rule set in `\(dir)` declares no levels") }
  do {
    return try CompiledRules(ruleSet)
  } catch {
    throw CLIError("\(error)")
  }
}

/// `ombuds classify`: one decision per case line.
public struct ClassifyCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "classify",
    abstract: "Classify case snapshots (JSON Lines) and print one decision per case.",
    discussion: """
      All cases given form the history that aggregates look at. A line that is not a valid case \
      is reported on standard error as {"line": N, "error": "…"}; the rest are classified.
      Exit status: 0 all lines classified, 1 some lines rejected, 2 bad usage or a rule set with errors.
      """)

  @Option(help: "The rule-set directory.")
  public var rules: String = "rules"

  @Option(help: "The evaluation time (RFC 3339); default: now.")
  public var now: String?

  @Option(help: "Worker threads (default: all cores).")
  public var jobs: Int = 0

  @Flag(
    help:
      "Add an `explanation` to each decision: the conditions with the case's values, deadlines, refund tier, screening."
  )
  public var explain = false

  @Option(help: "The language of explanations: zh or zh-CN (labels from the rules beside the ids) or en.")
  public var lang: Language = .zhCN

  @Argument(help: "Case files (JSON Lines); standard input when none or `-`.")
  public var files: [String] = []

  public init() {}

  public func validate() throws {
    if let now, RFC3339.parse(now) == nil {
      throw ValidationError("--now `\(now)` is not an RFC 3339 timestamp such as 2025-10-20T12:00:00+08:00")
    }
    if jobs < 0 || jobs > 1_024 { throw ValidationError("--jobs must be from 0 (all cores) to 1024") }
  }

  public func run() throws {
    let compiled = try loadRules(rules)
    let at = now.flatMap(RFC3339.parse) ?? Int64(Date().timeIntervalSince1970 * 1000)
    try classify(
      compiled, at: at, files: files, explain: explain ? .field(ExplanationJSON(rules: compiled, language: lang)) : nil,
      jobs: jobs)
  }
}

/// Reads case lines from `files` (standard input for none or `-`), classifies them together
/// and writes a line per case (see `ClassifyBatch.Explain`); rejected lines on standard error,
/// with exit status 1.
func classify(
  _ compiled: CompiledRules, at: Millis, files: [String], explain: ClassifyBatch.Explain?, jobs: Int
) throws {
  var input: [UInt8] = []
  let sources = files.isEmpty ? ["-"] : files
  // Where each file starts, in lines of the joined input, to report rejections per file.
  var firstLines: [(file: String, line: Int)] = []
  var linesSoFar = 0
  for (i, f) in sources.enumerated() {
    var bytes = try Output.readAll(f)
    if i < sources.count - 1, !bytes.isEmpty, bytes.last != 0x0A { bytes.append(0x0A) }
    firstLines.append((f, linesSoFar))
    linesSoFar += bytes.count { $0 == 0x0A }
    input.append(contentsOf: bytes)
  }
  let batch = ClassifyBatch(rules: compiled, workers: jobs)
  let rejections = batch.run(input, now: at, explain: explain) { Output.write(1, $0) }
  if !rejections.isEmpty {
    var text = ""
    for r in rejections {
      if sources.count == 1 {
        text += "{\"line\":\(r.line),\"error\":\(JSONText.quoted(r.message))}\n"
      } else {
        // Several files: the line within its file, and which file.
        let origin = firstLines.last { $0.line < r.line } ?? firstLines[0]
        text +=
          "{\"line\":\(r.line - origin.line),\"error\":\(JSONText.quoted(r.message)),\"file\":\(JSONText.quoted(origin.file))}\n"
      }
    }
    Output.err(text)
    throw ExitCode(1)
  }
}

/// `ombuds`: the command-line front of the library.
public struct OmbudsCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "ombuds",
    abstract: "Classify complaints and reports by the policy in YAML rule files.",
    subcommands: [
      ClassifyCommand.self, ScreenCommand.self, ReplayCommand.self, CasesCommand.self, TickCommand.self,
      OutboxCommand.self, DispatchCommand.self, ServeCommand.self, TokenCommand.self, ReportCommand.self,
      ReevaluateCommand.self, ImpactCommand.self, SchemaCommand.self,
      ExplainCommand.self,
    ])

  public init() {}
}
