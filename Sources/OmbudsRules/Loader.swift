import Foundation
import OmbudsScreening
import OmbudsSyntax

/// The result of loading a rule set: the checked model (nil when there are errors), every
/// diagnostic, and the source files (for rendering diagnostics).
public struct LoadResult: Sendable {
  public var ruleSet: RuleSet?
  public var diagnostics: [Diagnostic]
  public var sources: [String: SourceFile]
  /// Per-file counts for the summary.
  public var files: [String]
  /// False when syntax errors stopped the rule checks: files without errors of their own
  /// were not checked.
  public var checked = true

  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Reads rule files or directories and checks them into a `RuleSet`.
public enum RuleSetLoader {
  static let sectionKeys = [
    "settings", "fields", "levels", "categories", "roles", "reports", "duties", "gates", "refund_approval",
    "deadlines", "calendars", "keyword_lists", "harmful_information", "deadline_alerts", "approval_requests",
  ]

  /// The rule files a path names: the path itself, or the `*.yaml`/`*.yml` files directly in
  /// a directory, sorted by name.
  public static func ruleFiles(at path: String) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    guard isDirectory.boolValue else { return [path] }
    let names = try FileManager.default.contentsOfDirectory(atPath: path)
    return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map {
      path.hasSuffix("/") ? path + $0 : path + "/" + $0
    }
  }

  /// Loads and checks the rule set made of `paths` (files or directories).
  public static func load(paths: [String]) -> LoadResult {
    var files: [String] = []
    var diagnostics: [Diagnostic] = []
    for path in paths {
      do {
        files.append(contentsOf: try ruleFiles(at: path))
      } catch {
        diagnostics.append(
          .error(
            "rules.io", "cannot read `\(path)`: no such file or directory",
            at: SourceLocation(file: path, line: 1, column: 1, offset: 0)))
      }
    }
    var sources: [SourceFile] = []
    for file in files {
      guard let data = FileManager.default.contents(atPath: file) else {
        diagnostics.append(
          .error("rules.io", "cannot read `\(file)`", at: SourceLocation(file: file, line: 1, column: 1, offset: 0)))
        continue
      }
      sources.append(SourceFile(path: file, bytes: [UInt8](data)))
    }
    if files.isEmpty, diagnostics.isEmpty {
      let place = paths.first ?? "."
      diagnostics.append(
        .error(
          "rules.empty", "no rule files (*.yaml) in `\(place)`",
          at: SourceLocation(file: place, line: 1, column: 1, offset: 0)))
    }
    var result = check(sources: sources)
    result.diagnostics = (diagnostics + result.diagnostics).sorted()
    return result
  }

  /// Checks rule files already in memory. `readFile` reads the keyword lists they import
  /// (by path relative to the importing file's directory); by default, from disk.
  public static func check(
    sources: [SourceFile],
    readFile: @escaping (String) -> [UInt8]? = { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } }
  ) -> LoadResult {
    var reader = Reader()
    var roots: [(SourceFile, YAMLNode)] = []
    let parser = YAMLParser()
    for source in sources {
      let (root, diags) = parser.parse(source)
      reader.bag.add(contentsOf: diags)
      if let root { roots.append((source, root)) }
    }
    // Syntax first: when a file does not parse, what the other files say about it would
    // only be consequences (undefined levels, roles…), so the rule checks wait.
    if reader.bag.hasErrors {
      var diagnostics = reader.bag.sorted
      if reader.bag.dropped > 0, let last = diagnostics.last {
        diagnostics.append(
          .error("rules.too-many-diagnostics", "\(reader.bag.dropped) more diagnostics not shown", at: last.location))
      }
      return LoadResult(
        ruleSet: nil, diagnostics: diagnostics,
        sources: Dictionary(sources.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }),
        files: sources.map(\.path), checked: false)
    }
    var builder = Builder(reader: reader, roots: roots)
    builder.readFile = readFile
    var ruleSet = builder.build(hash: "", files: sources.map(\.path))
    let allSources = sources + builder.extraSources
    var hasher = SHA256()
    for source in allSources.sorted(by: { $0.path < $1.path }) {
      hasher.update((source.path as NSString).lastPathComponent)
      hasher.update([0])
      hasher.update(source.bytes)
      hasher.update([0])
    }
    ruleSet.contentHash = "sha256:" + hasher.hexDigest()
    ruleSet.files = allSources.map(\.path)
    let bag = builder.reader.bag
    var diagnostics = bag.sorted
    if bag.dropped > 0, let last = diagnostics.last {
      diagnostics.append(
        .error("rules.too-many-diagnostics", "\(bag.dropped) more diagnostics not shown", at: last.location))
    }
    let hasErrors = diagnostics.contains { $0.severity == .error }
    return LoadResult(
      ruleSet: hasErrors ? nil : ruleSet, diagnostics: diagnostics,
      sources: Dictionary(allSources.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }),
      files: allSources.map(\.path))
  }
}

/// The ordered checking passes. Each pass reads sections and adds diagnostics.
struct Builder {
  /// The longest webhook attempt, in seconds.
  static let longestWebhookTimeout: Int64 = 3600
  var reader: Reader
  let roots: [(SourceFile, YAMLNode)]

  /// Section key → the definitions found, in file order.
  var sections: [String: [YAMLNode.Pair]] = [:]
  var settingsName: String?
  var timeZone = "Asia/Shanghai"
  var defaultCalendar: String?
  var currency = "CNY"
  var fields: [FieldDecl] = BuiltinFields.declarations()
  var numericSlots = 3
  var stringSlots = 3
  var levels: [LevelDecl] = []
  var categories: [CategoryDecl] = []
  var roles: [RoleDecl] = []
  var reports: [ReportDecl] = []
  var calendars: [CalendarDecl] = []
  var refund: RefundPolicy?
  var deadlines: [DeadlineDecl] = []
  var duties: [String: LevelDuties] = [:]
  var gates: [Gate] = []
  var harmfulMajorDuties: [Duty] = []
  var deadlineAlerts: [DeadlineAlert] = []
  var approvalRequests: [Duty] = []
  /// The role that may set a case's level by hand (settings.override_by).
  var overrideBy: Located<String>?
  var readFile: (String) -> [UInt8]? = { _ in nil }
  /// Keyword lists read while checking.
  var extraSources: [SourceFile] = []

  init(reader: Reader, roots: [(SourceFile, YAMLNode)]) {
    self.reader = reader
    self.roots = roots
  }

