import OmbudsSyntax

// The message catalogue of the rule checks: every diagnostic's message and help is built here,
// from typed arguments, in English and Chinese. The English is exactly what `rules-check`
// always printed (the golden files hold it); the Chinese is written for the officers who
// edit the rule files. Ids of the rule set are `\(.level, id)` pieces: the loader shows
// their labels beside them (`hot`（热点投诉）).

/// Where a value is: "field `channel`", "refund tier", "deadline alert of `resolve_by`".
typealias Context = LocalizedText

extension LocalizedText {
  /// A part of this context: "level `hot` label" / "级别 `hot` 的 `label`".
  func key(_ key: String) -> LocalizedText {
    LocalizedText(en: "\(en) \(key)", zh: "\(self) 的 `\(key)`")
  }

  /// A part of this context named in words: "calendar `cn` holiday" / "日历 `cn` 的假日".
  func part(_ en: String, _ zh: String) -> LocalizedText {
    LocalizedText(en: "\(self.en) \(en)", zh: "\(self) 的\(zh)")
  }
}

/// The contexts values are read in.
enum Ctx {
  static func level(_ id: String) -> Context { Context(en: "level `\(id)`", zh: "级别 \(.level, id)") }
  static func field(_ id: String) -> Context { Context(en: "field `\(id)`", zh: "字段 \(.field, id)") }
  static func role(_ id: String) -> Context { Context(en: "role `\(id)`", zh: "角色 \(.role, id)") }
  static func report(_ id: String) -> Context { Context(en: "report `\(id)`", zh: "报表 \(.report, id)") }
  static func category(_ id: String) -> Context { Context(en: "category `\(id)`", zh: "类别 \(.category, id)") }
  static func calendar(_ id: String) -> Context { Context(en: "calendar `\(id)`", zh: "日历 \(.calendar, id)") }
  static func deadline(_ id: String) -> Context { Context(en: "deadline `\(id)`", zh: "期限 \(.deadline, id)") }
  static func measure(_ id: String) -> Context { Context(en: "measure `\(id)`", zh: "指标 \(.measure, id)") }
  static func satisfaction(_ id: String) -> Context {
    Context(en: "satisfaction `\(id)`", zh: "满意度 `\(id)`")
  }
  static func duties(_ level: String) -> Context { Context(en: "duties of `\(level)`", zh: "\(.level, level) 的职责") }
  static func deadlineAlert(_ deadline: String) -> Context {
    Context(en: "deadline alert of `\(deadline)`", zh: "\(.deadline, deadline) 的期限提醒")
  }
  /// A section or key written as code: "`permissions`".
  static func code(_ name: String) -> Context { Context(en: "`\(name)`", zh: "`\(name)`") }
  /// A dotted key path, the same in both languages: "settings.time_zone".
  static func path(_ path: String) -> Context { Context(en: path, zh: "`\(path)`") }
  /// A context named in words.
  static func words(_ en: String, _ zh: String) -> Context { Context(en: en, zh: ZH(stringLiteral: zh)) }
}

/// What a value should have been, for `rules.type`.
enum Expected {
  static let mapping = LocalizedText(en: "a mapping", zh: "映射")
  static let text = LocalizedText(en: "text", zh: "文本")
  static let id = LocalizedText(en: "an id (letters, digits, _)", zh: "id（字母、数字、_）")
  static let bool = LocalizedText(en: "true or false", zh: "true 或 false")
  static let wholeNumber = LocalizedText(en: "a whole number", zh: "整数")
  static let decimal = LocalizedText(en: "a decimal number", zh: "小数")
  static let list = LocalizedText(en: "a list", zh: "列表")
  static let date = LocalizedText(en: "a date (YYYY-MM-DD)", zh: "日期（YYYY-MM-DD）")
  static let condition = LocalizedText(en: "a condition", zh: "条件")
  static let duration = LocalizedText(
    en: "a duration such as `7 days` or `10 working days`", zh: "时长，如 `7 days` 或 `10 working days`")
  static let amount = LocalizedText(en: "an amount such as `500 CNY`", zh: "金额，如 `500 CNY`")
  static func words(_ en: String, _ zh: String) -> LocalizedText { LocalizedText(en: en, zh: ZH(stringLiteral: zh)) }
}

