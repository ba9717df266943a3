import ArgumentParser
import Foundation
import OmbudsEngine
import OmbudsReports
import OmbudsRules
import OmbudsStore

/// `ombuds impact`: what a draft rule set would do to the cases in the store.
public struct ImpactCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "impact",
    abstract: "Show what a draft rule set would do to the stored cases (writes nothing).",
    discussion: """
      Every stored case is decided under the rules in force (--current) and under the draft \
      (--rules), at --now, the way the store decides (the stored level as the ratchet's floor, \
      overrides, extended deadlines): a level transition matrix, refund approver changes, \
      deadlines moved and by how much, notices and reports open cases would gain or lose, gates \
      that would now block, then each changed case with both decisions and their reasons. \
      --at events also replays every stored event under both rule sets, in scratch stores, and \
      compares them event by event. A SQLite store is opened for reading only. \
      Documentation/Impact.md defines every number.
      """)

  public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, html
  }

  public enum At: String, ExpressibleByArgument, CaseIterable, Sendable {
    case now, events
  }

  @Option(help: "The case store: a SQLite file path, sqlite:PATH, or postgres://user@host:port/database.")
  public var store: String = "ombuds.sqlite"

  @Option(help: "The draft rule-set directory.")
  public var rules: String

  @Option(help: "The rule-set directory in force.")
  public var current: String = "rules"

  @Option(help: "now: decide every case at --now; events: also replay every stored event.")
  public var at: At = .now

  @Option(help: "text, json or html.")
  public var format: Format = .text

  @Option(help: "List at most this many changed cases (default: 50 in text and html, all in json).")
  public var cases: Int?

  @Option(help: "Write to this file instead of standard output.")
  public var out: String?

  @OptionGroup public var time: NowOption

  public init() {}

  public func validate() throws {
    if let cases, cases < 0 { throw ValidationError("--cases must be 0 or more, not \(cases)") }
  }

  public func run() async throws {
    let inForce = try loadRules(current)
    let draft = try loadRules(rules)
    var options = StoreOptions()
    options.store = store
    let backend = try await options.backend(readOnly: true)
    let limit = cases ?? (format == .json ? nil : 50)
    let now = time.at
    let mode = at
    let impact: Impact
    do {
      impact = try await backend.withRunning {
        let store = try await CaseStore(backend: backend, rules: inForce)
        var impact = try await store.impact(of: draft, at: now, listLimit: limit)
        if mode == .events { impact.replay = try await store.replayImpact(of: draft, listLimit: limit) }
        return impact
      }
    } catch let error as StoreError {
      throw CLIError("\(error)")
    }
    let clock = inForce.calendar.clock
    let format: (Millis) -> String = { RFC3339.format($0, offsetSeconds: clock.offset(at: $0)) }
    let text: String
    switch self.format {
    case .text: text = ImpactText.render(impact, clock: format)
    case .json: text = ImpactJSON.render(impact, clock: format)
    case .html: text = ImpactHTML.render(impact, clock: format)
    }
    if let out {
      try ReportCommand.write(text, to: out)
    } else {
      Output.out(text)
    }
  }
}