  /// The passes, in order.
  mutating func build(hash: String, files: [String]) -> RuleSet {
    collectSections()
    checkSettings()
    checkFields()
    checkRoles()
    checkReports()
    checkCategories()
    checkKeywordLists()
    checkKeywords()
    checkCalendars()
    checkLevels()
    checkRefunds()
    checkDeadlines()
    checkDuties()
    checkGates()
    checkHarmfulInformation()
    checkDeadlineAlerts()
    checkApprovalRequests()
    checkReferences()
    LevelAnalysis(levels: levels, fields: fields).run(&reader)
    return RuleSet(
      name: settingsName, timeZone: timeZone, defaultCalendar: defaultCalendar ?? calendars.first?.id ?? "",
      currency: currency, fields: fields, numericSlotCount: numericSlots, stringSlotCount: stringSlots,
      levels: levels, categories: categories, roles: roles, reports: reports, calendars: calendars,
      refund: refund, deadlines: deadlines, duties: duties, gates: gates, harmfulMajorDuties: harmfulMajorDuties,
      deadlineAlerts: deadlineAlerts, approvalRequests: approvalRequests, overrideRole: overrideBy?.value,
      contentHash: hash, files: files)
  }

  // MARK: pass 1 — sections

  mutating func collectSections() {
    for (_, root) in roots {
      if root.isNull { continue }
      guard let pairs = root.pairs else {
        reader.typeError(root, expected: "a mapping of sections (levels:, fields:, …)", in: "rule file")
        continue
      }
      for pair in pairs {
        let key = pair.key.value
        guard RuleSetLoader.sectionKeys.contains(key) else {
          reader.error(
            "rules.unknown-key", "unknown section `\(key)`", at: pair.key.location, length: key.unicodeScalars.count,
            help: Suggest.help(for: key, in: RuleSetLoader.sectionKeys)
              ?? "sections: \(RuleSetLoader.sectionKeys.joined(separator: ", "))")
          continue
        }
        sections[key, default: []].append(pair)
      }
    }
    // Singleton sections, and `levels` (whose order must be clear) may be written once only.
    for key in ["settings", "refund_approval", "levels", "harmful_information", "approval_requests"] {
      if let defs = sections[key], defs.count > 1 {
        for extra in defs.dropFirst() {
          reader.error(
            "rules.duplicate-definition", "`\(key)` is defined more than once in this rule set",
            at: extra.key.location, length: key.unicodeScalars.count,
            related: [.init("first defined here", at: defs[0].key.location)])
        }
      }
    }
  }

  /// The entries of a keyed section across files, with duplicate ids reported.
  mutating func entries(_ section: String) -> [YAMLNode.Pair] {
    var result: [YAMLNode.Pair] = []
    var seen: [String: SourceLocation] = [:]
    for def in sections[section] ?? [] {
      if def.value.isNull { continue }
      guard let pairs = def.value.pairs else {
        reader.typeError(def.value, expected: "a mapping of ids", in: "`\(section)`")
        continue
      }
      for pair in pairs {
        if let first = seen[pair.key.value] {
          reader.error(
            "rules.duplicate-definition", "`\(pair.key.value)` is already defined in `\(section)`",
            at: pair.key.location, length: pair.key.value.unicodeScalars.count,
            related: [.init("first defined here", at: first)])
          continue
        }
        guard reader.isIdentifier(pair.key.value) else {
          reader.error(
            "rules.type", "`\(pair.key.value)` is not a valid id (letters, digits and _)", at: pair.key.location,
            length: pair.key.value.unicodeScalars.count)
          continue
        }
        seen[pair.key.value] = pair.key.location
        result.append(pair)
      }
    }
    return result
  }

  // MARK: settings

  mutating func checkSettings() {
    guard let def = sections["settings"]?.first else { return }
    guard
      let keys = reader.mapping(
        def.value, "settings", allowed: ["name", "time_zone", "calendar", "currency", "label", "override_by"])
    else { return }
    settingsName = reader.string(keys["name"]?.value, "settings.name")
    if let tz = keys["time_zone"]?.value {
      if let id = reader.string(tz, "settings.time_zone") {
        if TimeZone(identifier: id) == nil {
          reader.error(
            "rules.unknown-time-zone", "unknown time zone `\(id)`", at: tz.location, length: id.unicodeScalars.count,
            help: Suggest.help(for: id, in: TimeZone.knownTimeZoneIdentifiers)
              ?? "use an IANA name such as Asia/Shanghai")
        } else {
          timeZone = id
        }
      }
    }
    if let c = reader.identifier(keys["calendar"]?.value, "settings.calendar") { defaultCalendar = c.value }
    overrideBy = reader.identifier(keys["override_by"]?.value, "settings.override_by")
    if let c = keys["currency"]?.value, let code = reader.string(c, "settings.currency") {
      if code.count == 3, code.unicodeScalars.allSatisfy({ $0.value >= 65 && $0.value <= 90 }) {
        currency = code
      } else {
        reader.error("rules.type", "currency must be a three-letter code such as CNY", at: c.location)
      }
    }
  }

  // MARK: fields

