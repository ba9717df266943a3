import OmbudsSyntax

// How a diagnostic's Chinese shows the label beside an id (`hot`（热点投诉））: the messages
// keep each id as a piece of its kind (`LocalizedText.Piece.id`); when the checks are done
// the loader builds the label table from what they read (even from a rule set with errors:
// the sections that could be read have their labels) and fills the labels in. The renderers
// then only pick a language.

extension CheckState {
  /// The labels of every id the passes read.
  var labelTable: LabelTable {
    LabelTable.of(
      levels: levels, fields: fields, roles: roles, categories: categories, reports: reports, calendars: calendars,
      deadlines: deadlines, measures: measures)
  }
}

extension RuleSet {
  /// The labels of the rule set's ids, for diagnostics about it (rule tests).
  public var labelTable: LabelTable {
    LabelTable.of(
      levels: levels, fields: fields, roles: roles, categories: categories, reports: reports, calendars: calendars,
      deadlines: deadlines, measures: measures)
  }
}

extension LabelTable {
  static func of(
    levels: [LevelDecl], fields: [FieldDecl], roles: [RoleDecl], categories: [CategoryDecl], reports: [ReportDecl],
    calendars: [CalendarDecl], deadlines: [DeadlineDecl], measures: [MeasureDecl]
  ) -> LabelTable {
    var table = LabelTable()
    table.add(.level, levels.map { ($0.id, $0.label) })
    table.add(.field, fields.map { ($0.id, $0.label) })
    table.add(.role, roles.map { ($0.id, $0.label) })
    table.add(.category, categories.map { ($0.id, $0.label) })
    table.add(.report, reports.map { ($0.id, $0.label) })
    table.add(.calendar, calendars.map { ($0.id, $0.label) })
    table.add(.deadline, deadlines.map { ($0.id, $0.label) })
    table.add(.measure, measures.map { ($0.id, $0.label) })
    return table
  }
}
