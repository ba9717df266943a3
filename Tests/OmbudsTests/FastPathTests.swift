import Foundation
import OmbudsRules
import Testing

@testable import OmbudsEngine

/// `CompiledRules.classify` (leaves in one bit mask, levels ruled out by their leaves, the
/// same-issue count asked for only when a level that reads it is reached) against the
/// straightforward way: every item of every level through the condition interpreter, which
/// asks the history at each same-issue node.
@Suite struct FastPathTests {
  /// The mutation tests' deterministic generator (SplitMix64), so that a failure reproduces.
  typealias Generator = MutationTests.Rng

  /// A history that answers anything (even for cases without an issue, which the evaluator
  /// counts alone without asking) and counts the questions.
  final class AnyHistory: CaseHistory, @unchecked Sendable {
    var questions = 0
    func sameIssueComplainants(of facts: CaseFacts, window: RuleDuration, asOf: Millis) -> Int {
      questions += 1
      var h: UInt64 = 1_469_598_103_934_665_603
      for b in facts.id.utf8 { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
      return Int(h % 7) + (window.unit == .months ? 0 : 1)
    }
  }

  struct Outcome: Equatable, CustomStringConvertible {
    var level: Int
    var reasonLevel: Int
    var reasonItems: UInt64
    var approver: Int?
    var description: String { "level \(level), reasons \(reasonLevel)/\(reasonItems), approver \(approver as Any)" }
  }

  /// The straightforward evaluation: each level in order, each item through `holds`.
  static func reference(_ r: CompiledRules, _ f: CaseFacts, _ now: Millis, _ h: (any CaseHistory)?) -> Outcome {
    var chosen = r.levels.count - 1
    var found: UInt64 = 0
    for (li, roots) in r.levelRoots.enumerated() {
      switch r.levelModes[li] {
      case .otherwise:
        found = 1
      case .any:
        for (i, root) in roots.enumerated() where r.holds(root, f, now, h, li) { found |= 1 << UInt64(i) }
      case .all:
        if !roots.isEmpty, roots.allSatisfy({ r.holds($0, f, now, h, li) }) {
          found = roots.count >= 64 ? .max : (1 << UInt64(roots.count)) - 1
        }
      }
      if found != 0 {
        chosen = li
        break
      }
    }
    return Outcome(level: chosen, reasonLevel: chosen, reasonItems: found, approver: r.refundApprover(f))
  }

  static func fast(_ r: CompiledRules, _ f: CaseFacts, _ now: Millis, _ h: (any CaseHistory)?) -> Outcome {
    var d = Decision()
    r.classify(f, at: now, history: h, into: &d)
    return Outcome(level: d.level, reasonLevel: d.reasonLevel, reasonItems: d.reasonItems, approver: d.refundApprover)
  }

  /// A random case for `rules`, written straight into its slots (values outside the fields'
  /// declared bounds included): thresholds' neighbourhoods, nulls, short and long times open.
  static func randomCase(_ rules: CompiledRules, _ i: Int, now: Millis, _ g: inout Generator) -> CaseFacts {
    let fields = rules.ruleSet.fields
    let numberCount = (fields.filter { $0.type != .string }.map(\.slot).max() ?? 0) + 1
    let stringCount = (fields.filter { $0.type == .string }.map(\.slot).max() ?? 0) + 1
    var numbers = [Int64](repeating: CaseFacts.null, count: numberCount)
    var strings = [String?](repeating: nil, count: stringCount)
    let day: Int64 = 86_400_000
    for field in fields {
      let absent = Int.random(in: 0..<6, using: &g) == 0
      switch field.type {
      case .string:
        if !absent || !field.optional {
          strings[field.slot] = ["", "x", "P\(Int.random(in: 0..<5, using: &g))"].randomElement(using: &g)
        }
        continue
      default:
        if absent, field.optional { continue }
      }
      let v: Int64
      switch field.type {
      case .bool: v = Int64.random(in: 0...1, using: &g)
      case .enumeration(let values): v = Int64.random(in: 0..<Int64(max(values.count, 1)), using: &g)
      case .integer: v = Int64.random(in: -2...14, using: &g)
      case .decimal, .money:
        v =
          [0, 1, 500 * Money.scale, 500 * Money.scale + 1, Int64.random(in: -10...2_000, using: &g) * Money.scale]
          .randomElement(using: &g) ?? 0
      case .timestamp: v = now - Int64.random(in: -10 * day...60 * day, using: &g)
      case .string: v = 0
      }
      numbers[field.slot] = v
    }
    let received = now - Int64.random(in: 0...70 * day, using: &g) - Int64.random(in: 0..<day, using: &g)
    numbers[BuiltinFields.receivedAt] = received
    numbers[BuiltinFields.resolvedAt] =
      Bool.random(using: &g) ? CaseFacts.null : received + Int64.random(in: 0...40 * day, using: &g)
    let who = Int.random(in: 0..<8, using: &g)
    strings[BuiltinFields.complainantID] = who == 0 ? nil : "P\(who)"
    let issue = Int.random(in: 0..<4, using: &g)
    strings[BuiltinFields.issueKey] = issue == 0 ? nil : "K\(issue)"
    var f = CaseFacts(id: "C\(i)", numbers: numbers, strings: strings)
    f.ordinal = i
    return f
  }

