import OmbudsStore

/// The charts of the bulletin page as inline SVG: each a `<figure>` holding one `<svg>` with a
/// `viewBox`, `role="img"` and a `<title>`, or a "本期无数据" note when there is nothing to
/// draw. Deterministic: no ids, no randomness, coordinates with one decimal.
enum BulletinSVG {
  /// The width of a full-width chart in SVG units (about the page's width on A4, so that
  /// 1 unit ≈ 1 CSS pixel); half-width charts are `halfWidth` wide.
  static let fullWidth = 640.0
  static let halfWidth = 320.0

  static let receivedColour = "#2f6db5"
  static let resolvedColour = "#2e9d5b"
  static let previousColour = "#b9c2cf"
  static let belowColour = "#c8372d"
  static let valueColour = "#2f6db5"

  /// A coordinate or length: one decimal, without a trailing `.0`.
  static func n(_ x: Double) -> String { Bulletin.Ratio.format(x) }

  /// A label cut to `limit` characters (the full text stays in the element's `<title>`).
  static func cut(_ s: String, _ limit: Int) -> String {
    s.count <= limit ? s : String(s.prefix(limit - 1)) + "…"
  }

  static func figure(chart: String, caption: String, body: String, note: String? = nil) -> String {
    var out = "<figure class=\"chart\" data-chart=\"\(HTMLText.escape(chart))\">\n"
    out += "<figcaption>\(HTMLText.escape(caption))</figcaption>\n"
    out += body
    if let note { out += "<p class=\"chart-note\">\(HTMLText.escape(note))</p>\n" }
    out += "</figure>\n"
    return out
  }

  /// What stands in for a chart without data.
  static func noData(_ chart: String, _ caption: String) -> String {
    "<figure class=\"chart\" data-chart=\"\(HTMLText.escape(chart))\" data-empty=\"true\">\n"
      + "<figcaption>\(HTMLText.escape(caption))</figcaption>\n"
      + "<p class=\"no-data\">本期无数据</p>\n</figure>\n"
  }

  static func open(width: Double, height: Double, title: String, description: String? = nil) -> String {
    var out =
      "<svg viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\">\n"
    out += "<title>\(HTMLText.escape(title))</title>\n"
    if let description { out += "<desc>\(HTMLText.escape(description))</desc>\n" }
    return out
  }

  /// A round upper bound for an axis and its step (1, 2 or 5 × 10ⁿ; at most 5 steps).
  static func axis(_ maximum: Int) -> (top: Int, step: Int) {
    let m = max(maximum, 1)
    var magnitude = 1
    while magnitude * 10 <= m { magnitude *= 10 }
    for candidate in [magnitude / 10, magnitude / 5, magnitude / 2, magnitude, magnitude * 2, magnitude * 5] {
      let step = max(candidate, 1)
      let steps = (m + step - 1) / step
      if steps <= 5 { return (steps * step, step) }
    }
    return ((m + magnitude * 10 - 1) / (magnitude * 10) * magnitude * 10, magnitude * 10)
  }

  // MARK: - Weekly trend

