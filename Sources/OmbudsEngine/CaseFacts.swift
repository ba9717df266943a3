import OmbudsRules

/// One case's facts in the compact form the evaluator reads: numeric slots (see `Cond`) and
/// string slots, laid out by the rule set's field declarations.
public struct CaseFacts: Sendable {
  /// The value of an absent (null) numeric slot.
  public static let null = Int64.min

  public var id: String
  public var numbers: [Int64]
  public var strings: [String?]
  /// Compensation as given (amount × 10⁴ and currency), before conversion.
  public var originalMoney: Money?
  /// Position in the input (for in-memory history lookups); -1 when not from an input batch.
  public var ordinal: Int = -1

  public init(id: String, numbers: [Int64], strings: [String?]) {
    self.id = id
    self.numbers = numbers
    self.strings = strings
  }

  @inlinable public var receivedAt: Millis { numbers[BuiltinFields.receivedAt] }
  @inlinable public var resolvedAt: Millis? {
    let v = numbers[BuiltinFields.resolvedAt]
    return v == CaseFacts.null ? nil : v
  }
  public var complainantID: String? { strings[BuiltinFields.complainantID] }
  public var issueKey: String? { strings[BuiltinFields.issueKey] }
  public var text: String { strings[BuiltinFields.text] ?? "" }
}

/// Why a case snapshot was refused: names the field and what was wrong.
public struct CaseError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