  /// Every case agrees with and without a history; returns the number compared.
  @discardableResult
  static func compare(_ rules: CompiledRules, cases: Int, seed: UInt64, label: String) -> Int {
    var g = Generator(state: seed)
    let now = Support.time("2025-10-20T12:00:00+08:00")
    var failures = 0
    for i in 0..<cases {
      let f = randomCase(rules, i, now: now, &g)
      for h in [nil, AnyHistory()] as [AnyHistory?] {
        let want = reference(rules, f, now, h)
        let got = fast(rules, f, now, h)
        if want != got, failures < 5 {
          failures += 1
          Issue.record(
            "\(label) case \(i) (history: \(h != nil)): \(got), want \(want); facts \(f.numbers) \(f.strings)")
        }
      }
    }
    return cases
  }

  @Test(arguments: PolicyTests.ruleSets)
  func shippedRuleSetsDecideAsTheInterpreterDoes(_ dir: String) throws {
    let set = try #require(RuleSetLoader.load(paths: [Support.root.appendingPathComponent(dir).path]).ruleSet)
    Self.compare(try CompiledRules(set), cases: 20_000, seed: 20_251_020, label: dir)
  }

  /// Atoms of the generated rule sets: slot comparisons, nulls, enum sets, negations, times
  /// open (fixed and calendar), the aggregate in two windows, a string (interpreted).
  static let atoms = [
    "n >= 3", "n < 2", "n == 5", "n != 7", "n == null", "n != null", "e == b", "e in [a, c]", "e not in [b]",
    "e == null", "flag", "not flag", "open_for >= 3 days", "open_for < 2 working days", "open_for >= 1 month",
    "open_for > 10 hours", "same_issue_complainants(within: 1 month) >= 3",
    "same_issue_complainants(within: 1 month) < 2", "same_issue_complainants(within: 1 month) == 4",
    "same_issue_complainants(within: 7 days) >= 2", "s == \"x\"", "m >= 500 CNY", "m == null", "level_slot >= 1",
  ]

  static func randomCondition(_ g: inout Generator, depth: Int = 0) -> String {
    let r = Int.random(in: 0..<10, using: &g)
    if depth >= 2 || r < 5 { return atoms.randomElement(using: &g) ?? "flag" }
    let a = randomCondition(&g, depth: depth + 1)
    let b = randomCondition(&g, depth: depth + 1)
    switch r {
    case 5, 6: return "(\(a)) and (\(b))"
    case 7, 8: return "(\(a)) or (\(b))"
    default: return "not ((\(a)) and (\(b)))"
    }
  }

