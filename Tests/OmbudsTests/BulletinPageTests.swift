import Foundation
import Testing

@testable import OmbudsReports
@testable import OmbudsStore

/// The bulletin page (`ombuds report --format html`) opened in a real headless Chromium: a
/// screenshot is taken, the page logs nothing to the console (its Content-Security-Policy
/// turns any fetch into a logged violation), and the numbers in its DOM equal the JSON
/// bulletin's (`--format json`) of the same store and period.
///
/// The store: `Fixtures/bulletin/events.jsonl` (October and November 2026, the default rules)
/// replayed with `ombuds replay`, plus one case whose unit and issue are hostile text.
@Suite struct BulletinPageTests {
  /// The periods tested: November (every section filled), June (no case at all, nor the
  /// month before), 21–29 November (a case resolved, no follow-up: 满意度 "—"), and
  /// November by level.
  enum Period: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case november, empty, noFollowUps, byLevel
    var arguments: [String] {
      switch self {
      case .november: ["--from", "2026-11-01", "--to", "2026-11-30"]
      case .empty: ["--from", "2026-06-01", "--to", "2026-06-30"]
      case .noFollowUps: ["--from", "2026-11-21", "--to", "2026-11-29"]
      case .byLevel: ["--from", "2026-11-01", "--to", "2026-11-30", "--by", "level"]
      }
    }
    var testDescription: String { rawValue }
  }

  static let now = "2026-11-30T12:00:00+08:00"
  /// A unit and an issue that are markup, to see them escaped and read back as text.
  static let hostileUnit = "<i>\"审计\"&'监察'</i>"
  static let hostileIssue = "<script>alert(1)</script>"

  static var extraEvents: String {
    """
    {"event_id":"x1","case":"X-<1>","type":"received","at":"2026-11-25T09:00:00+08:00","actor":"intake","received_at":"2026-11-25T09:00:00+08:00","channel":"email","issue_key":"\(hostileIssue)","complainant_id":"P-X","text":"test"}
    {"event_id":"x2","case":"X-<1>","type":"register","at":"2026-11-25T09:05:00+08:00","actor":"intake"}
    {"event_id":"x3","case":"X-<1>","type":"accept","at":"2026-11-25T09:30:00+08:00","actor":"customer_service_center"}
    {"event_id":"x4","case":"X-<1>","type":"assign","at":"2026-11-25T09:40:00+08:00","actor":"customer_service_center","assignee":"a","department":"\(hostileUnit.replacingOccurrences(of: "\"", with: "\\\""))"}

    """
  }

  /// A store with the fixture's events, in a new directory.
  static func store(_ dir: URL) throws -> String {
    let db = dir.appendingPathComponent("bulletin.sqlite").path
    let events = try String(
      contentsOf: Support.tests.appendingPathComponent("Fixtures/bulletin/events.jsonl"), encoding: .utf8)
    let replay = try Support.run("ombuds", ["replay", "--store", db], stdin: events + extraEvents)
    #expect(replay.status == 0, "\(replay.stderr)")
    return db
  }

  static func report(_ store: String, _ period: Period, format: String, out: URL) throws {
    let run = try Support.run(
      "ombuds",
      ["report", "--store", store, "--rules", Support.rulesDir, "--now", now, "--format", format, "--out", out.path]
        + period.arguments)
    #expect(run.status == 0, "\(run.stderr)")
  }

  @Test(
    // Without Chromium the test is skipped, said so in the run's output — except under
    // CI=true, where .ci/run installs it: there a missing Chromium fails the test.
    .enabled(
      if: Chromium.path != nil || ProcessInfo.processInfo.environment["CI"] == "true",
      "needs Debian's `chromium` (apt-get install -y chromium; .ci/run installs it)"),
    arguments: Period.allCases)
  func pageInChromium(_ period: Period) throws {
    let chromium = try #require(Chromium.path, "chromium not found on PATH (apt-get install -y chromium)")
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try Self.store(dir)
    let html = dir.appendingPathComponent("bulletin.html")
    let json = dir.appendingPathComponent("bulletin.json")
    try Self.report(store, period, format: "html", out: html)
    try Self.report(store, period, format: "json", out: json)
    let page = try String(contentsOf: html, encoding: .utf8)
    let data = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])

    // (a) A screenshot, the size of an A4 page at 150 dpi.
    let png = dir.appendingPathComponent("bulletin.png")
    let shot = try Chromium.run(
      chromium, ["--screenshot=\(png.path)", "--window-size=1240,1754", html.absoluteString], profile: dir)
    #expect(shot.status == 0, "\(shot.stderr)")
    let image = try Data(contentsOf: png)
    #expect(image.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    #expect(PNG.size(image).map { "\($0.width)x\($0.height)" } == "1240x1754")
    #expect(image.count > 20_000, "a blank screenshot compresses to almost nothing")

    // (b) Nothing on the console (a blocked fetch, an error) and (c) the DOM's numbers.
    let dump = try Chromium.run(chromium, ["--dump-dom", html.absoluteString], profile: dir)
    #expect(dump.status == 0, "\(dump.stderr)")
    for run in [shot, dump] {
      let console = run.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }
      #expect(console.isEmpty, "the page logged: \(console.joined(separator: "\n"))")
    }
    let dom = dump.stdout
    #expect(dom.contains("<main class=\"bulletin\""), "the DOM: \(dom.prefix(500))")
    try Self.checkNumbers(dom: dom, json: data)

    // What the page must never hold: a script, a URL to fetch, the hostile text unescaped.
    #expect(!page.contains("<script"))
    #expect(!page.contains("http:") && !page.contains("https:") && !page.contains("url("))
    #expect(!page.contains(Self.hostileUnit))

    switch period {
    case .november:
      // The hostile unit and issue come back from the DOM as the same text.
      #expect(DOM.elements(dom, "tr", "data-count").contains { $0.value == "department:" + Self.hostileUnit })
      #expect(DOM.elements(dom, "tr", "data-count").contains { $0.value == "issue:" + Self.hostileIssue })
      #expect(DOM.elements(dom, "li", "data-case").map(\.value).contains("C-2611-07"))
      // 工程部, a unit of a single case accepted late, is named below the feedback floor.
      let feedback = try #require(DOM.elements(dom, "tr", "data-measure").first { $0.value == "on_time_feedback_rate" })
      #expect(DOM.elements(feedback.inner, "span", "data-unit").map(\.value).contains("工程部"))
      let unit = try #require(DOM.elements(dom, "tr", "data-group").first { $0.value == "工程部" })
      #expect(DOM.field(unit.inner, "received") == "1")
      // The charts: the weekly trend, the levels, the channels and one per floor.
      let charts = Set(DOM.attributes(dom, "data-chart"))
      #expect(
        charts == [
          "weeks", "level", "channel", "floor:on_time_feedback_rate", "floor:on_time_resolution_rate",
          "floor:satisfaction_rate",
        ])
      #expect(!dom.contains("本期无数据"))
      // Printed: a PDF on A4.
      let pdf = dir.appendingPathComponent("bulletin.pdf")
      let print = try Chromium.run(
        chromium, ["--print-to-pdf=\(pdf.path)", "--no-pdf-header-footer", html.absoluteString], profile: dir)
      #expect(print.status == 0, "\(print.stderr)")
      #expect(try Data(contentsOf: pdf).starts(with: Array("%PDF".utf8)))
    case .empty:
      #expect(data["received"] as? Int == 0 && data["previous_received"] as? Int == 0)
      // Every chart says so instead of drawing; every measure is "—".
      #expect(DOM.attributes(dom, "data-empty").count == 3 + 3)
      #expect(dom.components(separatedBy: "本期无数据").count - 1 >= 6)
      for row in DOM.elements(dom, "tr", "data-measure") {
        #expect(DOM.field(row.inner, "percent") == "—")
      }
    case .noFollowUps:
      let satisfaction = try #require(
        DOM.elements(dom, "tr", "data-measure").first { $0.value == "satisfaction_rate" })
      #expect(DOM.field(satisfaction.inner, "percent") == "—")
      #expect(DOM.field(satisfaction.inner, "denominator") == "0")
      // The groups' satisfaction: "—", and no bar in its floor chart.
      for group in DOM.elements(dom, "tr", "data-group") {
        #expect(DOM.ratio(group.inner, "satisfaction_rate")?.text == "—")
      }
      #expect(dom.contains("—（无分母）"))
    case .byLevel:
      #expect(data["by"] as? String == "level")
      #expect(DOM.elements(dom, "tr", "data-group").map(\.value).contains("major"))
    }
  }

  /// Every number the DOM's hooks carry equals the JSON's.
  static func checkNumbers(dom: String, json: [String: Any]) throws {
    #expect(DOM.elements(dom, "span", "data-count").first { $0.value == "received" }?.text == "\(json["received"]!)")
    #expect(
      DOM.elements(dom, "span", "data-count").first { $0.value == "previous_received" }?.text
        == "\(json["previous_received"]!)")
    // Measures: value, numerator, denominator, the previous period, the change, the floor,
    // the units below it.
    let measures = try #require(json["measures"] as? [[String: Any]])
    let rows = DOM.elements(dom, "tr", "data-measure")
    #expect(rows.map(\.value) == measures.map { $0["id"] as? String ?? "" })
    for (row, m) in zip(rows, measures) {
      let value = try #require(m["value"] as? [String: Any])
      let previous = try #require(m["previous"] as? [String: Any])
      #expect(DOM.field(row.inner, "numerator") == "\(value["numerator"]!)", "\(row.value)")
      #expect(DOM.field(row.inner, "denominator") == "\(value["denominator"]!)", "\(row.value)")
      #expect(DOM.field(row.inner, "percent") == percentText(value["percent"]), "\(row.value)")
      #expect(DOM.field(row.inner, "previous_numerator") == "\(previous["numerator"]!)", "\(row.value)")
      #expect(DOM.field(row.inner, "previous_denominator") == "\(previous["denominator"]!)", "\(row.value)")
      #expect(DOM.field(row.inner, "previous_percent") == percentText(previous["percent"]), "\(row.value)")
      #expect(DOM.field(row.inner, "change") == BulletinFormat.points(m["change"] as? Double), "\(row.value)")
      #expect(DOM.field(row.inner, "floor") == (m["floor"] as? String).map { $0 + "%" } ?? "—", "\(row.value)")
      let below = DOM.elements(row.inner, "span", "data-unit").map(\.value)
      #expect(below == m["below_floor"] as? [String], "\(row.value)")
    }
    // Groups: every ratio.
    let groups = try #require(json["groups"] as? [[String: Any]])
    let groupRows = DOM.elements(dom, "tr", "data-group")
    #expect(groupRows.map(\.value) == groups.map { $0["key"] as? String ?? "" })
    for (row, g) in zip(groupRows, groups) {
      #expect(DOM.field(row.inner, "received") == "\(g["received"]!)")
      let ratios = try #require(g["measures"] as? [String: [String: Any]])
      for (id, r) in ratios {
        let cell = DOM.ratio(row.inner, id)
        #expect(cell?.numerator == "\(r["numerator"]!)" && cell?.denominator == "\(r["denominator"]!)", "\(id)")
        #expect(cell?.text.hasPrefix(percentText(r["percent"])) == true, "\(id)")
        let below = (g["below_floor"] as? [String] ?? []).contains(id)
        #expect(cell?.text.hasSuffix("低于底线") == below, "\(row.value) \(id)")
      }
    }
    // Counts: by level, channel, unit, category and issue.
    let countRows = DOM.elements(dom, "tr", "data-count")
    var expected: [String] = []
    for (key, section) in [
      ("by_level", "level"), ("by_channel", "channel"), ("by_department", "department"),
      ("by_category", "category"), ("top_issues", "issue"),
    ] {
      for c in try #require(json[key] as? [[String: Any]]) {
        let id = "\(section):\(c["key"]!)"
        expected.append(id)
        let row = countRows.first { $0.value == id }
        #expect(row.flatMap { DOM.field($0.inner, "count") } == "\(c["count"]!)", "\(id)")
        #expect(row.flatMap { DOM.field($0.inner, "previous") } == "\(c["previous"]!)", "\(id)")
      }
    }
    #expect(countRows.map(\.value) == expected)
    // Ordinary cases.
    let ordinary = try #require(json["ordinary"] as? [String: Any])
    for key in ["received", "resolved", "rejected", "open", "closed"] {
      #expect(
        DOM.elements(dom, "b", "data-count").first { $0.value == "ordinary:" + key }?.text == "\(ordinary[key]!)",
        "\(key)")
    }
    // The cases listed: important, special (with their reports' state), overdue, due soon.
    for key in ["important", "special"] {
      let items = try #require(json[key] as? [[String: Any]])
      let section = try #require(DOM.elements(dom, "section", "data-section").first { $0.value == key })
      #expect(DOM.elements(section.inner, "li", "data-case").map(\.value) == items.map { $0["id"] as? String ?? "" })
      if key == "special" {
        let states = DOM.attributes(section.inner, "data-report-state")
        #expect(states == items.map { ($0["report"] as? [String: Any])?["state"] as? String ?? "none" })
      }
    }
    for key in ["overdue", "due_soon"] {
      let due = try #require(json[key] as? [String: Any])
      let section = try #require(DOM.elements(dom, "section", "data-section").first { $0.value == key })
      let cases = try #require(due["cases"] as? [[String: Any]])
      #expect(DOM.elements(section.inner, "tr", "data-case").map(\.value) == cases.map { $0["id"] as? String ?? "" })
      #expect(section.tag.contains("data-total=\"\(due["total"]!)\""))
    }
  }

  /// The page's text for a JSON `percent` (one decimal, or null).
  static func percentText(_ value: Any?) -> String {
    guard let p = value as? Double else { return "—" }
    return Bulletin.Ratio.format(p) + "%"
  }

  @Test func samePageFromSQLiteAndPostgreSQL() async throws {
    let server = try #require(try PostgresServer.available())
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let sqlite = try Self.store(dir)
    let postgres = try server.newDatabase()
    let events = try String(
      contentsOf: Support.tests.appendingPathComponent("Fixtures/bulletin/events.jsonl"), encoding: .utf8)
    let replay = try Support.run("ombuds", ["replay", "--store", postgres], stdin: events + Self.extraEvents)
    #expect(replay.status == 0, "\(replay.stderr)")
    for period in Period.allCases {
      var pages: [String] = []
      for store in [sqlite, postgres, sqlite] {
        let out = dir.appendingPathComponent("page-\(pages.count).html")
        try Self.report(store, period, format: "html", out: out)
        pages.append(try String(contentsOf: out, encoding: .utf8))
      }
      #expect(pages[0] == pages[2], "the same store gives the same bytes")
      #expect(pages[0] == pages[1], "SQLite and PostgreSQL give the same page (\(period))")
    }
  }

  /// Every text the page shows from outside is escaped; the page has the hooks and the print
  /// style; a bulletin without cases shows "本期无数据" for its charts.
  @Test func escapingAndEmptyCharts() {
    let hostile = "</td><script>x</script>&'\""
    let ratio = Bulletin.Ratio(numerator: 1, denominator: 3)
    let none = Bulletin.Ratio(numerator: 0, denominator: 0)
    let period = Bulletin.Period(from: 0, to: 86_400_000, firstDay: "1970-01-01", lastDay: "1970-01-01")
    var b = Bulletin(
      period: period, previousPeriod: period, generatedAt: 0, timeZone: "UTC", offsetSeconds: 0,
      ruleSet: "sha256:0", grouping: .department, received: 1, previousReceived: 0,
      byLevel: [.init(key: "ordinary", label: "一般投诉", count: 1, previous: 0)],
      byChannel: [.init(key: hostile, label: hostile, count: 1, previous: 0)],
      byDepartment: [.init(key: hostile, label: hostile, count: 1, previous: 0)], byCategory: [],
      topIssues: [.init(key: hostile, label: hostile, count: 1, previous: 0)],
      weeks: [.init(from: 0, firstDay: "1970-01-01", received: 1, resolved: 0)],
      measures: [
        .init(
          id: "m", label: hostile, source: "x.yaml:1", floor: "85", current: ratio, previous: none,
          belowFloor: [hostile])
      ],
      groups: [.init(key: hostile, label: hostile, received: 1, values: [ratio], belowFloor: ["m"])],
      ordinary: .init(received: 1, resolved: 0, rejected: 0, open: 1, closed: 0),
      important: [
        .init(
          id: hostile, level: "important", levelLabel: "重要投诉", receivedAt: 0, channel: hostile,
          department: hostile, stage: hostile, handling: hostile, resolvedAt: nil, report: nil, reportLabel: nil,
          reportState: nil, reportHandedInAt: nil, resolveBy: nil)
      ], special: [], overdue: [], overdueTotal: 0, dueSoon: [], dueSoonTotal: 0)
    let page = BulletinHTML.render(b)
    #expect(!page.contains(hostile))
    #expect(!page.contains("<script"))
    #expect(page.contains("&lt;/td&gt;&lt;script&gt;x&lt;/script&gt;&amp;&#39;&quot;"))
    #expect(page == BulletinHTML.render(b))
    #expect(page.contains("@page { size: A4; margin: 15mm; }"))
    #expect(page.contains("<html lang=\"zh-CN\">") && page.contains("<meta charset=\"utf-8\">"))
    #expect(page.contains("<tr data-measure=\"m\" class=\"below\">"))
    #expect(page.contains("<td class=\"num\" data-field=\"percent\">33.3%</td>"))
    b.received = 0
    b.byLevel = [.init(key: "ordinary", label: "一般投诉", count: 0, previous: 0)]
    b.byChannel = []
    b.weeks = [.init(from: 0, firstDay: "1970-01-01", received: 0, resolved: 0)]
    b.groups = []
    let empty = BulletinHTML.render(b)
    #expect(empty.components(separatedBy: "<p class=\"no-data\">本期无数据</p>").count - 1 == 4)
    #expect(!empty.contains("<svg"))
  }
}

