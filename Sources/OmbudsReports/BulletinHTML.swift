import OmbudsStore

/// Text for HTML: every character that could end a text node or an attribute escaped.
enum HTMLText {
  static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }
}

/// The bulletin as one self-contained HTML page (`ombuds report --format html`): the sections
/// of the Markdown bulletin, in its order, with inline SVG charts (weekly trend, by level, by
/// channel, each group against each floor); print-ready on A4. No script, no fetch (a
/// Content-Security-Policy forbids any), no font file: the page names CJK fonts a system has.
/// The same bulletin gives the same bytes.
///
/// Machine-readable hooks (what the tests read; Documentation/Reports.md lists them): a
/// measure's row `tr[data-measure=ID]` with cells `data-field` `percent`, `numerator`,
/// `denominator`, `previous_percent`, `previous_numerator`, `previous_denominator`, `change`,
/// `floor`; a group's row `tr[data-group=KEY]` with `td[data-ratio=MEASURE]` cells carrying
/// `data-numerator` and `data-denominator`; a count's row `tr[data-count="level:major"]`
/// (`channel:`, `department:`, `category:`, `issue:`) with cells `count` and `previous`; each
/// listed case `[data-case=ID]` inside `section[data-section=…]` (`important`, `special`,
/// `overdue`, `due_soon`).
public enum BulletinHTML {
  public static func render(_ b: Bulletin) -> String {
    let f = BulletinFormat(b)
    let e = HTMLText.escape
    let title = "质量简报 \(b.period.firstDay) — \(b.period.lastDay)"
    let groupTitle = BulletinMarkdown.groupTitle(b.grouping)
    var out = """
      <!doctype html>
      <html lang="zh-CN">
      <head>
      <meta charset="utf-8">
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <meta name="generator" content="ombuds report">
      <title>\(e(title))</title>
      <style>
      \(style)</style>
      </head>
      <body>

      """
    out +=
      "<main class=\"bulletin\" data-first-day=\"\(e(b.period.firstDay))\" data-last-day=\"\(e(b.period.lastDay))\" data-by=\"\(b.grouping.rawValue)\" data-rule-set=\"\(e(b.ruleSet))\">\n"

    // Title, periods, headline numbers.
    out += "<header>\n<h1>质量简报 <span class=\"period\">\(e(b.period.firstDay)) — \(e(b.period.lastDay))</span></h1>\n"
    out +=
      "<p class=\"meta\">上期 \(e(b.previousPeriod.firstDay)) — \(e(b.previousPeriod.lastDay))；生成于 <time>\(e(f.minute(b.generatedAt)))</time>（\(e(b.timeZone))）；规则集 <code>\(e(b.ruleSet))</code></p>\n"
    out += "</header>\n"
    out += "<section data-section=\"overview\">\n<div class=\"tiles\">\n"
    out +=
      "<div class=\"tile\"><div class=\"tile-label\">受理投诉</div><div class=\"tile-value\"><span data-count=\"received\">\(b.received)</span> 件</div><div class=\"tile-sub\">上期 <span data-count=\"previous_received\">\(b.previousReceived)</span> 件</div></div>\n"
    for m in b.measures {
      let low = isBelow(m.current, floor: m.floor)
      out +=
        "<div class=\"tile\(low ? " below" : "")\"><div class=\"tile-label\">\(e(m.label))</div><div class=\"tile-value\">\(e(m.current.text))</div><div class=\"tile-sub\">上期 \(e(m.previous.text))，变化 \(e(BulletinFormat.points(m.change)))\(m.floor.map { "；底线 " + e($0) + "%" } ?? "")</div></div>\n"
    }
    out += "</div>\n"
    out += BulletinSVG.weeks(b)
    out += "</section>\n"

    // 指标.
    out += "<section data-section=\"measures\">\n<h2>指标</h2>\n"
    if b.measures.isEmpty {
      out += "<p class=\"none\">规则未定义指标。</p>\n"
    } else {
      out += "<table class=\"measures\">\n<thead><tr><th>指标</th><th>本期</th><th>分子/分母</th><th>上期</th>"
      out += "<th>变化（百分点）</th><th>底线</th><th>低于底线的承办单位</th></tr></thead>\n<tbody>\n"
      for m in b.measures {
        let low = isBelow(m.current, floor: m.floor)
        out += "<tr data-measure=\"\(e(m.id))\"\(low ? " class=\"below\"" : "")>"
        out += "<th scope=\"row\" title=\"\(e(m.id))：\(e(m.source))\">\(e(m.label))</th>"
        out += "<td class=\"num\" data-field=\"percent\">\(e(m.current.text))</td>"
        out +=
          "<td class=\"num\"><span data-field=\"numerator\">\(m.current.numerator)</span>/<span data-field=\"denominator\">\(m.current.denominator)</span></td>"
        out +=
          "<td class=\"num\"><span data-field=\"previous_percent\">\(e(m.previous.text))</span> <small>(<span data-field=\"previous_numerator\">\(m.previous.numerator)</span>/<span data-field=\"previous_denominator\">\(m.previous.denominator)</span>)</small></td>"
        out += "<td class=\"num\" data-field=\"change\">\(e(BulletinFormat.points(m.change)))</td>"
        out += "<td class=\"num\" data-field=\"floor\">\(m.floor.map { e($0) + "%" } ?? "—")</td>"
        out += "<td data-field=\"below_floor\">"
        if m.floor == nil {
          out += "—"
        } else if m.belowFloor.isEmpty {
          out += "无"
        } else {
          out +=
            m.belowFloor.map { "<span class=\"unit below\" data-unit=\"\(e($0))\">\(e($0))</span>" }.joined(
              separator: "、")
        }
        out += "</td></tr>\n"
      }
      out += "</tbody>\n</table>\n"
      out +=
        "<p class=\"note\">“—”：本期没有分母（无可计的投诉），不是 0%。低于底线以承办单位计（未分派的投诉不计单位）。</p>\n"
    }
    out += "</section>\n"

