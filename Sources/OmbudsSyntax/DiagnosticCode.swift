// The one registry of diagnostic codes: each code's id, the severities it comes with, and
// its one-line meaning in English and Chinese. `Documentation/Diagnostics.md` explains each at length; a test
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
  /// What is wrong, in one line, in Chinese.
  public let meaningZH: String

  init(_ id: String, _ severities: [Severity], _ meaning: String, _ meaningZH: String) {
    self.id = id
    self.severities = severities
    self.meaning = meaning
    self.meaningZH = meaningZH
  }

  /// The one-line meaning in `language`.
  public func meaning(_ language: Language) -> String { language == .en ? meaning : meaningZH }

  public var description: String { id }

  /// The code with this id, if there is one.
  public static func named(_ id: String) -> DiagnosticCode? { all.first { $0.id == id } }

  public static let yamlTooLarge = DiagnosticCode("yaml.too-large", [.error], "file larger than 8 MiB", "文件大于 8 MiB")
  public static let yamlInvalidUtf8 = DiagnosticCode(
    "yaml.invalid-utf8", [.error], "file is not UTF-8", "文件不是 UTF-8 编码")
  public static let yamlTab = DiagnosticCode("yaml.tab", [.error], "tab used for indentation", "用制表符缩进")
  public static let yamlSyntax = DiagnosticCode("yaml.syntax", [.error], "not valid YAML", "不是有效的 YAML")
  public static let yamlMultipleDocuments = DiagnosticCode(
    "yaml.multiple-documents", [.error], "`---` separates several documents", "用 `---` 分隔了多个文档")
  public static let yamlAlias = DiagnosticCode(
    "yaml.alias", [.error], "anchor `&x` or alias `*x`", "使用了锚点 `&x` 或别名 `*x`")
  public static let yamlTooDeep = DiagnosticCode("yaml.too-deep", [.error], "nested more than 64 levels", "嵌套超过 64 层")
  public static let yamlTooManyNodes = DiagnosticCode(
    "yaml.too-many-nodes", [.error], "more than 500,000 values", "超过 500,000 个值")
  public static let yamlDuplicateKey = DiagnosticCode(
    "yaml.duplicate-key", [.error], "the same key twice in a mapping", "同一映射中出现两次相同的键")
  public static let yamlComplexKey = DiagnosticCode(
    "yaml.complex-key", [.error], "a list or mapping used as a key", "用列表或映射作键")
  public static let yamlInternal = DiagnosticCode(
    "yaml.internal", [.error], "the YAML library could not start", "YAML 库无法启动")
  public static let io = DiagnosticCode("rules.io", [.error], "a path or keyword list cannot be read", "无法读取路径或关键词表")
  public static let empty = DiagnosticCode("rules.empty", [.error], "no rule files", "没有规则文件")
  public static let unknownKey = DiagnosticCode(
    "rules.unknown-key", [.error], "a key the language does not have", "规则语言中没有的键")
  public static let missingKey = DiagnosticCode("rules.missing-key", [.error], "a required key is missing", "缺少必需的键")
  public static let type = DiagnosticCode(
    "rules.type", [.error], "a value of the wrong kind: a list where one value belongs, text where a number belongs",
    "值的种类不对：该写一个值的地方写了列表，该写数字的地方写了文本")
  public static let invalidId = DiagnosticCode(
    "rules.invalid-id", [.error], "an id that is not letters, digits and `_`", "id 不是由字母、数字和 `_` 组成")
  public static let unknownType = DiagnosticCode(
    "rules.unknown-type", [.error], "a field type the language does not have", "规则语言中没有的字段类型")
  public static let emptyEnum = DiagnosticCode("rules.empty-enum", [.error], "an enum field with no values", "枚举字段没有取值")
  public static let tooManyValues = DiagnosticCode(
    "rules.too-many-values", [.error], "an enum field with more than 64 values", "枚举字段的取值超过 64 个")
  public static let invalidDefault = DiagnosticCode(
    "rules.invalid-default", [.error],
    "a default a field cannot have: null on a required field, any default on a timestamp",
    "字段不能有的默认值：必填字段默认为 null，时间戳字段有默认值")
  public static let defaultOutOfRange = DiagnosticCode(
    "rules.default-out-of-range", [.error], "a field's default below its `min` or above its `max`",
    "字段的默认值小于 `min` 或大于 `max`")
  public static let conditionShape = DiagnosticCode(
    "rules.condition-shape", [.error],
    "a condition block written wrong: two modes, an empty list, a mapping with other keys",
    "条件块写法不对：两种写法并用、列表为空、映射中有其他键")
  public static let trueOnly = DiagnosticCode(
    "rules.true-only", [.error], "`otherwise: false` or `on_breach: false`: a flag that is `true` or left out",
    "`otherwise: false` 或 `on_breach: false`：此类标志只能是 `true` 或省略")
  public static let invalidCurrency = DiagnosticCode(
    "rules.invalid-currency", [.error], "a currency that is not three capital letters", "币种不是三个大写字母")
  public static let invalidEnvName = DiagnosticCode(
    "rules.invalid-env-name", [.error], "an environment variable name that is not letters, digits and `_`",
    "环境变量名不是由字母、数字和 `_` 组成")
  public static let invalidTime = DiagnosticCode(
    "rules.invalid-time", [.error], "an office-hours time not written `HH:MM`", "办公时间没有写成 `HH:MM`")
  public static let keywordLine = DiagnosticCode(
    "rules.keyword-line", [.error], "a keyword list line without a tab", "关键词表中某行没有制表符")
  public static let duplicateDefinition = DiagnosticCode(
    "rules.duplicate-definition", [.error], "an id defined twice", "同一个 id 定义了两次")
  public static let exprSyntax = DiagnosticCode("rules.expr-syntax", [.error], "a condition cannot be read", "条件无法读懂")
  public static let unknownField = DiagnosticCode("rules.unknown-field", [.error], "a fact nobody declared", "没有声明的事实")
  public static let unknownValue = DiagnosticCode(
    "rules.unknown-value", [.error], "not one of the allowed values", "不是允许的取值之一")
  public static let typeMismatch = DiagnosticCode(
    "rules.type-mismatch", [.error, .warning], "a value that does not fit the fact's type", "值与该事实的类型不符")
  public static let unknownFunction = DiagnosticCode(
    "rules.unknown-function", [.error], "a function that does not exist", "不存在的函数")
  public static let undefinedLevel = DiagnosticCode(
    "rules.undefined-level", [.error], "a level id not defined", "未定义的级别 id")
  public static let undefinedCategory = DiagnosticCode(
    "rules.undefined-category", [.error], "a category id not defined (in a keyword list)", "未定义的类别 id（在关键词表中）")
  public static let undefinedRole = DiagnosticCode(
    "rules.undefined-role", [.error], "a role id not defined", "未定义的角色 id")
  public static let undefinedCalendar = DiagnosticCode(
    "rules.undefined-calendar", [.error], "a calendar id not defined, or no calendar for working days",
    "未定义的日历 id，或计算工作日时没有日历")
  public static let undefinedReport = DiagnosticCode(
    "rules.undefined-report", [.error], "a report id not defined", "未定义的报表 id")
  public static let undefinedDeadline = DiagnosticCode(
    "rules.undefined-deadline", [.error], "a deadline id not defined (in `deadline_alerts` or `measures`)",
    "未定义的期限 id（在 `deadline_alerts` 或 `measures` 中）")
  public static let levelInversion = DiagnosticCode(
    "rules.level-inversion", [.error], "a higher level looser than a lower one", "较高级别的条件比较低级别更宽松")
  public static let shadowedCondition = DiagnosticCode(
    "rules.shadowed-condition", [.warning], "a lower level repeats a higher level's condition", "较低级别重复了较高级别的条件")
  public static let unreachableLevel = DiagnosticCode(
    "rules.unreachable-level", [.error], "a level or condition that can never decide", "永远不会起作用的级别或条件")
  public static let noFallbackLevel = DiagnosticCode(
    "rules.no-fallback-level", [.error], "no `otherwise: true` level", "没有 `otherwise: true` 的级别")
  public static let tooManyConditions = DiagnosticCode(
    "rules.too-many-conditions", [.error], "a level lists more than 64 conditions", "一个级别列出的条件超过 64 条")
  public static let tooManyLevels = DiagnosticCode(
    "rules.too-many-levels", [.error], "a rule set defines more than 32 levels", "规则集定义的级别超过 32 个")
  public static let tooManyCategories = DiagnosticCode(
    "rules.too-many-categories", [.error], "more than 64 harmful-information categories", "有害信息类别超过 64 个")
  public static let tierGap = DiagnosticCode("rules.tier-gap", [.error], "amounts with no approver", "有的金额没有审批人")
  public static let tierOverlap = DiagnosticCode("rules.tier-overlap", [.error], "amounts in two tiers", "有的金额落在两个档位中")
  public static let tierCurrency = DiagnosticCode(
    "rules.tier-currency", [.error], "an amount in the wrong currency", "金额的币种不对")
  public static let numberRange = DiagnosticCode(
    "rules.number-range", [.error], "a number too large, too precise, or too long a duration", "数字太大、小数位太多，或时长太长")
  public static let nonPositiveDuration = DiagnosticCode(
    "rules.non-positive-duration", [.error], "a zero or negative duration", "时长为零或负数")
  public static let invalidDate = DiagnosticCode(
    "rules.invalid-date", [.error], "not a real `YYYY-MM-DD` date", "不是真实存在的 `YYYY-MM-DD` 日期")
  public static let holidayConflict = DiagnosticCode(
    "rules.holiday-conflict", [.error], "a date both holiday and working day", "同一天既是假日又是工作日")
  public static let dateRange = DiagnosticCode(
    "rules.date-range", [.error],
    "a holiday that ends before it starts or lasts over a year; office hours that end before they start",
    "假日的结束早于开始或超过一年；办公时间的结束早于开始")
  public static let redundantWorkingDay = DiagnosticCode(
    "rules.redundant-working-day", [.warning], "a make-up working day that is a weekday anyway", "调休工作日本来就是工作日")
  public static let unknownTimeZone = DiagnosticCode(
    "rules.unknown-time-zone", [.error], "not an IANA time zone", "不是 IANA 时区")
  public static let levelInLevelCondition = DiagnosticCode(
    "rules.level-in-level-condition", [.error], "a level's condition mentions `level`", "级别的条件中提到了 `level`")
  public static let calendarCoverage = DiagnosticCode(
    "rules.calendar-coverage", [.warning], "a holiday outside the covered years", "假日不在日历覆盖的年份内")
  public static let emptyCategory = DiagnosticCode(
    "rules.empty-category", [.error], "a category without keywords", "类别没有关键词")
  public static let emptyKeyword = DiagnosticCode(
    "rules.empty-keyword", [.error], "a keyword or exception that is only punctuation or spaces", "关键词或例外只有标点或空格")
  public static let duplicateKeyword = DiagnosticCode(
    "rules.duplicate-keyword", [.warning], "a keyword listed twice", "同一关键词列了两次")
  public static let keywordSwallowed = DiagnosticCode(
    "rules.keyword-swallowed", [.warning], "an exception hides every match of a keyword", "例外遮住了某个关键词的所有匹配")
  public static let unknownMatchMode = DiagnosticCode(
    "rules.unknown-match-mode", [.error], "a category's `match:` names a mode that does not exist",
    "类别的 `match:` 写了不存在的匹配方式")
  public static let shortPinyinKeyword = DiagnosticCode(
    "rules.short-pinyin-keyword", [.warning], "a keyword too short in pinyin to match on syllables safely",
    "关键词的拼音太短，按音节匹配会误报")
  public static let invalidUrl = DiagnosticCode(
    "rules.invalid-url", [.error], "a webhook `url` that is not `http://` or `https://`",
    "webhook 的 `url` 不是 `http://` 或 `https://`")
  public static let unusedChannel = DiagnosticCode(
    "rules.unused-channel", [.warning], "a role with a `webhook:` but without the `webhook` channel",
    "角色有 `webhook:`，但渠道中没有 `webhook`")
  public static let unknownEventType = DiagnosticCode(
    "rules.unknown-event-type", [.error], "an event type the case store does not have (in `permissions` or `measures`)",
    "案件库中没有的事件类型（在 `permissions` 或 `measures` 中）")
  public static let overridePermission = DiagnosticCode(
    "rules.override-permission", [.error], "`override` granted to someone other than the `settings.override_by` role",
    "`override` 授予了 `settings.override_by` 以外的角色")
  public static let duplicatePermission = DiagnosticCode(
    "rules.duplicate-permission", [.warning], "an event type listed twice in one entry of `permissions`",
    "`permissions` 的同一条目中某事件类型列了两次")
  public static let undefinedSatisfaction = DiagnosticCode(
    "rules.undefined-satisfaction", [.error], "a satisfaction id not defined (in `measures`)",
    "未定义的满意度 id（在 `measures` 中）")
  public static let measureFloor = DiagnosticCode(
    "rules.measure-floor", [.error], "a measure's floor outside 0–100 %", "指标的下限不在 0–100 % 之间")
  public static let tooManyDiagnostics = DiagnosticCode(
    "rules.too-many-diagnostics", [.error], "more than 500 diagnostics", "诊断超过 500 条")
  public static let compile = DiagnosticCode(
    "rules.compile", [.error], "the checked rule set could not be compiled", "检查通过的规则集无法编译")
  public static let testFailed = DiagnosticCode("test.failed", [.error], "a rule test did not hold", "规则测试不成立")
  public static let testInvalid = DiagnosticCode("test.invalid", [.error], "a rule test cannot be run", "规则测试无法运行")

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
