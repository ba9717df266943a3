import Benchmark
import Foundation
import HandWritten
import OmbudsEngine
import OmbudsRules

// Run from Benchmarks/: `swift package benchmark` (wall clock, instructions, mallocs).

let rulesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("rules").path

let sampleCases = [
  #"{"id":"B-1","received_at":"2025-10-19T09:00:00+08:00","collective_size":2,"channel":"web"}"#,
  #"{"id":"B-2","received_at":"2025-10-01T09:00:00+08:00","collective_size":4,"media":"threatened"}"#,
  #"{"id":"B-3","received_at":"2025-09-01T09:00:00+08:00","delay_cause":"ours"}"#,
  #"{"id":"B-4","received_at":"2025-10-15T09:00:00+08:00","reopened_after_resolution":true,"compensation":{"amount":"650.00","currency":"CNY"},"materials_complete_at":"2025-10-16T09:00:00+08:00"}"#,
]

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .instructions, .mallocCountTotal, .throughput], scalingFactor: .kilo,
    maxDuration: .seconds(3))

  guard let set = RuleSetLoader.load(paths: [rulesDirectory]).ruleSet, let rules = try? CompiledRules(set) else {
    fatalError("the default rules in \(rulesDirectory) do not load")  // benchmark setup, not product code
  }
  let facts = sampleCases.compactMap { line -> CaseFacts? in
    var bytes = Array(line.utf8)
    return bytes.withUnsafeMutableBufferPointer { try? rules.reader.read(UnsafeBufferPointer($0)) }
  }
  let now = RFC3339.parse("2025-10-20T12:00:00+08:00") ?? 0
  let hand = HandWrittenPolicy(rules: rules)

  Benchmark("evaluate: default policy, full decision, no text") { benchmark in
    var decision = Decision()
    for i in benchmark.scaledIterations {
      rules.evaluate(facts[i % facts.count], at: now, into: &decision)
      blackHole(decision.level)
    }
  }

  Benchmark("classify: default policy, level + reasons + approver") { benchmark in
    var decision = Decision()
    for i in benchmark.scaledIterations {
      rules.classify(facts[i % facts.count], at: now, into: &decision)
      blackHole(decision.level)
    }
  }

  Benchmark("evaluate: same policy hand-written in Swift") { benchmark in
    for i in benchmark.scaledIterations {
      blackHole(hand.decide(facts[i % facts.count], now: now, sameIssueComplainants: 1))
    }
  }

  Benchmark("snapshot: read one case line") { benchmark in
    let lines = sampleCases.map { Array($0.utf8) }
    for i in benchmark.scaledIterations {
      lines[i % lines.count].withUnsafeBufferPointer { blackHole(try? rules.reader.read($0)) }
    }
  }

  Benchmark(
    "rules-check: load and check the default rules",
    configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .one)
  ) { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(RuleSetLoader.load(paths: [rulesDirectory]).diagnostics.count)
    }
  }
}
