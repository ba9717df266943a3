import Crypto
import Foundation
import OmbudsEngine
import OmbudsSyntax

/// An API token as stored: who it speaks for, never the token itself (only its SHA-256).
public struct APIToken: Sendable, Equatable {
  /// The token's public id (its first characters after `omb_`), for listing and revoking.
  public var id: String
  /// The person the token speaks for.
  public var name: String
  /// The role the person acts in: a role of the rules.
  public var role: String
  public var createdAt: Millis
  public var revokedAt: Millis?

  public var isRevoked: Bool { revokedAt != nil }

  /// Who the token speaks for, as the rules' permissions see it.
  public var principal: Principal { Principal(person: name, role: role) }
}

extension CaseStore {
  /// The prefix every token starts with (so that a leaked one is recognizable in logs).
  public static let tokenPrefix = "omb_"

  /// The SHA-256 of a token, as stored. Tokens carry 256 random bits: a fast hash is enough.
  public static func tokenHash(_ token: String) -> String {
    Hex.encode(SHA256.hash(data: Array(token.utf8)))
  }

  /// The id part of a well-formed token (`omb_<id>_<secret>`), or nil.
  static func tokenID(_ token: String) -> String? {
    guard token.hasPrefix(tokenPrefix) else { return nil }
    let parts = token.dropFirst(tokenPrefix.count).split(separator: "_", omittingEmptySubsequences: false)
    guard parts.count == 2, parts[0].count == 8, parts[1].count == 64 else { return nil }
    let hex = Set("0123456789abcdef")
    guard parts[0].allSatisfy(hex.contains), parts[1].allSatisfy(hex.contains) else { return nil }
    return String(parts[0])
  }

  /// Creates a token for `name` acting as `role` (a role of the rules). Returns the token,
  /// which is not stored and cannot be shown again, and its record.
  public func createToken(name: String, role: String, at: Millis) async throws -> (token: String, record: APIToken) {
    let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !name.isEmpty, name.count <= 200 else {
      throw StoreError.invalidArgument("a token's name is a person's name or id, 1 to 200 characters")
    }
    guard rules.ruleSet.roles.contains(where: { $0.id == role }) else {
      let known = rules.ruleSet.roles.map(\.id)
      throw StoreError.invalidArgument(
        "unknown role `\(role)`: the rules define \(known.map { "`\($0)`" }.joined(separator: ", "))")
    }
    for _ in 0..<4 {
      let id = Hex.randomKey(count: 4)
      let token = "\(Self.tokenPrefix)\(id)_\(Hex.randomKey(count: 32))"
      let record = APIToken(id: id, name: name, role: role, createdAt: at, revokedAt: nil)
      let inserted = try await writing { db in
        guard try await db.fetchOne("SELECT id FROM tokens WHERE id = ?", [id]) == nil else { return false }
        try await db.execute(
          "INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)",
          [id, name, role, Self.tokenHash(token), at])
        return true
      }
      if inserted { return (token, record) }
    }
    throw StoreError.database("could not find a free token id")
  }

  static func token(_ row: SQLRow) -> APIToken {
    APIToken(
      id: row["id"], name: row["name"], role: row["role"], createdAt: row["created_at"], revokedAt: row["revoked_at"])
  }

  /// Every token, oldest first (revoked ones too).
  public func tokens() async throws -> [APIToken] {
    try await reading { db in
      try await db.fetchAll("SELECT id, name, role, created_at, revoked_at FROM tokens ORDER BY created_at, id").map(
        Self.token)
    }
  }

  /// Revokes the token with this id. Returns false when there is none; revoking twice keeps
  /// the first time.
  @discardableResult
  public func revokeToken(id: String, at: Millis) async throws -> Bool {
    try await writing { db in
      guard try await db.fetchOne("SELECT id FROM tokens WHERE id = ?", [id]) != nil else { return false }
      try await db.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [at, id])
      return true
    }
  }

  /// The live (not revoked) token a bearer presents, or nil.
  public func authenticate(token: String) async throws -> APIToken? {
    guard Self.tokenID(token) != nil else { return nil }
    let hash = Self.tokenHash(token)
    return try await reading { db in
      try await db.fetchOne(
        "SELECT id, name, role, created_at, revoked_at FROM tokens WHERE hash = ? AND revoked_at IS NULL", [hash]
      ).map(Self.token)
    }
  }
}
