import OmbudsRules

/// JSON text helpers.
public enum JSONText {
  /// Appends `s` as a JSON string literal, escaped as Foundation's `JSONEncoder` escapes it
  /// (the case store relies on writing the same text).
  public static func appendString(_ s: String, to out: inout [UInt8]) {
    out.append(0x22)
    var s = s
    // Runs of bytes that need no escape are copied whole.
    s.withUTF8 { bytes in
      var start = 0
      for i in bytes.indices {
        let b = bytes[i]
        guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
        appendEscape(b, to: &out)
        start = i + 1
      }
      out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
    }
    out.append(0x22)
  }

  /// The escape of a byte that a JSON string cannot hold as it is.
  static func appendEscape(_ b: UInt8, to out: inout [UInt8]) {
    out.append(0x5C)
    switch b {
    case 0x22: out.append(0x22)
    case 0x5C: out.append(0x5C)
    case 0x0A: out.append(0x6E)
    case 0x0D: out.append(0x72)
    case 0x09: out.append(0x74)
    case 0x08: out.append(0x62)
    case 0x0C: out.append(0x66)
    default:
      let hex: StaticString = "0123456789abcdef"
      out.append(contentsOf: [0x75, 0x30, 0x30, hex.utf8Start[Int(b >> 4)], hex.utf8Start[Int(b & 0xF)]])
    }
  }

  public static func quoted(_ s: String) -> String {
    var out: [UInt8] = []
    appendString(s, to: &out)
    return String(decoding: out, as: UTF8.self)
  }
}

/// Renders decisions as the `ombuds classify` JSON line, with the static parts precomputed.
public struct DecisionRenderer: Sendable {
  let rules: CompiledRules
  /// `"level":"hot"` prefix bytes per level.
  let levelJSON: [[UInt8]]
  /// Reason objects per level and item.
  let reasonJSON: [[[UInt8]]]
  let actionsJSON: [[UInt8]]
  let approverJSON: [[UInt8]]
  let deadlineKeys: [[UInt8]]
  let hashJSON: [UInt8]
  /// Per category: its id as JSON. Per pattern: `"category":…,"keyword":…` as JSON.
  let categoryJSON: [[UInt8]]
  let patternJSON: [[UInt8]]
  let harmfulActionsJSON: [UInt8]
  /// Category indices (below 64) in id order.
  let categoriesByID: [Int]

  public init(rules: CompiledRules) {
    self.rules = rules
    let set = rules.ruleSet
    levelJSON = set.levels.map { Array(JSONText.quoted($0.id).utf8) }
    reasonJSON = set.levels.map { level in
      level.items.map { item in
        Array(
          "{\"level\":\(JSONText.quoted(level.id)),\"condition\":\(JSONText.quoted(item.text)),\"source\":\(JSONText.quoted(item.location.description))}"
            .utf8)
      }
    }
    actionsJSON = set.levels.map { level in
      let duties = set.duties[level.id] ?? LevelDuties()
      var parts: [String] = []
      func list(_ ids: [String]) -> String { "[" + ids.map(JSONText.quoted).joined(separator: ",") + "]" }
      for d in duties.onEnter {
        var s =
          "{\"kind\":\"notify\",\"on\":\"enter\",\"to\":\(list(d.notify)),\"when\":\(JSONText.quoted(d.at.decisionName))"
        if let r = d.report { s += ",\"report\":\(JSONText.quoted(r))" }
        parts.append(s + "}")
      }
      for d in duties.whileOpen {
        var s = "{\"kind\":\"notify\",\"on\":\"while_open\",\"to\":\(list(d.notify))"
        if let e = d.every { s += ",\"every\":\(JSONText.quoted(e.description))" }
        if let r = d.report { s += ",\"report\":\(JSONText.quoted(r))" }
        parts.append(s + "}")
      }
      for d in duties.onChange {
        var s =
          "{\"kind\":\"notify\",\"on\":\"change\",\"to\":\(list(d.notify)),\"when\":\(JSONText.quoted(d.at.decisionName))"
        if !d.fields.isEmpty { s += ",\"fields\":\(list(d.fields))" }
        if let r = d.report { s += ",\"report\":\(JSONText.quoted(r))" }
        parts.append(s + "}")
      }
      for d in duties.onClose {
        var s = "{\"kind\":\"report\",\"on\":\"close\""
        if let r = d.report {
          s += ",\"report\":\(JSONText.quoted(r))"
          if let decl = set.reports.first(where: { $0.id == r }), !decl.parts.isEmpty {
            s += ",\"parts\":\(list(decl.parts.map(\.id)))"
          }
        }
        if !d.notify.isEmpty { s += ",\"to\":\(list(d.notify))" }
        parts.append(s + "}")
      }
      return Array(("[" + parts.joined(separator: ",") + "]").utf8)
    }
    approverJSON = set.roles.map { Array(JSONText.quoted($0.id).utf8) }
    deadlineKeys = set.deadlines.map { Array(JSONText.quoted($0.id).utf8) }
    hashJSON = Array(JSONText.quoted(set.contentHash).utf8)
    categoryJSON = set.categories.map { Array(JSONText.quoted($0.id).utf8) }
    categoriesByID = set.categories.indices.filter { $0 < 64 }.sorted { set.categories[$0].id < set.categories[$1].id }
    patternJSON = (rules.screening?.patterns ?? []).map { p in
      Array(
        "\"category\":\(JSONText.quoted(set.categories[Int(p.category)].id)),\"keyword\":\(JSONText.quoted(p.text))"
          .utf8)
    }
    harmfulActionsJSON = Array(
      set.harmfulMajorDuties.map { d in
        "{\"kind\":\"notify\",\"on\":\"harmful_information\",\"to\":["
          + d.notify.map(JSONText.quoted).joined(separator: ",")
          + "],\"when\":\(JSONText.quoted(d.at.decisionName))}"
      }.joined(separator: ",").utf8)
  }

