import Foundation
import OmbudsEngine
import OmbudsRules

extension CaseStore {
  /// `ombuds impact --at events`: every stored event applied again, in time order, to two
  /// scratch SQLite stores in a temporary directory — one under this store's rules, one under
  /// `draft` — with the due re-evaluations run at each event's time, then compared: the level
  /// after each event, the events one side refuses, the notices (outbox rows) only one side
  /// writes. The store itself is only read; the scratch stores are removed afterwards.
  ///
  /// The events' payloads keep no identity (`[confidential]`): the case's party as stored now
  /// (complainant, contact, respondent) is put back into them, so same-issue counts and
  /// identity-bearing routes come out as they did.
  public func replayImpact(of draft: CompiledRules, listLimit: Int? = nil, batch: Int = 5000) async throws
    -> ReplayImpact
  {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ombuds-impact-\(UUID().uuidString)")
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw StoreError.database("cannot create a scratch directory for the replay: \(error.localizedDescription)")
    }
    defer { try? FileManager.default.removeItem(at: directory) }
    let a = try await CaseStore(path: directory.appendingPathComponent("in-force.sqlite").path, rules: rules)
    let b = try await CaseStore(path: directory.appendingPathComponent("draft.sqlite").path, rules: draft)
    let parties = try await reading { db in
      try await db.fetchAll("SELECT case_id, complainant_id, contact, respondent FROM parties")
    }
    var identity: [String: [String: String]] = [:]
    for p in parties {
      var fields: [String: String] = [:]
      for key in ["complainant_id", "contact", "respondent"] { if let v: String = p[key] { fields[key] = v } }
      identity[p["case_id"]] = fields
    }

    var result = ReplayImpact()
    var differing: Set<String> = []
    var after: (at: Millis, caseID: String, seq: Int64) = (Millis.min, "", 0)
    while true {
      let from = after
      let rows = try await reading { db in
        try await db.fetchAll(
          """
          SELECT event_id, case_id, seq, type, actor, person, at, payload FROM events
          WHERE at > ? OR (at = ? AND (case_id > ? OR (case_id = ? AND seq > ?)))
          ORDER BY at, case_id, seq LIMIT \(max(1, batch))
          """, [from.at, from.at, from.caseID, from.caseID, from.seq])
      }
      guard let last = rows.last else { break }
      for row in rows {
        let event = try Self.storedEvent(row, identity: identity[row["case_id"]] ?? [:])
        // The two scratch stores are independent: both sides of an event at once (each store
        // still sees its events in order, one after the other).
        async let inForce = Self.replay(event, in: a)
        async let underDraft = Self.replay(event, in: b)
        let (x, y) = try await (inForce, underDraft)
        result.events += 1
        guard x != y else { continue }
        switch (x.hasPrefix("refused"), y.hasPrefix("refused")) {
        case (false, true): result.refusedByDraft += 1
        case (true, false): result.refusedByCurrentOnly += 1
        case (false, false): result.levelDiffers += 1
        case (true, true): break
        }
        if differing.insert(event.caseID).inserted, listLimit.map({ result.firstDifferences.count < $0 }) ?? true {
          result.firstDifferences.append(
            .init(
              caseID: event.caseID, eventID: event.eventID, type: event.kind.rawValue, at: event.at, current: x,
              draft: y))
        }
      }
      after = (last["at"], last["case_id"], last["seq"])
    }
    result.casesDiffering = differing.count
    result.firstDifferences.sort { ($0.caseID, $0.at) < ($1.caseID, $1.at) }
    let x = try await a.noticeSignatures()
    let y = try await b.noticeSignatures()
    func counts(_ keys: Set<String>, _ signatures: [String: String]) -> [Impact.Count] {
      var m: [String: Int] = [:]
      for k in keys { m[signatures[k] ?? k, default: 0] += 1 }
      return m.map { Impact.Count(what: $0.key, cases: $0.value) }.sorted { ($1.cases, $0.what) < ($0.cases, $1.what) }
    }
    result.noticesAdded = counts(Set(y.keys).subtracting(x.keys), y)
    result.noticesRemoved = counts(Set(x.keys).subtracting(y.keys), x)
    return result
  }

  /// A stored event as it was applied: its payload with the party's identity put back.
  static func storedEvent(_ row: SQLRow, identity: [String: String]) throws -> CaseEvent {
    let payload: String = row["payload"]
    var fields: [String: JSONValue]
    do {
      fields = try StoreJSON.decode([String: JSONValue].self, from: payload)
    } catch {
      throw StoreError.database("event `\(row["event_id"] as String)`: its stored payload is not a JSON object")
    }
    for (key, value) in identity where fields[key]?.string == "[confidential]" { fields[key] = .string(value) }
    guard let kind = CaseEvent.Kind(rawValue: row["type"]) else {
      throw StoreError.database("event `\(row["event_id"] as String)`: unknown type `\(row["type"] as String)`")
    }
    return CaseEvent(
      eventID: row["event_id"], caseID: row["case_id"], kind: kind, at: row["at"], actor: row["actor"],
      fields: fields, person: row["person"])
  }

  /// The due re-evaluations up to `event`'s time, then the event, in `store`: its outcome.
  static func replay(_ event: CaseEvent, in store: CaseStore) async throws -> String {
    _ = try await store.runDue(at: event.at)
    return await outcome(of: event, in: store)
  }

  /// What applying `event` to `store` gives: the level after it, or why it was refused.
  static func outcome(of event: CaseEvent, in store: CaseStore) async -> String {
    do {
      switch try await store.apply(event) {
      case .applied(_, let level): return level
      case .duplicate: return "duplicate"
      }
    } catch {
      return "refused: \(error)"
    }
  }

  /// Every outbox row by idempotency key, with what it is without the case and the instant:
  /// "enter/major/0 → customer_service_center".
  func noticeSignatures() async throws -> [String: String] {
    let rows = try await reading { db in
      try await db.fetchAll("SELECT idempotency_key, kind, recipient, recipients FROM outbox")
    }
    var out: [String: String] = [:]
    for r in rows {
      let key: String = r["idempotency_key"]
      let parts = key.split(separator: "/").map(String.init).dropFirst().filter {
        !($0.count >= 10 && $0.allSatisfy(\.isNumber))
      }
      let to: String = (r["recipient"] as String?) ?? r["recipients"]
      out[key] = "\(r["kind"] as String) \(parts.joined(separator: "/")) → \(to)"
    }
    return out
  }
}