  /// Received and resolved per week: grouped bars (up to 16 weeks) or two lines (more).
  static func weeks(_ b: Bulletin) -> String {
    let caption = "每周受理与办结"
    let chart = "weeks"
    let weeks = b.weeks
    guard !weeks.isEmpty, weeks.contains(where: { $0.received > 0 || $0.resolved > 0 }) else {
      return noData(chart, caption)
    }
    let width = fullWidth
    let height = 230.0
    let left = 40.0
    let right = 12.0
    let top = 34.0
    let bottom = 30.0
    let plotWidth = width - left - right
    let plotHeight = height - top - bottom
    let (topValue, step) = axis(weeks.map { max($0.received, $0.resolved) }.max() ?? 0)
    func y(_ v: Int) -> Double { top + plotHeight - plotHeight * Double(v) / Double(topValue) }
    let band = plotWidth / Double(weeks.count)
    let description = weeks.map { "\($0.firstDay) 起：受理 \($0.received)，办结 \($0.resolved)" }.joined(separator: "；")
    var svg = open(width: width, height: height, title: "每周受理与办结（件）", description: description)
    // Legend.
    svg += "<g class=\"legend\" font-size=\"12\">\n"
    svg += "<rect x=\"\(n(left))\" y=\"8\" width=\"12\" height=\"12\" fill=\"\(receivedColour)\"/>"
    svg += "<text x=\"\(n(left + 16))\" y=\"18\">受理</text>\n"
    svg += "<rect x=\"\(n(left + 60))\" y=\"8\" width=\"12\" height=\"12\" fill=\"\(resolvedColour)\"/>"
    svg += "<text x=\"\(n(left + 76))\" y=\"18\">办结（首次办结，含往期受理的投诉）</text>\n</g>\n"
    // Grid and y axis.
    svg += "<g class=\"grid\" font-size=\"11\" text-anchor=\"end\">\n"
    var tick = 0
    while tick <= topValue {
      let ty = y(tick)
      svg +=
        "<line x1=\"\(n(left))\" x2=\"\(n(width - right))\" y1=\"\(n(ty))\" y2=\"\(n(ty))\" stroke=\"\(tick == 0 ? "#666" : "#e3e6ea")\"/>"
      svg += "<text x=\"\(n(left - 6))\" y=\"\(n(ty + 4))\">\(tick)</text>\n"
      tick += step
    }
    svg += "</g>\n"
    // X labels, at most about 12.
    let every = max(1, (weeks.count + 11) / 12)
    svg += "<g class=\"x-labels\" font-size=\"11\" text-anchor=\"middle\">\n"
    for (i, w) in weeks.enumerated() where i % every == 0 {
      let x = left + band * (Double(i) + 0.5)
      svg +=
        "<text x=\"\(n(x))\" y=\"\(n(height - bottom + 16))\">\(HTMLText.escape(String(w.firstDay.dropFirst(5))))</text>\n"
    }
    svg += "</g>\n"
    if weeks.count <= 16 {
      let barWidth = min(28, band * 0.36)
      svg += "<g class=\"bars\" font-size=\"11\" text-anchor=\"middle\">\n"
      for (i, w) in weeks.enumerated() {
        let centre = left + band * (Double(i) + 0.5)
        for (value, colour, x, what) in [
          (w.received, receivedColour, centre - barWidth - 1, "受理"),
          (w.resolved, resolvedColour, centre + 1, "办结"),
        ] {
          let barTop = y(value)
          svg +=
            "<rect x=\"\(n(x))\" y=\"\(n(barTop))\" width=\"\(n(barWidth))\" height=\"\(n(y(0) - barTop))\" fill=\"\(colour)\">"
          svg += "<title>\(HTMLText.escape(w.firstDay)) 起 \(what) \(value) 件</title></rect>"
          svg += "<text x=\"\(n(x + barWidth / 2))\" y=\"\(n(barTop - 3))\">\(value)</text>\n"
        }
      }
      svg += "</g>\n"
    } else {
      for (key, colour) in [("received", receivedColour), ("resolved", resolvedColour)] {
        let points = weeks.enumerated().map { i, w in
          "\(n(left + band * (Double(i) + 0.5))),\(n(y(key == "received" ? w.received : w.resolved)))"
        }
        svg +=
          "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
      }
    }
    svg += "</svg>\n"
    return figure(chart: chart, caption: caption, body: svg)
  }

  // MARK: - Counts (by level, by channel)

  /// Horizontal bars of counts this period, each with a thin bar for the previous period.
  static func counts(chart: String, caption: String, _ counts: [Bulletin.Count]) -> String {
    guard counts.contains(where: { $0.count > 0 }) else { return noData(chart, caption) }
    let width = halfWidth
    let labelWidth = 82.0
    let valueWidth = 70.0
    let rowHeight = 30.0
    let top = 24.0
    let height = top + rowHeight * Double(counts.count) + 6
    let barSpace = width - labelWidth - valueWidth
    let maximum = Double(max(counts.map { max($0.count, $0.previous) }.max() ?? 1, 1))
    let description = counts.map { "\($0.label) \($0.count) 件（上期 \($0.previous)）" }.joined(separator: "；")
    var svg = open(width: width, height: height, title: caption + "（件）", description: description)
    svg += "<g class=\"legend\" font-size=\"11\">"
    svg += "<rect x=\"\(n(labelWidth))\" y=\"6\" width=\"10\" height=\"10\" fill=\"\(valueColour)\"/>"
    svg += "<text x=\"\(n(labelWidth + 14))\" y=\"15\">本期</text>"
    svg += "<rect x=\"\(n(labelWidth + 50))\" y=\"9\" width=\"10\" height=\"4\" fill=\"\(previousColour)\"/>"
    svg += "<text x=\"\(n(labelWidth + 64))\" y=\"15\">上期</text></g>\n"
    svg +=
      "<line x1=\"\(n(labelWidth))\" x2=\"\(n(labelWidth))\" y1=\"\(n(top - 2))\" y2=\"\(n(height - 4))\" stroke=\"#666\"/>\n"
    for (i, c) in counts.enumerated() {
      let rowTop = top + rowHeight * Double(i)
      let current = barSpace * Double(c.count) / maximum
      let before = barSpace * Double(c.previous) / maximum
      svg +=
        "<g class=\"row\" font-size=\"12\"><title>\(HTMLText.escape(c.label))：本期 \(c.count) 件，上期 \(c.previous) 件</title>"
      svg +=
        "<text x=\"\(n(labelWidth - 6))\" y=\"\(n(rowTop + 14))\" text-anchor=\"end\">\(HTMLText.escape(cut(c.label, 7)))</text>"
      svg +=
        "<rect x=\"\(n(labelWidth))\" y=\"\(n(rowTop + 3))\" width=\"\(n(current))\" height=\"14\" fill=\"\(valueColour)\"/>"
      svg +=
        "<rect x=\"\(n(labelWidth))\" y=\"\(n(rowTop + 19))\" width=\"\(n(before))\" height=\"4\" fill=\"\(previousColour)\"/>"
      svg += "<text x=\"\(n(labelWidth + current + 4))\" y=\"\(n(rowTop + 14))\">\(c.count)</text></g>\n"
    }
    svg += "</svg>\n"
    return figure(chart: chart, caption: caption, body: svg)
  }

