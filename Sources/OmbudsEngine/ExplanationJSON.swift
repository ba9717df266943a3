import OmbudsRules
import OmbudsSyntax

/// Renders explanations as JSON for tools: one object with the case, the evaluation time, the
/// level, the language and `items`, each with a `kind`, its structured fields (ids, values,
/// sources — language-neutral) and `text` in the chosen language. Documentation/Decisions.md
/// ("Explanations") lists every field.
public struct ExplanationJSON: Sendable {
  public let text: ExplanationText

  public init(rules: CompiledRules, language: Language) {
    self.text = ExplanationText(rules: rules, language: language)
  }

  func q(_ s: String) -> String { JSONText.quoted(s) }
  func q(_ s: String?) -> String { s.map(JSONText.quoted) ?? "null" }
  func time(_ t: Millis?) -> String { t.map { q(text.time($0)) } ?? "null" }

  /// One JSON object (no trailing newline).
  public func render(_ e: Explanation) -> String {
    "{\"case\":\(q(e.caseID)),\"at\":\(time(e.at)),\"level\":\(q(e.level)),\"language\":\(q(text.language.code)),"
      + "\"items\":[" + e.items.map(item).joined(separator: ",") + "]}"
  }

  func object(_ pairs: [(String, String)]) -> String {
    "{" + pairs.map { "\(q($0.0)):\($0.1)" }.joined(separator: ",") + "}"
  }

  func item(_ item: Explanation.Item) -> String {
    var pairs: [(String, String)]
    switch item {
    case .held(let c): pairs = condition("held", c)
    case .missed(let c): pairs = condition("missed", c) + [("rank", "\(c.rank)"), ("failing", "\(c.failing)")]
    case .otherwise(let level): pairs = [("kind", q("otherwise")), ("level", q(level))]
    case .kept(let level, let give): pairs = [("kind", q("kept")), ("level", q(level)), ("conditions_give", q(give))]
    case .top(let level): pairs = [("kind", q("top")), ("level", q(level))]
    case .deadline(let d): pairs = deadline(d)
    case .refund(let r): pairs = refund(r)
    case .screening(let s):
      pairs = [
        ("kind", q("screening")), ("keyword", q(s.keyword)), ("category", q(s.category)),
        ("source", q(s.source?.description)), ("start", "\(s.start)"), ("end", "\(s.end)"),
        ("original", q(s.original)), ("normalized", q(s.normalized)), ("disguise", q(s.disguise)),
        ("suppressed_by", q(s.suppressedBy)), ("exception_source", q(s.exceptionSource?.description)),
      ]
    }
    return object(pairs + [("text", q(text.item(item)))])
  }

  func condition(_ kind: String, _ c: ConditionExplanation) -> [(String, String)] {
    [
      ("kind", q(kind)), ("level", q(c.level)), ("item", "\(c.item)"), ("condition", q(c.condition)),
      ("source", q(c.source.description)), ("facts", "[" + c.facts.map(fact).joined(separator: ",") + "]"),
    ]
  }

  /// A value as JSON: numbers and names as strings (exact, as the rules write them), bools,
  /// null for empty; a withheld value is null with `"value_withheld": true` (or
  /// `expected_withheld`) beside it.
  func value(_ v: FactCheck.Value, _ key: String) -> [(String, String)] {
    switch v {
    case .number(let s), .name(let s): return [(key, q(s))]
    case .bool(let b): return [(key, b ? "true" : "false")]
    case .empty: return [(key, "null")]
    case .hidden: return [(key, "null"), (key + "_withheld", "true")]
    case .elapsed(let ms): return [(key + "_ms", "\(ms)")]
    case .duration(let d, let at): return [(key, q(d.description)), ("reached_at", time(at))]
    case .names(let n): return [(key, "[" + n.map { q($0) }.joined(separator: ",") + "]")]
    }
  }

  func fact(_ f: FactCheck) -> String {
    var pairs: [(String, String)] = [("kind", q(f.kind.rawValue)), ("fact", q(f.fact)), ("label", q(f.label))]
    pairs += value(f.value, "value")
    pairs.append(("op", q(f.op.rawValue)))
    pairs += value(f.expected, "expected")
    pairs.append(("holds", f.holds ? "true" : "false"))
    if let g = f.gap { pairs += value(g, "gap") }
    return object(pairs)
  }

  func deadline(_ d: DeadlineExplanation) -> [(String, String)] {
    let days = d.walk.map { day -> String in
      var pairs: [(String, String)] = [("date", q("\(CivilDate(dayNumber: day.day))"))]
      switch day.kind {
      case .workingDay: pairs.append(("kind", q("working_day")))
      case .makeUpWorkingDay: pairs.append(("kind", q("make_up_working_day")))
      case .weekend: pairs.append(("kind", q("weekend")))
      case .holiday(let name): pairs += [("kind", q("holiday")), ("holiday", q(name))]
      }
      return object(pairs)
    }
    return [
      ("kind", q("deadline")), ("deadline", q(d.deadline)), ("rule", "\(d.rule)"), ("when", q(d.when)),
      ("source", q(d.source.description)), ("from", q(d.base)), ("start", time(d.start)),
      ("add", q(d.add.description)), ("calendar", q(d.calendar)), ("end", time(d.end)), ("due", time(d.due)),
      ("days", "[" + days.joined(separator: ",") + "]"),
      ("uncovered_years", "[" + d.uncoveredYears.map(String.init).joined(separator: ",") + "]"),
    ]
  }

  func refund(_ r: RefundExplanation) -> [(String, String)] {
    [
      ("kind", q("refund")), ("field", q(r.field)), ("given", q(r.given?.description)),
      ("converted", q(r.converted?.description)), ("rate", q(r.rate.map { Money.format(units: $0) })),
      ("tier", r.tier.map { "\($0)" } ?? "null"), ("above", q(r.above?.description)),
      ("up_to", q(r.upTo?.description)), ("approver", q(r.approver)), ("source", q(r.source?.description)),
    ]
  }
}
