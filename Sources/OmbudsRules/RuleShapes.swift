import OmbudsScreening

/// The shape of rule files: every section, the keys each mapping allows and requires, and what
/// each value holds — declared once. The checker takes every allowed and required key from
/// here (`Reader.mapping(_:_:shape:)`), and `ombuds schema` turns the same declarations into
/// a JSON Schema for editors (`Documentation/rules.schema.json`). The checker still checks
/// what a schema cannot say (references, ranges, conditions' types); the schema only never
/// allows a key the checker refuses, nor refuses a file the checker accepts.
public indirect enum RuleShape: Sendable {
  /// Free text (a label, a description, a name).
  case text
  /// An id: letters, digits and `_`, starting with a letter or `_`.
  case identifier
  /// A whole number.
  case integer
  /// A number, or a quantity written as text (`500 CNY`, `7.10`).
  case number
  case boolean
  /// `true` only (`otherwise: true`, `on_breach: true`).
  case trueOnly
  /// A condition: text (`collective_size >= 10`), or `{any|all: [...]}`, `{not: ...}`.
  case condition
  /// An expression such as `received_at + 24 hours`.
  case expression
  /// A duration such as `1 month`, `10 working days`, `4 hours`.
  case duration
  /// An amount of money such as `500 CNY`.
  case money
  /// A date `YYYY-MM-DD`.
  case date
  /// A time of day `HH:MM`.
  case timeOfDay
  /// A percentage such as `85%`.
  case percent
  /// One of these words.
  case oneOf([String])
  /// A list of values of one shape.
  case list(RuleShape)
  /// One value, or a list of them.
  case oneOrMore(RuleShape)
  /// Entries named by ids, each of one shape.
  case entries(RuleShape)
  /// A mapping with these keys.
  case object(RuleKeys)
  /// Any of these shapes.
  case anyOf([RuleShape])
  /// Any scalar (a field's `default`, whose type its `type` decides).
  case scalar
}

/// The keys of a mapping in rule files: each with its shape and a one-line meaning.
public struct RuleKeys: Sendable {
  public struct Key: Sendable {
    public var name: String
    public var shape: RuleShape
    public var meaning: String
  }
  /// The name of its definition in the JSON Schema (`#/$defs/NAME`).
  public var name: String
  public var keys: [Key]
  public var required: [String]

  public init(_ name: String, _ keys: [(String, RuleShape, String)], required: [String] = []) {
    self.name = name
    self.keys = keys.map { Key(name: $0.0, shape: $0.1, meaning: $0.2) }
    self.required = required
  }

  /// The keys allowed, in declaration order.
  public var allowed: [String] { keys.map(\.name) }

  /// These keys and `more` (before a closing `description`), under another name.
  public func adding(_ name: String, _ more: [(String, RuleShape, String)]) -> RuleKeys {
    var copy = self
    copy.name = name
    let at = copy.keys.last?.name == "description" ? copy.keys.count - 1 : copy.keys.count
    copy.keys.insert(contentsOf: more.map { Key(name: $0.0, shape: $0.1, meaning: $0.2) }, at: at)
    return copy
  }
}

/// The declarations themselves, section by section (RuleLanguage.md describes each).
public enum RuleShapes {
  static let description: (String, RuleShape, String) = ("description", .text, "free text for people")
  static let label: (String, RuleShape, String) = ("label", .text, "the name people read (e.g. 重大投诉)")
  static let ids: RuleShape = .oneOrMore(.identifier)

  public static let settings = RuleKeys(
    "settings",
    [
      ("name", .text, "the rule set's name"),
      ("time_zone", .text, "the IANA time zone every date is read in (e.g. Asia/Shanghai)"),
      ("calendar", .identifier, "the business calendar deadlines count on"),
      ("currency", .text, "the currency money amounts are compared in (e.g. CNY)"),
      label,
      ("override_by", .identifier, "the role that may set a level by hand"),
    ])

  public static let field = RuleKeys(
    "field",
    [
      label,
      ("type", .oneOf(["bool", "integer", "decimal", "enum", "money", "timestamp", "string"]), "the fact's type"),
      ("values", ids, "an enum's values"),
      ("default", .scalar, "the value when a case leaves the fact out"),
      ("optional", .boolean, "the fact may be missing (no default)"),
      ("min", .scalar, "the smallest value accepted"),
      ("max", .scalar, "the largest value accepted"),
      description,
    ], required: ["type"])