/// The messages and helps of the rule checks.
enum Messages {
  /// What a node is, for "found …".
  static func found(_ node: YAMLNode) -> LocalizedText {
    switch node {
    case .scalar(let s, _):
      s.value.isEmpty ? LocalizedText(en: "nothing", zh: "空值") : LocalizedText(verbatim: "`\(s.value)`")
    case .sequence: LocalizedText(en: node.kindName, zh: "列表")
    case .mapping: LocalizedText(en: node.kindName, zh: "映射")
    }
  }

  static func typeError(_ context: Context, expected: LocalizedText, found: LocalizedText) -> LocalizedText {
    LocalizedText(
      en: "\(context.en): expected \(expected.en), found \(found.en)", zh: "\(context)：应为 \(expected)，实际为 \(found)")
  }

  static func unknownKey(_ key: String, in context: Context) -> LocalizedText {
    LocalizedText(en: "unknown key `\(key)` in \(context.en)", zh: "未知的键 `\(key)`（位于 \(context)）")
  }

  static func allowedHere(_ keys: [String]) -> LocalizedText {
    LocalizedText(
      en: "allowed here: \(keys.joined(separator: ", "))", zh: "此处可用的键：\(keys.joined(separator: "、"))")
  }

  static func missingKey(_ key: String, in context: Context) -> LocalizedText {
    LocalizedText(en: "\(context.en) needs `\(key)`", zh: "\(context) 缺少 `\(key)`")
  }

  static func wholeNumberRange(_ context: Context, _ text: String) -> LocalizedText {
    LocalizedText(
      en: "\(context.en): `\(text)` is out of range: whole numbers are at most \(Int64.max)",
      zh: "\(context)：`\(text)` 超出范围：整数最大为 \(Int64.max)")
  }

  static func decimalRange(_ context: Context, _ text: String) -> LocalizedText {
    LocalizedText(
      en:
        "\(context.en): `\(text)` is out of range: decimals have at most \(Money.scaleDigits) places and are at most \(Money.format(units: Int64.max))",
      zh: "\(context)：`\(text)` 超出范围：小数最多 \(Money.scaleDigits) 位，最大为 \(Money.format(units: Int64.max))")
  }

  static func invalidDate(_ text: String) -> LocalizedText {
    LocalizedText(en: "`\(text)` is not a valid date", zh: "`\(text)` 不是有效的日期")
  }

  static let writeDates = LocalizedText(
    en: "write dates as YYYY-MM-DD, e.g. 2025-10-01", zh: "日期请写成 YYYY-MM-DD，例如 2025-10-01")

  static func nonPositiveDuration(_ d: String) -> LocalizedText {
    LocalizedText(en: "duration `\(d)` must be longer than zero", zh: "时长 `\(d)` 必须大于零")
  }

  static func wrongCurrency(_ found: String, policy: String) -> LocalizedText {
    LocalizedText(
      en: "amount is in \(found) but this policy compares in \(policy)",
      zh: "金额的币种是 \(found)，但本政策按 \(policy) 比较")
  }

  static func writeAmountIn(_ currency: String) -> LocalizedText {
    LocalizedText(en: "write the amount in \(currency)", zh: "请以 \(currency) 填写金额")
  }
}

// MARK: - Calendars

