import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Passes `duties`, `gates`, `deadline-alerts` and `approval-requests`: routes and approvals.
extension CheckState {
  mutating func duty(
    _ node: YAMLNode, _ context: Context, shape: RuleKeys = RuleShapes.duty, pseudoRecipients: [String] = []
  ) -> Duty? {
    guard
      let keys = reader.mapping(node, context, shape: shape)
    else { return nil }
    if keys["notify"] == nil, keys["report"] == nil {
      reader.error(
        .missingKey,
        LocalizedText(en: "\(context.en) needs `notify` or `report`", zh: "\(context) 需要 `notify` 或 `report`"),
        at: node.location)
      return nil
    }
    var recipients: [Located<String>] = []
    recipients += reader.identifiers(keys["notify"]?.value, context.key("notify")) ?? []
    recipients += reader.identifiers(keys["to"]?.value, context.key("to")) ?? []
    for r in recipients where !pseudoRecipients.contains(r.value) { checkRole(r, as: "recipient") }
    let includeIdentity = reader.bool(keys["include_identity"]?.value, context.key("include_identity")) ?? false
    let report = reader.identifier(keys["report"]?.value, context.key("report"))
    if let report { checkReport(report) }
    var at = Duty.When.once
    if let node = keys["at"]?.value, let s = reader.string(node, context.key("at")) {
      if let w = Duty.When(rawValue: s) {
        at = w
      } else {
        reader.error(
          .unknownValue,
          LocalizedText(
            en: "`at` is `once`, `office_hours` or `next_working_day`, not `\(s)`",
            zh: "`at` 只能是 `once`、`office_hours` 或 `next_working_day`，不能是 `\(s)`"),
          at: node.location, length: s.unicodeScalars.count,
          help: Suggest.didYouMean(for: s, in: ["once", "office_hours", "next_working_day"]))
      }
    }
    return Duty(
      notify: recipients.map(\.value), report: report?.value, at: at,
      every: reader.duration(keys["every"]?.value, context.key("every")), location: node.location,
      includeIdentity: includeIdentity)
  }

  mutating func checkRole(_ r: Located<String>, as what: String) {
    if !roles.contains(where: { $0.id == r.value }) {
      reader.error(
        .undefinedRole, Messages.undefinedRole(as: what, r.value), at: r.location, length: r.value.unicodeScalars.count,
        help: Suggest.didYouMean(for: r.value, in: roles.map(\.id), kind: .role) ?? Messages.defineUnder("roles"))
    }
  }

  mutating func checkReport(_ r: Located<String>) {
    if !reports.contains(where: { $0.id == r.value }) {
      reader.error(
        .undefinedReport, Messages.undefined(.report, r.value), at: r.location,
        length: r.value.unicodeScalars.count,
        help: Suggest.didYouMean(for: r.value, in: reports.map(\.id), kind: .report) ?? Messages.defineUnder("reports"))
    }
  }

  mutating func checkDuties() {
    for pair in entries("duties") {
      let id = pair.key.value
      if !levels.contains(where: { $0.id == id }) {
        reader.error(
          .undefinedLevel, Messages.undefined(.level, id), at: pair.key.location, length: id.unicodeScalars.count,
          help: Suggest.didYouMean(for: id, in: levels.map(\.id), kind: .level))
        continue
      }
      let context = Ctx.duties(id)
      guard
        let keys = reader.mapping(pair.value, context, shape: RuleShapes.levelDuties)
      else {
        continue
      }
      var d = LevelDuties()
      d.onEnter = (reader.list(keys["on_enter"]?.value, context.key("on_enter")) ?? []).compactMap {
        duty($0, context.key("on_enter"))
      }
      d.whileOpen = (reader.list(keys["while_open"]?.value, context.key("while_open")) ?? []).compactMap {
        duty($0, context.key("while_open"))
      }
      for w in d.whileOpen where w.every == nil {
        reader.error(
          .missingKey,
          LocalizedText(
            en: "a duty while open needs `every`, e.g. `every: 1 week`", zh: "办理期间的职责需要 `every`，例如 `every: 1 week`"),
          at: w.location)
      }
      for node in reader.list(keys["on_change"]?.value, context.key("on_change")) ?? [] {
        guard var change = duty(node, context.key("on_change"), shape: RuleShapes.changeDuty) else { continue }
        if let f = node["fields"] {
          for name in reader.identifiers(f, context.part("on_change fields", "`on_change` 的字段")) ?? [] {
            if fields.contains(where: { $0.id == name.value }) {
              change.fields.append(name.value)
            } else {
              reader.error(
                .unknownField, Messages.unknownField(name.value), at: name.location,
                length: name.value.unicodeScalars.count,
                help: Suggest.didYouMean(for: name.value, in: fields.map(\.id), kind: .field) ?? Messages.declareField)
            }
          }
        }
        d.onChange.append(change)
      }
      d.onClose = (reader.list(keys["on_close"]?.value, context.key("on_close")) ?? []).compactMap {
        duty($0, context.key("on_close"))
      }
      duties[id] = d
    }
  }

