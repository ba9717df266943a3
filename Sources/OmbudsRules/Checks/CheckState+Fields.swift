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
          .duplicateDefinition, "`\(id)` is a built-in fact and cannot be declared again",
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
          reader.error(.missingKey, "\(context) is an enum and needs `values`", at: pair.value.location)
          continue
        }
        let values = reader.identifiers(valuesNode, context.key("values")) ?? []
        var seen = Set<String>()
        for v in values where !seen.insert(v.value).inserted {
          reader.error(
            .duplicateDefinition, "value `\(v.value)` is listed twice", at: v.location,
            length: v.value.unicodeScalars.count)
        }
        if values.isEmpty {
          reader.error(.emptyEnum, context.key("needs at least one value"), at: valuesNode.location)
          continue
        }
        if values.count > 64 {
          reader.error(.tooManyValues, "\(context) has more than 64 values", at: valuesNode.location)
          continue
        }
        type = .enumeration(values.map(\.value))
      default:
        let kinds = ["bool", "integer", "decimal", "enum", "money", "timestamp", "string"]
        reader.error(
          .unknownType, "unknown field type `\(typeName)`", at: typeNode.location,
          length: typeName.unicodeScalars.count,
          help: Suggest.help(for: typeName, in: kinds) ?? "types: \(kinds.joined(separator: ", "))")
        continue
      }
      if keys["values"] != nil, case .enumeration = type {
      } else if let v = keys["values"] {
        reader.error(.unknownKey, "`values` applies to enum fields only", at: v.key.location)
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
          reader.error(.unknownKey, "`\(bound)` applies to integer and decimal fields only", at: node.location)
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
            reader.error(.invalidDefault, context.key("has no value by default but is not optional"), at: node.location)
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
                  .unknownValue, "default `\(v.value)` is not one of the values", at: v.location,
                  length: v.value.unicodeScalars.count, help: Suggest.help(for: v.value, in: values))
              }
            }
          case .string: decl.defaultString = reader.string(node, context.key("default"))
          case .money: decl.defaultSlot = reader.money(node, context.key("default"), currency: currency)
          case .timestamp:
            reader.error(.invalidDefault, "\(context): timestamps have no default", at: node.location)
          }
        }
      } else if !optional, type == .string {
        decl.defaultString = ""  // a text that is not optional is empty when not given
      } else if !optional {
        reader.error(
          .missingKey, "\(context) needs a `default`, or `optional: true`", at: pair.value.location)
      }
      if let d = decl.defaultSlot, let defaultNode = keys["default"]?.value {
        if let lo = decl.minimum, d < lo, let minNode = keys["min"]?.value {
          reader.error(
            .defaultOutOfRange, context.key("default is below its min"), at: defaultNode.location,
            related: [.init("the min is here", at: minNode.location)])
        }
        if let hi = decl.maximum, d > hi, let maxNode = keys["max"]?.value {
          reader.error(
            .defaultOutOfRange, context.key("default is above its max"), at: defaultNode.location,
            related: [.init("the max is here", at: maxNode.location)])
        }
      }
      fields.append(decl)
    }
  }
}
