import ArgumentParser
import Foundation
import OmbudsEngine
import OmbudsStore
import OmbudsSyntax

extension Language: ExpressibleByArgument {}

/// `ombuds explain`: why case snapshots get their level, deadlines, refund approver and
/// screening matches, with their values — or why a stored case has them now.
public struct ExplainCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Explain decisions: the conditions with the case's values, the next level's nearest miss, deadlines.",
    discussion: """
      With FILE (or `-`), explains every case snapshot in it (JSON Lines; together they form the \
      history aggregates look at). With --store, explains the stored case CASE_ID as of --now: its \
      decision made again from its latest snapshot, as the store makes it (ratchet, override, extensions).
      Exit status: 0 explained, 1 some lines rejected or no such case, 2 bad usage or a rule set with errors.
      """)

  @Option(help: "The rule-set directory.")
  public var rules: String = "rules"

  @Option(help: "The case store (SQLite path, sqlite:PATH or postgres://…): explain a stored case.")
  public var store: String?

  @Option(help: "The evaluation time (RFC 3339); default: now.")
  public var now: String?

  @Option(help: "The language: zh or zh-CN (labels from the rules beside the ids) or en.")
  public var lang: Language = .zhCN

  @Option(help: "text (for people) or json (one object per case).")
  public var format: Format = .text

  public enum Format: String, ExpressibleByArgument, Sendable { case text, json }

  @Argument(help: "Case snapshots (JSON Lines, `-` for standard input); with --store, the case id.")
  public var input: String

  public init() {}

  public func validate() throws {
    if let now, RFC3339.parse(now) == nil {
      throw ValidationError("--now `\(now)` is not an RFC 3339 timestamp such as 2025-10-20T12:00:00+08:00")
    }
  }

  public func run() async throws {
    let at = now.flatMap(RFC3339.parse) ?? Int64(Date().timeIntervalSince1970 * 1000)
    guard let store else {
      let compiled = try loadRules(rules)
      let explain: ClassifyBatch.Explain =
        format == .json
        ? .json(ExplanationJSON(rules: compiled, language: lang))
        : .text(ExplanationText(rules: compiled, language: lang))
      try classify(compiled, at: at, files: [input], explain: explain, jobs: 0)
      return
    }
    var options = StoreOptions()
    options.store = store
    options.rules = rules
    let id = input
    let (explanation, compiled) = try await options.withStore { store in
      (try await store.explanation(id, at: at, identityVisible: true), store.rules)
    }
    guard let explanation else {
      Output.err("no case `\(id)` in the store\n")
      throw ExitCode(1)
    }
    switch format {
    case .json: Output.out(ExplanationJSON(rules: compiled, language: lang).render(explanation) + "\n")
    case .text: Output.out(ExplanationText(rules: compiled, language: lang).render(explanation))
    }
  }
}
