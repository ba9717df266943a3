import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Passes `roles` and `reports`: who is told, through which channels; the reports cases need.
extension CheckState {
  mutating func checkRoles() {
    for pair in entries("roles") {
      let context = Ctx.role(pair.key.value)
      if pair.value.isNull {
        roles.append(RoleDecl(id: pair.key.value, label: nil, channels: ["log"], location: pair.key.location))
        continue
      }
      guard
        let keys = reader.mapping(pair.value, context, shape: RuleShapes.role)
      else {
        continue
      }
      let channels = reader.identifiers(keys["channels"]?.value, context.key("channels")) ?? []
      let known = ["log", "file", "webhook"]
      for c in channels where !known.contains(c.value) {
        reader.error(
          .unknownValue, LocalizedText(en: "unknown channel `\(c.value)`", zh: "未知的渠道 `\(c.value)`"), at: c.location,
          length: c.value.unicodeScalars.count,
          help: Suggest.didYouMean(for: c.value, in: known)
            ?? LocalizedText(en: "channels: log, file, webhook", zh: "可用的渠道：log、file、webhook"))
      }
      var role = RoleDecl(
        id: pair.key.value, label: reader.string(keys["label"]?.value, context.key("label")),
        channels: channels.isEmpty ? ["log"] : channels.map(\.value), location: pair.key.location)
      if let node = keys["webhook"]?.value { role.webhook = webhook(node, context) }
      if let node = keys["file"]?.value { role.file = reader.string(node, context.key("file")) }
      if let c = channels.first(where: { $0.value == "webhook" }), keys["webhook"] == nil {
        reader.error(
          .missingKey,
          LocalizedText(
            en: "\(context.en) has the `webhook` channel but no `webhook:` (url or url_env, secret_env)",
            zh: "\(context) 有 `webhook` 渠道，却没有 `webhook:`（url 或 url_env，以及 secret_env）"),
          at: c.location, length: 7)
      }
      if let w = keys["webhook"], !channels.contains(where: { $0.value == "webhook" }) {
        reader.warning(
          .unusedChannel,
          LocalizedText(
            en: "\(context.en) defines a webhook but does not list `webhook` in `channels`",
            zh: "\(context) 定义了 webhook，但 `channels` 中没有 `webhook`"),
          at: w.key.location, length: 7,
          help: LocalizedText(en: "add it: `channels: [webhook]`", zh: "请加上：`channels: [webhook]`"))
      }
      roles.append(role)
    }
  }

  /// `webhook: {url: …, url_env: …, secret_env: …, timeout: 1 minute}`.
  mutating func webhook(_ node: YAMLNode, _ context: Context) -> WebhookTarget? {
    let inner = context.key("webhook")
    guard let keys = reader.mapping(node, inner, shape: RuleShapes.webhook) else {
      return nil
    }
    var target = WebhookTarget()
    if let n = keys["url"]?.value, let url = reader.string(n, inner.key("url")) {
      if let c = URLComponents(string: url), c.scheme == "http" || c.scheme == "https", c.host?.isEmpty == false {
        target.url = url
      } else {
        reader.error(
          .invalidUrl,
          LocalizedText(en: "`\(url)` is not an http:// or https:// URL", zh: "`\(url)` 不是 http:// 或 https:// 地址"),
          at: n.location,
          length: url.unicodeScalars.count)
      }
    }
    if let n = keys["url_env"]?.value { target.urlEnvironment = environmentName(n, inner.key("url_env")) }
    if let n = keys["secret_env"]?.value { target.secretEnvironment = environmentName(n, inner.key("secret_env")) }
    if keys["url"] == nil, keys["url_env"] == nil {
      reader.error(
        .missingKey, LocalizedText(en: "\(inner.en) needs `url` or `url_env`", zh: "\(inner) 需要 `url` 或 `url_env`"),
        at: node.location)
    }
    if keys["secret_env"] == nil {
      reader.error(
        .missingKey,
        LocalizedText(
          en: "\(inner.en) needs `secret_env`, the environment variable holding its signing secret",
          zh: "\(inner) 需要 `secret_env`，即存放签名密钥的环境变量"),
        at: node.location)
    }
    target.timeout = reader.duration(keys["timeout"]?.value, inner.key("timeout"))
    if let t = target.timeout, let node = keys["timeout"]?.value, t.bounds.lowerBound > Self.longestWebhookTimeout {
      reader.numberRange(
        node,
        LocalizedText(
          en: "\(inner.en) timeout: `\(t)` is too long: one attempt may take at most 1 hour",
          zh: "\(inner) 的 `timeout`：`\("\(t)")` 太长：每次尝试最多 1 小时"))
      target.timeout = nil
    }
    return target
  }

  /// An environment variable's name: letters, digits and `_`, not starting with a digit.
  mutating func environmentName(_ node: YAMLNode, _ context: Context) -> String? {
    guard let name = reader.string(node, context) else { return nil }
    let ok =
      !name.isEmpty && name.utf8.first.map({ !(48...57).contains($0) }) == true
      && name.utf8.allSatisfy {
        (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || $0 == 95
      }
    if !ok {
      reader.error(
        .invalidEnvName,
        LocalizedText(
          en: "\(context.en): `\(name)` is not an environment variable name", zh: "\(context)：`\(name)` 不是环境变量名"),
        at: node.location,
        length: name.unicodeScalars.count)
      return nil
    }
    return name
  }

  mutating func checkReports() {
    for pair in entries("reports") {
      let context = Ctx.report(pair.key.value)
      guard let keys = reader.mapping(pair.value, context, shape: RuleShapes.report) else {
        continue
      }
      var parts: [(String, String)] = []
      if let node = keys["parts"]?.value {
        if let ps = node.pairs {
          for p in ps {
            parts.append((p.key.value, reader.string(p.value, context.part("part", "组成部分")) ?? p.key.value))
          }
        } else if let items = reader.identifiers(node, context.key("parts")) {
          parts = items.map { ($0.value, $0.value) }
        }
      }
      reports.append(
        ReportDecl(
          id: pair.key.value, label: reader.string(keys["label"]?.value, context.key("label")), parts: parts,
          location: pair.key.location))
    }
  }
}
