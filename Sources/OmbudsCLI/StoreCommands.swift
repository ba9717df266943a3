import ArgumentParser
import Foundation
import OmbudsEngine
import OmbudsStore

/// `--store` and `--rules` shared by the store commands.
public struct StoreOptions: ParsableArguments {
  @Option(help: "The case store: a SQLite file path, sqlite:PATH, or postgres://user@host:port/database.")
  public var store: String = "ombuds.sqlite"

  @Option(help: "The rule-set directory.")
  public var rules: String = "rules"

  public init() {}

  func open() throws -> CaseStore {
    let compiled = try loadRules(rules)
    do {
      if store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") {
        return try CaseStore(backend: try PostgresBackend(url: store), rules: compiled)
      }
      var path = store
      if path.hasPrefix("sqlite://") {
        path = String(path.dropFirst("sqlite://".count))
      } else if path.hasPrefix("sqlite:") {
        path = String(path.dropFirst("sqlite:".count))
      } else if path.contains("://") {
        throw CLIError("store `\(store)`: use a SQLite path, sqlite:PATH or postgres://user@host:port/database")
      }
      return try CaseStore(path: path, rules: compiled)
    } catch let e as CLIError {
      throw e
    } catch {
      throw CLIError("\(error)")
    }
  }
}

/// `ombuds replay`: applies events from JSON Lines, each in its own transaction.
public struct ReplayCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Apply case events (JSON Lines) to the store.",
    discussion: """
      Each line: {"event_id", "case", "type", "at", "actor", …fields}; types: received (with the case \
      snapshot fields), updated, resolved, closed (with "reports"), reopened, override ("level", \
      "reason", by customer_service_center). An event id already applied is skipped, so a killed \
      import can be run again. A rejected line is reported alone on standard error as \
      {"line": N, "error": "…"}. Exit status: 0, 1 (some lines rejected), 2 (bad usage or rules).
      """)

  @OptionGroup public var options: StoreOptions

  @Argument(help: "Event files (standard input when none or `-`).")
  public var files: [String] = []

  public init() {}

  public func run() throws {
    let store = try options.open()
    var rejected = 0
    for file in files.isEmpty ? ["-"] : files {
      let bytes = try Output.readAll(file)
      var number = 0
      for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
        number += 1
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
        do {
          try store.apply(try CaseEvent.parse(Array(line)))
        } catch {
          rejected += 1
          let fileField = files.count > 1 ? ",\"file\":\(JSONText.quoted(file))" : ""
          Output.err("{\"line\":\(number),\"error\":\(JSONText.quoted("\(error)"))\(fileField)}\n")
        }
      }
    }
    if rejected > 0 { throw ExitCode(1) }
  }
}

/// `ombuds cases`: the stored cases with their level and latest decision.
public struct CasesCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "cases", abstract: "Print the stored cases as JSON Lines (snapshot, level, latest decision).")

  @OptionGroup public var options: StoreOptions

  @Flag(help: "Include the complainant's identity (confidential; only for those who need it).")
  public var includeConfidential = false

  public init() {}

  public func run() throws {
    let store = try options.open()
    var out = ""
    for c in try store.cases(includeConfidential: includeConfidential) {
      let review =
        c.nextReviewAt.map {
          JSONText.quoted(RFC3339.format($0, offsetSeconds: store.rules.calendar.clock.offset(at: $0)))
        } ?? "null"
      out +=
        "{\"id\":\(JSONText.quoted(c.id)),\"version\":\(c.version),\"state\":\(JSONText.quoted(c.state)),\"stage\":\(JSONText.quoted(c.stage)),\"level\":\(JSONText.quoted(c.level)),\"next_review_at\":\(review),\"snapshot\":\(c.snapshotJSON),\"lifecycle\":\(c.lifecycleJSON),\"decision\":\(c.decisionJSON ?? "null")}\n"
    }
    Output.out(out)
  }
}

/// `ombuds tick`: runs the re-evaluations that are due.
public struct TickCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "tick", abstract: "Re-evaluate the cases whose next review is due (time-driven escalation).")

  @OptionGroup public var options: StoreOptions

  @Option(help: "The time to run at (RFC 3339); default: now.")
  public var now: String?

  public init() {}

  public func validate() throws {
    if let now, RFC3339.parse(now) == nil { throw ValidationError("--now `\(now)` is not an RFC 3339 timestamp") }
  }

  public func run() throws {
    let store = try options.open()
    let at = now.flatMap(RFC3339.parse) ?? Int64(Date().timeIntervalSince1970 * 1000)
    let n = try store.runDue(at: at)
    Output.out("{\"reevaluated\":\(n)}\n")
  }
}
