import ArgumentParser
import Foundation
import OmbudsEngine
import OmbudsStore
import OmbudsSyntax

/// `--store` and `--rules` shared by the store commands.
public struct StoreOptions: ParsableArguments {
  @Option(help: "The case store: a SQLite file path, sqlite:PATH, or postgres://user@host:port/database.")
  public var store: String = "ombuds.sqlite"

  @Option(help: "The rule-set directory.")
  public var rules: String = "rules"

  public init() {}

  /// The backend `--store` names (a SQLite file is opened, and migrated, here).
  /// `readOnly`: a SQLite store is opened for reading only (it must exist and be current).
  func backend(readOnly: Bool = false) async throws -> any StoreBackend {
    do {
      if store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") {
        return try PostgresBackend(url: store)
      }
      var path = store
      if path.hasPrefix("sqlite://") {
        path = String(path.dropFirst("sqlite://".count))
      } else if path.hasPrefix("sqlite:") {
        path = String(path.dropFirst("sqlite:".count))
      } else if path.contains("://") {
        throw CLIError("store `\(store)`: use a SQLite path, sqlite:PATH or postgres://user@host:port/database")
      }
      return try await SQLiteBackend.open(path: path, readOnly: readOnly)
    } catch let e as CLIError {
      throw e
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// Opens the store and runs `body` with it, the backend's background work (PostgreSQL:
  /// its connection pool) running beside it until `body` ends.
  func withStore<T: Sendable>(_ body: (CaseStore) async throws -> T) async throws -> T {
    let compiled = try loadRules(rules)
    let backend = try await backend()
    return try await backend.withRunning {
      let store: CaseStore
      do {
        store = try await CaseStore(backend: backend, rules: compiled)
      } catch {
        throw CLIError("\(error)")
      }
      return try await body(store)
    }
  }
}

/// `ombuds replay`: applies events from JSON Lines, each in its own transaction.
public struct ReplayCommand: AsyncParsableCommand {
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

  /// Events handed to the store at once.
  static let chunk = 256

  public init() {}

  public func run() async throws {
    let files = files
    let rejected = try await options.withStore { store in
      var rejected = 0
      for file in files.isEmpty ? ["-"] : files {
        let bytes = try Output.readAll(file)
        let fileField = files.count > 1 ? ",\"file\":\(JSONText.quoted(file))" : ""
        // Lines in chunks: each chunk's events go to the store in one call (each still its
        // own transaction, in order); rejections are reported in line order.
        var chunk: [(line: Int, event: Result<CaseEvent, any Error>)] = []
        func flush() async {
          let events = chunk.compactMap { try? $0.event.get() }
          var outcomes = await store.apply(contentsOf: events).makeIterator()
          for (line, parsed) in chunk {
            var failure: (any Error)?
            switch parsed {
            case .failure(let error): failure = error
            case .success: if case .failure(let error) = outcomes.next() { failure = error }
            }
            if let failure {
              rejected += 1
              Output.err("{\"line\":\(line),\"error\":\(JSONText.quoted("\(failure)"))\(fileField)}\n")
            }
          }
          chunk.removeAll(keepingCapacity: true)
        }
        var number = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
          number += 1
          if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
          chunk.append((number, Result { try CaseEvent.parse(Array(line)) }))
          if chunk.count == Self.chunk { await flush() }
        }
        await flush()
      }
      return rejected
    }
    if rejected > 0 { throw ExitCode(1) }
  }
}

