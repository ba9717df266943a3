import OmbudsEngine
import OmbudsStore

/// `ombuds impact` as JSON: one object, keys in a fixed order (Documentation/Impact.md).
public enum ImpactJSON {
  public static func render(_ i: Impact, clock: (Millis) -> String) -> String {
    let q = JSONText.quoted
    func opt(_ s: String?) -> String { s.map(q) ?? "null" }
    func transitions(_ list: [Impact.Transition]) -> String {
      "[" + list.map { "{\"from\":\(opt($0.from)),\"to\":\(opt($0.to)),\"cases\":\($0.cases)}" }.joined(separator: ",")
        + "]"
    }
    func counts(_ list: [Impact.Count]) -> String {
      "[" + list.map { "{\"what\":\(q($0.what)),\"cases\":\($0.cases)}" }.joined(separator: ",") + "]"
    }
    func side(_ s: Impact.Side) -> String {
      "{\"rule_set\":\(q(s.ruleSet)),\"levels\":[\(s.levels.map(q).joined(separator: ","))]}"
    }
    let deadlines = i.deadlines.map {
      "{\"deadline\":\(q($0.deadline)),\"earlier\":\($0.earlier),\"later\":\($0.later),\"added\":\($0.added),\"removed\":\($0.removed),\"smallest_move_minutes\":\($0.smallest.map { String($0 / 60_000) } ?? "null"),\"largest_move_minutes\":\($0.largest.map { String($0 / 60_000) } ?? "null")}"
    }
    let changed = i.changed.map {
      "{\"case\":\(q($0.id)),\"state\":\(q($0.state)),\"stored_level\":\(q($0.storedLevel)),\"changes\":[\($0.changes.map(q).joined(separator: ","))],\"current\":\($0.currentJSON),\"draft\":\($0.draftJSON)}"
    }
    var out = "{\"at\":\(q(clock(i.at))),\"current\":\(side(i.current)),\"draft\":\(side(i.draft))"
    out += ",\"cases\":\(i.cases),\"open_cases\":\(i.openCases),\"changed_cases\":\(i.changedTotal)"
    out += ",\"refused_by_draft\":\(i.refusedByDraft)"
    out += ",\"levels\":\(transitions(i.levels)),\"rule_levels\":\(transitions(i.ruleLevels))"
    out += ",\"held_by_ratchet\":\(i.heldByRatchet),\"refund_approvers\":\(transitions(i.approvers))"
    out += ",\"deadlines\":[\(deadlines.joined(separator: ","))]"
    out += ",\"notices_added\":\(counts(i.noticesAdded)),\"notices_removed\":\(counts(i.noticesRemoved))"
    out += ",\"gates_added\":\(counts(i.gatesAdded)),\"gates_removed\":\(counts(i.gatesRemoved))"
    if let r = i.replay {
      let firsts = r.firstDifferences.map {
        "{\"case\":\(q($0.caseID)),\"event_id\":\(q($0.eventID)),\"type\":\(q($0.type)),\"at\":\(q(clock($0.at))),\"current\":\(q($0.current)),\"draft\":\(q($0.draft))}"
      }
      out +=
        ",\"events\":{\"replayed\":\(r.events),\"level_differs\":\(r.levelDiffers),\"refused_by_draft\":\(r.refusedByDraft),\"refused_by_current_only\":\(r.refusedByCurrentOnly),\"cases_differing\":\(r.casesDiffering),\"notices_added\":\(counts(r.noticesAdded)),\"notices_removed\":\(counts(r.noticesRemoved)),\"first_differences\":[\(firsts.joined(separator: ","))]}"
    }
    out += ",\"cases_listed\":[\(changed.joined(separator: ","))]}\n"
    return out
  }
}

/// The parts the text and the page share: a level matrix as rows of cells.
struct ImpactMatrix {
  var rows: [String]
  var columns: [String]
  var cells: [[Int]]

  init(_ list: [Impact.Transition], current: [String], draft: [String]) {
    let refused = list.contains { $0.to == nil }
    let columns = draft + (refused ? ["(refused)"] : [])
    var cells = Array(repeating: Array(repeating: 0, count: columns.count), count: current.count)
    for t in list {
      guard let r = current.firstIndex(of: t.from ?? "") else { continue }
      let c = t.to.flatMap { columns.firstIndex(of: $0) } ?? (columns.count - 1)
      cells[r][c] += t.cases
    }
    self.rows = current
    self.columns = columns
    self.cells = cells
  }
}

