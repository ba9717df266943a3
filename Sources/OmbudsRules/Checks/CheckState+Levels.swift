import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Passes `level-ids`, `types` and `levels`: the levels, highest first, and their conditions.
extension CheckState {
  /// Pass `types`: the condition type checker, once the fields, level ids and currency
  /// equivalents are known.
  mutating func buildTypeChecker() {
    var byID: [String: FieldDecl] = [:]
    for f in fields { byID[f.id] = f }
    var ranks: [String: Int] = [:]
    for (i, l) in levels.enumerated() { ranks[l.id] = levels.count - 1 - i }
    types = TypeChecker(fields: byID, levelRanks: ranks, currency: currency, equivalents: refund?.equivalents ?? [:])
  }

  /// A condition item: its text for reasons, its position, its typed form.
  mutating func item(_ node: YAMLNode, _ context: ConditionContext) -> ConditionItem? {
    if types == nil { buildTypeChecker() }  // only a pass placed before `types` gets here
    guard let checker = types, let cond = checker.condition(node, context, &reader) else { return nil }
    let text = Self.render(node)
    let exact = node.isSingleLineSpan || node.pairs?.first?.key.value.contains("(") == true
    return ConditionItem(
      text: text, location: node.pairs?.first?.key.location ?? node.contentLocation,
      length: exact ? text.unicodeScalars.count : 1,
      cond: cond)
  }

  static func render(_ node: YAMLNode) -> String {
    if case .mapping(let pairs, _) = node, pairs.count == 1, let p = pairs.first, p.key.value.contains("("),
      let v = p.value.scalarText
    {
      return p.key.value + ": " + v
    }
    switch node {
    case .scalar(let s, _): return s.value.trimmingCharacters(in: .whitespacesAndNewlines)
    case .sequence(let items, _): return "[" + items.map(render).joined(separator: ", ") + "]"
    case .mapping(let pairs, _):
      guard let p = pairs.first else { return "{}" }
      switch p.key.value {
      case "any": return "(" + (p.value.items ?? []).map(render).joined(separator: " or ") + ")"
      case "all": return "(" + (p.value.items ?? []).map(render).joined(separator: " and ") + ")"
      case "not": return "not (" + render(p.value) + ")"
      default: return p.key.value
      }
    }
  }

  /// Pass `level-ids`: the levels' ids, highest first, so that conditions anywhere may name them.
  mutating func declareLevels() {
    levelPairs = entries("levels")
    // The level checks compare every condition with those of every higher level: a bound on
    // levels keeps rules-check fast whatever a file holds.
    if levelPairs.count > 32 {
      let extra = levelPairs[32]
      reader.error(
        .tooManyLevels,
        "a rule set holds at most 32 levels; this is number 33 of \(levelPairs.count)", at: extra.key.location,
        length: extra.key.value.unicodeScalars.count)
      levelPairs = Array(levelPairs.prefix(32))
    }
    // Ids first, so `level == x` in other sections can refer to them.
    for pair in levelPairs {
      levels.append(LevelDecl(id: pair.key.value, label: nil, mode: .any, items: [], location: pair.key.location))
    }
    if levelPairs.isEmpty, let def = sections["levels"]?.first {
      reader.error(.missingKey, "`levels` needs at least one level", at: def.key.location)
    }
  }

  /// Pass `levels`: each level's label and condition; the fallback level.
  mutating func checkLevels() {
    for (index, pair) in levelPairs.enumerated() {
      let context = Ctx.level(pair.key.value)
      guard
        let keys = reader.mapping(pair.value, context, shape: RuleShapes.level)
      else { continue }
      levels[index].label = reader.string(keys["label"]?.value, context.key("label"))
      let modes = ["any", "all", "not", "when", "otherwise"].filter { keys[$0] != nil }
      if modes.count != 1 {
        reader.error(
          modes.isEmpty ? .missingKey : .conditionShape,
          modes.isEmpty
            ? "\(context) needs a condition: `any`, `all`, `not`, `when` or `otherwise: true`"
            : "\(context) has more than one condition (\(modes.joined(separator: ", "))); use one",
          at: pair.key.location, length: pair.key.value.unicodeScalars.count)
        continue
      }
      let mode = modes[0]
      guard let modePair = keys[mode] else { continue }
      let node = modePair.value
      switch mode {
      case "otherwise":
        if reader.bool(node, context.key("otherwise")) == true {
          levels[index].mode = .otherwise
          levels[index].items = [
            ConditionItem(text: "otherwise", location: modePair.key.location, length: 9, cond: .constant(true))
          ]
        } else {
          reader.error(.trueOnly, "`otherwise` can only be true", at: node.location)
        }
      case "any", "all":
        levels[index].mode = mode == "any" ? .any : .all
        guard let items = reader.list(node, context.key(mode)) else { continue }
        if items.isEmpty {
          reader.error(.conditionShape, "\(context) `\(mode)` needs at least one condition", at: node.location)
        }
        levels[index].items = items.compactMap { item($0, .level) }
        if items.count > 64 {
          reader.error(
            .tooManyConditions, "\(context) lists \(items.count) conditions; a level holds at most 64",
            at: node.location, help: "group related conditions under one `any:` item")
        }
      default:
        levels[index].mode = .any
        let wrapped: YAMLNode =
          mode == "not"
          ? .mapping([YAMLNode.Pair(key: modePair.key, value: node)], modePair.key.location)
          : node
        if let i = item(wrapped, .level) { levels[index].items = [i] }
      }
    }
    if !levels.isEmpty, !levels.contains(where: { $0.mode == .otherwise }) {
      let last = levels[levels.count - 1]
      reader.error(
        .noFallbackLevel, "no level catches every other case", at: last.location,
        length: last.id.unicodeScalars.count, help: "give the lowest level `otherwise: true`")
    }
    if let i = levels.firstIndex(where: { $0.mode == .otherwise }), i < levels.count - 1 {
      for later in levels[(i + 1)...] {
        reader.error(
          .unreachableLevel,
          "level `\(later.id)` can never be reached: `\(levels[i].id)` above it takes every case",
          at: later.location, length: later.id.unicodeScalars.count,
          related: [.init("`otherwise` here", at: levels[i].location)])
      }
    }
  }
}
