import OmbudsScreening
import OmbudsSyntax

/// The type of a case fact.
public enum FieldType: Sendable, Hashable {
  case bool, integer, decimal, money, timestamp, string
  case enumeration([String])

  public var name: String {
    switch self {
    case .bool: "bool"
    case .integer: "integer"
    case .decimal: "decimal"
    case .money: "money"
    case .timestamp: "timestamp"
    case .string: "string"
    case .enumeration: "enum"
    }
  }
}

/// A case fact: built in (`received_at`, `state`, …) or declared in `fields:`.
public struct FieldDecl: Sendable {
  public var id: String
  public var label: String?
  public var type: FieldType
  public var optional: Bool
  /// Default in slot form (see `CaseFacts`); nil = required, or null when optional.
  public var defaultSlot: Int64?
  public var defaultString: String?
  public var minimum: Int64?
  public var maximum: Int64?
  public var builtin: Bool
  /// Index into the numeric slots, or into the string slots for `.string`.
  public var slot: Int
  public var location: SourceLocation?
}

/// The typed, checked form of a condition. Fields are referred to by slot.
public indirect enum Cond: Sendable, Hashable {
  case constant(Bool)
  /// A bool field is true.
  case flag(slot: Int)
  /// A numeric slot (integer, decimal × 10⁴, enum ordinal, money × 10⁴ in the base currency,
  /// timestamp in ms) compared with a constant; false when the slot is null.
  case compare(slot: Int, CompareOp, Int64)
  /// The slot is null (absent).
  case isNull(slot: Int)
  /// An enum slot is one of the ordinals in the mask.
  case oneOf(slot: Int, mask: UInt64)
  /// A string slot compared with a constant (null never equals).
  case stringEquals(slot: Int, String)
  case stringIsNull(slot: Int)
  /// Time open (to resolution, or to the evaluation time) compared with a duration.
  case openFor(CompareOp, RuleDuration)
  /// Distinct complainants with the same issue in a window containing the case.
  case sameIssueComplainants(window: RuleDuration, CompareOp, Int64)
  /// The case's level rank (0 = lowest) compared with a constant rank.
  case level(CompareOp, Int)
  case and([Cond])
  case or([Cond])
  case not(Cond)
}

/// One listed condition with the text and position it was written at: what a reason cites.
public struct ConditionItem: Sendable {
  public var text: String
  public var location: SourceLocation
  public var length: Int
  public var cond: Cond
}

/// A severity level.
public struct LevelDecl: Sendable {
  public enum Mode: String, Sendable { case any, all, otherwise }
  public var id: String
  public var label: String?
  public var mode: Mode
  public var items: [ConditionItem]
  public var location: SourceLocation
}

public struct CategoryDecl: Sendable {
  public var id: String
  public var label: String?
  public var major: Bool
  public var location: SourceLocation
  /// Keywords as written, from the rule file or from imported lists.
  public var keywords: [Located<String>] = []
  /// Exception phrases: a match of this category inside one of them is not reported.
  public var exceptions: [Located<String>] = []
  /// The disguises its keywords (and exceptions) are also matched through (`match:`).
  public var modes: MatchModes = []
}

/// Where a webhook channel posts: a URL given in the rules or read from the environment, and
/// the environment variable holding the HMAC-SHA256 secret the body is signed with.
public struct WebhookTarget: Sendable, Equatable {
  /// A literal `http://` or `https://` URL.
  public var url: String?
  /// The environment variable holding the URL (deployments differ; the rules do not).
  public var urlEnvironment: String?
  /// The environment variable holding the signing secret.
  public var secretEnvironment: String?
  /// How long one attempt may take.
  public var timeout: RuleDuration?
}

public struct RoleDecl: Sendable {
  public var id: String
  public var label: String?
  public var channels: [String]
  public var location: SourceLocation
  /// The webhook of the `webhook` channel.
  public var webhook: WebhookTarget? = nil
  /// The file of the `file` channel (JSON Lines appended); relative to the working directory.
  public var file: String? = nil
}

