import ArgumentParser
import Foundation
import OmbudsRules

/// `ombuds schema`: the JSON Schema of rule files, for editors.
public struct SchemaCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "schema",
    abstract: "Print the JSON Schema of rule files (for editors: completion and checks while typing).",
    discussion: """
      Generated from the declarations the checker takes every key from, so it never allows a key \
      rules-check refuses. Documentation/rules.schema.json is its output. In a rule file: \
      `# yaml-language-server: $schema=PATH/rules.schema.json`. rules-check still checks what a \
      schema cannot (references, ranges, the types in conditions).
      """)

  @Option(help: "Write to this file instead of standard output.")
  public var out: String?

  public init() {}

  public func run() throws {
    let text = RuleSchema.json()
    if let out {
      try ReportCommand.write(text, to: out)
    } else {
      Output.out(text)
    }
  }
}
