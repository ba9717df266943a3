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
        LocalizedText(
          en: "a rule set holds at most 32 levels; this is number 33 of \(levelPairs.count)",
          zh: "一个规则集最多 32 个级别；这是第 33 个（共 \(levelPairs.count) 个）"), at: extra.key.location,
        length: extra.key.value.unicodeScalars.count)
      levelPairs = Array(levelPairs.prefix(32))
    }
    // Ids first, so `level == x` in other sections can refer to them.
    for pair in levelPairs {
      levels.append(LevelDecl(id: pair.key.value, label: nil, mode: .any, items: [], location: pair.key.location))
    }
    if levelPairs.isEmpty, let def = sections["levels"]?.first {
      reader.error(
        .missingKey, LocalizedText(en: "`levels` needs at least one level", zh: "`levels` 至少需要一个级别"),
        at: def.key.location)
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
            ? LocalizedText(
              en: "\(context.en) needs a condition: `any`, `all`, `not`, `when` or `otherwise: true`",
              zh: "\(context) 需要条件：`any`、`all`、`not`、`when` 或 `otherwise: true`")
            : LocalizedText(
              en: "\(context.en) has more than one condition (\(modes.joined(separator: ", "))); use one",
              zh: "\(context) 有不止一种条件写法（\(modes.joined(separator: "、"))）；请只用一种"),
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
          reader.error(
            .trueOnly, LocalizedText(en: "`otherwise` can only be true", zh: "`otherwise` 只能是 true"), at: node.location)
        }
      case "any", "all":
        levels[index].mode = mode == "any" ? .any : .all
        guard let items = reader.list(node, context.key(mode)) else { continue }
        if items.isEmpty {
          reader.error(
            .conditionShape,
            LocalizedText(
              en: "\(context.en) `\(mode)` needs at least one condition", zh: "\(context) 的 `\(mode)` 至少需要一个条件"),
            at: node.location)
        }
        levels[index].items = items.compactMap { item($0, .level) }
        if items.count > 64 {
          reader.error(
            .tooManyConditions,
            LocalizedText(
              en: "\(context.en) lists \(items.count) conditions; a level holds at most 64",
              zh: "\(context) 列了 \(items.count) 个条件；一个级别最多 64 个"),
            at: node.location,
            help: LocalizedText(
              en: "group related conditions under one `any:` item", zh: "请把相关的条件归入同一个 `any:` 条目"))
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
        .noFallbackLevel, LocalizedText(en: "no level catches every other case", zh: "没有级别兜住其余的案件"), at: last.location,
        length: last.id.unicodeScalars.count,
        help: LocalizedText(en: "give the lowest level `otherwise: true`", zh: "请给最低的级别加上 `otherwise: true`"))
    }
    if let i = levels.firstIndex(where: { $0.mode == .otherwise }), i < levels.count - 1 {
      for later in levels[(i + 1)...] {
        reader.error(
          .unreachableLevel,
          LocalizedText(
            en: "level `\(later.id)` can never be reached: `\(levels[i].id)` above it takes every case",
            zh: "级别 \(.level, later.id) 永远不会被选中：它上面的 \(.level, levels[i].id) 已接住所有案件"),
          at: later.location, length: later.id.unicodeScalars.count,
          related: [.init(LocalizedText(en: "`otherwise` here", zh: "`otherwise` 在此"), at: levels[i].location)])
      }
    }
  }
}
