import ArgumentParser
import Foundation
import OmbudsEngine
import OmbudsReports
import OmbudsRules
import OmbudsStore

/// `ombuds report`: the period's quality bulletin (质量简报) from the case store.
public struct ReportCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write the quality bulletin (质量简报) of a period from the case store.",
    discussion: """
      The period is the local days --from … --to, both included, in the rules' time zone; it is \
      compared with the period of the same length just before it. Every measure of the rules' \
      `measures:` is computed by aggregate queries in the database (SQLite or PostgreSQL). \
      Formats: html (a self-contained page with charts, print-ready on A4), md, json, csv. \
      Documentation/Reports.md defines every number.
      """)

  public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
    case html, md, json, csv
  }

  @OptionGroup public var options: StoreOptions

  @Option(help: "The period's first day (YYYY-MM-DD).")
  public var from: String

  @Option(help: "The period's last day, included (YYYY-MM-DD).")
  public var to: String

  @Option(help: "Group the measures by department (default), level, channel or category.")
  public var by: Bulletin.Grouping = .department

  @Option(help: "html, md, json or csv.")
  public var format: Format = .html

  @Option(help: "Write to this file instead of standard output.")
  public var out: String?

  @Option(help: "The time overdue and due-soon cases are judged at (RFC 3339); default: now.")
  public var now: String?

  public init() {}

  public func validate() throws {
    guard CivilDate(from) != nil else { throw ValidationError("--from `\(from)` is not a date (YYYY-MM-DD)") }
    guard CivilDate(to) != nil else { throw ValidationError("--to `\(to)` is not a date (YYYY-MM-DD)") }
    if let now, RFC3339.parse(now) == nil { throw ValidationError("--now `\(now)` is not an RFC 3339 timestamp") }
  }

  public func run() async throws {
    guard let first = CivilDate(from), let last = CivilDate(to) else { throw ExitCode(2) }
    let at = now.flatMap(RFC3339.parse) ?? Int64(Date().timeIntervalSince1970 * 1000)
    let by = by
    let bulletin: Bulletin
    do {
      bulletin = try await options.withStore { store in
        try await store.bulletin(firstDay: first, lastDay: last, by: by, now: at)
      }
    } catch let error as StoreError {
      throw CLIError("\(error)")
    }
    let text: String
    switch format {
    case .html: text = BulletinHTML.render(bulletin)
    case .md: text = BulletinMarkdown.render(bulletin)
    case .json: text = BulletinJSON.render(bulletin)
    case .csv: text = BulletinCSV.render(bulletin)
    }
    if let out {
      try Self.write(text, to: out)
    } else {
      Output.out(text)
    }
  }
}

extension ReportCommand {
  /// Writes `text` to `path`: a regular file (or a new one) is replaced whole, through a
  /// temporary file renamed over it, so a reader never sees half a bulletin; anything else
  /// (`/dev/null`, a pipe, a terminal) is written in place, never replaced.
  static func write(_ text: String, to path: String) throws {
    var info = stat()
    let exists = stat(path, &info) == 0
    do {
      if exists && (info.st_mode & S_IFMT) != S_IFREG {
        guard let handle = FileHandle(forWritingAtPath: path) else {
          throw CLIError("cannot write `\(path)`: \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(text.utf8))
      } else {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
      }
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError("cannot write `\(path)`: \(error.localizedDescription)")
    }
  }
}

extension Bulletin.Grouping: ExpressibleByArgument {}