  static func randomRuleSet(_ g: inout Generator, monthWindowOnly: Bool) -> String {
    var yaml = """
      settings:
        currency: CNY
      fields:
        n: {type: integer, optional: true}
        e: {type: enum, values: [a, b, c, d], optional: true}
        flag: {type: bool, default: false}
        s: {type: string, optional: true}
        m: {type: money, optional: true}
        level_slot: {type: integer, default: 0}
      levels:

      """
    let levels = Int.random(in: 2...5, using: &g)
    for l in 0..<levels {
      yaml += "  l\(l):\n"
      let mode = Int.random(in: 0..<4, using: &g) == 0 ? "all" : "any"
      yaml += "    \(mode):\n"
      for _ in 0..<Int.random(in: 1...4, using: &g) {
        var c = randomCondition(&g)
        if monthWindowOnly { c = c.replacingOccurrences(of: "within: 7 days", with: "within: 1 month") }
        yaml += "      - '\(c)'\n"
      }
    }
    yaml += "  rest:\n    otherwise: true\n"
    return yaml
  }

  /// Generated rule sets: mostly in the bit-mask layout (one window), some with two windows
  /// (the aggregate interpreted).
  @Test func generatedRuleSetsDecideAsTheInterpreterDoes() throws {
    var g = Generator(state: 8)
    var compiled = 0
    var masks = 0
    for k in 0..<150 {
      let yaml = Self.randomRuleSet(&g, monthWindowOnly: k % 5 != 0)
      guard let rules = try? Support.compile(yaml) else { continue }
      compiled += 1
      if rules.fast.bitmask, rules.fast.levelNeeds.contains(where: { $0 != 0 }) { masks += 1 }
      Self.compare(rules, cases: 1_500, seed: UInt64(k), label: "rule set \(k):\n\(yaml)")
    }
    #expect(compiled >= 100)
    #expect(masks >= 50)
  }

  /// The history is not asked when a higher level holds, nor for a case without an issue.
  @Test func theHistoryIsAskedOnlyWhenTheDecisionCanDependOnIt() throws {
    let rules = try Support.defaultRules()
    let now = Support.time("2025-10-20T12:00:00+08:00")
    func questions(_ json: String) throws -> Int {
      let h = AnyHistory()
      var d = Decision()
      rules.classify(try Support.facts(rules, json), at: now, history: h, into: &d)
      return h.questions
    }
    let base = #""id":"T","received_at":"2025-10-20T09:00:00+08:00","complainant_id":"P1""#
    #expect(try questions("{\(base),\"issue_key\":\"K\"}") == 1)
    #expect(try questions("{\(base),\"issue_key\":\"K\",\"media\":\"exposed\"}") == 0)
    #expect(try questions("{\(base)}") == 0)
  }

  /// The bit-mask form of a leaf (and its plain-interval form, where it has one) gives the
  /// uniform leaf's answer for every value.
  @Test func maskLeavesTestAsUniformLeaves() {
    var g = Generator(state: 3)
    let specials: [Int64] = [CaseFacts.null, .min + 1, .max, .max - 1, -1, 0, 1, 2, 63, 64, 65]
    let ops: [CompareOp] = [.eq, .ne, .ge, .gt, .le, .lt]
    for _ in 0..<2_000 {
      let k = Bool.random(using: &g) ? specials.randomElement(using: &g) ?? 0 : Int64.random(in: -70...70, using: &g)
      var leaves = [
        UniformLeaf(source: 0, ops.randomElement(using: &g) ?? .eq, k),
        UniformLeaf(source: 0, lo: 1, hi: 0, mask: .max, negate: false, onNull: true),
        UniformLeaf(
          source: 0, lo: 0, hi: 63, mask: UInt64.random(in: 0 ... .max, using: &g), negate: false, onNull: false),
      ]
      leaves += leaves.map(\.negated)
      for leaf in leaves {
        let m = MaskLeaf(leaf)
        for v in specials + [k, k &+ 1, k &- 1, Int64.random(in: -100...100, using: &g)] {
          #expect(m.bit(v) == (leaf.test(v) ? 1 : 0), "\(leaf) at \(v)")
          #expect(m.bit(v) == leaf.bit(v), "\(leaf) at \(v)")
          if m.isPlain { #expect(m.plainBit(v) == m.bit(v), "\(leaf) at \(v)") }
        }
      }
    }
  }
}
