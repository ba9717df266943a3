import Foundation
import OmbudsEngine
import OmbudsStore
import Testing

/// Measures how late a task on the cooperative pool wakes up: it asks to sleep 10 ms, again
/// and again, and keeps the worst lateness. Anything that blocks the pool's threads (a
/// synchronous database call, a `.wait()`) shows up here as lateness.
final class Watchdog: Sendable {
  let task: Task<(worst: Duration, wakes: Int), Never>

  init(interval: Duration = .milliseconds(10)) {
    task = Task.detached {
      let clock = ContinuousClock()
      var worst = Duration.zero
      var wakes = 0
      while !Task.isCancelled {
        let start = clock.now
        do { try await Task.sleep(for: interval) } catch { break }
        worst = max(worst, clock.now - start - interval)
        wakes += 1
      }
      return (worst, wakes)
    }
  }

  /// Stops the watchdog and returns the worst lateness and how many times it woke.
  func stop() async -> (worst: Duration, wakes: Int) {
    task.cancel()
    return await task.value
  }
}

/// Many tasks writing to one store at once, on SQLite and on PostgreSQL: no update is lost,
/// every event is applied exactly once, and no thread of the cooperative pool is blocked
/// meanwhile (a watchdog on the pool keeps its deadlines). Not a speed test: the bound on
/// lateness is generous, and the time the run takes is not checked.
@Suite(.serialized) struct StoreConcurrencyTests {
  static let caseCount = 40
  static let eventCount = 2_000
  static let taskCount = 64
  /// The worst lateness allowed for a 10 ms sleep on the cooperative pool.
  static let lateness: Duration = .milliseconds(250)

  /// Event `i` of the run: the first `caseCount` receive the cases, the rest update them in turn.
  static func event(_ i: Int) -> CaseEvent {
    let t = "2025-10-01T09:00:00+08:00"
    let c = "K\(i % caseCount)"
    if i < caseCount {
      return CaseEvent(
        eventID: "e\(i)", caseID: c, kind: .received, at: Support.time(t), actor: "intake",
        fields: ["received_at": .string(t), "channel": "web", "text": .string("concurrent \(i)")])
    }
    return CaseEvent(
      eventID: "e\(i)", caseID: c, kind: .updated, at: Support.time(t), actor: "w\(i % taskCount)",
      fields: ["collective_size": .int(Int64(1 + i % 2)), "text": .string("update \(i)")])
  }

  /// Applies events `range` from `taskCount` tasks, task `w` taking every `taskCount`-th; every
  /// fifth event is sent a second time by the next task, to race the first. Returns how many
  /// times each event id was applied, and how many sends were duplicates.
  static func applyConcurrently(_ store: CaseStore, _ range: Range<Int>) async -> (
    applied: [String: Int], duplicates: Int
  ) {
    await withTaskGroup(of: [(String, ApplyOutcome?)].self) { group in
      for w in 0..<taskCount {
        group.addTask {
          var outcomes: [(String, ApplyOutcome?)] = []
          for i in range where i % taskCount == w || (i % 5 == 0 && (i + 1) % taskCount == w) {
            let e = event(i)
            do {
              outcomes.append((e.eventID, try await store.apply(e)))
            } catch {
              Issue.record("task \(w), event \(e.eventID): \(error)")
              outcomes.append((e.eventID, nil))
            }
          }
          return outcomes
        }
      }
      var applied: [String: Int] = [:]
      var duplicates = 0
      for await outcomes in group {
        for (id, outcome) in outcomes {
          switch outcome {
          case .applied: applied[id, default: 0] += 1
          case .duplicate: duplicates += 1
          case nil: break
          }
        }
      }
      return (applied, duplicates)
    }
  }

  /// How many events are sent twice.
  static func resentCount() -> Int { (0..<eventCount).filter { $0 % 5 == 0 }.count }

