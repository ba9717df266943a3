import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Pass `sections`: which sections each file holds; the entries of keyed sections.
extension CheckState {
  mutating func collectSections() {
    for (_, root) in roots {
      if root.isNull { continue }
      guard let pairs = root.pairs else {
        reader.typeError(
          root, expected: Expected.words("a mapping of sections (levels:, fields:, …)", "由各部分组成的映射（levels:、fields:、…）"),
          in: Ctx.words("rule file", "规则文件"))
        continue
      }
      for pair in pairs {
        let key = pair.key.value
        guard RuleSetLoader.sectionKeys.contains(key) else {
          reader.error(
            .unknownKey, LocalizedText(en: "unknown section `\(key)`", zh: "未知的部分 `\(key)`"), at: pair.key.location,
            length: key.unicodeScalars.count,
            help: Suggest.didYouMean(for: key, in: RuleSetLoader.sectionKeys)
              ?? LocalizedText(
                en: "sections: \(RuleSetLoader.sectionKeys.joined(separator: ", "))",
                zh: "可用的部分：\(RuleSetLoader.sectionKeys.joined(separator: "、"))"))
          continue
        }
        sections[key, default: []].append(pair)
      }
    }
    // Singleton sections, and `levels` (whose order must be clear) may be written once only.
    for key in ["settings", "refund_approval", "levels", "harmful_information", "approval_requests", "permissions"] {
      if let defs = sections[key], defs.count > 1 {
        for extra in defs.dropFirst() {
          reader.error(
            .duplicateDefinition,
            LocalizedText(en: "`\(key)` is defined more than once in this rule set", zh: "`\(key)` 在本规则集中定义了不止一次"),
            at: extra.key.location, length: key.unicodeScalars.count,
            related: [.init(Messages.firstDefinedHere, at: defs[0].key.location)])
        }
      }
    }
  }

  /// The entries of a keyed section across files, with duplicate ids reported.
  mutating func entries(_ section: String) -> [YAMLNode.Pair] {
    var result: [YAMLNode.Pair] = []
    var seen: [String: SourceLocation] = [:]
    for def in sections[section] ?? [] {
      if def.value.isNull { continue }
      guard let pairs = def.value.pairs else {
        reader.typeError(def.value, expected: Expected.words("a mapping of ids", "以 id 为键的映射"), in: Ctx.code(section))
        continue
      }
      for pair in pairs {
        if let first = seen[pair.key.value] {
          reader.error(
            .duplicateDefinition,
            LocalizedText(
              en: "`\(pair.key.value)` is already defined in `\(section)`",
              zh: "`\(pair.key.value)` 已在 `\(section)` 中定义过"),
            at: pair.key.location, length: pair.key.value.unicodeScalars.count,
            related: [.init(Messages.firstDefinedHere, at: first)])
          continue
        }
        guard reader.isIdentifier(pair.key.value) else {
          reader.error(
            .invalidId,
            LocalizedText(
              en: "`\(pair.key.value)` is not a valid id (letters, digits and _)",
              zh: "`\(pair.key.value)` 不是有效的 id（字母、数字和 _）"), at: pair.key.location,
            length: pair.key.value.unicodeScalars.count)
          continue
        }
        seen[pair.key.value] = pair.key.location
        result.append(pair)
      }
    }
    return result
  }
}
