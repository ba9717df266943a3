import Foundation
import HandWritten
import OmbudsEngine
import OmbudsRules

// Times one evaluation of the rule set over every case of a file, beside the hand-written
// policy, and prints one JSON line. Parsing and the history are prepared before timing.
// Usage: ombuds-eval-bench --rules DIR --cases FILE --now RFC3339 [--seconds S]

func argument(_ name: String) -> String? {
  let args = CommandLine.arguments
  guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
  return args[i + 1]
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("ombuds-eval-bench: \(message)\n".utf8))
  exit(2)
}

let rulesDir = argument("--rules") ?? "rules"
guard let casesPath = argument("--cases") else { fail("--cases FILE is required") }
guard let now = RFC3339.parse(argument("--now") ?? "2025-10-20T12:00:00+08:00") else { fail("bad --now") }
let minSeconds = Double(argument("--seconds") ?? "1") ?? 1

let loaded = RuleSetLoader.load(paths: [rulesDir])
guard let set = loaded.ruleSet else { fail("rule set has errors: \(loaded.diagnostics.map(\.description))") }
let rules: CompiledRules
do { rules = try CompiledRules(set) } catch { fail("\(error)") }
guard let data = FileManager.default.contents(atPath: casesPath) else { fail("cannot read \(casesPath)") }

var cases: [CaseFacts] = []
data.withUnsafeBytes { raw in
  let b = raw.bindMemory(to: UInt8.self)
  var start = 0
  while start < b.count {
    var end = start
    while end < b.count, b[end] != 0x0A { end += 1 }
    if end > start, var f = try? rules.reader.read(UnsafeBufferPointer(rebasing: b[start..<end])) {
      f.strings[BuiltinFields.text] = ""  // "without text": screening is measured elsewhere
      f.ordinal = cases.count
      cases.append(f)
    }
    start = end + 1
  }
}
guard !cases.isEmpty else { fail("no valid cases in \(casesPath)") }
let history = InMemoryHistory(cases: cases, windows: rules.aggregateWindows, asOf: now, calendar: rules.calendar)
let hand = HandWrittenPolicy(rules: rules)
let window = rules.aggregateWindows.first ?? RuleDuration(1, .months)
let counts = cases.map { history.sameIssueComplainants(of: $0, window: window, asOf: now) }

/// Passes over all cases for at least `minSeconds` (and 5 passes); the fastest pass counts, as
/// usual for microbenchmarks on a shared machine (the others were slowed by something else).
@MainActor func time(_ body: () -> Int) -> (Double, Int) {
  var rounds = 0
  var checksum = 0
  let start = DispatchTime.now().uptimeNanoseconds
  var best = UInt64.max
  repeat {
    let t0 = DispatchTime.now().uptimeNanoseconds
    checksum &+= body()
    best = min(best, DispatchTime.now().uptimeNanoseconds - t0)
    rounds += 1
  } while rounds < 5 || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < minSeconds
  return (Double(best) / Double(cases.count), checksum)
}

var decision = Decision()
var mismatches = 0
for (i, f) in cases.enumerated() {
  rules.evaluate(f, at: now, history: history, into: &decision)
  let (level, approver) = hand.decide(f, now: now, sameIssueComplainants: counts[i])
  if level != decision.level || approver != decision.refundApprover { mismatches += 1 }
}
@inline(never)
func compiledPass(_ all: [CaseFacts], _ decision: inout Decision) -> Int {
  var sum = 0
  for i in 0..<all.count {
    rules.evaluate(all[i], at: now, history: history, into: &decision)
    sum &+= decision.level
  }
  return sum
}

@inline(never)
func classifyPass(_ all: [CaseFacts], _ decision: inout Decision) -> Int {
  var sum = 0
  for i in 0..<all.count {
    rules.classify(all[i], at: now, history: history, into: &decision)
    sum &+= decision.level
  }
  return sum
}

@inline(never)
func classifyNoHistoryPass(_ all: [CaseFacts], _ decision: inout Decision) -> Int {
  var sum = 0
  for i in 0..<all.count {
    rules.classify(all[i], at: now, history: nil, into: &decision)
    sum &+= decision.level
  }
  return sum
}

@inline(never)
func handPass(_ all: [CaseFacts], _ counts: UnsafeBufferPointer<Int>) -> Int {
  var sum = 0
  for i in 0..<all.count { sum &+= hand.decide(all[i], now: now, sameIssueComplainants: counts[i]).0 }
  return sum
}

/// The hand-written policy asking the same history for its aggregate, as the evaluator must:
/// the like-for-like baseline (`handPass` reads counts computed before timing).
@inline(never)
func handHistoryPass(_ all: [CaseFacts]) -> Int {
  var sum = 0
  let h: any CaseHistory = history
  for i in 0..<all.count {
    let n = h.sameIssueComplainants(of: all[i], window: window, asOf: now)
    sum &+= hand.decide(all[i], now: now, sameIssueComplainants: n).0
  }
  return sum
}

let (compiledNs, c1) = time { compiledPass(cases, &decision) }
let (levelNs, c3) = time { classifyPass(cases, &decision) }
if CommandLine.arguments.contains("--classify-only") {
  print("classify: \(levelNs) ns")
  exit(0)
}
@inline(never)
func singlePass(_ all: [CaseFacts], _ decision: inout Decision) -> Int {
  var sum = 0
  let one = all[0]
  for _ in 0..<all.count {
    rules.classify(one, at: now, history: nil, into: &decision)
    sum &+= decision.level
  }
  return sum
}
let (singleNs, _) = time { singlePass(cases, &decision) }
FileHandle.standardError.write(Data("classify one case repeatedly: \(singleNs) ns\n".utf8))
if CommandLine.arguments.contains("--single-only") { exit(0) }
let (noHistoryNs, _) = time { classifyNoHistoryPass(cases, &decision) }
FileHandle.standardError.write(Data("classify without history: \(noHistoryNs) ns\n".utf8))
let (handNs, c2) = counts.withUnsafeBufferPointer { c in time { handPass(cases, c) } }
let ratio = levelNs / handNs
let (handHistoryNs, c4) = time { handHistoryPass(cases) }
print(
  "{\"decisions\":\(cases.count),\"ns_per_decision\":\(String(format: "%.1f", levelNs)),\"full_decision_ns\":\(String(format: "%.1f", compiledNs)),\"handwritten_ns_per_decision\":\(String(format: "%.1f", handNs)),\"ratio_to_handwritten\":\(String(format: "%.2f", ratio)),\"handwritten_with_history_ns\":\(String(format: "%.1f", handHistoryNs)),\"ratio_to_handwritten_with_history\":\(String(format: "%.2f", levelNs / handHistoryNs)),\"classify_without_history_ns\":\(String(format: "%.1f", noHistoryNs)),\"seconds\":\(String(format: "%.6f", compiledNs * Double(cases.count) / 1e9)),\"mismatches_with_handwritten\":\(mismatches),\"checksum\":\(c1 &+ c2 &+ c3 &+ c4)}"
)
