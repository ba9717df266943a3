import OmbudsEngine
import OmbudsRules

extension CaseStore {
  /// Explains stored case `id` as of `now`: its decision made again at `now` from its latest
  /// snapshot, as the store makes it (the same-issue counts from the cases table, the
  /// ratchet, an override, extensions), with the case's values. Nil when there is no such case.
  ///
  /// - Parameter identityVisible: false withholds the complainant's identity from the
  ///   explanation (see `explanation(_:for:at:)`).
  public func explanation(_ id: String, at now: Millis, identityVisible: Bool) async throws -> Explanation? {
    try await reading { db in
      guard let row = try await db.fetchAll(Self.caseRows("c.id = ?", lock: ""), [id]).first else { return nil }
      let facts = try self.facts(id, snapshotText: row["snapshot"], complainantID: row["party_complainant_id"])
      let history = StoreHistory(store: self, asOf: now)
      try await history.load(for: facts, windows: self.rules.aggregateWindows, in: db)
      let decision = try await self.decide(
        facts, at: now, level: row["level"], override: row["override_level"],
        lifecycle: CaseLifecycle.read(row["lifecycle"]), history: history, in: db)
      return self.rules.explain(facts, decision: decision, at: now, history: history, identityVisible: identityVisible)
    }
  }

  /// Explains stored case `id` to `principal`: refused as reading the case is, and without
  /// the complainant's identity unless the rules' permissions let `principal` see it (as in
  /// `storedCase(_:for:now:)`).
  public func explanation(_ id: String, for principal: Principal, at now: Millis) async throws -> Explanation? {
    guard let c = try await storedCase(id, for: principal, now: now) else { return nil }
    return try await explanation(id, at: now, identityVisible: c.identityIncluded)
  }
}