  mutating func checkGates() {
    let transitions = [
      "register", "accept", "reject", "assign", "investigate", "propose", "approve", "carry_out", "reply",
      "follow_up", "close", "reopen", "appeal", "extend",
    ]
    for def in sections["gates"] ?? [] {
      for node in reader.list(def.value, Ctx.path("gates")) ?? [] {
        guard
          let keys = reader.mapping(node, Ctx.words("gate", "关卡"), shape: RuleShapes.gate)
        else { continue }
        guard let t = reader.identifier(keys["transition"]?.value, Ctx.words("gate transition", "关卡的 `transition`"))
        else { continue }
        if !transitions.contains(t.value) {
          reader.error(
            .unknownValue, LocalizedText(en: "unknown transition `\(t.value)`", zh: "未知的状态转换 `\(t.value)`"),
            at: t.location,
            length: t.value.unicodeScalars.count,
            help: Suggest.didYouMean(for: t.value, in: transitions)
              ?? LocalizedText(
                en: "transitions: \(transitions.joined(separator: ", "))",
                zh: "可用的状态转换：\(transitions.joined(separator: "、"))"))
        }
        let approval = reader.identifier(
          keys["require_approval"]?.value, Ctx.words("gate require_approval", "关卡的 `require_approval`"))
        if let approval, approval.value != "refund_approver" { checkRole(approval, as: "approver") }
        let report = reader.identifier(
          keys["require_report"]?.value, Ctx.words("gate require_report", "关卡的 `require_report`"))
        if let report { checkReport(report) }
        if approval == nil, report == nil {
          reader.error(
            .missingKey,
            LocalizedText(
              en: "a gate needs `require_approval` or `require_report`",
              zh: "关卡需要 `require_approval` 或 `require_report`"), at: node.location)
        }
        gates.append(
          Gate(
            transition: t.value, when: keys["when"].flatMap { item($0.value, .general) },
            requireApproval: approval?.value, requireReport: report?.value, location: node.location))
      }
    }
  }

  /// `deadline_alerts: {DEADLINE: [{before: 4h | on_breach: true | after: 1 working day, notify: […]}]}`.
  mutating func checkDeadlineAlerts() {
    for pair in entries("deadline_alerts") {
      let name = pair.key.value
      guard let index = deadlines.firstIndex(where: { $0.id == name }) else {
        reader.error(
          .undefinedDeadline, Messages.undefined(.deadline, name), at: pair.key.location,
          length: name.unicodeScalars.count,
          help: Suggest.didYouMean(for: name, in: deadlines.map(\.id), kind: .deadline)
            ?? Messages.defineUnder("deadlines"))
        continue
      }
      let context = Ctx.deadlineAlert(name)
      for node in reader.list(pair.value, context) ?? [] {
        guard let d = duty(node, context, shape: RuleShapes.deadlineAlert) else { continue }
        var offsets: [DeadlineAlert.Offset] = []
        if let n = node["before"], let v = reader.duration(n, context.key("before")) { offsets.append(.before(v)) }
        if let n = node["after"], let v = reader.duration(n, context.key("after")) { offsets.append(.after(v)) }
        if let n = node["on_breach"] {
          if reader.bool(n, context.key("on_breach")) == true {
            offsets.append(.breach)
          } else {
            reader.error(
              .trueOnly,
              LocalizedText(
                en: "\(context.en): `on_breach` is `true` or left out", zh: "\(context)：`on_breach` 只能是 `true` 或省略"),
              at: n.location)
          }
        }
        let given = ["before", "after", "on_breach"].filter { node[$0] != nil }
        if given.count != 1 {
          reader.error(
            .missingKey,
            LocalizedText(
              en: "\(context.en) needs exactly one of `before`, `on_breach: true` or `after`",
              zh: "\(context) 需要 `before`、`on_breach: true`、`after` 三者之一（只能一个）"),
            at: node.location)
          continue
        }
        guard let offset = offsets.first else { continue }
        deadlineAlerts.append(DeadlineAlert(deadline: name, deadlineIndex: index, offset: offset, duty: d))
      }
    }
  }

  /// `approval_requests: [{notify: [approver, …]}]`: who hears that an approval is wanted.
  mutating func checkApprovalRequests() {
    guard let def = sections["approval_requests"]?.first else { return }
    approvalRequests = (reader.list(def.value, Ctx.path("approval_requests")) ?? []).compactMap {
      duty($0, Ctx.path("approval_requests"), pseudoRecipients: ["approver"])
    }
  }
}
