import OmbudsRules
import OmbudsSyntax

/// Renders explanations as text for people: Chinese with the rules' labels beside the ids,
/// or English with the ids. Times in the calendar's offset.
public struct ExplanationText: Sendable {
  public let rules: CompiledRules
  public let language: Language

  public init(rules: CompiledRules, language: Language) {
    self.rules = rules
    self.language = language
  }

  var zh: Bool { language == .zhCN }

  /// The whole explanation, one statement per line (facts indented under their condition).
  public func render(_ e: Explanation) -> String {
    var lines: [String] = []
    lines.append(
      zh
        ? "案件 \(e.caseID)：\(levelName(e.level))（评估时间 \(time(e.at))）"
        : "case \(e.caseID): \(e.level) (as of \(time(e.at)))")
    var heldHeader = false
    var missedHeader = false
    for item in e.items {
      switch item {
      case .held(let c):
        if !heldHeader {
          lines.append(zh ? "成立的条件：" : "conditions that held:")
          heldHeader = true
        }
        lines += condition(c, bullet: "  • ")
      case .missed(let c):
        if !missedHeader {
          lines.append(
            zh
              ? "未达到\(levelName(c.level))（上一级，最接近的在前）："
              : "not \(c.level) (the next level up), nearest miss first:")
          missedHeader = true
        }
        lines += condition(c, bullet: "  \(c.rank). ")
      default:
        lines += self.item(item).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// One item's text (several lines for a condition with several facts, or a deadline).
  public func item(_ item: Explanation.Item) -> String {
    switch item {
    case .held(let c): return condition(c, bullet: "").joined(separator: "\n")
    case .missed(let c):
      let head = zh ? "未达到\(levelName(c.level))：" : "not \(c.level): "
      return head + condition(c, bullet: "").joined(separator: "\n")
    case .otherwise(let level):
      return zh ? "\(levelName(level))：更高级别的条件均不成立" : "\(level): no higher level's conditions hold"
    case .kept(let level, let give):
      return zh
        ? "级别保持为\(levelName(level))（级别不会自行降低，或经人工定级）；按条件为\(levelName(give))"
        : "kept at \(level) (levels do not fall on their own, or a manual override); the conditions give \(give)"
    case .top(let level):
      return zh ? "\(levelName(level)) 已是最高级别" : "\(level) is the highest level"
    case .deadline(let d): return deadline(d).joined(separator: "\n")
    case .refund(let r): return refund(r)
    case .screening(let s): return screening(s)
    }
  }

  // MARK: conditions

  func condition(_ c: ConditionExplanation, bullet: String) -> [String] {
    let source = " — \(c.source)"
    if c.facts.count == 1 { return [bullet + fact(c.facts[0]) + source] }
    let indent = String(repeating: " ", count: bullet.count + 2)
    return [bullet + c.condition + source] + c.facts.map { indent + "· " + fact($0) }
  }

  func levelName(_ id: String) -> String {
    guard zh, let label = rules.levels.first(where: { $0.id == id })?.label else { return id }
    return "\(label) (\(id))"
  }

  func name(_ id: String, _ label: String?) -> String {
    guard zh, let label else { return id }
    return "\(label) (\(id))"
  }

  func time(_ t: Millis) -> String { RFC3339.format(t, offsetSeconds: rules.calendar.clock.offset(at: t)) }

  func symbol(_ op: CompareOp) -> String {
    switch op {
    case .eq: "="
    case .ne: "≠"
    case .ge: "≥"
    case .le: "≤"
    case .gt: ">"
    case .lt: "<"
    }
  }

  func value(_ v: FactCheck.Value) -> String {
    switch v {
    case .number(let s), .name(let s): return s
    case .bool(let b): return zh ? (b ? "是" : "否") : (b ? "true" : "false")
    case .empty: return zh ? "空" : "empty"
    case .hidden: return zh ? "（已隐藏）" : "(withheld)"
    case .elapsed(let ms): return elapsed(ms)
    case .duration(let d, _): return duration(d)
    case .names(let n): return n.joined(separator: zh ? "、" : ", ")
    }
  }

  /// A length of time in days and hours (hours and minutes under a day).
  public func elapsed(_ ms: Int64) -> String {
    let minutes = max(ms, 0) / 60_000
    let days = minutes / 1440
    let hours = minutes / 60 % 24
    let mins = minutes % 60
    var parts: [String] = []
    func part(_ n: Int64, _ zhUnit: String, _ enUnit: String) {
      parts.append(zh ? "\(n) \(zhUnit)" : "\(n) \(enUnit)\(n == 1 ? "" : "s")")
    }
    if days > 0 { part(days, "天", "day") }
    if hours > 0 { part(hours, "小时", "hour") }
    if days == 0, mins > 0 || hours == 0 { part(mins, "分钟", "minute") }
    return parts.joined(separator: " ")
  }

  public func duration(_ d: RuleDuration) -> String {
    guard zh else { return d.description }
    let unit: String
    switch d.unit {
    case .seconds: unit = "秒"
    case .minutes: unit = "分钟"
    case .hours: unit = "小时"
    case .days: unit = "天"
    case .weeks: unit = "周"
    case .months: unit = "个月"
    case .workingDays: unit = "个工作日"
    }
    return "\(d.amount) \(unit)"
  }

  /// One comparison with the case's value: `投诉人数 (collective_size) 为 12，达到 ≥ 10`.
  public func fact(_ f: FactCheck) -> String {
    let n = name(f.fact, f.label)
    let v = value(f.value)
    let is_ = zh ? " 为 " : " is "
    let sep = zh ? "，" : ", "
    let upward = f.op == .ge || f.op == .gt
    switch f.kind {
    case .constant:
      return zh ? "恒为\(value(f.value))" : "always \(value(f.value))"
    case .flag:
      return n + is_ + v + (f.holds ? "" : sep + (zh ? "须为 " : "needs ") + value(f.expected))
    case .empty:
      switch (f.holds, f.op == .eq) {
      case (true, true): return n + (zh ? " 为空" : " is empty")
      case (true, false): return n + is_ + v + (zh ? "（不为空）" : " (not empty)")
      case (false, true): return n + is_ + v + sep + (zh ? "须为空" : "needs to be empty")
      case (false, false): return n + (zh ? " 为空，须有值" : " is empty, needs a value")
      }
    case .oneOf:
      let set = "[" + value(f.expected) + "]"
      let relation = f.op == .eq ? (zh ? "属于 " : "in ") : (zh ? "不属于 " : "not in ")
      return n + is_ + v + sep + (f.holds ? (zh ? "满足" : "meeting ") : (zh ? "不满足" : "not meeting ")) + relation
        + set
    case .openFor:
      guard case .duration(let d, let reached) = f.expected else { return n + is_ + v }
      if upward {
        if f.holds {
          return n + is_ + v + sep
            + (zh
              ? "已满 \(duration(d))（\(time(reached)) 届满）" : "at least \(duration(d)) (reached at \(time(reached)))")
        }
        let left = f.gap.map { value($0) } ?? ""
        return n + is_ + v + sep
          + (zh
            ? "未满 \(duration(d))（\(time(reached)) 届满，还差 \(left)）"
            : "less than \(duration(d)) (reached at \(time(reached)), \(left) to go)")
      }
      return n + is_ + v + sep + (f.holds ? (zh ? "满足 " : "meeting ") : (zh ? "不满足 " : "not meeting "))
        + symbol(f.op) + " " + duration(d)
    case .compare, .sameIssue, .level, .text:
      let e = f.kind == .text && f.expected != .hidden ? "\"\(value(f.expected))\"" : value(f.expected)
      let shown = f.kind == .text && f.value != .hidden && f.value != .empty ? "\"\(v)\"" : v
      var out = n + is_ + shown + sep
      if zh {
        out += (f.holds ? (upward ? "达到 " : "满足 ") : (upward ? "未达到 " : "不满足 ")) + symbol(f.op) + " " + e
        if let g = f.gap { out += upward ? "（差 \(value(g))）" : "（超出 \(value(g))）" }
      } else {
        out += (f.holds ? "meeting " : "not meeting ") + symbol(f.op) + " " + e
        if let g = f.gap { out += upward ? " (short by \(value(g)))" : " (over by \(value(g)))" }
      }
      return out
    }
  }

  // MARK: deadlines, refund, screening

  func weekday(_ day: Int) -> String {
    let w = ((day % 7) + 7 + 3) % 7  // 0 = Monday
    return zh ? ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][w] : ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][w]
  }

  func date(_ day: Int) -> String { "\(CivilDate(dayNumber: day))" }

  func deadline(_ d: DeadlineExplanation) -> [String] {
    let head = name(d.deadline, d.label) + (zh ? "：" : ": ")
    let source = " — \(d.source)"
    guard let start = d.start else {
      return [
        head + (zh ? "尚未确定（\(name(d.base, d.baseLabel)) 为空）" : "not set yet (\(d.base) is empty)") + source
      ]
    }
    var lines = [head + ((d.due ?? d.end).map(time) ?? "") + source]
    if let when = d.when { lines.append(zh ? "  适用条件：\(when)" : "  applies when: \(when)") }
    let calendar = name(d.calendar, d.calendarLabel)
    if d.add.unit == .workingDays {
      lines.append(
        zh
          ? "  起算：\(name(d.base, d.baseLabel)) \(time(start))，加 \(duration(d.add))（当日不计），日历 \(calendar)"
          : "  from \(d.base) \(time(start)) plus \(duration(d.add)) (that day does not count), on calendar \(calendar)"
      )
      let counted = d.walk.filter { $0.kind.isWorking }
      if let first = counted.first, let last = counted.last {
        let makeUp = counted.filter { $0.kind == .makeUpWorkingDay }.map { "\(date($0.day)) \(weekday($0.day))" }
        var line =
          zh
          ? "  计入 \(counted.count) 个工作日：\(date(first.day)) 至 \(date(last.day))"
          : "  counted \(counted.count) working day\(counted.count == 1 ? "" : "s"): \(date(first.day)) to \(date(last.day))"
        if !makeUp.isEmpty {
          line +=
            zh
            ? "，其中调休上班 \(makeUp.joined(separator: "、"))"
            : ", including make-up working days \(makeUp.joined(separator: ", "))"
        }
        line += zh ? "；截至最后一个工作日 23:59:59" : "; due at 23:59:59 of the last one"
        lines.append(line)
      }
      let skipped = skippedRuns(d.walk)
      if !skipped.isEmpty {
        lines.append((zh ? "  跳过：" : "  skipped: ") + skipped.joined(separator: zh ? "；" : "; "))
      }
      if !d.uncoveredYears.isEmpty {
        let years = d.uncoveredYears.map(String.init).joined(separator: zh ? "、" : ", ")
        lines.append(
          zh
            ? "  注意：日历未列出 \(years) 年的节假日，这些年份只跳过周末"
            : "  note: the calendar lists no holidays for \(years); only weekends are skipped there")
      }
    } else {
      lines.append(
        zh
          ? "  起算：\(name(d.base, d.baseLabel)) \(time(start))，加 \(duration(d.add))"
          : "  from \(d.base) \(time(start)) plus \(duration(d.add))")
    }
    if let due = d.due, let end = d.end, due != end {
      lines.append(
        zh ? "  规则得出 \(time(end))，已延期至 \(time(due))" : "  the rule gives \(time(end)); extended to \(time(due))")
    }
    return lines
  }

  /// Days skipped, consecutive ones of the same kind together: `2025-10-01 至 2025-10-08 国庆节…`.
  func skippedRuns(_ walk: [CalendarDay]) -> [String] {
    var runs: [(first: Int, last: Int, kind: CalendarDay.Kind)] = []
    for d in walk where !d.kind.isWorking {
      if let r = runs.last, r.kind == d.kind, r.last == d.day - 1 {
        runs[runs.count - 1].last = d.day
      } else {
        runs.append((d.day, d.day, d.kind))
      }
    }
    return runs.map { r in
      var what = zh ? "周末" : "weekend"
      if case .holiday(let name) = r.kind { what = zh ? name : "holiday: \(name)" }
      if r.first == r.last {
        return zh ? "\(date(r.first)) \(weekday(r.first))（\(what)）" : "\(date(r.first)) \(weekday(r.first)) (\(what))"
      }
      return zh ? "\(date(r.first)) 至 \(date(r.last))（\(what)）" : "\(date(r.first)) to \(date(r.last)) (\(what))"
    }
  }

  func refund(_ r: RefundExplanation) -> String {
    let head = zh ? "索赔审批：" : "refund: "
    let n = name(r.field, r.label)
    guard let given = r.given, let converted = r.converted else {
      return head + n + (zh ? " 为空，无需审批" : " is empty: no approver")
    }
    var out = head + n + (zh ? " 为 " : " is ") + given.description
    if let rate = r.rate {
      out +=
        zh
        ? "，按 1 \(given.currency) = \(Money.format(units: rate)) \(converted.currency) 折合 \(converted)"
        : ", converted at 1 \(given.currency) = \(Money.format(units: rate)) \(converted.currency) to \(converted)"
    }
    guard let above = r.above, let approver = r.approver else {
      return out + (zh ? "，不在任何一档，无审批人" : ", in no tier: no approver")
    }
    let bounds =
      zh
      ? "超过 \(above)" + (r.upTo.map { "、不超过 \($0)" } ?? "")
      : "above \(above)" + (r.upTo.map { " up to \($0)" } ?? "")
    out +=
      zh
      ? "，属于「\(bounds)」一档，由 \(name(approver, r.approverLabel)) 审批"
      : ", in the tier \(bounds): approver \(approver)"
    return out + (r.source.map { " — \($0)" } ?? "")
  }

  func screening(_ s: ScreeningExplanation) -> String {
    if let phrase = s.suppressedBy {
      return
        (zh
        ? "有害信息：关键词「\(s.keyword)」出现在第 \(s.start)–\(s.end) 字「\(s.original)」，但在例外短语「\(phrase)」之内，不计入"
        : "screening: keyword \"\(s.keyword)\" at characters \(s.start)–\(s.end) \"\(s.original)\" lies inside the exception phrase \"\(phrase)\": not reported")
        + (s.exceptionSource.map { " — \($0)" } ?? "")
    }
    var out =
      zh
      ? "有害信息：关键词「\(s.keyword)」，类别 \(name(s.category, s.categoryLabel))，第 \(s.start)–\(s.end) 字「\(s.original)」，归一化为「\(s.normalized)」"
      : "screening: keyword \"\(s.keyword)\", category \(s.category), characters \(s.start)–\(s.end) \"\(s.original)\", normalized to \"\(s.normalized)\""
    if let d = s.disguise { out += zh ? "，识破伪装：\(d)" : ", disguise undone: \(d)" }
    return out + (s.source.map { " — \($0)" } ?? "")
  }
}