  // MARK: - Groups against a floor

  /// For a measure with a floor: one bar per group (0–100 %), a vertical line at the floor,
  /// the groups below it in red; a group without a denominator shows "—" and no bar.
  static func floor(_ b: Bulletin, measure index: Int, groupTitle: String) -> String {
    let m = b.measures[index]
    let floorText = m.floor ?? ""
    let caption = "按\(groupTitle)对照底线：\(m.label)（底线 \(floorText)%）"
    let chart = "floor:\(m.id)"
    guard !b.groups.isEmpty else { return noData(chart, caption) }
    let width = fullWidth
    let labelWidth = 150.0
    let valueWidth = 120.0
    let rowHeight = 24.0
    let top = 26.0
    let height = top + rowHeight * Double(b.groups.count) + 22
    let barSpace = width - labelWidth - valueWidth
    let floorValue = Double(floorText) ?? 0
    let floorX = labelWidth + barSpace * min(max(floorValue, 0), 100) / 100
    let description = b.groups.map { g in
      let r = g.values[index]
      return "\(g.label) \(r.text)（\(r.numerator)/\(r.denominator)）" + (g.belowFloor.contains(m.id) ? "，低于底线" : "")
    }.joined(separator: "；")
    var svg = open(width: width, height: height, title: caption, description: description)
    // The scale: 0, 50 %, 100 %.
    svg += "<g class=\"grid\" font-size=\"11\" text-anchor=\"middle\">\n"
    for p in [0.0, 25, 50, 75, 100] {
      let x = labelWidth + barSpace * p / 100
      svg +=
        "<line x1=\"\(n(x))\" x2=\"\(n(x))\" y1=\"\(n(top - 4))\" y2=\"\(n(height - 20))\" stroke=\"\(p == 0 ? "#666" : "#e3e6ea")\"/>"
      svg += "<text x=\"\(n(x))\" y=\"\(n(height - 6))\">\(n(p))%</text>\n"
    }
    svg += "</g>\n"
    // The bars, then the floor line over them, then the values over the line.
    var values = "<g class=\"values\" font-size=\"12\">\n"
    for (i, g) in b.groups.enumerated() {
      let r = g.values[index]
      let rowTop = top + rowHeight * Double(i)
      let below = g.belowFloor.contains(m.id)
      let fill = below ? " fill=\"\(belowColour)\"" : ""
      svg +=
        "<g class=\"row\(below ? " below" : "")\" font-size=\"12\" data-group=\"\(HTMLText.escape(g.key))\"><title>\(HTMLText.escape(g.label))：\(HTMLText.escape(r.text))（\(r.numerator)/\(r.denominator)）\(below ? "，低于底线" : "")</title>"
      svg +=
        "<text x=\"\(n(labelWidth - 6))\" y=\"\(n(rowTop + 15))\" text-anchor=\"end\"\(below ? fill + " font-weight=\"bold\"" : "")>\(HTMLText.escape(cut(g.label, 12)))</text>"
      if let p = r.percent {
        let w = barSpace * min(max(p, 0), 100) / 100
        svg +=
          "<rect x=\"\(n(labelWidth))\" y=\"\(n(rowTop + 4))\" width=\"\(n(w))\" height=\"14\" fill=\"\(below ? belowColour : valueColour)\"/>"
        values +=
          "<text class=\"value\" x=\"\(n(labelWidth + w + 4))\" y=\"\(n(rowTop + 15))\"\(fill)>\(HTMLText.escape(r.text))（\(r.numerator)/\(r.denominator)）\(below ? " 低于底线" : "")</text>\n"
      } else {
        values +=
          "<text class=\"value\" x=\"\(n(labelWidth + 4))\" y=\"\(n(rowTop + 15))\" fill=\"#666\">—（无分母）</text>\n"
      }
      svg += "</g>\n"
    }
    svg +=
      "<line class=\"floor\" x1=\"\(n(floorX))\" x2=\"\(n(floorX))\" y1=\"\(n(top - 8))\" y2=\"\(n(height - 20))\" stroke=\"#222\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n"
    svg +=
      "<text x=\"\(n(floorX))\" y=\"\(n(top - 12))\" font-size=\"11\" text-anchor=\"middle\">底线 \(HTMLText.escape(floorText))%</text>\n"
    svg += values + "</g>\n"
    svg += "</svg>\n"
    return figure(chart: chart, caption: caption, body: svg)
  }
}