  /// The whole run on one store, under the watchdog.
  static func run(_ store: CaseStore) async throws {
    let watchdog = Watchdog()
    // The cases first (an update needs its case), then the updates, both from all tasks.
    let received = await applyConcurrently(store, 0..<caseCount)
    let updated = await applyConcurrently(store, caseCount..<eventCount)
    let (worst, wakes) = await watchdog.stop()
    print("watchdog: worst lateness \(worst) over \(wakes) wakes; \(resentCount()) events sent twice")

    // Each event applied exactly once; every second send of one a no-op.
    let applied = received.applied.merging(updated.applied) { $0 + $1 }
    #expect(applied.count == eventCount)
    #expect(applied.values.allSatisfy { $0 == 1 })
    #expect(received.duplicates + updated.duplicates == resentCount())
    // No update lost: every case at version 1 + its updates, every event and decision stored.
    let cases = try await store.cases()
    #expect(cases.count == caseCount)
    let updatesPerCase = (eventCount - caseCount) / caseCount
    #expect(cases.allSatisfy { $0.version == 1 + updatesPerCase }, "\(cases.map { "\($0.id) v\($0.version)" })")
    let counts = try await store.backend.read { db in
      try await db.fetchAll(
        "SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM decisions) AS decisions"
      ).first.map { ($0["events"] as Int, $0["decisions"] as Int) }
    }
    #expect(counts?.0 == eventCount)
    #expect(counts?.1 == eventCount)
    // The cooperative pool was never blocked for long.
    #expect(wakes > 0)
    #expect(worst < lateness, "the watchdog woke up to \(worst) late (\(wakes) wakes)")
  }

  /// Set in the process that runs one of these tests on its own.
  static let childVariable = "OMBUDS_CONCURRENCY_TEST_CHILD"

  /// Runs the test named `name` of this suite alone, in a new process of this test binary:
  /// other tests running in parallel in this process (starting a PostgreSQL cluster, waiting
  /// for a command) occupy threads of the same cooperative pool, and the watchdog would
  /// measure them instead of the store. Returns false where the test binary cannot be run
  /// that way (not Linux): the caller then runs the test here.
  static func runAlone(_ name: String) async throws -> Bool {
    #if os(Linux)
      let binary = CommandLine.arguments.first ?? ""
      guard FileManager.default.isExecutableFile(atPath: binary), binary.hasSuffix(".xctest") else { return false }
      let run = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Support.Run, any Error>) in
        DispatchQueue.global().async {
          c.resume(
            with: Result {
              try Support.run(
                binary, ["--testing-library", "swift-testing", "--filter", "StoreConcurrencyTests/\(name)"],
                environment: [childVariable: "1"])
            })
        }
      }
      let report = run.stdout.split(separator: "\n").filter { $0.contains("watchdog") || $0.contains("✘") }
      #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
      #expect((run.stdout + run.stderr).contains("passed"), "\(run.stdout)\n\(run.stderr)")
      print(report.joined(separator: "\n"))
      return true
    #else
      return false
    #endif
  }

  static var isChild: Bool { ProcessInfo.processInfo.environment[childVariable] != nil }

  @Test func sixtyFourTasksOnSQLite() async throws {
    if !Self.isChild, try await Self.runAlone("sixtyFourTasksOnSQLite") { return }
    let dir = try Support.temporaryDirectory()
    let store = try await CaseStore(path: dir.appendingPathComponent("c.sqlite").path, rules: Support.defaultRules())
    try await Self.run(store)
  }

  @Test func sixtyFourTasksOnPostgreSQL() async throws {
    if !Self.isChild, try await Self.runAlone("sixtyFourTasksOnPostgreSQL") { return }
    guard let server = try PostgresServer.available() else { return }
    let url = try server.newDatabase()
    let rules = try Support.defaultRules()
    try await BackendRunner.run { (runner) async throws in
      try await Self.run(try await runner.store(url: url, rules: rules))
    }
  }
}