extension Messages {
  static func unknownTimeZone(_ id: String) -> LocalizedText {
    LocalizedText(en: "unknown time zone `\(id)`", zh: "未知的时区 `\(id)`")
  }
  static let useIANAName = LocalizedText(
    en: "use an IANA name such as Asia/Shanghai", zh: "请使用 IANA 时区名，例如 Asia/Shanghai")
  static func notAWeekday(_ s: String) -> LocalizedText {
    LocalizedText(en: "`\(s)` is not a weekday", zh: "`\(s)` 不是星期几的名称")
  }
  static func coversYear(_ context: Context, _ year: Int64) -> LocalizedText {
    LocalizedText(
      en: "\(context.en) covers: \(year) is not a year between 1900 and 2200",
      zh: "\(context) 的 `covers`：\(year) 不是 1900 到 2200 之间的年份")
  }
  static func holidayNeeds(has: String, needs: String) -> LocalizedText {
    LocalizedText(en: "a holiday with `\(has)` needs `\(needs)`", zh: "写了 `\(has)` 的假日还需要 `\(needs)`")
  }
  static func holidayEndsBeforeStart(to: String, from: String) -> LocalizedText {
    LocalizedText(en: "holiday ends (\(to)) before it starts (\(from))", zh: "假日的结束日期（\(to)）早于开始日期（\(from)）")
  }
  static let startsHere = LocalizedText(en: "starts here", zh: "开始日期在此")
  static let holidayTooLong = LocalizedText(en: "holiday is longer than a year", zh: "假日超过一年")
  static let holidayNeedsDates = LocalizedText(
    en: "a holiday needs `dates` or `from` and `to`", zh: "假日需要 `dates`，或者 `from` 和 `to`")
  static func holidayOutsideCovers(_ d: String, covers: [Int]) -> LocalizedText {
    LocalizedText(
      en: "holiday \(d) is outside the years this calendar covers (\(covers.map(String.init).joined(separator: ", ")))",
      zh: "假日 \(d) 不在本日历覆盖的年份内（\(covers.map(String.init).joined(separator: "、"))）")
  }
  static func addToCovers(_ year: Int) -> LocalizedText {
    LocalizedText(en: "add \(year) to `covers`", zh: "请把 \(year) 加入 `covers`")
  }
  static func holidayAndWorkingDay(_ d: String) -> LocalizedText {
    LocalizedText(en: "\(d) is both a holiday and a working day", zh: "\(d) 既是假日又是工作日")
  }
  static let listedAsHoliday = LocalizedText(en: "listed as a holiday here", zh: "此处列为假日")
  static let weekdaysZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]
  static let weekdaysEN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
  static func alreadyWorkingDay(_ d: String, weekday: Int) -> LocalizedText {
    LocalizedText(
      en: "\(d) is a \(weekdaysEN[weekday]) and already a working day", zh: "\(d) 是\(weekdaysZH[weekday])，本来就是工作日")
  }
  static func invalidTime(_ context: Context, _ text: String) -> LocalizedText {
    LocalizedText(
      en: "\(context.en): expected a time such as `09:00`, found `\(text)`",
      zh: "\(context)：应为时间，如 `09:00`，实际为 `\(text)`")
  }
  static func officeHoursReversed(_ context: Context) -> LocalizedText {
    LocalizedText(en: "\(context.en): office hours end before they start", zh: "\(context)：办公时间的结束早于开始")
  }
}

// MARK: - References

extension Messages {
  /// The words for a kind of id: "level" / "级别".
  static func kindName(_ kind: LabelKind) -> (en: String, zh: String) {
    switch kind {
    case .level: ("level", "级别")
    case .field: ("field", "字段")
    case .role: ("role", "角色")
    case .category: ("category", "类别")
    case .report: ("report", "报表")
    case .calendar: ("calendar", "日历")
    case .deadline: ("deadline", "期限")
    case .measure: ("measure", "指标")
    }
  }
  /// "undefined level `x`" / "未定义的级别 `x`".
  static func undefined(_ kind: LabelKind, _ id: String) -> LocalizedText {
    let name = kindName(kind)
    return LocalizedText(en: "undefined \(name.en) `\(id)`", zh: "未定义的\(name.zh) `\(id)`")
  }
  /// "define it under `levels:`".
  static func defineUnder(_ section: String) -> LocalizedText {
    LocalizedText(en: "define it under `\(section):`", zh: "请在 `\(section):` 下定义")
  }
}