public struct ReportDecl: Sendable {
  public var id: String
  public var label: String?
  public var parts: [(id: String, label: String)]
  public var location: SourceLocation
}

public struct CalendarDecl: Sendable {
  public var id: String
  public var label: String?
  public var timeZone: String
  /// Weekdays off, 0 = Monday … 6 = Sunday.
  public var weekend: Set<Int>
  public var holidays: [CivilDate: String]
  public var workingDays: Set<CivilDate>
  public var covers: [Int]
  public var location: SourceLocation
  /// Office hours on a working day, in minutes after local midnight: `[start, end)`.
  public var officeHours: Range<Int> = 540..<1080
  /// Where each holiday date was declared: the position of its entry under `holidays:`
  /// (the dates of one `{name, from, to}` share it). Coverage reports name holidays by it.
  public var holidayEntries: [CivilDate: SourceLocation] = [:]
  /// Where each make-up working day was declared.
  public var workingDayLocations: [CivilDate: SourceLocation] = [:]

  public init(
    id: String, label: String?, timeZone: String, weekend: Set<Int>, holidays: [CivilDate: String],
    workingDays: Set<CivilDate>, covers: [Int], location: SourceLocation, officeHours: Range<Int> = 540..<1080
  ) {
    self.officeHours = officeHours
    self.id = id
    self.label = label
    self.timeZone = timeZone
    self.weekend = weekend
    self.holidays = holidays
    self.workingDays = workingDays
    self.covers = covers
    self.location = location
  }
}

public struct RefundTier: Sendable {
  public var above: Int64
  public var upTo: Int64?
  public var approver: String
  public var location: SourceLocation
}

public struct RefundPolicy: Sendable {
  public var currency: String
  /// Units of the base currency (× 10⁴) that one unit of the other currency is worth.
  public var equivalents: [String: Int64]
  public var tiers: [RefundTier]
  public var location: SourceLocation
}

public struct DeadlineRule: Sendable {
  public var when: ConditionItem?
  /// Numeric slot of the timestamp the clock starts from.
  public var baseSlot: Int
  public var baseName: String
  public var add: RuleDuration
  public var location: SourceLocation
}

public struct DeadlineDecl: Sendable {
  public var id: String
  public var label: String?
  public var calendar: String
  public var rules: [DeadlineRule]
  public var maximum: RuleDuration?
  public var location: SourceLocation
}

public struct Duty: Sendable {
  /// When a notice goes out (POLICY §3: night and holiday timing).
  public enum When: String, Sendable {
    /// Urgent: at once, night or holiday.
    case once
    /// Non-urgent: at once within the calendar's office hours on a working day, otherwise at
    /// the start of the next working day's office hours.
    case officeHours = "office_hours"
    /// At the start of office hours on the next working day after the event.
    case nextWorkingDay = "next_working_day"
  }
  public var notify: [String]
  public var report: String?
  public var at: When
  public var every: RuleDuration?
  public var location: SourceLocation
  /// `on_change` only: the facts whose change is significant (empty: any fact).
  public var fields: [String] = []
  /// The route may carry the complainant's identity and contact details (off by default).
  public var includeIdentity = false

  /// The duty in one line, as reports list it: "notify a, b every 1 week with the `progress` report".
  public var summary: String {
    var s = notify.isEmpty ? "" : "notify \(notify.joined(separator: ", "))"
    if let every { s += " every \(every)" }
    if let report { s += s.isEmpty ? "the `\(report)` report" : " with the `\(report)` report" }
    return s
  }
}

public struct LevelDuties: Sendable {
  public var onEnter: [Duty] = []
  public var whileOpen: [Duty] = []
  /// A significant change while the case is at this level (快报).
  public var onChange: [Duty] = []
  public var onClose: [Duty] = []
  public init() {}
}