  public static let level = RuleKeys(
    "level",
    [
      label, description,
      ("any", .list(.condition), "the level holds when one of these holds"),
      ("all", .list(.condition), "the level holds when all of these hold"),
      ("not", .condition, "the level holds when this does not"),
      ("when", .condition, "the level holds when this holds"),
      ("otherwise", .trueOnly, "the fallback level"),
    ])

  public static let category = RuleKeys(
    "category",
    [
      label,
      ("major", .boolean, "a report in this category goes to the supervising leader at once"),
      description,
      ("keywords", .list(.text), "the words that put a text in this category"),
      ("exceptions", .list(.text), "phrases that contain a keyword but are innocent"),
      (
        "match", .oneOrMore(.oneOf(MatchModes.names.map(\.0))),
        "disguises matched besides the usual ones: pinyin, homophones, split characters, look-alikes"
      ),
    ])

  public static let webhook = RuleKeys(
    "webhook",
    [
      ("url", .text, "the address notices are posted to"),
      ("url_env", .text, "the environment variable holding the address"),
      ("secret_env", .text, "the environment variable holding the HMAC secret"),
      ("timeout", .duration, "how long one delivery may take"),
    ])

  public static let role = RuleKeys(
    "role",
    [
      label, ("channels", .oneOrMore(.oneOf(["log", "file", "webhook"])), "how notices reach the role"),
      description, ("webhook", .object(webhook), "the webhook channel's target"),
      ("file", .text, "the file channel's path"),
    ])

  public static let report = RuleKeys(
    "report",
    [
      label,
      ("parts", .anyOf([ids, .entries(.text)]), "the parts the report must have"),
      description,
    ])

  public static let duty = RuleKeys(
    "duty",
    [
      ("notify", ids, "the roles told"),
      ("at", .oneOf(["once", "office_hours", "next_working_day"]), "when the notice goes out"),
      ("every", .duration, "how often, while open"),
      ("report", .identifier, "the report due"),
      ("to", ids, "the roles the report goes to"),
      label,
      ("include_identity", .boolean, "the notice may carry the complainant's identity"),
    ])

  /// `on_change` duties also name the facts whose change counts.
  public static let changeDuty = duty.adding("change_duty", [("fields", ids, "the facts whose change is significant")])

  /// A deadline alert: a duty at one offset from the deadline.
  public static let deadlineAlert = duty.adding(
    "deadline_alert",
    [
      ("before", .duration, "this long before the deadline"),
      ("after", .duration, "this long after the deadline"),
      ("on_breach", .trueOnly, "when the deadline passes"),
    ])

  public static let levelDuties = RuleKeys(
    "level_duties",
    [
      ("on_enter", .list(.object(duty)), "on entering the level"),
      ("while_open", .list(.object(duty)), "repeatedly while the case is open at the level"),
      ("on_change", .list(.object(changeDuty)), "on a significant change at the level"),
      ("on_close", .list(.object(duty)), "on closing at the level"),
    ])

  public static let gate = RuleKeys(
    "gate",
    [
      ("transition", .identifier, "the lifecycle transition the gate guards"),
      ("when", .condition, "the gate applies when this holds"),
      ("require_approval", .identifier, "the role whose approval must exist first"),
      ("require_report", .identifier, "the report the transition must carry"),
      label,
    ], required: ["transition"])

  public static let tier = RuleKeys(
    "tier",
    [
      ("above", .money, "the tier starts above this amount"),
      ("up_to", .money, "the tier ends at this amount, included"),
      ("approver", .identifier, "the role that approves"),
      label,
    ], required: ["above", "approver"])

  public static let refundApproval = RuleKeys(
    "refund_approval",
    [
      ("currency", .text, "the currency the tiers are in"),
      ("tiers", .list(.object(tier)), "the tiers, lowest first"),
      ("equivalents", .entries(.number), "exchange rates: units of the tiers' currency per unit of another"),
    ], required: ["tiers"])

  public static let deadlineRule = RuleKeys(
    "deadline_rule",
    [("when", .condition, "the rule applies when this holds"), ("due", .expression, "the deadline")],
    required: ["due"])

  public static let deadline = RuleKeys(
    "deadline",
    [
      label, ("rules", .list(.object(deadlineRule)), "the first rule that applies gives the deadline"),
      ("calendar", .identifier, "the calendar working days count on"),
      ("max", .duration, "the longest an extension may reach"), description,
    ], required: ["rules"])

  public static let holiday = RuleKeys(
    "holiday",
    [
      ("name", .text, "the holiday's name"), ("dates", .list(.date), "its dates"),
      ("from", .date, "its first day"), ("to", .date, "its last day"),
    ])

  public static let officeHours = RuleKeys(
    "office_hours",
    [("from", .timeOfDay, "opening time"), ("to", .timeOfDay, "closing time")], required: ["from", "to"])