// MARK: - Loading

extension Messages {
  static func moreNotShown(_ n: Int) -> LocalizedText {
    LocalizedText(en: "\(n) more diagnostics not shown", zh: "另有 \(n) 条诊断未显示")
  }
  static func noSuchPath(_ path: String) -> LocalizedText {
    LocalizedText(en: "cannot read `\(path)`: no such file or directory", zh: "无法读取 `\(path)`：没有这个文件或目录")
  }
  static func cannotRead(_ path: String) -> LocalizedText {
    LocalizedText(en: "cannot read `\(path)`", zh: "无法读取 `\(path)`")
  }
  static func noRuleFiles(_ place: String) -> LocalizedText {
    LocalizedText(en: "no rule files (*.yaml) in `\(place)`", zh: "`\(place)` 中没有规则文件（*.yaml）")
  }
}

// MARK: - Shared notes

extension Messages {
  static let firstDefinedHere = LocalizedText(en: "first defined here", zh: "首次定义在此")
  static let firstListedHere = LocalizedText(en: "first listed here", zh: "首次列出在此")
  static let alsoListedHere = LocalizedText(en: "also listed here", zh: "此处也列了")
}

extension Messages {
  static func unknownField(_ name: String) -> LocalizedText {
    LocalizedText(en: "unknown field `\(name)`", zh: "未知的字段 `\(name)`")
  }
  static let declareField = LocalizedText(en: "declare it under `fields:`", zh: "请在 `fields:` 下声明")
  static let workingDaysNeedCalendar = LocalizedText(
    en: "working days need a business calendar; none is defined", zh: "工作日需要工作日历，但没有定义任何日历")
  /// "undefined recipient `x`": `what` is role, approver or recipient.
  static func undefinedRole(as what: String, _ id: String) -> LocalizedText {
    let zh =
      switch what {
      case "approver": "审批人"
      case "recipient": "接收人"
      case "override role": "可人工定级的角色"
      default: "角色"
      }
    return LocalizedText(en: "undefined \(what) `\(id)`", zh: "未定义的\(zh) `\(id)`")
  }
  /// "amounts above 400.00 up to 500.00 CNY have no approver".
  static func noApprover(from: String, upTo: String?, _ currency: String) -> LocalizedText {
    guard let upTo else {
      return LocalizedText(
        en: "amounts above \(from) \(currency) have no approver", zh: "高于 \(from) \(currency) 的金额没有审批人")
    }
    return LocalizedText(
      en: "amounts above \(from) up to \(upTo) \(currency) have no approver",
      zh: "高于 \(from) 且不超过 \(upTo) \(currency) 的金额没有审批人")
  }
}

// MARK: - Screening (categories, keywords)