/// Debian's Chromium, headless.
enum Chromium {
  static let path: String? = {
    // OMBUDS_CHROMIUM names another binary (one that does not exist: as if none were installed).
    if let given = ProcessInfo.processInfo.environment["OMBUDS_CHROMIUM"], !given.isEmpty {
      return FileManager.default.isExecutableFile(atPath: given) ? given : nil
    }
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") + ["/usr/bin"]
    for dir in dirs {
      for name in ["chromium", "chromium-browser"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)")
      {
        return "\(dir)/\(name)"
      }
    }
    return nil
  }()

  /// Runs it to the end (killed after 120 s), console messages logged to standard error, with
  /// a profile of its own (tests run in parallel).
  static func run(_ chromium: String, _ arguments: [String], profile dir: URL) throws -> Support.Run {
    let profile = dir.appendingPathComponent("chromium-\(UUID().uuidString)")
    return try Support.run(
      "/usr/bin/timeout",
      [
        "--kill-after=10", "120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-extensions", "--disable-sync", "--user-data-dir=\(profile.path)", "--enable-logging=stderr",
        "--v=0",
      ] + arguments)
  }
}

/// The hooks of a DOM as Chromium serialises it (attributes in double quotes, text escaped).
enum DOM {
  struct Element {
    /// The attribute's value, unescaped.
    var value: String
    /// The start tag, as serialised.
    var tag: String
    var inner: String
    /// The inner text, without tags, unescaped and trimmed.
    var text: String { DOM.text(inner) }
  }

