import OmbudsRules
import OmbudsScreening
import OmbudsSyntax

/// A reason a level was chosen: the level and the index of the condition item that held.
public struct ReasonRef: Sendable, Hashable {
  public var level: Int32
  public var item: Int32
}

/// The outcome of evaluating one case. Indices refer to the compiled rule set.
public struct Decision: Sendable {
  /// Index into `CompiledRules.levels` (0 = highest).
  public var level: Int = 0
  /// The level whose conditions held (the decided level, unless a ratchet floor kept a higher one).
  public var reasonLevel: Int = 0
  /// Bit i set: condition item i of `reasonLevel` held (a level has at most 64 items).
  public var reasonItems: UInt64 = 0

  /// The conditions that made the decision, in rule order.
  public var reasons: [ReasonRef] {
    var out: [ReasonRef] = []
    var bits = reasonItems
    while bits != 0 {
      out.append(ReasonRef(level: Int32(reasonLevel), item: Int32(bits.trailingZeroBitCount)))
      bits &= bits - 1
    }
    return out
  }
  /// Index into `CompiledRules.roles`, or nil for no approver.
  public var refundApprover: Int?
  /// Per deadline declaration, in order; nil = no deadline (yet).
  public var deadlines: [Millis?] = []
  /// Per deadline declaration: which of its rules gave the deadline (an index into
  /// `DeadlineDecl.rules`), or -1 when none applied or its timestamp is not known yet.
  /// `CompiledRules.deadlinePlans(_:_:)` turns it into what the store acts on.
  public var deadlineRules: [Int32] = []
  /// The earliest instant the decision could change on its own; nil when none.
  public var nextReviewAt: Millis?
  /// Harmful-content matches in the case's text (keywords, exceptions applied), in text order.
  public var matches: [Match] = []
  /// Bit i set: category i matched.
  public var categoryBits: UInt64 = 0

  public init() {}
}