    // By group, with each floor's chart.
    out += "<section data-section=\"groups\">\n<h2>按\(e(groupTitle))</h2>\n"
    if b.groups.isEmpty {
      out += "<p class=\"none\">本期无数据。</p>\n"
    } else {
      out += "<table class=\"groups\">\n<thead><tr><th>\(e(groupTitle))</th><th>受理</th>"
      for m in b.measures {
        out += "<th>\(e(m.label))\(m.floor.map { "<small>底线 " + e($0) + "%</small>" } ?? "")</th>"
      }
      out += "</tr></thead>\n<tbody>\n"
      for g in b.groups {
        out +=
          "<tr data-group=\"\(e(g.key))\"><th scope=\"row\">\(e(g.label))</th><td class=\"num\" data-field=\"received\">\(g.received)</td>"
        for (m, r) in zip(b.measures, g.values) {
          let below = g.belowFloor.contains(m.id)
          out +=
            "<td class=\"num\(below ? " below" : "")\" data-ratio=\"\(e(m.id))\" data-numerator=\"\(r.numerator)\" data-denominator=\"\(r.denominator)\" title=\"\(r.numerator)/\(r.denominator)\">\(e(r.text))\(below ? " <span class=\"flag\">低于底线</span>" : "")</td>"
        }
        out += "</tr>\n"
      }
      out += "</tbody>\n</table>\n"
    }
    for (i, m) in b.measures.enumerated() where m.floor != nil {
      out += BulletinSVG.floor(b, measure: i, groupTitle: groupTitle)
    }
    out += "</section>\n"

    // Counts.
    out += "<section data-section=\"counts\">\n<h2>分布</h2>\n<div class=\"pair\">\n"
    out += BulletinSVG.counts(chart: "level", caption: "按级别", b.byLevel)
    out += BulletinSVG.counts(chart: "channel", caption: "按渠道", b.byChannel)
    out += "</div>\n<div class=\"count-tables\">\n"
    for (key, caption, list) in [
      ("level", "按级别", b.byLevel), ("channel", "按渠道", b.byChannel), ("department", "按承办单位", b.byDepartment),
      ("category", "有害信息（按类别）", b.byCategory), ("issue", "热点问题", b.topIssues),
    ] {
      out += countTable(key, caption, list)
    }
    out += "</div>\n</section>\n"

    // 一般投诉汇总.
    let o = b.ordinary
    out += "<section data-section=\"ordinary\">\n<h2>一般投诉汇总</h2>\n"
    out +=
      "<p>共 <b data-count=\"ordinary:received\">\(o.received)</b> 件：办结 <b data-count=\"ordinary:resolved\">\(o.resolved)</b> 件，不予受理 <b data-count=\"ordinary:rejected\">\(o.rejected)</b> 件，办理中 <b data-count=\"ordinary:open\">\(o.open)</b> 件；结案 <b data-count=\"ordinary:closed\">\(o.closed)</b> 件。</p>\n"
    out += "</section>\n"

    // 重要投诉, 热点、重大投诉.
    out += "<section data-section=\"important\">\n<h2>重要投诉（单列说明）</h2>\n"
    out += items(b.important, f, special: false)
    out += "</section>\n"
    out += "<section data-section=\"special\">\n<h2>热点、重大投诉及专题报告</h2>\n"
    out += items(b.special, f, special: true)
    out += "</section>\n"

    // Deadlines.
    out += dueTable("overdue", "已逾期的办理中投诉", b.overdue, b.overdueTotal, f)
    out += dueTable("due_soon", "24 小时内到期", b.dueSoon, b.dueSoonTotal, f)
    out +=
      "<footer><p>“已逾期”“24 小时内到期”以生成时刻 \(e(f.minute(b.generatedAt))) 计；其余数字以本期结束时刻计。各数字的定义见 Documentation/Reports.md。</p></footer>\n"
    out += "</main>\n</body>\n</html>\n"
    return out
  }

  /// True when a value is below a floor written in percent (`85`, `85.5`), computed exactly.
  static func isBelow(_ r: Bulletin.Ratio, floor: String?) -> Bool {
    guard let floor, r.denominator > 0 else { return false }
    let parts = floor.split(separator: ".", maxSplits: 1)
    guard let first = parts.first, let whole = Int64(first) else { return false }
    var fraction = parts.count > 1 ? String(parts[1].prefix(4)) : ""
    guard fraction.allSatisfy(\.isASCII), fraction.allSatisfy(\.isNumber) else { return false }
    while fraction.count < 4 { fraction += "0" }
    // numerator / denominator · 100 < floor  ⇔  numerator · 100 · 10⁴ < floor · 10⁴ · denominator
    let scaled = whole * 10_000 + (Int64(fraction) ?? 0)
    return Int64(r.numerator) * 1_000_000 < scaled * Int64(r.denominator)
  }

  static func countTable(_ key: String, _ caption: String, _ list: [Bulletin.Count]) -> String {
    let e = HTMLText.escape
    var out = "<table class=\"counts\" data-counts=\"\(key)\">\n<caption>\(e(caption))</caption>\n"
    out += "<thead><tr><th></th><th>本期</th><th>上期</th></tr></thead>\n<tbody>\n"
    if list.isEmpty { out += "<tr class=\"none\"><td colspan=\"3\">本期无</td></tr>\n" }
    for c in list {
      out +=
        "<tr data-count=\"\(e(key + ":" + c.key))\"><th scope=\"row\">\(e(c.label))</th><td class=\"num\" data-field=\"count\">\(c.count)</td><td class=\"num\" data-field=\"previous\">\(c.previous)</td></tr>\n"
    }
    out += "</tbody>\n</table>\n"
    return out
  }

  /// The lifecycle stage in Chinese (`Stage.label`; the id stays in `data-stage`).
  static func stage(_ id: String) -> String {
    "<span class=\"stage\" data-stage=\"\(HTMLText.escape(id))\">\(HTMLText.escape(Stage(rawValue: id)?.label ?? id))</span>"
  }

  static func items(_ list: [Bulletin.CaseItem], _ f: BulletinFormat, special: Bool) -> String {
    let e = HTMLText.escape
    guard !list.isEmpty else { return "<p class=\"none\">本期无。</p>\n" }
    var out = "<ol class=\"items\">\n"
    for i in list {
      out += "<li data-case=\"\(e(i.id))\" data-level=\"\(e(i.level))\">\n"
      out +=
        "<p class=\"item-head\"><b class=\"case-id\">\(e(i.id))</b> <span class=\"level level-\(e(i.level))\">\(e(i.levelLabel))</span>"
      out += " 接收 \(e(f.minute(i.receivedAt)))"
      if let c = i.channel { out += "，渠道 \(e(c))" }
      out += "，承办单位 \(e(i.department ?? "未分派"))，当前 \(stage(i.stage))"
      if let by = i.resolveBy { out += "，解决时限 \(e(f.minute(by)))" }
      out += "</p>\n<p class=\"handling\">\(e(i.handling))</p>\n"
      if special {
        let state = i.reportState ?? "none"
        out +=
          "<p class=\"report report-\(e(state))\" data-report=\"\(e(i.report ?? ""))\" data-report-state=\"\(e(state))\">\(e(i.reportLabel ?? i.report ?? "专题报告"))：\(e(BulletinMarkdown.reportState(i, f)))</p>\n"
      }
      out += "</li>\n"
    }
    out += "</ol>\n"
    return out
  }

  static func dueTable(
    _ key: String, _ caption: String, _ list: [Bulletin.DueItem], _ total: Int, _ f: BulletinFormat
  ) -> String {
    let e = HTMLText.escape
    var out = "<section data-section=\"\(key)\" data-total=\"\(total)\">\n<h2>\(e(caption))（\(total) 件）</h2>\n"
    guard !list.isEmpty else { return out + "<p class=\"none\">无。</p>\n</section>\n" }
    out +=
      "<table class=\"due\">\n<thead><tr><th>编号</th><th>级别</th><th>承办单位</th><th>阶段</th><th>期限</th></tr></thead>\n<tbody>\n"
    for d in list {
      out +=
        "<tr data-case=\"\(e(d.id))\"><td class=\"case-id\">\(e(d.id))</td><td>\(e(d.levelLabel))</td><td>\(e(d.department ?? "未分派"))</td><td>\(stage(d.stage))</td><td class=\"num\">\(e(f.minute(d.dueAt)))</td></tr>\n"
    }
    out += "</tbody>\n</table>\n"
    if total > list.count { out += "<p class=\"more\">…另 \(total - list.count) 件未列出。</p>\n" }
    return out + "</section>\n"
  }

  /// The page's style: screen and print (A4, 15 mm margins), CJK fonts a system may have.
  static let style = """
    @page { size: A4; margin: 15mm; }
    :root { color-scheme: light; }
    * { box-sizing: border-box; }
    html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
    body { margin: 0; background: #f4f5f7; color: #1d2129;
      font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
        "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB",
        "Droid Sans Fallback", sans-serif;
      font-size: 14px; line-height: 1.55; }
    main { max-width: 180mm; margin: 0 auto; padding: 10mm 8mm; background: #fff; }
    h1 { font-size: 24px; margin: 0 0 4px; }
    h1 .period { font-weight: normal; color: #4e5969; font-size: 20px; }
    h2 { font-size: 17px; margin: 22px 0 8px; padding-bottom: 3px; border-bottom: 2px solid #2f6db5; break-after: avoid; }
    .meta { color: #4e5969; font-size: 12px; margin: 0 0 12px; }
    .meta code { font-size: 10px; word-break: break-all; }
    .tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6px; margin: 8px 0 12px; }
    .tile { border: 1px solid #dfe3e8; border-radius: 4px; padding: 5px 8px; break-inside: avoid; }
    .tile-label { font-size: 12px; color: #4e5969; }
    .tile-value { font-size: 20px; font-weight: bold; }
    .tile-sub { font-size: 11px; color: #6b7785; }
    .tile.below { border-color: #c8372d; }
    .tile.below .tile-value { color: #c8372d; }
    table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 13px; break-inside: avoid; }
    caption { text-align: left; font-weight: bold; padding: 4px 0; }
    th, td { border: 1px solid #dfe3e8; padding: 3px 6px; vertical-align: top; }
    thead th { background: #eef2f7; font-weight: bold; text-align: center; }
    tbody th { text-align: left; font-weight: normal; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    th small, td small { color: #6b7785; font-weight: normal; }
    th small { display: block; }
    table.counts th:nth-child(n+2), table.counts td { width: 4.2em; }
    tr.below td[data-field="percent"], td.below, .unit.below { color: #c8372d; font-weight: bold; }
    .flag { font-size: 11px; font-weight: normal; }
    .note, .chart-note, footer { font-size: 11px; color: #6b7785; }
    figure.chart { margin: 8px 0 14px; break-inside: avoid; }
    figure.chart figcaption { font-weight: bold; font-size: 13px; margin-bottom: 2px; }
    figure.chart svg { display: block; max-width: 100%; height: auto; font-family: inherit; }
    svg .value { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
    .no-data { margin: 0; padding: 18px; text-align: center; color: #6b7785; border: 1px dashed #c9cdd4; border-radius: 4px; }
    .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
    .count-tables { display: grid; grid-template-columns: 1fr 1fr; gap: 0 12px; align-items: start; }
    .none { color: #6b7785; }
    ol.items { padding-left: 1.6em; margin: 4px 0; }
    ol.items li { margin-bottom: 8px; break-inside: avoid; }
    ol.items p { margin: 0; }
    .item-head { font-size: 13px; }
    .level { display: inline-block; padding: 0 5px; border-radius: 3px; font-size: 12px; background: #eef2f7; }
    .level-major { background: #fbe3e1; color: #a0241b; }
    .level-hot { background: #fdf0dc; color: #8a5300; }
    .handling { color: #1d2129; }
    .report { font-size: 13px; }
    .report-handed_in { color: #1f7a45; }
    .report-overdue { color: #c8372d; font-weight: bold; }
    .report-pending { color: #8a5300; }
    .case-id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
    footer { margin-top: 20px; border-top: 1px solid #dfe3e8; padding-top: 6px; }
    @media print {
      body { background: #fff; font-size: 12px; }
      main { max-width: none; margin: 0; padding: 0; }
      h2 { margin-top: 14px; }
      section { break-inside: auto; }
    }
    @media (max-width: 700px) {
      .tiles { grid-template-columns: repeat(2, 1fr); }
      .pair, .count-tables { grid-template-columns: 1fr; }
    }

    """
}