/// `ombuds impact` as text for a terminal.
public enum ImpactText {
  public static func render(_ i: Impact, clock: (Millis) -> String) -> String {
    var out =
      "Impact of the draft rules \(ImpactHTML.short(i.draft.ruleSet)) against the rules in force \(ImpactHTML.short(i.current.ruleSet))\n"
    out += "at \(clock(i.at)): \(i.cases) cases (\(i.openCases) open), \(i.changedTotal) would change"
    out += i.refusedByDraft > 0 ? "; the draft refuses \(i.refusedByDraft)\n" : "\n"
    func matrix(_ title: String, _ list: [Impact.Transition]) {
      let m = ImpactMatrix(list, current: i.current.levels, draft: i.draft.levels)
      out += "\n\(title) (rows: in force; columns: draft)\n"
      let width = max(10, (m.rows + m.columns).map(\.count).max() ?? 0) + 2
      func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
      out += pad("") + m.columns.map(pad).joined() + "\n"
      for (r, row) in m.rows.enumerated() {
        out += pad(row) + m.cells[r].map { pad($0 == 0 ? "·" : String($0)) }.joined() + "\n"
      }
    }
    matrix("Levels as the store would record them", i.levels)
    if i.heldByRatchet > 0 {
      out +=
        "\(i.heldByRatchet) case(s) the draft would put lower keep their level (levels never fall on their own; an override pins)\n"
      matrix("The rules' own levels, without the ratchet or overrides", i.ruleLevels)
    }
    if !i.approvers.isEmpty {
      out += "\nRefund approvers\n"
      for t in i.approvers { out += "  \(t.from ?? "none") → \(t.to ?? "none"): \(t.cases)\n" }
    }
    if !i.deadlines.isEmpty {
      out += "\nDeadlines of open, unresolved cases\n"
      for d in i.deadlines {
        var parts: [String] = []
        if d.earlier > 0 { parts.append("\(d.earlier) earlier") }
        if d.later > 0 { parts.append("\(d.later) later") }
        if d.added > 0 { parts.append("\(d.added) newly set") }
        if d.removed > 0 { parts.append("\(d.removed) no longer set") }
        var range = ""
        if let a = d.smallest, let b = d.largest {
          range =
            a == b
            ? " (\(CaseStore.spell(shift: a)))" : " (\(CaseStore.spell(shift: a)) … \(CaseStore.spell(shift: b)))"
        }
        out += "  \(d.deadline): \(parts.joined(separator: ", "))\(range)\n"
      }
    }
    func counts(_ title: String, _ list: [Impact.Count]) {
      guard !list.isEmpty else { return }
      out += "\n\(title)\n"
      for c in list { out += "  \(c.cases) × \(c.what)\n" }
    }
    counts("Notices and reports open cases would gain", i.noticesAdded)
    counts("Notices and reports open cases would lose", i.noticesRemoved)
    counts("Gates that would now block open cases", i.gatesAdded)
    counts("Gates that would no longer block", i.gatesRemoved)
    if let r = i.replay {
      out += "\nReplayed events: \(r.events); the level after the event differs for \(r.levelDiffers)"
      out += "; the draft refuses \(r.refusedByDraft) that are applied today"
      out += r.refusedByCurrentOnly > 0 ? " and applies \(r.refusedByCurrentOnly) refused today" : ""
      out += "; \(r.casesDiffering) case(s) differ\n"
      counts("Notices the replay under the draft would add", r.noticesAdded)
      counts("Notices the replay under the draft would not send", r.noticesRemoved)
      if !r.firstDifferences.isEmpty {
        out += "\nFirst differing event of each case\n"
        for e in r.firstDifferences {
          out += "  \(e.caseID) \(e.type) \(e.eventID) at \(clock(e.at)): \(e.current) → \(e.draft)\n"
        }
      }
    }
    if !i.changed.isEmpty {
      out += "\nChanged cases"
      out += i.changed.count < i.changedTotal ? " (the first \(i.changed.count) of \(i.changedTotal))\n" : "\n"
      for c in i.changed {
        out += "\n\(c.id) (\(c.state), stored level \(c.storedLevel))\n"
        for line in c.changes { out += "  \(line)\n" }
        out += "  in force: \(c.currentJSON)\n  draft:    \(c.draftJSON)\n"
      }
    }
    return out
  }
}

/// `ombuds impact` as one self-contained HTML page (no script; the same CSP as the bulletin).
/// Hooks: `table[data-matrix=levels|rule_levels]` with cells `td[data-from][data-to]`;
/// `[data-case=ID]` for each listed case; `[data-count]` rows in `section[data-section=…]`.
public enum ImpactHTML {
  /// A rule-set hash shortened for people: its first 12 hex digits.
  static func short(_ hash: String) -> String {
    String((hash.hasPrefix("sha256:") ? hash.dropFirst(7) : Substring(hash)).prefix(12))
  }

