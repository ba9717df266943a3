import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax
import Testing

/// Mutates the shipped rule files at random (seeded, so failures reproduce) and checks that
/// the checker always finishes with a verdict: a rule set, or error diagnostics at real
/// positions. A crash or hang fails the run.
@Suite struct MutationTests {
  struct Rng: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
  }

  static let fragments: [String] = [
    "\t", ":", "- ", "&a ", "*a", "{", "}", "[", "]", "\"", "'", "#", "---\n", "\u{FF}", "\u{200B}", "!!binary ",
    "10", "-1 days", "0 hours", "== ==", "otherwise: true", "any:", "\n  - ", "levels:", " and ", " or not ",
    "same_issue_complainants(", "2025-02-30", "%YAML 1.1\n", "? ", "|\n", ">-\n", "\\u0000", "重大",
    // Hostile conditions: deep nesting and long chains, bounded by the condition length cap.
    String(repeating: "(", count: 20_000), String(repeating: "not ", count: 20_000),
    String(repeating: " and collective_size >= 3", count: 5_000), "covers: [99999999999]",
  ]

  func mutate(_ bytes: [UInt8], _ rng: inout Rng) -> [UInt8] {
    var b = bytes
    for _ in 0..<(1 + rng.below(4)) {
      guard !b.isEmpty else { break }
      let at = rng.below(b.count)
      switch rng.below(6) {
      case 0: b[at] = UInt8(truncatingIfNeeded: rng.next())
      case 1: b.remove(at: at)
      case 2: b.insert(contentsOf: Array(Self.fragments[rng.below(Self.fragments.count)].utf8), at: at)
      case 3:
        let end = min(b.count, at + rng.below(80))
        b.removeSubrange(at..<end)
      case 4:
        let end = min(b.count, at + rng.below(120))
        b.insert(contentsOf: b[at..<end], at: min(b.count, end + rng.below(40)))
      default:
        // Swap two lines.
        let lines = b.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count > 2 else { continue }
        var l = lines.map(Array.init)
        l.swapAt(rng.below(l.count), rng.below(l.count))
        b = Array(l.joined(separator: [0x0A]))
      }
    }
    return b
  }

  @Test(.timeLimit(.minutes(5))) func mutatedRuleFilesAlwaysEndInAVerdict() throws {
    let dir = Support.rulesDir
    let files = try RuleSetLoader.ruleFiles(at: dir)
    let originals = try files.map { path -> SourceFile in
      let data = try #require(FileManager.default.contents(atPath: path))
      return SourceFile(path: path, bytes: [UInt8](data))
    }
    // The imported keyword list is mutated too, through the loader's file reader.
    let listPath = Support.rulesDir + "/keywords/platform.tsv"
    let list = try #require(FileManager.default.contents(atPath: listPath)).map { $0 }
    var rng = Rng(state: 20_251_125)
    var withErrors = 0
    var compiled = 0
    let iterations = 400
    for n in 0..<iterations {
      var sources = originals
      var listBytes = list
      if n % 5 == 4 {
        listBytes = mutate(list, &rng)
      } else {
        let victim = rng.below(sources.count)
        sources[victim] = SourceFile(path: sources[victim].path, bytes: mutate(sources[victim].bytes, &rng))
      }
      let mutatedList = listBytes
      let result = RuleSetLoader.check(sources: sources) { path in
        path.hasSuffix("platform.tsv") ? mutatedList : FileManager.default.contents(atPath: path).map { [UInt8]($0) }
      }
      if result.ruleSet == nil {
        withErrors += 1
        #expect(result.diagnostics.contains { $0.severity == .error })
      } else if let set = result.ruleSet {
        // What survives the checks must compile and decide a case.
        if let rules = try? CompiledRules(set),
          let facts = try? Support.facts(
            rules, #"{"id":"M","received_at":"2025-10-01T09:00:00+08:00","text":"赌 博 暴力分拣"}"#)
        {
          _ = rules.evaluate(facts, at: facts.receivedAt + 86_400_000)
          compiled += 1
        }
      }
      for d in result.diagnostics {
        #expect(d.location.line >= 1 && d.location.column >= 1)
        #expect(result.sources[d.location.file] != nil, "diagnostic at an unknown file: \(d)")
      }
    }
    // Most random damage must be caught; some survives and runs.
    #expect(withErrors > iterations / 2)
    #expect(compiled > 0)
  }
}
