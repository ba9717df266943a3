import OmbudsEngine
import OmbudsStore

/// Formats a bulletin's times and numbers the same way in every output.
public struct BulletinFormat: Sendable {
  public let offsetSeconds: Int

  public init(_ bulletin: Bulletin) { offsetSeconds = bulletin.offsetSeconds }

  /// RFC 3339 in the rules' zone (`2026-11-02T09:00:00+08:00`).
  public func time(_ t: Millis) -> String { RFC3339.format(t, offsetSeconds: offsetSeconds) }
  public func time(_ t: Millis?) -> String? { t.map(time) }

  /// `2026-11-02 09:00`, for people.
  public func minute(_ t: Millis) -> String {
    let s = time(t)
    return String(s.prefix(10)) + " " + String(s.dropFirst(11).prefix(5))
  }

  /// A change in percentage points, signed, one decimal (`+2.5`, `-10`, `0`); `—` without one.
  public static func points(_ change: Double?) -> String {
    guard let change else { return "—" }
    let text = Bulletin.Ratio.format(change)
    return change > 0 && text != "0" ? "+" + text : text
  }
}

/// The bulletin as JSON: `ombuds report --format json` and `GET /v1/reports`. Keys sorted;
/// times RFC 3339 in the rules' zone; a ratio is `{numerator, denominator, percent}` with
/// `percent` null when there is no denominator.
public enum BulletinJSON {
  public static func render(_ b: Bulletin) -> String {
    StoreJSON.string(value(b)) + "\n"
  }

  public static func value(_ b: Bulletin) -> JSONValue {
    let f = BulletinFormat(b)
    func ratio(_ r: Bulletin.Ratio) -> JSONValue {
      [
        "numerator": .int(Int64(r.numerator)), "denominator": .int(Int64(r.denominator)),
        "percent": r.percent.map { .double(($0 * 10).rounded() / 10) } ?? .null,
      ]
    }
    func period(_ p: Bulletin.Period) -> JSONValue {
      [
        "from": .string(f.time(p.from)), "to": .string(f.time(p.to)), "first_day": .string(p.firstDay),
        "last_day": .string(p.lastDay),
      ]
    }
    func counts(_ list: [Bulletin.Count]) -> JSONValue {
      .array(
        list.map {
          [
            "key": .string($0.key), "label": .string($0.label), "count": .int(Int64($0.count)),
            "previous": .int(Int64($0.previous)),
          ]
        })
    }
    func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    func item(_ i: Bulletin.CaseItem) -> JSONValue {
      var o: [String: JSONValue] = [
        "id": .string(i.id), "level": .string(i.level), "level_label": .string(i.levelLabel),
        "received_at": .string(f.time(i.receivedAt)), "channel": optional(i.channel),
        "department": optional(i.department), "stage": .string(i.stage), "handling": .string(i.handling),
        "resolved_at": optional(f.time(i.resolvedAt)), "resolve_by": optional(f.time(i.resolveBy)),
      ]
      if let report = i.report {
        o["report"] = [
          "id": .string(report), "label": optional(i.reportLabel), "state": optional(i.reportState),
          "handed_in_at": optional(f.time(i.reportHandedInAt)),
        ]
      }
      return .object(o)
    }
    func due(_ list: [Bulletin.DueItem]) -> JSONValue {
      .array(
        list.map {
          [
            "id": .string($0.id), "level": .string($0.level), "level_label": .string($0.levelLabel),
            "stage": .string($0.stage), "department": optional($0.department), "due_at": .string(f.time($0.dueAt)),
          ]
        })
    }
    return [
      "period": period(b.period), "previous_period": period(b.previousPeriod),
      "generated_at": .string(f.time(b.generatedAt)), "time_zone": .string(b.timeZone),
      "rule_set": .string(b.ruleSet), "by": .string(b.grouping.rawValue),
      "received": .int(Int64(b.received)), "previous_received": .int(Int64(b.previousReceived)),
      "by_level": counts(b.byLevel), "by_channel": counts(b.byChannel), "by_department": counts(b.byDepartment),
      "by_category": counts(b.byCategory), "top_issues": counts(b.topIssues),
      "weeks": .array(
        b.weeks.map {
          [
            "from": .string(f.time($0.from)), "first_day": .string($0.firstDay),
            "received": .int(Int64($0.received)), "resolved": .int(Int64($0.resolved)),
          ]
        }),
      "measures": .array(
        b.measures.map { m in
          [
            "id": .string(m.id), "label": .string(m.label), "source": .string(m.source), "floor": optional(m.floor),
            "value": ratio(m.current), "previous": ratio(m.previous),
            "change": m.change.map { .double(($0 * 10).rounded() / 10) } ?? .null,
            "below_floor": .array(m.belowFloor.map { .string($0) }),
          ]
        }),
      "groups": .array(
        b.groups.map { g in
          [
            "key": .string(g.key), "label": .string(g.label), "received": .int(Int64(g.received)),
            "measures": .object(
              Dictionary(
                zip(b.measures, g.values).map { ($0.id, ratio($1)) }, uniquingKeysWith: { a, _ in a })),
            "below_floor": .array(g.belowFloor.map { .string($0) }),
          ]
        }),
      "ordinary": [
        "received": .int(Int64(b.ordinary.received)), "resolved": .int(Int64(b.ordinary.resolved)),
        "rejected": .int(Int64(b.ordinary.rejected)), "open": .int(Int64(b.ordinary.open)),
        "closed": .int(Int64(b.ordinary.closed)),
      ],
      "important": .array(b.important.map(item)), "special": .array(b.special.map(item)),
      "overdue": ["total": .int(Int64(b.overdueTotal)), "cases": due(b.overdue)],
      "due_soon": ["total": .int(Int64(b.dueSoonTotal)), "cases": due(b.dueSoon)],
    ]
  }
}