  public static func render(_ i: Impact, clock: (Millis) -> String) -> String {
    let e = HTMLText.escape
    var out = """
      <!DOCTYPE html>
      <html lang="zh-CN"><head><meta charset="utf-8">
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
      <title>规则变更影响 Impact of a rule change</title>
      <style>
      body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
      table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.2em .6em;text-align:right}
      th{background:#f0f0f0}td.z{color:#bbb}td.d{background:#fff3cd}code,pre{font-size:.85em}
      pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em}
      @media print{body{margin:0}section{break-inside:avoid}}
      </style></head><body>

      """
    out += "<h1>规则变更影响 · Impact of a rule change</h1>\n"
    out +=
      "<p>Draft <code>\(e(Self.short(i.draft.ruleSet)))</code> against the rules in force <code>\(e(Self.short(i.current.ruleSet)))</code>, at \(e(clock(i.at))): <b data-field=\"cases\">\(i.cases)</b> cases (<span data-field=\"open_cases\">\(i.openCases)</span> open), <b data-field=\"changed_cases\">\(i.changedTotal)</b> would change.</p>\n"
    func matrix(_ key: String, _ title: String, _ list: [Impact.Transition]) {
      let m = ImpactMatrix(list, current: i.current.levels, draft: i.draft.levels)
      out +=
        "<section data-section=\"\(key)\"><h2>\(e(title))</h2><table data-matrix=\"\(key)\"><tr><th>in force \\ draft</th>"
      out += m.columns.map { "<th>\(e($0))</th>" }.joined() + "</tr>\n"
      for (r, row) in m.rows.enumerated() {
        out += "<tr><th>\(e(row))</th>"
        for (c, n) in m.cells[r].enumerated() {
          let diagonal = row == m.columns[c]
          let cls = n == 0 ? " class=\"z\"" : (diagonal ? "" : " class=\"d\"")
          out += "<td data-from=\"\(e(row))\" data-to=\"\(e(m.columns[c]))\"\(cls)>\(n)</td>"
        }
        out += "</tr>\n"
      }
      out += "</table></section>\n"
    }
    matrix("levels", "级别 Levels (as the store would record them)", i.levels)
    matrix("rule_levels", "规则本身的级别 The rules' own levels (no ratchet, no override)", i.ruleLevels)
    func counts(_ key: String, _ title: String, _ rows: [(String, Int)]) {
      guard !rows.isEmpty else { return }
      out += "<section data-section=\"\(key)\"><h2>\(e(title))</h2><table>\n"
      for (what, n) in rows {
        out += "<tr data-count=\"\(e(what))\"><td style=\"text-align:left\">\(e(what))</td><td>\(n)</td></tr>\n"
      }
      out += "</table></section>\n"
    }
    counts(
      "approvers", "退款审批人 Refund approvers", i.approvers.map { ("\($0.from ?? "none") → \($0.to ?? "none")", $0.cases) }
    )
    counts(
      "deadlines", "期限 Deadlines of open, unresolved cases",
      i.deadlines.map {
        (
          "\($0.deadline): \($0.earlier) earlier, \($0.later) later, \($0.added) newly set, \($0.removed) no longer set",
          $0.moved + $0.added + $0.removed
        )
      })
    counts("notices_added", "新增通知与报告 Notices and reports gained", i.noticesAdded.map { ($0.what, $0.cases) })
    counts("notices_removed", "取消通知与报告 Notices and reports lost", i.noticesRemoved.map { ($0.what, $0.cases) })
    counts("gates_added", "新增关卡 Gates that would now block", i.gatesAdded.map { ($0.what, $0.cases) })
    counts("gates_removed", "解除关卡 Gates that would no longer block", i.gatesRemoved.map { ($0.what, $0.cases) })
    if let r = i.replay {
      out += "<section data-section=\"events\"><h2>重放事件 Replayed events</h2>\n"
      out +=
        "<p><span data-field=\"replayed\">\(r.events)</span> events replayed; the level after the event differs for <span data-field=\"level_differs\">\(r.levelDiffers)</span>; the draft refuses <span data-field=\"refused_by_draft\">\(r.refusedByDraft)</span> applied today and applies <span data-field=\"refused_by_current_only\">\(r.refusedByCurrentOnly)</span> refused today; <span data-field=\"cases_differing\">\(r.casesDiffering)</span> case(s) differ.</p>\n"
      out += "</section>\n"
      counts(
        "events_notices_added", "重放新增通知 Notices the replay under the draft adds",
        r.noticesAdded.map { ($0.what, $0.cases) })
      counts("events_notices_removed", "重放取消通知 Notices it does not send", r.noticesRemoved.map { ($0.what, $0.cases) })
      counts(
        "first_differences", "首个差异事件 First differing event of each case",
        r.firstDifferences.map {
          ("\($0.caseID) \($0.type) \($0.eventID) at \(clock($0.at)): \($0.current) → \($0.draft)", 1)
        })
    }
    if !i.changed.isEmpty {
      out += "<section data-section=\"changed\"><h2>变化的案件 Changed cases</h2>\n"
      if i.changed.count < i.changedTotal { out += "<p>The first \(i.changed.count) of \(i.changedTotal).</p>\n" }
      for c in i.changed {
        out +=
          "<article data-case=\"\(e(c.id))\"><h3>\(e(c.id)) <small>\(e(c.state)), stored level \(e(c.storedLevel))</small></h3><ul>"
        out += c.changes.map { "<li>\(e($0))</li>" }.joined()
        out += "</ul><pre>in force: \(e(c.currentJSON))\ndraft:    \(e(c.draftJSON))</pre></article>\n"
      }
      out += "</section>\n"
    }
    return out + "</body></html>\n"
  }
}
