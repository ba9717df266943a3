/// The JSON Schema (draft 2020-12) of rule files, generated from `RuleShapes` — the
/// declarations the checker takes its keys from. `ombuds schema` prints it;
/// `Documentation/rules.schema.json` is its output, kept current by a test. Editors that speak
/// the YAML language server's modeline complete and check rule files with it:
///
///     # yaml-language-server: $schema=../Documentation/rules.schema.json
///
/// YAML is read as YAML 1.2's core schema (as the language server reads it): dates and
/// times of day are text.
public enum RuleSchema {
  /// The schema as pretty-printed JSON (two-space indent, keys in declaration order, a final
  /// newline). The same declarations give the same bytes.
  public static func json() -> String {
    var defs: [(String, JSON)] = []
    var seen: Set<String> = []
    func define(_ keys: RuleKeys) -> JSON {
      if seen.insert(keys.name).inserted {
        // Reserve the place first: definitions may refer to each other.
        let index = defs.count
        defs.append((keys.name, .object([])))
        var properties: [(String, JSON)] = []
        for key in keys.keys {
          properties.append((key.name, described(schema(key.shape), key.meaning)))
        }
        var object: [(String, JSON)] = [("type", .string("object")), ("properties", .object(properties))]
        if !keys.required.isEmpty { object.append(("required", .array(keys.required.map(JSON.string)))) }
        object.append(("additionalProperties", .bool(false)))
        defs[index].1 = .object(object)
      }
      return .object([("$ref", .string("#/$defs/\(keys.name)"))])
    }
    func described(_ s: JSON, _ meaning: String) -> JSON {
      guard case .object(var pairs) = s else { return s }
      pairs.insert(("description", .string(meaning)), at: 0)
      return .object(pairs)
    }
    func schema(_ shape: RuleShape) -> JSON {
      switch shape {
      case .text: return .object([("type", .array([.string("string"), .string("number")]))])
      case .identifier:
        return .object([("type", .string("string")), ("pattern", .string("^[^\\s0-9][^\\s]*$"))])
      case .integer: return .object([("type", .string("integer"))])
      case .number:
        return .object([
          (
            "anyOf",
            .array([
              .object([("type", .string("number"))]),
              .object([("type", .string("string")), ("pattern", .string("^\\s*[0-9]+(\\.[0-9]+)?\\s*$"))]),
            ])
          )
        ])
      case .boolean: return .object([("type", .string("boolean"))])
      case .trueOnly: return .object([("const", .bool(true))])
      case .condition: return .object([("$ref", .string("#/$defs/condition"))])
      case .expression:
        return .object([("type", .string("string")), ("examples", .array([.string("received_at + 24 hours")]))])
      case .duration:
        return .object([
          ("type", .string("string")),
          ("examples", .array([.string("7 days"), .string("10 working days"), .string("1 month"), .string("4h")])),
        ])
      case .money:
        return .object([
          ("type", .array([.string("string"), .string("number")])), ("examples", .array([.string("500 CNY")])),
        ])
      case .date: return .object([("type", .string("string")), ("pattern", .string("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))])
      case .timeOfDay:
        return .object([("type", .string("string")), ("pattern", .string("^[0-9]{1,2}:[0-9]{2}$"))])
      case .percent:
        return .object([
          ("type", .array([.string("string"), .string("number")])), ("examples", .array([.string("85%")])),
        ])
      case .oneOf(let words): return .object([("enum", .array(words.map(JSON.string)))])
      case .list(let item): return .object([("type", .string("array")), ("items", schema(item))])
      case .oneOrMore(let item):
        let one = schema(item)
        return .object([("anyOf", .array([one, .object([("type", .string("array")), ("items", one)])]))])
      case .entries(let value):
        return .object([("type", .string("object")), ("additionalProperties", schema(value))])
      case .object(let keys): return define(keys)
      case .anyOf(let shapes): return .object([("anyOf", .array(shapes.map(schema)))])
      case .scalar:
        return .object([
          ("type", .array([.string("string"), .string("number"), .string("boolean"), .string("null")]))
        ])
      }
    }
    var sections: [(String, JSON)] = []
    for section in RuleShapes.sections {
      // A section may be left empty (`levels:` with nothing under it).
      let s = schema(section.shape)
      sections.append(
        (
          section.name,
          .object([
            ("description", .string(section.meaning)), ("anyOf", .array([s, .object([("type", .string("null"))])])),
          ])
        )
      )
    }
    let condition = JSON.object([
      ("description", .string("a condition: text such as `collective_size >= 10`, or {any|all: [...]}, {not: ...}")),
      (
        "anyOf",
        .array([
          .object([("type", .array([.string("string"), .string("boolean")]))]),
          .object([
            ("type", .string("object")),
            (
              "properties",
              .object([
                (
                  "any",
                  .object([
                    ("type", .string("array")), ("minItems", .int(1)),
                    ("items", .object([("$ref", .string("#/$defs/condition"))])),
                  ])
                ),
                (
                  "all",
                  .object([
                    ("type", .string("array")), ("minItems", .int(1)),
                    ("items", .object([("$ref", .string("#/$defs/condition"))])),
                  ])
                ),
                ("not", .object([("$ref", .string("#/$defs/condition"))])),
              ])
            ),
            // `same_issue_complainants(within: 1 month) >= 3` unquoted reads as a one-key mapping.
            (
              "patternProperties",
              .object([("\\(", .object([("type", .array([.string("string"), .string("number")]))]))])
            ),
            ("minProperties", .int(1)), ("maxProperties", .int(1)), ("additionalProperties", .bool(false)),
          ]),
        ])
      ),
    ])
    defs.append(("condition", condition))
    let root = JSON.object([
      ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
      ("$id", .string("https://github.com/ombuds/ombuds/Documentation/rules.schema.json")),
      ("title", .string("Ombuds rule file")),
      (
        "description",
        .string("A rule file of an Ombuds rule set (Documentation/RuleLanguage.md). Generated by `ombuds schema`.")
      ),
      ("type", .array([.string("object"), .string("null")])),
      ("properties", .object(sections)),
      ("additionalProperties", .bool(false)),
      ("$defs", .object(defs)),
    ])
    var out = ""
    root.write(to: &out, indent: 0)
    return out + "\n"
  }

  /// JSON with keys in a given order.
  indirect enum JSON {
    case string(String)
    case int(Int)
    case bool(Bool)
    case array([JSON])
    case object([(String, JSON)])

    func write(to out: inout String, indent: Int) {
      let pad = String(repeating: "  ", count: indent + 1)
      let close = String(repeating: "  ", count: indent)
      switch self {
      case .string(let s): out += Self.quoted(s)
      case .int(let i): out += String(i)
      case .bool(let b): out += b ? "true" : "false"
      case .array(let items):
        // Short lists of scalars on one line.
        if items.allSatisfy({ if case .string = $0 { true } else { false } }), items.count <= 8 {
          out +=
            "["
            + items.map { v in
              var s = ""
              v.write(to: &s, indent: 0)
              return s
            }.joined(separator: ", ") + "]"
          return
        }
        out += "[\n"
        for (i, item) in items.enumerated() {
          out += pad
          item.write(to: &out, indent: indent + 1)
          out += i == items.count - 1 ? "\n" : ",\n"
        }
        out += close + "]"
      case .object(let pairs):
        if pairs.isEmpty {
          out += "{}"
          return
        }
        out += "{\n"
        for (i, (key, value)) in pairs.enumerated() {
          out += pad + Self.quoted(key) + ": "
          value.write(to: &out, indent: indent + 1)
          out += i == pairs.count - 1 ? "\n" : ",\n"
        }
        out += close + "}"
      }
    }

    static func quoted(_ s: String) -> String {
      var out = "\""
      for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
          if c.value < 0x20 {
            out +=
              "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16)
          } else {
            out.unicodeScalars.append(c)
          }
        }
      }
      return out + "\""
    }
  }
}