  mutating func checkFields() {
    let builtinIDs = Set(fields.map(\.id)).union(["open_for", "now", "level", "id"])
    for pair in entries("fields") {
      let id = pair.key.value
      if builtinIDs.contains(id) {
        reader.error(
          "rules.duplicate-definition", "`\(id)` is a built-in fact and cannot be declared again",
          at: pair.key.location, length: id.unicodeScalars.count)
        continue
      }
      let context = "field `\(id)`"
      guard
        let keys = reader.mapping(
          pair.value, context,
          allowed: ["label", "type", "values", "default", "optional", "min", "max", "description"],
          required: ["type"])
      else { continue }
      guard let typeNode = keys["type"]?.value, let typeName = reader.string(typeNode, "\(context) type") else {
        continue
      }
      var type: FieldType
      switch typeName {
      case "bool": type = .bool
      case "integer": type = .integer
      case "decimal": type = .decimal
      case "money": type = .money
      case "timestamp": type = .timestamp
      case "string": type = .string
      case "enum":
        guard let valuesNode = keys["values"]?.value else {
          reader.error("rules.missing-key", "\(context) is an enum and needs `values`", at: pair.value.location)
          continue
        }
        let values = reader.identifiers(valuesNode, "\(context) values") ?? []
        var seen = Set<String>()
        for v in values where !seen.insert(v.value).inserted {
          reader.error(
            "rules.duplicate-definition", "value `\(v.value)` is listed twice", at: v.location,
            length: v.value.unicodeScalars.count)
        }
        if values.isEmpty {
          reader.error("rules.type", "\(context) needs at least one value", at: valuesNode.location)
          continue
        }
        if values.count > 64 {
          reader.error("rules.type", "\(context) has more than 64 values", at: valuesNode.location)
          continue
        }
        type = .enumeration(values.map(\.value))
      default:
        let kinds = ["bool", "integer", "decimal", "enum", "money", "timestamp", "string"]
        reader.error(
          "rules.type", "unknown field type `\(typeName)`", at: typeNode.location,
          length: typeName.unicodeScalars.count,
          help: Suggest.help(for: typeName, in: kinds) ?? "types: \(kinds.joined(separator: ", "))")
        continue
      }
      if keys["values"] != nil, case .enumeration = type {
      } else if let v = keys["values"] {
        reader.error("rules.unknown-key", "`values` applies to enum fields only", at: v.key.location)
      }
      let optional = keys["optional"].flatMap { reader.bool($0.value, "\(context) optional") } ?? false
      var decl = FieldDecl(
        id: id, label: reader.string(keys["label"]?.value, "\(context) label"), type: type, optional: optional,
        defaultSlot: nil, defaultString: nil, minimum: nil, maximum: nil, builtin: false,
        slot: type == .string ? stringSlots : numericSlots, location: pair.key.location)
      if type == .string { stringSlots += 1 } else { numericSlots += 1 }
      for bound in ["min", "max"] {
        guard let node = keys[bound]?.value else { continue }
        guard type == .integer || type == .decimal else {
          reader.error("rules.unknown-key", "`\(bound)` applies to integer and decimal fields only", at: node.location)
          continue
        }
        let v =
          type == .decimal ? reader.decimal(node, "\(context) \(bound)") : reader.integer(node, "\(context) \(bound)")
        if let v {
          if bound == "min" { decl.minimum = v } else { decl.maximum = v }
        }
      }
      if let node = keys["default"]?.value {
        if node.isNull {
          if !optional {
            reader.error("rules.type", "\(context) has no value by default but is not optional", at: node.location)
          }
        } else {
          switch type {
          case .bool: decl.defaultSlot = reader.bool(node, "\(context) default").map { $0 ? 1 : 0 }
          case .integer: decl.defaultSlot = reader.integer(node, "\(context) default")
          case .decimal: decl.defaultSlot = reader.decimal(node, "\(context) default")
          case .enumeration(let values):
            if let v = reader.identifier(node, "\(context) default") {
              if let i = values.firstIndex(of: v.value) {
                decl.defaultSlot = Int64(i)
              } else {
                reader.error(
                  "rules.unknown-value", "default `\(v.value)` is not one of the values", at: v.location,
                  length: v.value.unicodeScalars.count, help: Suggest.help(for: v.value, in: values))
              }
            }
          case .string: decl.defaultString = reader.string(node, "\(context) default")
          case .money: decl.defaultSlot = reader.money(node, "\(context) default", currency: currency)
          case .timestamp:
            reader.error("rules.type", "timestamps have no default", at: node.location)
          }
        }
      } else if !optional, type == .string {
        decl.defaultString = ""  // a text that is not optional is empty when not given
      } else if !optional {
        reader.error(
          "rules.missing-key", "\(context) needs a `default`, or `optional: true`", at: pair.value.location)
      }
      if let d = decl.defaultSlot, let defaultNode = keys["default"]?.value {
        if let lo = decl.minimum, d < lo, let minNode = keys["min"]?.value {
          reader.error(
            "rules.type", "\(context) default is below its min", at: defaultNode.location,
            related: [.init("the min is here", at: minNode.location)])
        }
        if let hi = decl.maximum, d > hi, let maxNode = keys["max"]?.value {
          reader.error(
            "rules.type", "\(context) default is above its max", at: defaultNode.location,
            related: [.init("the max is here", at: maxNode.location)])
        }
      }
      fields.append(decl)
    }
  }

  // MARK: roles, reports, categories

  mutating func checkRoles() {
    for pair in entries("roles") {
      let context = "role `\(pair.key.value)`"
      if pair.value.isNull {
        roles.append(RoleDecl(id: pair.key.value, label: nil, channels: ["log"], location: pair.key.location))
        continue
      }
      guard
        let keys = reader.mapping(
          pair.value, context, allowed: ["label", "channels", "description", "webhook", "file"])
      else {
        continue
      }
      let channels = reader.identifiers(keys["channels"]?.value, "\(context) channels") ?? []
      let known = ["log", "file", "webhook"]
      for c in channels where !known.contains(c.value) {
        reader.error(
          "rules.unknown-value", "unknown channel `\(c.value)`", at: c.location, length: c.value.unicodeScalars.count,
          help: Suggest.help(for: c.value, in: known) ?? "channels: log, file, webhook")
      }
      var role = RoleDecl(
        id: pair.key.value, label: reader.string(keys["label"]?.value, "\(context) label"),
        channels: channels.isEmpty ? ["log"] : channels.map(\.value), location: pair.key.location)
      if let node = keys["webhook"]?.value { role.webhook = webhook(node, context) }
      if let node = keys["file"]?.value { role.file = reader.string(node, "\(context) file") }
      if let c = channels.first(where: { $0.value == "webhook" }), keys["webhook"] == nil {
        reader.error(
          "rules.missing-key", "\(context) has the `webhook` channel but no `webhook:` (url or url_env, secret_env)",
          at: c.location, length: 7)
      }
      if let w = keys["webhook"], !channels.contains(where: { $0.value == "webhook" }) {
        reader.warning(
          "rules.unused-channel", "\(context) defines a webhook but does not list `webhook` in `channels`",
          at: w.key.location, length: 7, help: "add it: `channels: [webhook]`")
      }
      roles.append(role)
    }
  }

  /// `webhook: {url: …, url_env: …, secret_env: …, timeout: 1 minute}`.
  mutating func webhook(_ node: YAMLNode, _ context: String) -> WebhookTarget? {
    let inner = "\(context) webhook"
    guard let keys = reader.mapping(node, inner, allowed: ["url", "url_env", "secret_env", "timeout"]) else {
      return nil
    }
    var target = WebhookTarget()
    if let n = keys["url"]?.value, let url = reader.string(n, "\(inner) url") {
      if let c = URLComponents(string: url), c.scheme == "http" || c.scheme == "https", c.host?.isEmpty == false {
        target.url = url
      } else {
        reader.error(
          "rules.invalid-url", "`\(url)` is not an http:// or https:// URL", at: n.location,
          length: url.unicodeScalars.count)
      }
    }
    if let n = keys["url_env"]?.value { target.urlEnvironment = environmentName(n, "\(inner) url_env") }
    if let n = keys["secret_env"]?.value { target.secretEnvironment = environmentName(n, "\(inner) secret_env") }
    if keys["url"] == nil, keys["url_env"] == nil {
      reader.error("rules.missing-key", "\(inner) needs `url` or `url_env`", at: node.location)
    }
    if keys["secret_env"] == nil {
      reader.error(
        "rules.missing-key", "\(inner) needs `secret_env`, the environment variable holding its signing secret",
        at: node.location)
    }
    target.timeout = reader.duration(keys["timeout"]?.value, "\(inner) timeout")
    if let t = target.timeout, let node = keys["timeout"]?.value, t.bounds.lowerBound > Self.longestWebhookTimeout {
      reader.numberRange(node, "\(inner) timeout: `\(t)` is too long: one attempt may take at most 1 hour")
      target.timeout = nil
    }
    return target
  }