/// The bulletin's tables as CSV (RFC 4180, UTF-8 with a byte-order mark so that spreadsheet
/// programs read the Chinese labels): the measures, then the groups, then the listed cases.
public enum BulletinCSV {
  public static func render(_ b: Bulletin) -> String {
    let f = BulletinFormat(b)
    var lines: [[String]] = [
      [
        "section", "key", "label", "numerator", "denominator", "percent", "previous_percent", "change", "floor",
        "below_floor",
      ]
    ]
    for m in b.measures {
      lines.append([
        "measure", m.id, m.label, "\(m.current.numerator)", "\(m.current.denominator)", m.current.text,
        m.previous.text, BulletinFormat.points(m.change), m.floor.map { $0 + "%" } ?? "",
        m.belowFloor.joined(separator: "; "),
      ])
    }
    for g in b.groups {
      for (m, r) in zip(b.measures, g.values) {
        lines.append([
          "\(b.grouping.rawValue):\(g.key)", m.id, g.label, "\(r.numerator)", "\(r.denominator)", r.text, "", "",
          m.floor.map { $0 + "%" } ?? "", g.belowFloor.contains(m.id) ? "below" : "",
        ])
      }
    }
    for (section, list) in [
      ("level", b.byLevel), ("channel", b.byChannel), ("department", b.byDepartment),
      ("category", b.byCategory), ("issue", b.topIssues),
    ] {
      for c in list {
        lines.append(["count:\(section)", c.key, c.label, "\(c.count)", "\(c.previous)", "", "", "", "", ""])
      }
    }
    for i in b.important + b.special {
      lines.append([
        "case:\(i.level)", i.id, i.handling, f.minute(i.receivedAt), i.department ?? "", "", "", "",
        i.reportLabel ?? "", i.reportState ?? "",
      ])
    }
    return "\u{FEFF}" + lines.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
  }

