import ArgumentParser
import Foundation
import OmbudsEngine
import OmbudsStore

/// `ombuds token`: API tokens for `ombuds serve` (create, list, revoke).
public struct TokenCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "token",
    abstract: "Create, list and revoke the bearer tokens of the HTTP API.",
    discussion: """
      A token speaks for one person in one role of the rules. Only its SHA-256 is stored: \
      `create` prints the token once. A revoked token stops working on every instance within \
      the servers' token cache time (5 seconds).
      """,
    subcommands: [Create.self, List.self, Revoke.self])

  public init() {}

  static func now() -> Millis { Millis(Date().timeIntervalSince1970 * 1000) }

  /// `ombuds token create --role ROLE --name NAME`
  public struct Create: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      abstract: "Create a token and print it once, as {\"token\", \"id\", \"name\", \"role\", \"created_at\"}.")

    @OptionGroup public var options: StoreOptions

    @Option(help: "The role the token acts in: a role id of the rules (roles:).")
    public var role: String

    @Option(help: "The person the token speaks for (a name or staff id).")
    public var name: String

    public init() {}

    public func run() async throws {
      let role = role
      let name = name
      let (token, record, offset) = try await options.withStore { store in
        do {
          let at = TokenCommand.now()
          let (token, record) = try await store.createToken(name: name, role: role, at: at)
          return (token, record, store.rules.calendar.clock.offset(at: at))
        } catch {
          throw CLIError("\(error)")
        }
      }
      Output.out(
        "{\"token\":\(JSONText.quoted(token)),\"id\":\(JSONText.quoted(record.id)),\"name\":\(JSONText.quoted(record.name)),\"role\":\(JSONText.quoted(record.role)),\"created_at\":\(JSONText.quoted(RFC3339.format(record.createdAt, offsetSeconds: offset)))}\n"
      )
    }
  }

  /// `ombuds token list`
  public struct List: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      abstract: "List the tokens (never the tokens themselves) as JSON Lines: id, name, role, created_at, revoked_at.")

    @OptionGroup public var options: StoreOptions

    public init() {}

    public func run() async throws {
      let (tokens, clock) = try await options.withStore { store in
        (try await store.tokens(), store.rules.calendar.clock)
      }
      func time(_ t: Millis?) -> String {
        t.map { JSONText.quoted(RFC3339.format($0, offsetSeconds: clock.offset(at: $0))) } ?? "null"
      }
      var out = ""
      for t in tokens {
        out +=
          "{\"id\":\(JSONText.quoted(t.id)),\"name\":\(JSONText.quoted(t.name)),\"role\":\(JSONText.quoted(t.role)),\"created_at\":\(time(t.createdAt)),\"revoked_at\":\(time(t.revokedAt))}\n"
      }
      Output.out(out)
    }
  }

  /// `ombuds token revoke ID`
  public struct Revoke: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(abstract: "Revoke a token by its id (from `list`).")

    @OptionGroup public var options: StoreOptions

    @Argument(help: "The token's id (8 hexadecimal characters).")
    public var id: String

    public init() {}

    public func run() async throws {
      let id = id
      let found = try await options.withStore { store in try await store.revokeToken(id: id, at: TokenCommand.now()) }
      guard found else { throw CLIError("no token with id `\(id)` (see `ombuds token list`)") }
      Output.out("{\"revoked\":\(JSONText.quoted(id))}\n")
    }
  }
}