  /// An environment variable's name: letters, digits and `_`, not starting with a digit.
  mutating func environmentName(_ node: YAMLNode, _ context: String) -> String? {
    guard let name = reader.string(node, context) else { return nil }
    let ok =
      !name.isEmpty && name.utf8.first.map({ !(48...57).contains($0) }) == true
      && name.utf8.allSatisfy {
        (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || $0 == 95
      }
    if !ok {
      reader.error(
        "rules.type", "\(context): `\(name)` is not an environment variable name", at: node.location,
        length: name.unicodeScalars.count)
      return nil
    }
    return name
  }

  mutating func checkReports() {
    for pair in entries("reports") {
      let context = "report `\(pair.key.value)`"
      guard let keys = reader.mapping(pair.value, context, allowed: ["label", "parts", "description"]) else {
        continue
      }
      var parts: [(String, String)] = []
      if let node = keys["parts"]?.value {
        if let ps = node.pairs {
          for p in ps { parts.append((p.key.value, reader.string(p.value, "\(context) part") ?? p.key.value)) }
        } else if let items = reader.identifiers(node, "\(context) parts") {
          parts = items.map { ($0.value, $0.value) }
        }
      }
      reports.append(
        ReportDecl(
          id: pair.key.value, label: reader.string(keys["label"]?.value, "\(context) label"), parts: parts,
          location: pair.key.location))
    }
  }

  mutating func checkCategories() {
    for pair in entries("categories") {
      let context = "category `\(pair.key.value)`"
      guard
        let keys = reader.mapping(
          pair.value, context, allowed: ["label", "major", "description", "keywords", "exceptions"])
      else { continue }
      var decl = CategoryDecl(
        id: pair.key.value, label: reader.string(keys["label"]?.value, "\(context) label"),
        major: keys["major"].flatMap { reader.bool($0.value, "\(context) major") } ?? false,
        location: pair.key.location)
      for item in reader.list(keys["keywords"]?.value, "\(context) keywords") ?? [] {
        if case .scalar(let k, _) = item, !item.isNull {
          decl.keywords.append(Located(k.value, at: item.contentLocation))
        } else {
          reader.typeError(item, expected: "a keyword (text)", in: "\(context) keywords")
        }
      }
      for item in reader.list(keys["exceptions"]?.value, "\(context) exceptions") ?? [] {
        if case .scalar(let k, _) = item, !item.isNull {
          decl.exceptions.append(Located(k.value, at: item.contentLocation))
        } else {
          reader.typeError(item, expected: "an exception phrase (text)", in: "\(context) exceptions")
        }
      }
      categories.append(decl)
    }
  }

  // MARK: keywords

  /// `keyword_lists: [path, …]`: plain-text lists, one `category<TAB>keyword` per line, `#`
  /// comments; paths relative to the file that names them.
  mutating func checkKeywordLists() {
    for def in sections["keyword_lists"] ?? [] {
      let directory = (def.key.location.file as NSString).deletingLastPathComponent
      for item in reader.list(def.value, "keyword_lists") ?? [] {
        guard let relative = reader.string(item, "keyword list path") else { continue }
        let path = relative.hasPrefix("/") || directory.isEmpty ? relative : directory + "/" + relative
        guard let bytes = readFile(path) else {
          reader.error(
            "rules.io", "cannot read keyword list `\(relative)` (looked for \(path))", at: item.location,
            length: relative.unicodeScalars.count)
          continue
        }
        let source = SourceFile(path: path, bytes: bytes)
        extraSources.append(source)
        readKeywordList(source)
      }
    }
  }

  mutating func readKeywordList(_ source: SourceFile) {
    let (entries, diagnostics) = KeywordList.parse(source)
    reader.bag.add(contentsOf: diagnostics)
    var index: [String: Int] = [:]
    for (i, c) in categories.enumerated() { index[c.id] = i }
    for entry in entries {
      guard let c = index[entry.category.value] else {
        reader.error(
          "rules.undefined-category", "undefined category `\(entry.category.value)`", at: entry.category.location,
          length: entry.category.value.unicodeScalars.count,
          help: Suggest.help(for: entry.category.value, in: categories.map(\.id)) ?? "define it under `categories:`")
        continue
      }
      categories[c].keywords.append(entry.keyword)
    }
  }

  /// Empty categories and keywords, keywords in two categories, keywords an exception swallows.
  mutating func checkKeywords() {
    if categories.count > 64, let extra = categories.dropFirst(64).first {
      reader.error(
        "rules.too-many-categories", "a rule set holds at most 64 categories; this is number 65 of \(categories.count)",
        at: extra.location, length: extra.id.unicodeScalars.count)
    }
    var seen: [[UInt32]: (category: String, location: SourceLocation)] = [:]
    for category in categories {
      if category.keywords.isEmpty {
        reader.error(
          "rules.empty-category", "category `\(category.id)` has no keywords", at: category.location,
          length: category.id.unicodeScalars.count, help: "list its keywords under `keywords:`, or import a list")
      }
      let exceptions = category.exceptions.map { ($0, Normalizer.fold($0.value).filter { $0 != 0x0A }) }
      for (e, folded) in exceptions where folded.isEmpty {
        reader.error(
          "rules.empty-keyword",
          "exception `\(e.value)` is only spaces, punctuation or symbols, which matching ignores",
          at: e.location, length: max(1, e.value.unicodeScalars.count))
      }
      for k in category.keywords {
        let folded = Normalizer.fold(k.value).filter { $0 != 0x0A }
        if folded.isEmpty {
          reader.error(
            "rules.empty-keyword",
            "keyword `\(k.value)` is only spaces, punctuation or symbols, which matching ignores",
            at: k.location, length: max(1, k.value.unicodeScalars.count))
          continue
        }
        if let first = seen[folded] {
          reader.warning(
            "rules.duplicate-keyword",
            first.category == category.id
              ? "keyword `\(k.value)` is listed twice in `\(category.id)`"
              : "keyword `\(k.value)` is in `\(first.category)` and in `\(category.id)`",
            at: k.location, length: k.value.unicodeScalars.count,
            related: [.init("also listed here", at: first.location)],
            help: "keep it in one category")
        } else {
          seen[folded] = (category.id, k.location)
        }
        for (e, ef) in exceptions where !ef.isEmpty && Self.contains(folded, ef) {
          reader.warning(
            "rules.keyword-swallowed",
            "keyword `\(k.value)` can never be reported: the exception `\(e.value)` lies inside every match of it",
            at: k.location, length: k.value.unicodeScalars.count,
            related: [.init("exception here", at: e.location)])
        }
      }
    }
  }

  static func contains(_ haystack: [UInt32], _ needle: [UInt32]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    for start in 0...(haystack.count - needle.count)
    where haystack[start..<(start + needle.count)].elementsEqual(needle) {
      return true
    }
    return false
  }

  /// `harmful_information: {on_major: [duty, …]}`: what a report in a `major` category triggers.
  mutating func checkHarmfulInformation() {
    guard let def = sections["harmful_information"]?.first else { return }
    guard let keys = reader.mapping(def.value, "harmful_information", allowed: ["on_major"]) else { return }
    harmfulMajorDuties = (reader.list(keys["on_major"]?.value, "harmful_information on_major") ?? []).compactMap {
      duty($0, "harmful_information on_major")
    }
  }

  // MARK: calendars

  mutating func checkCalendars() {
    let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    for pair in entries("calendars") {
      let context = "calendar `\(pair.key.value)`"
      guard
        let keys = reader.mapping(
          pair.value, context,
          allowed: [
            "label", "time_zone", "weekend", "holidays", "working_days", "covers", "description", "office_hours",
          ])
      else { continue }
      var tz = timeZone
      if let node = keys["time_zone"]?.value, let id = reader.string(node, "\(context) time_zone") {
        if TimeZone(identifier: id) == nil {
          reader.error(
            "rules.unknown-time-zone", "unknown time zone `\(id)`", at: node.location,
            length: id.unicodeScalars.count,
            help: Suggest.help(for: id, in: TimeZone.knownTimeZoneIdentifiers)
              ?? "use an IANA name such as Asia/Shanghai")
        } else {
          tz = id
        }
      }
      var weekend: Set<Int> = [5, 6]
      if let node = keys["weekend"]?.value, let days = reader.identifiers(node, "\(context) weekend") {
        weekend = []
        for d in days {
          if let i = weekdays.firstIndex(of: d.value.lowercased()) {
            weekend.insert(i)
          } else {
            reader.error(
              "rules.unknown-value", "`\(d.value)` is not a weekday", at: d.location,
              length: d.value.unicodeScalars.count, help: Suggest.help(for: d.value, in: weekdays))
          }
        }
      }
      var covers: [Int] = []
      if let node = keys["covers"]?.value, let items = reader.list(node, "\(context) covers") {
        for item in items {
          guard let year = reader.integer(item, "\(context) covers") else { continue }
          guard (1900...2200).contains(year) else {
            reader.error(
              "rules.date-range", "\(context) covers: \(year) is not a year between 1900 and 2200",
              at: item.location, length: item.scalarText?.unicodeScalars.count ?? 1)
            continue
          }
          covers.append(Int(year))
        }
      }
      var holidays: [CivilDate: String] = [:]
      var holidayLocations: [CivilDate: SourceLocation] = [:]
      for item in reader.list(keys["holidays"]?.value, "\(context) holidays") ?? [] {
        var dates: [(CivilDate, SourceLocation)] = []
        var name = ""
        if case .scalar = item {
          if let d = reader.date(item, "\(context) holiday") { dates.append((d, item.location)) }
        } else if let h = reader.mapping(item, "\(context) holiday", allowed: ["name", "dates", "from", "to"]) {
          name = reader.string(h["name"]?.value, "holiday name") ?? ""
          for d in reader.list(h["dates"]?.value, "holiday dates") ?? [] {
            if let date = reader.date(d, "holiday date") { dates.append((date, d.location)) }
          }
          if let fromNode = h["from"]?.value {
            guard let toNode = h["to"]?.value else {
              reader.error("rules.missing-key", "a holiday with `from` needs `to`", at: item.location)
              continue
            }
            if let from = reader.date(fromNode, "holiday from"), let to = reader.date(toNode, "holiday to") {
              if to < from {
                reader.error(
                  "rules.date-range", "holiday ends (\(to)) before it starts (\(from))", at: toNode.location,
                  length: 10, related: [.init("starts here", at: fromNode.location)])
              } else if to.dayNumber - from.dayNumber > 366 {
                reader.error("rules.date-range", "holiday is longer than a year", at: toNode.location, length: 10)
              } else {
                for n in from.dayNumber...to.dayNumber { dates.append((CivilDate(dayNumber: n), fromNode.location)) }
              }
            }
          } else if h["to"] != nil {
            reader.error("rules.missing-key", "a holiday with `to` needs `from`", at: item.location)
          }
          if dates.isEmpty, h["from"] == nil {
            reader.error("rules.missing-key", "a holiday needs `dates` or `from` and `to`", at: item.location)
          }
        }
        for (d, loc) in dates {
          holidays[d] = name
          if holidayLocations[d] == nil { holidayLocations[d] = loc }
          if !covers.isEmpty, !covers.contains(d.year) {
            reader.warning(
              "rules.calendar-coverage",
              "holiday \(d) is outside the years this calendar covers (\(covers.map(String.init).joined(separator: ", ")))",
              at: loc, length: 10, help: "add \(d.year) to `covers`")
          }
        }
      }
      var working: Set<CivilDate> = []
      for item in reader.list(keys["working_days"]?.value, "\(context) working_days") ?? [] {
        guard let d = reader.date(item, "\(context) working day") else { continue }
        if let h = holidayLocations[d] {
          reader.error(
            "rules.holiday-conflict", "\(d) is both a holiday and a working day", at: item.location, length: 10,
            related: [.init("listed as a holiday here", at: h)])
          continue
        }
        if !weekend.contains(d.weekday) {
          reader.warning(
            "rules.redundant-working-day", "\(d) is a \(weekdays[d.weekday]) and already a working day",
            at: item.location, length: 10)
        }
        working.insert(d)
      }
      var office = 540..<1080
      if let node = keys["office_hours"]?.value, let hours = officeHours(node, "\(context) office_hours") {
        office = hours
      }
      calendars.append(
        CalendarDecl(
          id: pair.key.value, label: reader.string(keys["label"]?.value, "\(context) label"), timeZone: tz,
          weekend: weekend, holidays: holidays, workingDays: working, covers: covers, location: pair.key.location,
          officeHours: office))
    }
    if let c = defaultCalendar, !calendars.contains(where: { $0.id == c }),
      let node = sections["settings"]?.first?.value["calendar"]
    {
      reader.error(
        "rules.undefined-calendar", "undefined calendar `\(c)`", at: node.location, length: c.unicodeScalars.count,
        help: Suggest.help(for: c, in: calendars.map(\.id)) ?? "define it under `calendars:`")
    }
  }

  /// `office_hours: {from: "09:00", to: "18:00"}`, in minutes after midnight.
  mutating func officeHours(_ node: YAMLNode, _ context: String) -> Range<Int>? {
    guard let keys = reader.mapping(node, context, allowed: ["from", "to"], required: ["from", "to"]) else {
      return nil
    }
    func minutes(_ n: YAMLNode?) -> Int? {
      guard let n, let text = n.scalarText else { return nil }
      let parts = text.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
        (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440
      else {
        reader.error(
          "rules.type", "\(context): expected a time such as `09:00`, found `\(text)`", at: n.location,
          length: text.unicodeScalars.count)
        return nil
      }
      return h * 60 + m
    }
    guard let from = minutes(keys["from"]?.value), let to = minutes(keys["to"]?.value) else { return nil }
    guard from < to else {
      reader.error(
        "rules.date-range", "\(context): office hours end before they start",
        at: keys["to"]?.value.location ?? node.location, length: 5)
      return nil
    }
    return from..<to
  }

  // MARK: levels

  var typeChecker: TypeChecker {
    var byID: [String: FieldDecl] = [:]
    for f in fields { byID[f.id] = f }
    var ranks: [String: Int] = [:]
    for (i, l) in levels.enumerated() { ranks[l.id] = levels.count - 1 - i }
    return TypeChecker(
      fields: byID, levelRanks: ranks, currency: currency, equivalents: refund?.equivalents ?? [:])
  }

  /// A condition item: its text for reasons, its position, its typed form.
  mutating func item(_ node: YAMLNode, _ context: ConditionContext) -> ConditionItem? {
    let checker = typeChecker
    guard let cond = checker.condition(node, context, &reader) else { return nil }
    let text = Self.render(node)
    let exact = node.isSingleLineSpan || node.pairs?.first?.key.value.contains("(") == true
    return ConditionItem(
      text: text, location: node.pairs?.first?.key.location ?? node.contentLocation,
      length: exact ? text.unicodeScalars.count : 1,
      cond: cond)
  }

  static func render(_ node: YAMLNode) -> String {
    if case .mapping(let pairs, _) = node, pairs.count == 1, let p = pairs.first, p.key.value.contains("("),
      let v = p.value.scalarText
    {
      return p.key.value + ": " + v
    }
    switch node {
    case .scalar(let s, _): return s.value.trimmingCharacters(in: .whitespacesAndNewlines)
    case .sequence(let items, _): return "[" + items.map(render).joined(separator: ", ") + "]"
    case .mapping(let pairs, _):
      guard let p = pairs.first else { return "{}" }
      switch p.key.value {
      case "any": return "(" + (p.value.items ?? []).map(render).joined(separator: " or ") + ")"
      case "all": return "(" + (p.value.items ?? []).map(render).joined(separator: " and ") + ")"
      case "not": return "not (" + render(p.value) + ")"
      default: return p.key.value
      }
    }
  }

  mutating func checkLevels() {
    var levelPairs = entries("levels")
    // The level checks compare every condition with those of every higher level: a bound on
    // levels keeps rules-check fast whatever a file holds.
    if levelPairs.count > 32 {
      let extra = levelPairs[32]
      reader.error(
        "rules.too-many-levels",
        "a rule set holds at most 32 levels; this is number 33 of \(levelPairs.count)", at: extra.key.location,
        length: extra.key.value.unicodeScalars.count)
      levelPairs = Array(levelPairs.prefix(32))
    }
    // Ids first, so `level == x` in other sections can refer to them.
    for pair in levelPairs {
      levels.append(LevelDecl(id: pair.key.value, label: nil, mode: .any, items: [], location: pair.key.location))
    }
    if levelPairs.isEmpty, let def = sections["levels"]?.first {
      reader.error("rules.missing-key", "`levels` needs at least one level", at: def.key.location)
    }
    for (index, pair) in levelPairs.enumerated() {
      let context = "level `\(pair.key.value)`"
      guard
        let keys = reader.mapping(
          pair.value, context, allowed: ["label", "description", "any", "all", "not", "when", "otherwise"])
      else { continue }
      levels[index].label = reader.string(keys["label"]?.value, "\(context) label")
      let modes = ["any", "all", "not", "when", "otherwise"].filter { keys[$0] != nil }
      if modes.count != 1 {
        reader.error(
          modes.isEmpty ? "rules.missing-key" : "rules.type",
          modes.isEmpty
            ? "\(context) needs a condition: `any`, `all`, `not`, `when` or `otherwise: true`"
            : "\(context) has more than one condition (\(modes.joined(separator: ", "))); use one",
          at: pair.key.location, length: pair.key.value.unicodeScalars.count)
        continue
      }
      let mode = modes[0]
      guard let modePair = keys[mode] else { continue }
      let node = modePair.value
      switch mode {
      case "otherwise":
        if reader.bool(node, "\(context) otherwise") == true {
          levels[index].mode = .otherwise
          levels[index].items = [
            ConditionItem(text: "otherwise", location: modePair.key.location, length: 9, cond: .constant(true))
          ]
        } else {
          reader.error("rules.type", "`otherwise` can only be true", at: node.location)
        }
      case "any", "all":
        levels[index].mode = mode == "any" ? .any : .all
        guard let items = reader.list(node, "\(context) \(mode)") else { continue }
        if items.isEmpty {
          reader.error("rules.type", "\(context) `\(mode)` needs at least one condition", at: node.location)
        }
        levels[index].items = items.compactMap { item($0, .level) }
        if items.count > 64 {
          reader.error(
            "rules.too-many-conditions", "\(context) lists \(items.count) conditions; a level holds at most 64",
            at: node.location, help: "group related conditions under one `any:` item")
        }
      default:
        levels[index].mode = .any
        let wrapped: YAMLNode =
          mode == "not"
          ? .mapping([YAMLNode.Pair(key: modePair.key, value: node)], modePair.key.location)
          : node
        if let i = item(wrapped, .level) { levels[index].items = [i] }
      }
    }
    if !levels.isEmpty, !levels.contains(where: { $0.mode == .otherwise }) {
      let last = levels[levels.count - 1]
      reader.error(
        "rules.no-fallback-level", "no level catches every other case", at: last.location,
        length: last.id.unicodeScalars.count, help: "give the lowest level `otherwise: true`")
    }
    if let i = levels.firstIndex(where: { $0.mode == .otherwise }), i < levels.count - 1 {
      for later in levels[(i + 1)...] {
        reader.error(
          "rules.unreachable-level",
          "level `\(later.id)` can never be reached: `\(levels[i].id)` above it takes every case",
          at: later.location, length: later.id.unicodeScalars.count,
          related: [.init("`otherwise` here", at: levels[i].location)])
      }
    }
  }

  // MARK: refunds

  mutating func checkRefunds() {
    guard let def = sections["refund_approval"]?.first else { return }
    guard
      let keys = reader.mapping(
        def.value, "refund_approval", allowed: ["currency", "tiers", "equivalents"], required: ["tiers"])
    else { return }
    var base = currency
    if let node = keys["currency"]?.value, let c = reader.string(node, "refund_approval currency") {
      if c != currency {
        reader.error(
          "rules.tier-currency", "refund tiers are in \(c) but the policy's currency is \(currency)",
          at: node.location, length: c.unicodeScalars.count)
      }
      base = c
    }
    var equivalents: [String: Int64] = [base: Money.scale]
    if let node = keys["equivalents"]?.value, let pairs = node.pairs {
      for p in pairs {
        if let t = p.value.scalarText, let v = Money.parseUnits(Substring(t)), v > 0 {
          equivalents[p.key.value] = v
        } else {
          reader.typeError(
            p.value, expected: "a positive exchange rate such as 7.10", in: "equivalent of \(p.key.value)")
        }
      }
    } else if let node = keys["equivalents"]?.value {
      reader.typeError(node, expected: "a mapping of currency codes to rates", in: "refund_approval equivalents")
    }
    var tiers: [RefundTier] = []
    for node in reader.list(keys["tiers"]?.value, "refund_approval tiers") ?? [] {
      guard
        let t = reader.mapping(
          node, "refund tier", allowed: ["above", "up_to", "approver", "label"], required: ["above", "approver"])
      else { continue }
      guard let above = reader.money(t["above"]?.value, "tier above", currency: base),
        let approver = reader.identifier(t["approver"]?.value, "tier approver")
      else { continue }
      let upTo = t["up_to"].flatMap { reader.money($0.value, "tier up_to", currency: base) }
      if let upTo, upTo <= above {
        reader.error(
          "rules.tier-overlap",
          "tier is empty: up_to \(Money.format(units: upTo)) is not above \(Money.format(units: above))",
          at: node.location)
        continue
      }
      tiers.append(RefundTier(above: above, upTo: upTo, approver: approver.value, location: node.location))
      _ = approver
    }
    let sorted = tiers.sorted { $0.above < $1.above }
    if let first = sorted.first, first.above > 0 {
      reader.error(
        "rules.tier-gap", "amounts above 0 up to \(Money.format(units: first.above)) \(base) have no approver",
        at: first.location)
    }
    for (a, b) in zip(sorted, sorted.dropFirst()) {
      guard let upTo = a.upTo else {
        reader.error(
          "rules.tier-overlap",
          "this tier has no upper limit, so it overlaps the tier above \(Money.format(units: b.above))",
          at: a.location, related: [.init("overlapping tier", at: b.location)])
        continue
      }
      if upTo < b.above {
        reader.error(
          "rules.tier-gap",
          "amounts above \(Money.format(units: upTo)) up to \(Money.format(units: b.above)) \(base) have no approver",
          at: b.location, related: [.init("the tier below ends here", at: a.location)])
      } else if upTo > b.above {
        reader.error(
          "rules.tier-overlap",
          "amounts above \(Money.format(units: b.above)) up to \(Money.format(units: upTo)) \(base) fall in two tiers",
          at: b.location, related: [.init("the tier below reaches up to \(Money.format(units: upTo))", at: a.location)])
      }
    }
    if let last = sorted.last, let upTo = last.upTo {
      reader.error(
        "rules.tier-gap", "amounts above \(Money.format(units: upTo)) \(base) have no approver", at: last.location,
        help: "leave out `up_to` on the highest tier")
    }
    refund = RefundPolicy(currency: base, equivalents: equivalents, tiers: sorted, location: def.key.location)
  }

  // MARK: deadlines

  mutating func checkDeadlines() {
    for pair in entries("deadlines") {
      let context = "deadline `\(pair.key.value)`"
      var rulesNode: YAMLNode?
      var label: String?
      var calendar = defaultCalendar ?? calendars.first?.id ?? ""
      var maximum: RuleDuration?
      if pair.value.items != nil {
        rulesNode = pair.value
      } else if let keys = reader.mapping(
        pair.value, context, allowed: ["label", "rules", "calendar", "max", "description"], required: ["rules"])
      {
        rulesNode = keys["rules"]?.value
        label = reader.string(keys["label"]?.value, "\(context) label")
        if let c = reader.identifier(keys["calendar"]?.value, "\(context) calendar") {
          if calendars.contains(where: { $0.id == c.value }) {
            calendar = c.value
          } else {
            reader.error(
              "rules.undefined-calendar", "undefined calendar `\(c.value)`", at: c.location,
              length: c.value.unicodeScalars.count, help: Suggest.help(for: c.value, in: calendars.map(\.id)))
          }
        }
        maximum = reader.duration(keys["max"]?.value, "\(context) max")
      }
      var rules: [DeadlineRule] = []
      for node in reader.list(rulesNode, "\(context) rules") ?? [] {
        guard let r = reader.mapping(node, "\(context) rule", allowed: ["when", "due"], required: ["due"]) else {
          continue
        }
        let when = r["when"].flatMap { item($0.value, .general) }
        guard let dueNode = r["due"]?.value, let due = reader.expression(dueNode, "\(context) due") else { continue }
        guard case .plus(.name(let baseName, let bspan), .duration(let d, let dspan), _) = due else {
          reader.error(
            "rules.type-mismatch", "a due time is a timestamp plus a duration", at: due.span.location,
            length: due.span.length, help: "e.g. `received_at + 24 hours`")
          continue
        }
        guard let f = fields.first(where: { $0.id == baseName }) else {
          reader.error(
            "rules.unknown-field", "unknown field `\(baseName)`", at: bspan.location, length: bspan.length,
            help: Suggest.help(for: baseName, in: fields.filter { $0.type == .timestamp }.map(\.id)))
          continue
        }
        guard f.type == .timestamp else {
          reader.error(
            "rules.type-mismatch", "`\(baseName)` is not a timestamp", at: bspan.location, length: bspan.length,
            help: Suggest.help(for: baseName, in: fields.filter { $0.type == .timestamp }.map(\.id)))
          continue
        }
        guard let add = reader.positive(d, dspan) else { continue }
        if add.unit == .workingDays, calendars.isEmpty {
          reader.error(
            "rules.undefined-calendar", "working days need a business calendar; none is defined",
            at: dspan.location, length: dspan.length)
        }
        rules.append(DeadlineRule(when: when, baseSlot: f.slot, baseName: baseName, add: add, location: node.location))
      }
      deadlines.append(
        DeadlineDecl(
          id: pair.key.value, label: label, calendar: calendar, rules: rules, maximum: maximum,
          location: pair.key.location))
    }
  }

  // MARK: duties and gates

  mutating func duty(
    _ node: YAMLNode, _ context: String, extra: [String] = [], pseudoRecipients: [String] = []
  ) -> Duty? {
    guard
      let keys = reader.mapping(
        node, context, allowed: ["notify", "at", "every", "report", "to", "label", "include_identity"] + extra)
    else { return nil }
    if keys["notify"] == nil, keys["report"] == nil {
      reader.error("rules.missing-key", "\(context) needs `notify` or `report`", at: node.location)
      return nil
    }
    var recipients: [Located<String>] = []
    recipients += reader.identifiers(keys["notify"]?.value, "\(context) notify") ?? []
    recipients += reader.identifiers(keys["to"]?.value, "\(context) to") ?? []
    for r in recipients where !pseudoRecipients.contains(r.value) { checkRole(r, as: "recipient") }
    let includeIdentity = reader.bool(keys["include_identity"]?.value, "\(context) include_identity") ?? false
    let report = reader.identifier(keys["report"]?.value, "\(context) report")
    if let report { checkReport(report) }
    var at = Duty.When.once
    if let node = keys["at"]?.value, let s = reader.string(node, "\(context) at") {
      if let w = Duty.When(rawValue: s) {
        at = w
      } else {
        reader.error(
          "rules.unknown-value", "`at` is `once`, `office_hours` or `next_working_day`, not `\(s)`",
          at: node.location, length: s.unicodeScalars.count,
          help: Suggest.help(for: s, in: ["once", "office_hours", "next_working_day"]))
      }
    }
    return Duty(
      notify: recipients.map(\.value), report: report?.value, at: at,
      every: reader.duration(keys["every"]?.value, "\(context) every"), location: node.location,
      includeIdentity: includeIdentity)
  }

  mutating func checkRole(_ r: Located<String>, as what: String) {
    if !roles.contains(where: { $0.id == r.value }) {
      reader.error(
        "rules.undefined-role", "undefined \(what) `\(r.value)`", at: r.location, length: r.value.unicodeScalars.count,
        help: Suggest.help(for: r.value, in: roles.map(\.id)) ?? "define it under `roles:`")
    }
  }

  mutating func checkReport(_ r: Located<String>) {
    if !reports.contains(where: { $0.id == r.value }) {
      reader.error(
        "rules.undefined-report", "undefined report `\(r.value)`", at: r.location,
        length: r.value.unicodeScalars.count,
        help: Suggest.help(for: r.value, in: reports.map(\.id)) ?? "define it under `reports:`")
    }
  }

  mutating func checkDuties() {
    for pair in entries("duties") {
      let id = pair.key.value
      if !levels.contains(where: { $0.id == id }) {
        reader.error(
          "rules.undefined-level", "undefined level `\(id)`", at: pair.key.location, length: id.unicodeScalars.count,
          help: Suggest.help(for: id, in: levels.map(\.id)))
        continue
      }
      let context = "duties of `\(id)`"
      guard
        let keys = reader.mapping(pair.value, context, allowed: ["on_enter", "while_open", "on_change", "on_close"])
      else {
        continue
      }
      var d = LevelDuties()
      d.onEnter = (reader.list(keys["on_enter"]?.value, "\(context) on_enter") ?? []).compactMap {
        duty($0, "\(context) on_enter")
      }
      d.whileOpen = (reader.list(keys["while_open"]?.value, "\(context) while_open") ?? []).compactMap {
        duty($0, "\(context) while_open")
      }
      for w in d.whileOpen where w.every == nil {
        reader.error("rules.missing-key", "a duty while open needs `every`, e.g. `every: 1 week`", at: w.location)
      }
      for node in reader.list(keys["on_change"]?.value, "\(context) on_change") ?? [] {
        guard var change = duty(node, "\(context) on_change", extra: ["fields"]) else { continue }
        if let f = node["fields"] {
          for name in reader.identifiers(f, "\(context) on_change fields") ?? [] {
            if fields.contains(where: { $0.id == name.value }) {
              change.fields.append(name.value)
            } else {
              reader.error(
                "rules.unknown-field", "unknown field `\(name.value)`", at: name.location,
                length: name.value.unicodeScalars.count,
                help: Suggest.help(for: name.value, in: fields.map(\.id)) ?? "declare it under `fields:`")
            }
          }
        }
        d.onChange.append(change)
      }
      d.onClose = (reader.list(keys["on_close"]?.value, "\(context) on_close") ?? []).compactMap {
        duty($0, "\(context) on_close")
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
      for node in reader.list(def.value, "gates") ?? [] {
        guard
          let keys = reader.mapping(
            node, "gate", allowed: ["transition", "when", "require_approval", "require_report", "label"],
            required: ["transition"])
        else { continue }
        guard let t = reader.identifier(keys["transition"]?.value, "gate transition") else { continue }
        if !transitions.contains(t.value) {
          reader.error(
            "rules.unknown-value", "unknown transition `\(t.value)`", at: t.location,
            length: t.value.unicodeScalars.count,
            help: Suggest.help(for: t.value, in: transitions) ?? "transitions: \(transitions.joined(separator: ", "))")
        }
        let approval = reader.identifier(keys["require_approval"]?.value, "gate require_approval")
        if let approval, approval.value != "refund_approver" { checkRole(approval, as: "approver") }
        let report = reader.identifier(keys["require_report"]?.value, "gate require_report")
        if let report { checkReport(report) }
        if approval == nil, report == nil {
          reader.error("rules.missing-key", "a gate needs `require_approval` or `require_report`", at: node.location)
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
          "rules.undefined-deadline", "undefined deadline `\(name)`", at: pair.key.location,
          length: name.unicodeScalars.count,
          help: Suggest.help(for: name, in: deadlines.map(\.id)) ?? "define it under `deadlines:`")
        continue
      }
      let context = "deadline alert of `\(name)`"
      for node in reader.list(pair.value, context) ?? [] {
        guard let d = duty(node, context, extra: ["before", "after", "on_breach"]) else { continue }
        var offsets: [DeadlineAlert.Offset] = []
        if let n = node["before"], let v = reader.duration(n, "\(context) before") { offsets.append(.before(v)) }
        if let n = node["after"], let v = reader.duration(n, "\(context) after") { offsets.append(.after(v)) }
        if let n = node["on_breach"] {
          if reader.bool(n, "\(context) on_breach") == true {
            offsets.append(.breach)
          } else {
            reader.error("rules.type", "\(context): `on_breach` is `true` or left out", at: n.location)
          }
        }
        let given = ["before", "after", "on_breach"].filter { node[$0] != nil }
        if given.count != 1 {
          reader.error(
            "rules.missing-key", "\(context) needs exactly one of `before`, `on_breach: true` or `after`",
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
    approvalRequests = (reader.list(def.value, "approval_requests") ?? []).compactMap {
      duty($0, "approval_requests", pseudoRecipients: ["approver"])
    }
  }

  mutating func checkReferences() {
    if let r = overrideBy { checkRole(r, as: "override role") }
    for tier in refund?.tiers ?? [] {
      if !roles.contains(where: { $0.id == tier.approver }) {
        reader.error(
          "rules.undefined-role", "undefined approver `\(tier.approver)`", at: tier.location,
          help: Suggest.help(for: tier.approver, in: roles.map(\.id)) ?? "define it under `roles:`")
      }
    }
    if fields.contains(where: { $0.type == .money }), refund == nil {
      // Money facts work without tiers; nothing to say.
    }
  }
}
