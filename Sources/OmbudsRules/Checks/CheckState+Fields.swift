import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Pass `fields`: declared facts, their types, bounds and defaults.
extension CheckState {
  mutating func checkFields() {
    let builtinIDs = Set(fields.map(\.id)).union(["open_for", "now", "level", "id"])
    for pair in entries("fields") {
      let id = pair.key.value
      if builtinIDs.contains(id) {
        reader.error(
          .duplicateDefinition,
          LocalizedText(en: "`\(id)` is a built-in fact and cannot be declared again", zh: "`\(id)` 是内置事实，不能再次声明"),
          at: pair.key.location, length: id.unicodeScalars.count)
        continue
      }
      let context = Ctx.field(id)
      guard
        let keys = reader.mapping(pair.value, context, shape: RuleShapes.field)
      else { continue }
      guard let typeNode = keys["type"]?.value, let typeName = reader.string(typeNode, context.key("type")) else {
        continue
      }
      var type: FieldType
      switch typeName {
      case "bool": type = .bool
      case "integer": type = .integer
      case "decimal": type = .decimal
      case "money": type = .money
      case "timestamp": type = .timestamp
      case "string": type = .string
      case "enum":
        guard let valuesNode = keys["values"]?.value else {
          reader.error(
            .missingKey,
            LocalizedText(en: "\(context.en) is an enum and needs `values`", zh: "\(context) 是枚举，需要 `values`"),
            at: pair.value.location)
          continue
        }
        let values = reader.identifiers(valuesNode, context.key("values")) ?? []
        var seen = Set<String>()
        for v in values where !seen.insert(v.value).inserted {
          reader.error(
            .duplicateDefinition, LocalizedText(en: "value `\(v.value)` is listed twice", zh: "取值 `\(v.value)` 列了两次"),
            at: v.location,
            length: v.value.unicodeScalars.count)
        }
        if values.isEmpty {
          reader.error(
            .emptyEnum, LocalizedText(en: "\(context.en) needs at least one value", zh: "\(context) 至少需要一个取值"),
            at: valuesNode.location)
          continue
        }
        if values.count > 64 {
          reader.error(
            .tooManyValues, LocalizedText(en: "\(context.en) has more than 64 values", zh: "\(context) 的取值超过 64 个"),
            at: valuesNode.location)
          continue
        }
        type = .enumeration(values.map(\.value))
      default:
        let kinds = ["bool", "integer", "decimal", "enum", "money", "timestamp", "string"]
        reader.error(
          .unknownType, LocalizedText(en: "unknown field type `\(typeName)`", zh: "未知的字段类型 `\(typeName)`"),
          at: typeNode.location,
          length: typeName.unicodeScalars.count,
          help: Suggest.didYouMean(for: typeName, in: kinds)
            ?? LocalizedText(
              en: "types: \(kinds.joined(separator: ", "))", zh: "可用的类型：\(kinds.joined(separator: "、"))"))
        continue
      }
      if keys["values"] != nil, case .enumeration = type {
      } else if let v = keys["values"] {
        reader.error(
          .unknownKey, LocalizedText(en: "`values` applies to enum fields only", zh: "`values` 只适用于枚举字段"),
          at: v.key.location)
      }
      let optional = keys["optional"].flatMap { reader.bool($0.value, context.key("optional")) } ?? false
      var decl = FieldDecl(
        id: id, label: reader.string(keys["label"]?.value, context.key("label")), type: type, optional: optional,
        defaultSlot: nil, defaultString: nil, minimum: nil, maximum: nil, builtin: false,
        slot: type == .string ? stringSlots : numericSlots, location: pair.key.location)
      if type == .string { stringSlots += 1 } else { numericSlots += 1 }
      for bound in ["min", "max"] {
        guard let node = keys[bound]?.value else { continue }
        guard type == .integer || type == .decimal else {
          reader.error(
            .unknownKey,
            LocalizedText(en: "`\(bound)` applies to integer and decimal fields only", zh: "`\(bound)` 只适用于整数和小数字段"),
            at: node.location)
          continue
        }
        let v =
          type == .decimal ? reader.decimal(node, context.key(bound)) : reader.integer(node, context.key(bound))
        if let v {
          if bound == "min" { decl.minimum = v } else { decl.maximum = v }
        }
      }
      if let node = keys["default"]?.value {
        if node.isNull {
          if !optional {
            reader.error(
              .invalidDefault,
              LocalizedText(
                en: "\(context.en) has no value by default but is not optional", zh: "\(context) 默认没有值，却不是可选的"),
              at: node.location)
          }
        } else {
          switch type {
          case .bool: decl.defaultSlot = reader.bool(node, context.key("default")).map { $0 ? 1 : 0 }
          case .integer: decl.defaultSlot = reader.integer(node, context.key("default"))
          case .decimal: decl.defaultSlot = reader.decimal(node, context.key("default"))
          case .enumeration(let values):
            if let v = reader.identifier(node, context.key("default")) {
              if let i = values.firstIndex(of: v.value) {
                decl.defaultSlot = Int64(i)
              } else {
                reader.error(
                  .unknownValue,
                  LocalizedText(en: "default `\(v.value)` is not one of the values", zh: "默认值 `\(v.value)` 不在取值之中"),
                  at: v.location,
                  length: v.value.unicodeScalars.count, help: Suggest.didYouMean(for: v.value, in: values))
              }
            }
          case .string: decl.defaultString = reader.string(node, context.key("default"))
          case .money: decl.defaultSlot = reader.money(node, context.key("default"), currency: currency)
          case .timestamp:
            reader.error(
              .invalidDefault,
              LocalizedText(en: "\(context.en): timestamps have no default", zh: "\(context)：时间戳字段没有默认值"),
              at: node.location)
          }
        }
      } else if !optional, type == .string {
        decl.defaultString = ""  // a text that is not optional is empty when not given
      } else if !optional {
        reader.error(
          .missingKey,
          LocalizedText(
            en: "\(context.en) needs a `default`, or `optional: true`",
            zh: "\(context) 需要 `default`，或者 `optional: true`"), at: pair.value.location)
      }
      if let d = decl.defaultSlot, let defaultNode = keys["default"]?.value {
        if let lo = decl.minimum, d < lo, let minNode = keys["min"]?.value {
          reader.error(
            .defaultOutOfRange,
            LocalizedText(en: "\(context.en) default is below its min", zh: "\(context) 的默认值小于 `min`"),
            at: defaultNode.location,
            related: [.init(LocalizedText(en: "the min is here", zh: "`min` 在此"), at: minNode.location)])
        }
        if let hi = decl.maximum, d > hi, let maxNode = keys["max"]?.value {
          reader.error(
            .defaultOutOfRange,
            LocalizedText(en: "\(context.en) default is above its max", zh: "\(context) 的默认值大于 `max`"),
            at: defaultNode.location,
            related: [.init(LocalizedText(en: "the max is here", zh: "`max` 在此"), at: maxNode.location)])
        }
      }
      fields.append(decl)
    }
  }
}
