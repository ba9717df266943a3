// The one registry of diagnostic codes: each code's id, the severities it comes with, and
// its one-line meaning. `Documentation/Diagnostics.md` explains each at length; a test
// checks that its index lists exactly these, with the same severities and meanings.

/// A stable diagnostic code, such as `rules.unknown-key`. Every code a diagnostic can carry
/// is one of the static members below and is listed in `all`.
public struct DiagnosticCode: Sendable, Hashable, CustomStringConvertible {
  /// The stable id tools and tests match on.
  public let id: String
  /// The severities diagnostics with this code have.
  public let severities: [Severity]
  /// What is wrong, in one line.
  public let meaning: String

  init(_ id: String, _ severities: [Severity], _ meaning: String) {
    self.id = id
    self.severities = severities
    self.meaning = meaning
  }

  public var description: String { id }

  /// The code with this id, if there is one.
  public static func named(_ id: String) -> DiagnosticCode? { all.first { $0.id == id } }

  public static let yamlTooLarge = DiagnosticCode("yaml.too-large", [.error], "file larger than 8 MiB")
  public static let yamlInvalidUtf8 = DiagnosticCode("yaml.invalid-utf8", [.error], "file is not UTF-8")
  public static let yamlTab = DiagnosticCode("yaml.tab", [.error], "tab used for indentation")
  public static let yamlSyntax = DiagnosticCode("yaml.syntax", [.error], "not valid YAML")
  public static let yamlMultipleDocuments = DiagnosticCode(
    "yaml.multiple-documents", [.error], "`---` separates several documents")
  public static let yamlAlias = DiagnosticCode("yaml.alias", [.error], "anchor `&x` or alias `*x`")
  public static let yamlTooDeep = DiagnosticCode("yaml.too-deep", [.error], "nested more than 64 levels")
  public static let yamlTooManyNodes = DiagnosticCode("yaml.too-many-nodes", [.error], "more than 500,000 values")
  public static let yamlDuplicateKey = DiagnosticCode("yaml.duplicate-key", [.error], "the same key twice in a mapping")
  public static let yamlComplexKey = DiagnosticCode("yaml.complex-key", [.error], "a list or mapping used as a key")
  public static let yamlInternal = DiagnosticCode("yaml.internal", [.error], "the YAML library could not start")
  public static let io = DiagnosticCode("rules.io", [.error], "a path or keyword list cannot be read")
  public static let empty = DiagnosticCode("rules.empty", [.error], "no rule files")
  public static let unknownKey = DiagnosticCode("rules.unknown-key", [.error], "a key the language does not have")
  public static let missingKey = DiagnosticCode("rules.missing-key", [.error], "a required key is missing")
  public static let type = DiagnosticCode(
    "rules.type", [.error], "a value of the wrong kind: a list where one value belongs, text where a number belongs")
  public static let invalidId = DiagnosticCode(
    "rules.invalid-id", [.error], "an id that is not letters, digits and `_`")
  public static let unknownType = DiagnosticCode(
    "rules.unknown-type", [.error], "a field type the language does not have")
  public static let emptyEnum = DiagnosticCode("rules.empty-enum", [.error], "an enum field with no values")
  public static let tooManyValues = DiagnosticCode(
    "rules.too-many-values", [.error], "an enum field with more than 64 values")
  public static let invalidDefault = DiagnosticCode(
    "rules.invalid-default", [.error],
    "a default a field cannot have: null on a required field, any default on a timestamp")
  public static let defaultOutOfRange = DiagnosticCode(
    "rules.default-out-of-range", [.error], "a field's default below its `min` or above its `max`")
  public static let conditionShape = DiagnosticCode(
    "rules.condition-shape", [.error],
    "a condition block written wrong: two modes, an empty list, a mapping with other keys")
  public static let trueOnly = DiagnosticCode(
    "rules.true-only", [.error], "`otherwise: false` or `on_breach: false`: a flag that is `true` or left out")
  public static let invalidCurrency = DiagnosticCode(
    "rules.invalid-currency", [.error], "a currency that is not three capital letters")
  public static let invalidEnvName = DiagnosticCode(
    "rules.invalid-env-name", [.error], "an environment variable name that is not letters, digits and `_`")
  public static let invalidTime = DiagnosticCode(
    "rules.invalid-time", [.error], "an office-hours time not written `HH:MM`")
  public static let keywordLine = DiagnosticCode("rules.keyword-line", [.error], "a keyword list line without a tab")
  public static let duplicateDefinition = DiagnosticCode("rules.duplicate-definition", [.error], "an id defined twice")
  public static let exprSyntax = DiagnosticCode("rules.expr-syntax", [.error], "a condition cannot be read")
  public static let unknownField = DiagnosticCode("rules.unknown-field", [.error], "a fact nobody declared")
  public static let unknownValue = DiagnosticCode("rules.unknown-value", [.error], "not one of the allowed values")
  public static let typeMismatch = DiagnosticCode(
    "rules.type-mismatch", [.error, .warning], "a value that does not fit the fact's type")
  public static let unknownFunction = DiagnosticCode(
    "rules.unknown-function", [.error], "a function that does not exist")
  public static let undefinedLevel = DiagnosticCode("rules.undefined-level", [.error], "a level id not defined")
  public static let undefinedCategory = DiagnosticCode(
    "rules.undefined-category", [.error], "a category id not defined (in a keyword list)")
  public static let undefinedRole = DiagnosticCode("rules.undefined-role", [.error], "a role id not defined")
  public static let undefinedCalendar = DiagnosticCode(
    "rules.undefined-calendar", [.error], "a calendar id not defined, or no calendar for working days")
  public static let undefinedReport = DiagnosticCode("rules.undefined-report", [.error], "a report id not defined")
  public static let undefinedDeadline = DiagnosticCode(
    "rules.undefined-deadline", [.error], "a deadline id not defined (in `deadline_alerts` or `measures`)")
  public static let levelInversion = DiagnosticCode(
    "rules.level-inversion", [.error], "a higher level looser than a lower one")
  public static let shadowedCondition = DiagnosticCode(
    "rules.shadowed-condition", [.warning], "a lower level repeats a higher level's condition")
  public static let unreachableLevel = DiagnosticCode(
    "rules.unreachable-level", [.error], "a level or condition that can never decide")
  public static let noFallbackLevel = DiagnosticCode("rules.no-fallback-level", [.error], "no `otherwise: true` level")
  public static let tooManyConditions = DiagnosticCode(
    "rules.too-many-conditions", [.error], "a level lists more than 64 conditions")
  public static let tooManyLevels = DiagnosticCode(
    "rules.too-many-levels", [.error], "a rule set defines more than 32 levels")
  public static let tooManyCategories = DiagnosticCode(
    "rules.too-many-categories", [.error], "more than 64 harmful-information categories")
  public static let tierGap = DiagnosticCode("rules.tier-gap", [.error], "amounts with no approver")
  public static let tierOverlap = DiagnosticCode("rules.tier-overlap", [.error], "amounts in two tiers")
  public static let tierCurrency = DiagnosticCode("rules.tier-currency", [.error], "an amount in the wrong currency")
  public static let numberRange = DiagnosticCode(
    "rules.number-range", [.error], "a number too large, too precise, or too long a duration")
  public static let nonPositiveDuration = DiagnosticCode(
    "rules.non-positive-duration", [.error], "a zero or negative duration")
  public static let invalidDate = DiagnosticCode("rules.invalid-date", [.error], "not a real `YYYY-MM-DD` date")
  public static let holidayConflict = DiagnosticCode(
    "rules.holiday-conflict", [.error], "a date both holiday and working day")
  public static let dateRange = DiagnosticCode(
    "rules.date-range", [.error],
    "a holiday that ends before it starts or lasts over a year; office hours that end before they start")
  public static let redundantWorkingDay = DiagnosticCode(
    "rules.redundant-working-day", [.warning], "a make-up working day that is a weekday anyway")
  public static let unknownTimeZone = DiagnosticCode("rules.unknown-time-zone", [.error], "not an IANA time zone")
  public static let levelInLevelCondition = DiagnosticCode(
    "rules.level-in-level-condition", [.error], "a level's condition mentions `level`")
  public static let calendarCoverage = DiagnosticCode(
    "rules.calendar-coverage", [.warning], "a holiday outside the covered years")
  public static let emptyCategory = DiagnosticCode("rules.empty-category", [.error], "a category without keywords")
  public static let emptyKeyword = DiagnosticCode(
    "rules.empty-keyword", [.error], "a keyword or exception that is only punctuation or spaces")
  public static let duplicateKeyword = DiagnosticCode("rules.duplicate-keyword", [.warning], "a keyword listed twice")
  public static let keywordSwallowed = DiagnosticCode(
    "rules.keyword-swallowed", [.warning], "an exception hides every match of a keyword")
  public static let unknownMatchMode = DiagnosticCode(
    "rules.unknown-match-mode", [.error], "a category's `match:` names a mode that does not exist")
  public static let shortPinyinKeyword = DiagnosticCode(
    "rules.short-pinyin-keyword", [.warning], "a keyword too short in pinyin to match on syllables safely")
  public static let invalidUrl = DiagnosticCode(
    "rules.invalid-url", [.error], "a webhook `url` that is not `http://` or `https://`")
  public static let unusedChannel = DiagnosticCode(
    "rules.unused-channel", [.warning], "a role with a `webhook:` but without the `webhook` channel")
  public static let unknownEventType = DiagnosticCode(
    "rules.unknown-event-type", [.error], "an event type the case store does not have (in `permissions` or `measures`)")
  public static let overridePermission = DiagnosticCode(
    "rules.override-permission", [.error], "`override` granted to someone other than the `settings.override_by` role")
  public static let duplicatePermission = DiagnosticCode(
    "rules.duplicate-permission", [.warning], "an event type listed twice in one entry of `permissions`")
  public static let undefinedSatisfaction = DiagnosticCode(
    "rules.undefined-satisfaction", [.error], "a satisfaction id not defined (in `measures`)")
  public static let measureFloor = DiagnosticCode(
    "rules.measure-floor", [.error], "a measure's floor outside 0–100 %")
  public static let tooManyDiagnostics = DiagnosticCode(
    "rules.too-many-diagnostics", [.error], "more than 500 diagnostics")
  public static let compile = DiagnosticCode("rules.compile", [.error], "the checked rule set could not be compiled")
  public static let testFailed = DiagnosticCode("test.failed", [.error], "a rule test did not hold")
  public static let testInvalid = DiagnosticCode("test.invalid", [.error], "a rule test cannot be run")

