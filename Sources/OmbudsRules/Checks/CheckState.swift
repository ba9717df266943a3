import Foundation
import OmbudsScreening
import OmbudsSyntax

/// One named checking pass: reads the sections, adds to the model, adds diagnostics. Passes
/// do no I/O: the loader reads every file (rule files and the keyword lists they import)
/// before the first pass and hashes them after the last.
struct CheckPass: Sendable {
  /// A stable name, for tracing and for the architecture notes.
  let name: String
  let run: @Sendable (inout CheckState) -> Void

  init(_ name: String, _ run: @escaping @Sendable (inout CheckState) -> Void) {
    self.name = name
    self.run = run
  }
}

/// What the checking passes share: the parsed files, the diagnostics, and the rule model as
/// it is built. A new check is one row in `passes` and one method in its own
/// `CheckState+Concern.swift` file.
struct CheckState {
  /// The passes, in order. A pass may use what the passes above it built.
  static let passes: [CheckPass] = [
    CheckPass("sections") { $0.collectSections() },
    CheckPass("settings") { $0.checkSettings() },
    CheckPass("fields") { $0.checkFields() },
    CheckPass("roles") { $0.checkRoles() },
    CheckPass("reports") { $0.checkReports() },
    CheckPass("categories") { $0.checkCategories() },
    CheckPass("keyword-lists") { $0.checkKeywordLists() },
    CheckPass("keywords") { $0.checkKeywords() },
    CheckPass("calendars") { $0.checkCalendars() },
    // Level ids before any condition, so that `level == x` can be checked anywhere.
    CheckPass("level-ids") { $0.declareLevels() },
    // Tiers and currency equivalents before conditions, which convert amounts with them.
    CheckPass("refunds") { $0.checkRefunds() },
    CheckPass("types") { $0.buildTypeChecker() },
    CheckPass("levels") { $0.checkLevels() },
    CheckPass("deadlines") { $0.checkDeadlines() },
    CheckPass("duties") { $0.checkDuties() },
    CheckPass("gates") { $0.checkGates() },
    CheckPass("harmful-information") { $0.checkHarmfulInformation() },
    CheckPass("deadline-alerts") { $0.checkDeadlineAlerts() },
    CheckPass("approval-requests") { $0.checkApprovalRequests() },
    CheckPass("references") { $0.checkReferences() },
    // After the roles, the override role, the gates and the tiers: who may post what.
    CheckPass("permissions") { $0.checkPermissions() },
    // After the deadlines: the satisfaction scale, then the measures that name both.
    CheckPass("measures") { $0.checkMeasures() },
    CheckPass("level-analysis") { state in
      LevelAnalysis(levels: state.levels, fields: state.fields).run(&state.reader)
    },
  ]

  /// The longest webhook attempt, in seconds.
  static let longestWebhookTimeout: Int64 = 3600

  var reader: Reader
  let roots: [(SourceFile, YAMLNode)]
  /// The keyword lists the rule files import, read by the loader before the passes: path →
  /// bytes, or nil when the file could not be read.
  let importedFiles: [String: [UInt8]?]

  /// Section key → the definitions found, in file order.
  var sections: [String: [YAMLNode.Pair]] = [:]
  var settingsName: String?
  var timeZone = "Asia/Shanghai"
  var defaultCalendar: String?
  var currency = "CNY"
  var fields: [FieldDecl] = BuiltinFields.declarations()
  var numericSlots = 3
  var stringSlots = 3
  /// The `levels` entries kept (at most 32), in order.
  var levelPairs: [YAMLNode.Pair] = []
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
  var permissions: PermissionPolicy?
  var satisfaction: [SatisfactionLevel] = []
  var measures: [MeasureDecl] = []
  /// The type checker of conditions, built once by the `types` pass.
  var types: TypeChecker?
  /// The keyword lists used, for the rule set's files and hash.
  var extraSources: [SourceFile] = []

  init(reader: Reader, roots: [(SourceFile, YAMLNode)], importedFiles: [String: [UInt8]?]) {
    self.reader = reader
    self.roots = roots
    self.importedFiles = importedFiles
  }

  /// Runs every pass in order and returns the model (meaningful only without errors).
  mutating func run(hash: String, files: [String]) -> RuleSet {
    for pass in Self.passes { pass.run(&self) }
    return RuleSet(
      name: settingsName, timeZone: timeZone, defaultCalendar: defaultCalendar ?? calendars.first?.id ?? "",
      currency: currency, fields: fields, numericSlotCount: numericSlots, stringSlotCount: stringSlots,
      levels: levels, categories: categories, roles: roles, reports: reports, calendars: calendars,
      refund: refund, deadlines: deadlines, duties: duties, gates: gates, harmfulMajorDuties: harmfulMajorDuties,
      deadlineAlerts: deadlineAlerts, approvalRequests: approvalRequests, overrideRole: overrideBy?.value,
      contentHash: hash, files: files, permissions: permissions, satisfaction: satisfaction, measures: measures)
  }

  /// Where a keyword list named in `file` is: relative paths count from that file's folder.
  static func importedPath(_ relative: String, from file: String) -> String {
    let directory = (file as NSString).deletingLastPathComponent
    return relative.hasPrefix("/") || directory.isEmpty ? relative : directory + "/" + relative
  }

  /// The keyword-list paths the files import (`keyword_lists: [path, …]`), for the loader to
  /// read before the passes. Malformed entries are left to the `keyword-lists` pass to report.
  static func importedPaths(_ roots: [(SourceFile, YAMLNode)]) -> [String] {
    roots.flatMap { _, root -> [String] in
      (root.pairs ?? []).filter { $0.key.value == "keyword_lists" }.flatMap { def in
        (def.value.items ?? []).compactMap { item in
          item.scalarText.map { importedPath($0, from: def.key.location.file) }
        }
      }
    }
  }
}
