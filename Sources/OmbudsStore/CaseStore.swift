import Crypto
import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax

/// What applying an event did.
public enum ApplyOutcome: Equatable, Sendable {
  /// Applied: the case's new version and level.
  case applied(version: Int, level: String)
  /// The event id was applied before: nothing changed (a re-run import is harmless).
  case duplicate
}

/// The case store: every change — the event, the snapshot, the decision, the outbox rows —
/// in one transaction, so a crash leaves all of it or none. The same logic runs on SQLite
/// (the default) and on PostgreSQL, where several instances may share the store.
///
/// Every method that touches the database is `async` and never blocks a thread of the
/// cooperative pool; one store may be used by any number of tasks at once. The operations
/// live in files named after them: `CaseStore+Receive.swift` (`apply`),
/// `+Transitions.swift`, `+Gates.swift`, `+Reevaluate.swift` (`runDue`), `+Queries.swift`,
/// `+Outbox.swift` and `+Delivery.swift` (the dispatcher's side).
public final class CaseStore: Sendable {
  public let rules: CompiledRules
  public let backend: any StoreBackend
  let renderer: DecisionRenderer
  /// The store's own key for complainant pseudonyms.
  let pseudonymKey: [UInt8]
  let pseudonymSecret: SymmetricKey

  /// A store on `backend` (its tables created or upgraded first). A PostgreSQL backend must
  /// be running (`StoreBackend.withRunning(_:)`, or a service group).
  public init(backend: any StoreBackend, rules: CompiledRules) async throws {
    self.backend = backend
    self.rules = rules
    self.renderer = DecisionRenderer(rules: rules)
    self.pseudonymKey = try await backend.prepare()
    self.pseudonymSecret = SymmetricKey(data: pseudonymKey)
  }

  /// A store in the SQLite file at `path` (created and migrated when new).
  public convenience init(path: String, rules: CompiledRules) async throws {
    try await self.init(backend: try await SQLiteBackend.open(path: path), rules: rules)
  }

  static let confidential: Set<String> = ["complainant_id", "contact", "respondent"]

  /// An instant in the rule set's time zone, as RFC 3339.
  func localTime(_ t: Millis) -> String { RFC3339.format(t, offsetSeconds: rules.calendar.clock.offset(at: t)) }

  /// Deadlines extended by `extend` events replace the computed ones.
  func applyExtensions(_ decision: inout Decision, _ lifecycle: CaseLifecycle) {
    guard let extensions = lifecycle.extensions else { return }
    for (i, d) in rules.ruleSet.deadlines.enumerated() where i < decision.deadlines.count {
      if let until = extensions[d.id].flatMap({ RFC3339.parse($0.until) }) { decision.deadlines[i] = until }
    }
  }

  /// The lowest level index a case may take now: its current level (levels ratchet: they
  /// never fall on their own).
  func floor(level: String?) -> Int? {
    level.flatMap { id in rules.levels.firstIndex { $0.id == id } }
  }

  /// The customer-service center's override pins the level (up or down) until the next
  /// override, or until the case is reopened as a second complaint.
  func pin(_ decision: inout Decision, override: String?) {
    if let o = override, let index = rules.levels.firstIndex(where: { $0.id == o }) { decision.level = index }
  }

  /// Evaluates a case at `at` with the same-issue history read from the cases table, the
  /// ratchet, the override and the extensions applied.
  func decide(
    _ facts: CaseFacts, at: Millis, level: String?, override: String?, lifecycle: CaseLifecycle,
    history shared: StoreHistory? = nil, in db: any SQLExecutor
  ) async throws -> Decision {
    var decision = Decision()
    // The evaluator asks for aggregates synchronously: they are read first (unless `shared`
    // already holds them), and read again (wider) in the rare case it asked for a window they
    // did not cover.
    let history: StoreHistory
    if let shared, shared.asOf == at {
      history = shared
    } else {
      history = StoreHistory(store: self, asOf: at)
      try await history.load(for: facts, windows: rules.aggregateWindows, in: db)
    }
    for _ in 0..<4 {
      decision = Decision()
      rules.evaluate(facts, at: at, history: history, floor: floor(level: level), into: &decision)
      guard let missing = history.missing else { break }
      try await history.load(for: facts, range: missing, in: db)
    }
    if history.missing != nil {
      throw StoreError.database("counting the cases of the same issue: the evaluator's windows kept changing")
    }
    pin(&decision, override: override)
    applyExtensions(&decision, lifecycle)
    return decision
  }

  /// The facts of a stored snapshot's JSON (which holds the case id), with the complainant
  /// put back for the evaluation: read straight from the text, not re-serialized.
  func facts(_ id: String, snapshotText text: String, complainantID: String?) throws -> CaseFacts {
    var bytes = Array(text.utf8)
    if let complainantID, bytes.first == 0x7B {
      var field = Array("{\"complainant_id\":".utf8)
      JSONText.appendString(complainantID, to: &field)
      if bytes.count > 2 { field.append(0x2C) }
      bytes.replaceSubrange(0..<1, with: field)
    }
    do {
      return try bytes.withUnsafeBufferPointer { b throws(CaseError) in try rules.reader.read(b) }
    } catch {
      throw StoreError.invalidCase(id, error.message)
    }
  }

  func facts(_ id: String, _ snapshot: CaseSnapshot, _ party: Party) throws -> CaseFacts {
    var withID = snapshot
    withID["id"] = .string(id)
    return try facts(id, snapshotText: withID.json, complainantID: party.complainantID)
  }

  /// A stable stand-in for a complainant id (an HMAC under the store's key), so that
  /// aggregates count people without the cases table holding who they are.
  func pseudonym(_ id: String) -> String {
    let mac = Crypto.HMAC<Crypto.SHA256>.authenticationCode(for: Array(id.utf8), using: pseudonymSecret)
    return Hex.encode(mac)
  }

  /// Event fields as stored: no identity (the payload of `events` is not confidential).
  static func redacted(_ fields: [String: JSONValue]) -> [String: JSONValue] {
    var kept = fields
    for k in confidential where kept[k] != nil { kept[k] = .string("[confidential]") }
    return kept
  }

  /// Runs a write transaction, with every error a `StoreError` (or a cancellation).
  func writing<T: Sendable>(_ body: sending @escaping (any SQLExecutor) async throws -> T) async throws -> T {
    do {
      return try await backend.write(body)
    } catch {
      throw Self.storeError(error)
    }
  }

  /// An error as the store throws it: a `StoreError` or a cancellation as it is, anything else
  /// (a driver's error) as `StoreError.database`.
  static func storeError(_ error: any Error) -> any Error {
    switch error {
    case is StoreError, is CancellationError: error
    default: StoreError.database("\(error)")
    }
  }

  /// Runs a read, with every error a `StoreError` (or a cancellation).
  func reading<T: Sendable>(_ body: sending (any SQLExecutor) async throws -> T) async throws -> T {
    do {
      return try await backend.read(body)
    } catch {
      throw Self.storeError(error)
    }
  }
}

/// The name the first versions used.
public typealias SQLiteCaseStore = CaseStore