  /// Every code, in the catalogue's order.
  public static let all: [DiagnosticCode] = [
    yamlTooLarge, yamlInvalidUtf8, yamlTab, yamlSyntax, yamlMultipleDocuments, yamlAlias, yamlTooDeep, yamlTooManyNodes,
    yamlDuplicateKey, yamlComplexKey, yamlInternal, io, empty, unknownKey, missingKey, type, invalidId, unknownType,
    emptyEnum, tooManyValues, invalidDefault, defaultOutOfRange, conditionShape, trueOnly, invalidCurrency,
    invalidEnvName, invalidTime, keywordLine, duplicateDefinition, exprSyntax, unknownField, unknownValue, typeMismatch,
    unknownFunction, undefinedLevel, undefinedCategory, undefinedRole, undefinedCalendar, undefinedReport,
    undefinedDeadline, levelInversion, shadowedCondition, unreachableLevel, noFallbackLevel, tooManyConditions,
    tooManyLevels, tooManyCategories, tierGap, tierOverlap, tierCurrency, numberRange, nonPositiveDuration, invalidDate,
    holidayConflict, dateRange, redundantWorkingDay, unknownTimeZone, levelInLevelCondition, calendarCoverage,
    emptyCategory, emptyKeyword, duplicateKeyword, keywordSwallowed, unknownMatchMode, shortPinyinKeyword, invalidUrl,
    unusedChannel, unknownEventType,
    overridePermission, duplicatePermission, undefinedSatisfaction, measureFloor, tooManyDiagnostics,
    compile, testFailed, testInvalid,
  ]
}