  public static let calendar = RuleKeys(
    "calendar",
    [
      label, ("time_zone", .text, "the calendar's IANA time zone"),
      (
        "weekend",
        .oneOrMore(
          .anyOf([.oneOf(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]), .identifier])),
        "the weekdays off"
      ),
      ("holidays", .list(.anyOf([.date, .object(holiday)])), "days off besides the weekend"),
      ("working_days", .list(.date), "weekend days worked (调休)"),
      ("covers", .list(.integer), "the years the holidays are complete for"),
      description, ("office_hours", .object(officeHours), "when non-urgent notices may go out"),
    ])

  public static let harmfulInformation = RuleKeys(
    "harmful_information",
    [
      ("on_major", .list(.object(duty)), "who is told of a report in a category marked major")
    ])

  public static let grant = RuleKeys(
    "grant",
    [
      ("events", ids, "the event types the holder may post"),
      (
        "identity", .oneOf(["always", "unless_protected", "never"]),
        "whether the holder sees the complainant's identity"
      ),
      description,
    ])

  /// A role's entry may also say what it may look at.
  public static let roleGrant = grant.adding(
    "role_grant",
    [
      ("views", .oneOrMore(.oneOf(["cases", "outbox", "reports", "metrics"])), "what the role may look at")
    ])

  public static let protection = RuleKeys(
    "protection",
    [
      ("major_harmful_information", .boolean, "protect the identity in a report of a major category"),
      ("when", .condition, "protect the identity when this holds"), description,
    ])

  public static let permissions = RuleKeys(
    "permissions",
    [
      ("roles", .entries(.object(roleGrant)), "each role's permissions"),
      ("assignee", .object(grant), "the person the case is assigned to, in any role"),
      ("approver", .object(grant), "the approver the case asks for"),
      ("protect_identity", .anyOf([.condition, .object(protection)]), "when the identity is hidden"),
      ("respondent", .oneOf(["never"]), "the person complained about never acts on their own case"),
      description,
    ])

  public static let satisfactionLevel = RuleKeys(
    "satisfaction_level", [label, description], required: ["label"])

  public static let measureCondition = RuleKeys(
    "measure_condition",
    [
      ("event", .identifier, "the cases with an event of this type"),
      ("events", ids, "the cases with an event of one of these types"),
      ("resolved", .boolean, "the cases resolved (or not) by the period's end"),
      ("satisfaction", ids, "the cases whose follow-up recorded one of these"),
      ("by", .identifier, "at or before this deadline"),
      ("within", .duration, "within this long of receipt"),
      description,
    ])

  public static let measure = RuleKeys(
    "measure",
    [
      label, ("cohort", .oneOf(["received", "resolved"]), "the cases the measure counts"),
      ("numerator", .object(measureCondition), "the cases counted above the line"),
      ("denominator", .object(measureCondition), "the cases counted below the line"),
      ("floor", .percent, "the lowest acceptable ratio"), description,
    ], required: ["label", "cohort", "numerator", "denominator"])

  /// Every section a rule file may hold.
  public static let sections: [(name: String, shape: RuleShape, meaning: String)] = [
    ("settings", .object(settings), "settings shared by every rule file"),
    ("fields", .entries(.object(field)), "the facts a case carries"),
    ("levels", .entries(.object(level)), "the levels, highest first"),
    ("categories", .entries(.object(category)), "the categories of harmful information"),
    ("roles", .entries(.object(role)), "who is told, and how"),
    ("reports", .entries(.object(report)), "the reports a level requires"),
    ("duties", .entries(.object(levelDuties)), "what each level triggers"),
    ("gates", .list(.object(gate)), "what a transition needs first"),
    ("refund_approval", .object(refundApproval), "who approves compensation"),
    ("deadlines", .entries(.anyOf([.list(.object(deadlineRule)), .object(deadline)])), "the deadlines"),
    ("calendars", .entries(.object(calendar)), "business calendars"),
    ("keyword_lists", .list(.text), "TSV files of keywords, relative to the rule file"),
    ("harmful_information", .object(harmfulInformation), "duties for harmful information"),
    ("deadline_alerts", .entries(.list(.object(deadlineAlert))), "notices around each deadline"),
    ("approval_requests", .list(.object(duty)), "who hears that an approval is wanted"),
    ("permissions", .object(permissions), "who may do what"),
    ("satisfaction", .entries(.anyOf([.text, .object(satisfactionLevel)])), "the follow-up's answers"),
    ("measures", .entries(.object(measure)), "the quality bulletin's measures"),
  ]
}
