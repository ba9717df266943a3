import Dispatch
import Foundation
import OmbudsRules

/// Splits a JSON Lines buffer and classifies every line, on all cores, without copying lines.
public struct ClassifyBatch: Sendable {
  /// One rejected input line.
  public struct Rejection: Sendable {
    public var line: Int
    public var message: String
  }

  public let rules: CompiledRules
  public let renderer: DecisionRenderer
  public var workers: Int

  /// The reader used for input lines (it keeps `text` only when the rules screen it).
  let reader: SnapshotReader

  public init(rules: CompiledRules, workers: Int = 0) {
    self.rules = rules
    self.reader = rules.reader
    self.renderer = DecisionRenderer(rules: rules)
    self.workers = workers > 0 ? workers : max(1, ProcessInfo.processInfo.activeProcessorCount)
  }

  /// Line spans (start, end) of non-blank lines, with their 1-based line numbers.
  static func lines(_ b: UnsafeBufferPointer<UInt8>) -> [(start: Int, end: Int, number: Int)] {
    var out: [(Int, Int, Int)] = []
    out.reserveCapacity(b.count / 512 + 16)
    var start = 0
    var number = 1
    let n = b.count
    while start < n {
      var end = start
      while end < n, b[end] != 0x0A { end += 1 }
      var e = end
      if e > start, b[e - 1] == 0x0D { e -= 1 }
      var blank = true
      for k in start..<e where b[k] != 0x20 && b[k] != 0x09 {
        blank = false
        break
      }
      if !blank { out.append((start, e, number)) }
      number += 1
      start = end + 1
    }
    return out
  }

  /// Classifies every case in `input` at `now`. Returns the output bytes (decisions in input
  /// order) and the rejected lines.
  public func run(_ input: [UInt8], now: Millis, explain: Explain? = nil) -> (
    output: [UInt8], rejections: [Rejection]
  ) {
    var output: [UInt8] = []
    let rejections = run(input, now: now, explain: explain) { output.append(contentsOf: $0) }
    return (output, rejections)
  }

  /// What to write per case besides, or instead of, the decision line.
  public enum Explain: Sendable {
    /// The decision line with an `explanation` field (JSON) added at its end.
    case field(ExplanationJSON)
    /// The explanation alone, as JSON, one line per case.
    case json(ExplanationJSON)
    /// The explanation alone, as text, cases separated by a blank line.
    case text(ExplanationText)
  }

  /// Classifies every case in `input` at `now`, handing the decisions to `sink` in input
  /// order, chunk by chunk. Returns the rejected lines.
  public func run(_ input: [UInt8], now: Millis, sink: ([UInt8]) -> Void) -> [Rejection] {
    run(input, now: now, explain: nil, sink: sink)
  }

  /// `run(_:now:sink:)`, with each case explained as `explain` says (nil: decisions only).
  public func run(_ input: [UInt8], now: Millis, explain: Explain?, sink: ([UInt8]) -> Void) -> [Rejection] {
    input.withUnsafeBufferPointer { buffer in
      let spans = Self.lines(buffer)
      let count = spans.count
      var facts = [CaseFacts?](repeating: nil, count: count)
      var errors = [String?](repeating: nil, count: count)
      let chunk = max(256, (count + workers * 4 - 1) / max(1, workers * 4))
      let chunks = (count + chunk - 1) / chunk
      let reader = self.reader
      let input = UnsafeSendable(buffer)
      facts.withUnsafeMutableBufferPointer { fp in
        errors.withUnsafeMutableBufferPointer { ep in
          let f = UnsafeSendable(fp)
          let e = UnsafeSendable(ep)
          DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for i in (c * chunk)..<min(count, (c + 1) * chunk) {
              let span = spans[i]
              do throws(CaseError) {
                var parsed = try reader.read(UnsafeBufferPointer(rebasing: input.value[span.start..<span.end]))
                parsed.ordinal = i
                f.value[i] = parsed
              } catch {
                e.value[i] = error.message
              }
            }
          }
        }
      }
      // Duplicate ids: the later line is rejected (ids are unique).
      var seen = Set<String>()
      for i in 0..<count {
        guard let f = facts[i] else { continue }
        if !seen.insert(f.id).inserted {
          facts[i] = nil
          errors[i] = "duplicate case id `\(f.id)`"
        }
      }
      let valid = facts.compactMap { $0 }
      var history: (any CaseHistory)?
      if !rules.aggregateWindows.isEmpty {
        // History ordinals index `valid`.
        var renumbered = valid
        for k in renumbered.indices { renumbered[k].ordinal = k }
        history = InMemoryHistory(
          cases: renumbered, windows: rules.aggregateWindows, asOf: now, calendar: rules.calendar)
      }
      var outputs = [[UInt8]](repeating: [], count: chunks)
      var validIndex = [Int](repeating: -1, count: count)
      var k = 0
      for i in 0..<count where facts[i] != nil {
        validIndex[i] = k
        k += 1
      }
      let renderer = self.renderer
      let rules = self.rules
      let frozenFacts = facts
      let frozenIndex = validIndex
      let frozenHistory = history
      outputs.withUnsafeMutableBufferPointer { op in
        let o = UnsafeSendable(op)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
          var out: [UInt8] = []
          out.reserveCapacity(chunk * 400)
          var decision = Decision()
          for i in (c * chunk)..<min(count, (c + 1) * chunk) {
            guard var f = frozenFacts[i] else { continue }
            f.ordinal = frozenIndex[i]
            rules.evaluate(f, at: now, history: frozenHistory, into: &decision)
            guard let explain else {
              renderer.append(decision, for: f, to: &out)
              continue
            }
            let e = rules.explain(f, decision: decision, at: now, history: frozenHistory)
            switch explain {
            case .field(let json):
              var line: [UInt8] = []
              renderer.append(decision, for: f, to: &line)
              line.removeLast(2)  // the closing `}` and the newline
              out += line
              out += Array(",\"explanation\":\(json.render(e))}\n".utf8)
            case .json(let json): out += Array((json.render(e) + "\n").utf8)
            case .text(let text): out += Array(((frozenIndex[i] == 0 ? "" : "\n") + text.render(e)).utf8)
            }
          }
          o.value[c] = out
        }
      }
      for o in outputs { sink(o) }
      var rejections: [Rejection] = []
      for i in 0..<count {
        if let m = errors[i] { rejections.append(Rejection(line: spans[i].number, message: m)) }
      }
      return rejections
    }
  }
}

/// Lets concurrentPerform iterations write to disjoint indices of one buffer.
struct UnsafeSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