  func appendTime(_ t: Millis?, _ out: inout [UInt8]) {
    guard let t else {
      out.append(contentsOf: "null".utf8)
      return
    }
    out.append(0x22)
    out.append(contentsOf: RFC3339.format(t, offsetSeconds: rules.calendar.clock.offset(at: t)).utf8)
    out.append(0x22)
  }

  /// Appends one decision line (with a trailing newline).
  public func append(_ d: Decision, for facts: CaseFacts, to out: inout [UInt8]) {
    out.append(contentsOf: "{\"id\":".utf8)
    JSONText.appendString(facts.id, to: &out)
    out.append(contentsOf: ",\"level\":".utf8)
    out.append(contentsOf: levelJSON[d.level])
    out.append(contentsOf: ",\"reasons\":[".utf8)
    var bits = d.reasonItems
    var firstReason = true
    while bits != 0 {
      if !firstReason { out.append(0x2C) }
      firstReason = false
      out.append(contentsOf: reasonJSON[d.reasonLevel][bits.trailingZeroBitCount])
      bits &= bits - 1
    }
    out.append(contentsOf: "],\"categories\":[".utf8)
    if d.categoryBits != 0 {
      // Sorted by id, as the contract says.
      var firstCategory = true
      for c in categoriesByID where d.categoryBits & (1 << UInt64(c)) != 0 {
        if !firstCategory { out.append(0x2C) }
        firstCategory = false
        out.append(contentsOf: categoryJSON[c])
      }
    }
    out.append(contentsOf: "],\"matches\":[".utf8)
    for (i, m) in d.matches.enumerated() {
      if i > 0 { out.append(0x2C) }
      out.append(0x7B)
      out.append(contentsOf: patternJSON[Int(m.pattern)])
      out.append(contentsOf: ",\"start\":\(m.start),\"end\":\(m.end)".utf8)
      if let name = m.disguise.name { out.append(contentsOf: ",\"disguise\":\"\(name)\"".utf8) }
      out.append(0x7D)
    }
    out.append(contentsOf: "],\"refund_approver\":".utf8)
    if let a = d.refundApprover { out.append(contentsOf: approverJSON[a]) } else { out.append(contentsOf: "null".utf8) }
    out.append(contentsOf: ",\"deadlines\":{".utf8)
    for (i, key) in deadlineKeys.enumerated() {
      if i > 0 { out.append(0x2C) }
      out.append(contentsOf: key)
      out.append(0x3A)
      appendTime(i < d.deadlines.count ? d.deadlines[i] : nil, &out)
    }
    out.append(contentsOf: "},\"actions\":".utf8)
    if d.categoryBits & rules.majorCategoryBits != 0, !harmfulActionsJSON.isEmpty {
      // The level's actions, then the harmful-information ones.
      let level = actionsJSON[d.level]
      out.append(contentsOf: level.dropLast())
      if level.count > 2 { out.append(0x2C) }
      out.append(contentsOf: harmfulActionsJSON)
      out.append(UInt8(ascii: "]"))
    } else {
      out.append(contentsOf: actionsJSON[d.level])
    }
    out.append(contentsOf: ",\"next_review_at\":".utf8)
    appendTime(d.nextReviewAt, &out)
    out.append(contentsOf: ",\"rule_set\":".utf8)
    out.append(contentsOf: hashJSON)
    out.append(contentsOf: "}\n".utf8)
  }
}

extension Duty.When {
  /// The name a decision's `actions` give this timing: `immediately`, `office_hours` or
  /// `next_working_day`.
  public var decisionName: String {
    switch self {
    case .once: "immediately"
    case .officeHours: "office_hours"
    case .nextWorkingDay: "next_working_day"
    }
  }
}