/// `ombuds cases`: the stored cases with their level and latest decision.
public struct CasesCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "cases", abstract: "Print the stored cases as JSON Lines (snapshot, level, latest decision).")

  @OptionGroup public var options: StoreOptions

  @Flag(help: "Include the complainant's identity (confidential; only for those who need it).")
  public var includeConfidential = false

  @Option(
    help: "Add an `explanation` to each case, as of now, in this language (zh, zh-CN or en); see `ombuds explain`.")
  public var explain: Language?

  public init() {}

  public func run() async throws {
    let includeConfidential = includeConfidential
    let language = explain
    let (stored, clock, explanations) = try await options.withStore { store in
      let stored = try await store.cases(includeConfidential: includeConfidential)
      var explanations: [String: String] = [:]
      if let language {
        let at = Millis(Date().timeIntervalSince1970 * 1000)
        let json = ExplanationJSON(rules: store.rules, language: language)
        for c in stored {
          if let e = try await store.explanation(c.id, at: at, identityVisible: includeConfidential) {
            explanations[c.id] = json.render(e)
          }
        }
      }
      return (stored, store.rules.calendar.clock, explanations)
    }
    var out = ""
    for c in stored {
      let review =
        c.nextReviewAt.map {
          JSONText.quoted(RFC3339.format($0, offsetSeconds: clock.offset(at: $0)))
        } ?? "null"
      out +=
        "{\"id\":\(JSONText.quoted(c.id)),\"version\":\(c.version),\"state\":\(JSONText.quoted(c.state)),\"stage\":\(JSONText.quoted(c.stage)),\"level\":\(JSONText.quoted(c.level)),\"next_review_at\":\(review),\"snapshot\":\(c.snapshotJSON),\"lifecycle\":\(c.lifecycleJSON),\"decision\":\(c.decisionJSON ?? "null")\(explanations[c.id].map { ",\"explanation\":\($0)" } ?? "")}\n"
    }
    Output.out(out)
  }
}

/// `--now`: the time a store command acts at.
public struct NowOption: ParsableArguments {
  @Option(help: "The time to act at (RFC 3339); default: now.")
  public var now: String?

  public init() {}

  public func validate() throws {
    if let now, RFC3339.parse(now) == nil { throw ValidationError("--now `\(now)` is not an RFC 3339 timestamp") }
  }

  /// `--now`, or the current time.
  public var at: Millis { now.flatMap(RFC3339.parse) ?? Millis(Date().timeIntervalSince1970 * 1000) }
}

/// `ombuds tick`: runs the re-evaluations that are due.
public struct TickCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "tick", abstract: "Re-evaluate the cases whose next review is due (time-driven escalation).")

  @OptionGroup public var options: StoreOptions
  @OptionGroup public var time: NowOption

  public init() {}

  public func run() async throws {
    let at = time.at
    let n = try await options.withStore { store in try await store.runDue(at: at) }
    Output.out("{\"reevaluated\":\(n)}\n")
  }
}

/// `ombuds reevaluate`: applies the rules in force to every open case now.
public struct ReevaluateCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "reevaluate",
    abstract: "Apply the current rules to every open case now (after a rule change).",
    discussion: """
      One decision is recorded for each open case, naming the rule set of its decision before \
      (the timeline's `previous_rule_set`); levels never fall on their own; the notices the new \
      decisions trigger go to the outbox. Cases are taken in batches of 500, each batch in one \
      transaction: a killed run can be run again. Prints {"rule_set", "reevaluated", \
      "level_changes": [{"case", "from", "to"}], "previous_rule_sets": {hash: count}}.
      """)

  @OptionGroup public var options: StoreOptions
  @OptionGroup public var time: NowOption

  public init() {}

  public func run() async throws {
    let at = time.at
    let summary = try await options.withStore { store in
      do {
        return try await store.reevaluateOpen(at: at)
      } catch let error as StoreError {
        throw CLIError("\(error)")
      }
    }
    Output.out(Self.json(summary) + "\n")
  }

  static func json(_ s: RuleChangeReevaluation) -> String {
    let changes = s.levelChanges.map {
      "{\"case\":\(JSONText.quoted($0.caseID)),\"from\":\(JSONText.quoted($0.from)),\"to\":\(JSONText.quoted($0.to))}"
    }
    let previous = s.previousRuleSets.sorted { $0.key < $1.key }.map { "\(JSONText.quoted($0.key)):\($0.value)" }
    return
      "{\"rule_set\":\(JSONText.quoted(s.ruleSet)),\"reevaluated\":\(s.cases),\"level_changes\":[\(changes.joined(separator: ","))],\"previous_rule_sets\":{\(previous.joined(separator: ","))}}"
  }
}