  static func field(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

/// The bulletin as Markdown (for mail and wikis): the same sections as the HTML page,
/// without the charts.
public enum BulletinMarkdown {
  public static func render(_ b: Bulletin) -> String {
    let f = BulletinFormat(b)
    func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
    var out = "# 质量简报 \(b.period.firstDay) — \(b.period.lastDay)\n\n"
    out +=
      "上期 \(b.previousPeriod.firstDay) — \(b.previousPeriod.lastDay)；生成于 \(f.minute(b.generatedAt))（\(b.timeZone)）\n\n"
    out += "受理投诉 **\(b.received)** 件（上期 \(b.previousReceived) 件）。\n\n"
    out +=
      "## 指标\n\n| 指标 | 本期 | 分子/分母 | 上期 | 变化（百分点） | 底线 | 低于底线的承办单位 |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n"
    for m in b.measures {
      out +=
        "| \(cell(m.label)) | \(m.current.text) | \(m.current.numerator)/\(m.current.denominator) | \(m.previous.text) | \(BulletinFormat.points(m.change)) | \(m.floor.map { $0 + "%" } ?? "—") | \(cell(m.belowFloor.joined(separator: "、"))) |\n"
    }
    out += "\n## 按\(groupTitle(b.grouping))\n\n| \(groupTitle(b.grouping)) | 受理 | "
    out += b.measures.map { cell($0.label) }.joined(separator: " | ") + " |\n| --- | ---: | "
    out += b.measures.map { _ in "---:" }.joined(separator: " | ") + " |\n"
    for g in b.groups {
      out += "| \(cell(g.label)) | \(g.received) | "
      out +=
        zip(b.measures, g.values).map { m, r in r.text + (g.belowFloor.contains(m.id) ? " ⚠" : "") }.joined(
          separator: " | ") + " |\n"
    }
    func counts(_ title: String, _ list: [Bulletin.Count]) {
      out += "\n## \(title)\n\n| | 本期 | 上期 |\n| --- | ---: | ---: |\n"
      for c in list { out += "| \(cell(c.label)) | \(c.count) | \(c.previous) |\n" }
    }
    counts("按级别", b.byLevel)
    counts("按渠道", b.byChannel)
    counts("按承办单位", b.byDepartment)
    counts("有害信息（按类别）", b.byCategory)
    counts("热点问题", b.topIssues)
    out += "\n## 一般投诉汇总\n\n"
    out +=
      "共 \(b.ordinary.received) 件：办结 \(b.ordinary.resolved) 件，不予受理 \(b.ordinary.rejected) 件，办理中 \(b.ordinary.open) 件；结案 \(b.ordinary.closed) 件。\n"
    out += "\n## 重要投诉（单列说明）\n\n"
    if b.important.isEmpty { out += "本期无。\n" }
    for i in b.important {
      out += "- **\(i.id)**（\(i.levelLabel)，\(f.minute(i.receivedAt))）：\(i.handling)\n"
    }
    out += "\n## 热点、重大投诉及专题报告\n\n"
    if b.special.isEmpty { out += "本期无。\n" }
    for i in b.special {
      out +=
        "- **\(i.id)**（\(i.levelLabel)，\(f.minute(i.receivedAt))）：\(i.handling)；\(i.reportLabel ?? "")：\(reportState(i, f))\n"
    }
    func due(_ title: String, _ list: [Bulletin.DueItem], _ total: Int) {
      out += "\n## \(title)（\(total) 件）\n\n"
      for d in list {
        out += "- \(d.id)（\(d.levelLabel)，\(d.department ?? "未分派")，\(d.stage)）期限 \(f.minute(d.dueAt))\n"
      }
      if total > list.count { out += "- …另 \(total - list.count) 件\n" }
    }
    due("已逾期的办理中投诉", b.overdue, b.overdueTotal)
    due("24 小时内到期", b.dueSoon, b.dueSoonTotal)
    return out
  }

  /// 按承办单位 …
  public static func groupTitle(_ g: Bulletin.Grouping) -> String {
    switch g {
    case .department: "承办单位"
    case .level: "级别"
    case .channel: "渠道"
    case .category: "有害信息类别"
    }
  }

  /// 已提交 2026-11-20 10:00 / 未到期 / 缺报（逾期）.
  public static func reportState(_ i: Bulletin.CaseItem, _ f: BulletinFormat) -> String {
    switch i.reportState {
    case "handed_in": "已提交 " + (i.reportHandedInAt.map(f.minute) ?? "")
    case "overdue": "缺报（逾期）"
    case "pending": "未到期"
    case "not_required": "不予受理，无需报告"
    default: "—"
    }
  }
}