/// A notice before, at or after a deadline while the case is still unresolved: the steps of
/// an escalation, each usually to someone more senior.
public struct DeadlineAlert: Sendable {
  public enum Offset: Sendable, Equatable {
    case before(RuleDuration)
    case breach
    case after(RuleDuration)
  }
  /// The deadline's id and its index in `RuleSet.deadlines`.
  public var deadline: String
  public var deadlineIndex: Int
  public var offset: Offset
  public var duty: Duty
}

public struct Gate: Sendable {
  public var transition: String
  public var when: ConditionItem?
  public var requireApproval: String?
  public var requireReport: String?
  public var location: SourceLocation
}

/// A checked rule set: everything the files said, typed and cross-referenced.
public struct RuleSet: Sendable {
  public var name: String?
  public var timeZone: String
  public var defaultCalendar: String
  public var currency: String
  public var fields: [FieldDecl]
  public var numericSlotCount: Int
  public var stringSlotCount: Int
  /// Highest first.
  public var levels: [LevelDecl]
  public var categories: [CategoryDecl]
  public var roles: [RoleDecl]
  public var reports: [ReportDecl]
  public var calendars: [CalendarDecl]
  public var refund: RefundPolicy?
  public var deadlines: [DeadlineDecl]
  public var duties: [String: LevelDuties]
  public var gates: [Gate]
  /// Duties when a report matches a category marked `major` (立即上报主管领导).
  public var harmfulMajorDuties: [Duty] = []
  /// Notices before, at and after deadlines (escalation).
  public var deadlineAlerts: [DeadlineAlert] = []
  /// Who is told when an approval is requested; `approver` stands for the role asked.
  public var approvalRequests: [Duty] = []
  /// The role that may set a case's level by hand (客服中心); nil: no manual overrides.
  public var overrideRole: String? = nil
  /// SHA-256 of the files' names and contents, `sha256:…`.
  public var contentHash: String
  public var files: [String]
  /// Who may post which event types and see whom (POLICY §8); nil when the rules have no
  /// `permissions` section.
  public var permissions: PermissionPolicy? = nil
  /// The answers a follow-up may record (`satisfaction`, RuleLanguage.md §18), in order.
  public var satisfaction: [SatisfactionLevel] = []
  /// The measures of the quality bulletin (`measures`, POLICY §7), in file order.
  public var measures: [MeasureDecl] = []

  public func field(_ id: String) -> FieldDecl? { fields.first { $0.id == id } }
}

/// Built-in facts every rule set has, in slot order.
public enum BuiltinFields {
  public static let receivedAt = 0
  public static let resolvedAt = 1
  public static let state = 2
  public static let complainantID = 0
  public static let issueKey = 1
  public static let text = 2
  public static let states = ["open", "resolved", "closed"]

  static func declarations() -> [FieldDecl] {
    [
      FieldDecl(id: "received_at", label: "受理时间", type: .timestamp, optional: false, builtin: true, slot: receivedAt),
      FieldDecl(id: "resolved_at", label: "解决时间", type: .timestamp, optional: true, builtin: true, slot: resolvedAt),
      FieldDecl(
        id: "state", label: "状态", type: .enumeration(states), optional: false, defaultSlot: 0, builtin: true,
        slot: state),
      FieldDecl(id: "complainant_id", label: "投诉人", type: .string, optional: true, builtin: true, slot: complainantID),
      FieldDecl(id: "issue_key", label: "同一投诉标识", type: .string, optional: true, builtin: true, slot: issueKey),
      FieldDecl(
        id: "text", label: "投诉内容", type: .string, optional: false, defaultString: "", builtin: true, slot: text),
    ]
  }
}

extension FieldDecl {
  init(
    id: String, label: String?, type: FieldType, optional: Bool, defaultSlot: Int64? = nil,
    defaultString: String? = nil, builtin: Bool, slot: Int
  ) {
    self.init(
      id: id, label: label, type: type, optional: optional, defaultSlot: defaultSlot, defaultString: defaultString,
      minimum: nil, maximum: nil, builtin: builtin, slot: slot, location: nil)
  }
}