  /// The `tag` elements with the attribute `name`, in document order (not nested in one another).
  static func elements(_ html: String, _ tag: String, _ name: String) -> [Element] {
    let pattern = "<\(tag)\\b([^>]*?)\\s\(name)=\"([^\"]*)\"([^>]*)>(.*?)</\(tag)>"
    guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]) else {
      return []
    }
    let ns = html as NSString
    return regex.matches(in: html, range: NSRange(location: 0, length: ns.length)).map { m in
      let whole = ns.substring(with: m.range)
      let inner = ns.substring(with: m.range(at: 4))
      return Element(
        value: unescape(ns.substring(with: m.range(at: 2))), tag: String(whole.prefix(whole.count - inner.count)),
        inner: inner)
    }
  }

  /// Every value of the attribute `name`, in document order.
  static func attributes(_ html: String, _ name: String) -> [String] {
    guard let regex = try? NSRegularExpression(pattern: "\\s\(name)=\"([^\"]*)\"") else { return [] }
    let ns = html as NSString
    return regex.matches(in: html, range: NSRange(location: 0, length: ns.length)).map {
      unescape(ns.substring(with: $0.range(at: 1)))
    }
  }

  /// The text of the first element with `data-field="name"`.
  static func field(_ html: String, _ name: String) -> String? {
    for tag in ["td", "span"] {
      if let e = elements(html, tag, "data-field").first(where: { $0.value == name }) { return e.text }
    }
    return nil
  }

  /// A group's cell for a measure: its text and its numerator and denominator attributes.
  static func ratio(_ html: String, _ id: String) -> (text: String, numerator: String?, denominator: String?)? {
    guard let cell = elements(html, "td", "data-ratio").first(where: { $0.value == id }) else { return nil }
    func attribute(_ name: String) -> String? { attributes(cell.tag, name).first }
    return (cell.text, attribute("data-numerator"), attribute("data-denominator"))
  }

  static func text(_ html: String) -> String {
    let stripped = html.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression)
    return unescape(stripped).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  static func unescape(_ s: String) -> String {
    s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
      .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
      .replacingOccurrences(of: "&nbsp;", with: "\u{00A0}").replacingOccurrences(of: "&amp;", with: "&")
  }
}

/// The size a PNG's header gives.
enum PNG {
  static func size(_ data: Data) -> (width: Int, height: Int)? {
    let bytes = [UInt8](data.prefix(24))
    guard bytes.count == 24, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
    func be(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
    return (be(16), be(20))
  }
}