extension Messages {
  static func cannotReadKeywordList(_ relative: String, _ path: String) -> LocalizedText {
    LocalizedText(
      en: "cannot read keyword list `\(relative)` (looked for \(path))", zh: "无法读取关键词表 `\(relative)`（查找的是 \(path)）")
  }
  static func tooManyCategories(_ count: Int) -> LocalizedText {
    LocalizedText(
      en: "a rule set holds at most 64 categories; this is number 65 of \(count)",
      zh: "一个规则集最多 64 个类别；这是第 65 个（共 \(count) 个）")
  }
  static func emptyCategory(_ id: String) -> LocalizedText {
    LocalizedText(en: "category `\(id)` has no keywords", zh: "类别 \(.category, id) 没有关键词")
  }
  static let listKeywords = LocalizedText(
    en: "list its keywords under `keywords:`, or import a list", zh: "请在 `keywords:` 下列出关键词，或导入关键词表")
  static func emptyKeyword(keyword: String) -> LocalizedText {
    LocalizedText(
      en: "keyword `\(keyword)` is only spaces, punctuation or symbols, which matching ignores",
      zh: "关键词 `\(keyword)` 只有空格、标点或符号，匹配时会被忽略")
  }
  static func emptyKeyword(exception: String) -> LocalizedText {
    LocalizedText(
      en: "exception `\(exception)` is only spaces, punctuation or symbols, which matching ignores",
      zh: "例外 `\(exception)` 只有空格、标点或符号，匹配时会被忽略")
  }
  static func keywordTwice(_ keyword: String, in category: String) -> LocalizedText {
    LocalizedText(
      en: "keyword `\(keyword)` is listed twice in `\(category)`", zh: "关键词 `\(keyword)` 在 \(.category, category) 中列了两次"
    )
  }
  static func keywordInTwo(_ keyword: String, _ first: String, _ second: String) -> LocalizedText {
    LocalizedText(
      en: "keyword `\(keyword)` is in `\(first)` and in `\(second)`",
      zh: "关键词 `\(keyword)` 同时在 \(.category, first) 和 \(.category, second) 中")
  }
  static let keepInOneCategory = LocalizedText(en: "keep it in one category", zh: "请只保留在一个类别中")
  static func keywordSwallowed(_ keyword: String, by exception: String) -> LocalizedText {
    LocalizedText(
      en: "keyword `\(keyword)` can never be reported: the exception `\(exception)` lies inside every match of it",
      zh: "关键词 `\(keyword)` 永远不会被报告：它的每次匹配都包含在例外 `\(exception)` 之中")
  }
  static let exceptionHere = LocalizedText(en: "exception here", zh: "例外在此")
}

// MARK: - Permissions and measures

extension Messages {
  static func nounZH(_ noun: String) -> String {
    switch noun {
    case "event type": "事件类型"
    case "event types": "事件类型"
    case "view": "视图"
    case "views": "视图"
    case "deadlines": "期限"
    case "satisfaction": "满意度"
    default: noun
    }
  }
  /// "unknown event type `acept`".
  static func unknownListed(_ noun: String, _ id: String) -> LocalizedText {
    LocalizedText(en: "unknown \(noun) `\(id)`", zh: "未知的\(nounZH(noun)) `\(id)`")
  }
  /// "event types: accept, …".
  static func listedWords(_ listName: String, _ words: [String]) -> LocalizedText {
    LocalizedText(
      en: "\(listName): \(words.joined(separator: ", "))", zh: "可用的\(nounZH(listName))：\(words.joined(separator: "、"))")
  }
  /// "view `cases` is listed twice for role `handler`".
  static func listedTwice(_ noun: String?, _ id: String, for holder: LocalizedText) -> LocalizedText {
    LocalizedText(
      en: "\(noun.map { $0 + " " } ?? "")`\(id)` is listed twice for \(holder.en)",
      zh: "\(noun.map { nounZH($0) + " " } ?? "")`\(id)` 在\(holder)的权限中列了两次")
  }
}

// MARK: - Conditions

extension Messages {
  static func notAValue(_ value: String, of field: String) -> LocalizedText {
    LocalizedText(en: "`\(value)` is not a value of `\(field)`", zh: "`\(value)` 不是 \(.field, field) 的取值")
  }
  static func values(_ values: [String]) -> LocalizedText {
    LocalizedText(en: "values: \(values.joined(separator: ", "))", zh: "可用的取值：\(values.joined(separator: "、"))")
  }
}

extension Messages {
  /// "`major` condition here".
  static func conditionOf(_ level: String) -> LocalizedText {
    LocalizedText(en: "`\(level)` condition here", zh: "\(.level, level) 的条件在此")
  }
}
