import Foundation
import Testing

/// Every numeric CLI option and every numeric case field, at and beyond the limits: a usage
/// error (exit 2) naming the option, or a rejected line naming the field — never a trap.
@Suite struct NumericInputTests {
  static let extremes = [
    "-1", "0", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e400",
    "1.5",
  ]

  /// (arguments before the option, the option, values that are fine)
  static let options: [(command: [String], option: String, fine: Set<String>)] = [
    (["classify", "--rules", "rules"], "--jobs", ["0"]),
    (["dispatch", "--store", "STORE"], "--max-attempts", []),
    (["dispatch", "--store", "STORE"], "--retry-base", []),
    (["dispatch", "--store", "STORE"], "--max-delay", []),
    (["dispatch", "--store", "STORE"], "--lease", []),
    // The largest id is a well-formed one that names no row: an error of its own, below.
    (["outbox", "--store", "STORE"], "--retry", ["9223372036854775807"]),
    (["serve", "--store", "STORE"], "--review-interval", []),
    (["serve", "--store", "STORE"], "--max-body", []),
    (["serve", "--store", "STORE"], "--max-batch", []),
    (["serve", "--store", "STORE"], "--request-timeout", []),
  ]

  @Test func numericOptionsOutOfRangeAreUsageErrors() throws {
    let dir = try Support.temporaryDirectory()
    let store = dir.appendingPathComponent("n.sqlite").path
    for (command, option, fine) in Self.options {
      for value in Self.extremes where !fine.contains(value) {
        let args = command.map { $0 == "STORE" ? store : $0 } + [option, value]
        let run = try Support.run("ombuds", args, stdin: "")
        #expect(run.status == 2, "ombuds \(args.joined(separator: " ")) → \(run.status): \(run.stderr)")
        #expect(run.stderr.contains(option), "ombuds \(args.joined(separator: " ")): \(run.stderr)")
      }
    }
  }

  /// Numeric event fields through `ombuds replay`: a bad line is rejected alone, naming what
  /// is wrong; the good lines are applied.
  @Test func numericEventFieldsAreAppliedOrRejectedByLine() throws {
    let store = try Support.temporaryDirectory().appendingPathComponent("e.sqlite").path
    let t = "2025-10-01T09:00:00+08:00"
    var lines = [
      #"{"event_id":"r","case":"C","type":"received","at":"\#(t)","actor":"intake","received_at":"\#(t)"}"#
    ]
    for v in Self.extremes + ["2"] {
      lines.append(
        #"{"event_id":"v\#(lines.count)","case":"C","type":"updated","at":"\#(t)","actor":"intake","expected_version":\#(v),"collective_size":2}"#
      )
      lines.append(
        #"{"event_id":"s\#(lines.count)","case":"C","type":"updated","at":"\#(t)","actor":"intake","collective_size":\#(v)}"#
      )
    }
    let run = try Support.run(
      "ombuds", ["replay", "--store", store, "--rules", "rules"], stdin: lines.joined(separator: "\n"))
    #expect(run.status == 1, "\(run.stderr)")
    let rejected = run.stderr.split(separator: "\n").filter { $0.hasPrefix("{\"line\":") }
    #expect(rejected.count >= Self.extremes.count, "\(run.stderr)")
    for r in rejected {
      #expect(
        r.contains("expected_version") || r.contains("collective_size") || r.contains("not valid JSON")
          || r.contains("is at version"), "\(r)")
    }
    let cases = try Support.run("ombuds", ["cases", "--store", store, "--rules", "rules"])
    #expect(cases.status == 0)
    #expect(cases.stdout.contains("\"C\""))
  }

  @Test func aWellFormedOutboxIdThatNamesNoRowIsAnError() throws {
    let store = try Support.temporaryDirectory().appendingPathComponent("n.sqlite").path
    let run = try Support.run("ombuds", ["outbox", "--store", store, "--retry", "9223372036854775807"])
    #expect(run.status != 0)
    #expect(run.stderr.contains("no outbox row 9223372036854775807"))
  }

  /// Numeric case fields through `ombuds classify`: each line is decided or rejected alone.
  @Test func numericCaseFieldsAreDecidedOrRejectedByLine() throws {
    var lines: [String] = []
    for v in Self.extremes + ["12", "-0", "1.0", "1E2", "+2", "0x10", "１２"] {
      lines.append(#"{"id":"S\#(lines.count)","received_at":"2025-10-01T09:00:00+08:00","collective_size":\#(v)}"#)
      lines.append(
        #"{"id":"S\#(lines.count)","received_at":"2025-10-01T09:00:00+08:00","compensation":{"amount":"\#(v)","currency":"CNY"}}"#
      )
    }
    for t in [
      "9999-12-31T23:59:59+14:00", "0000-01-01T00:00:00-23:59", "2025-10-01T09:00:00+99:00",
      "2025-10-01T09:00:00.9999999999999999999+08:00", "99999-01-01T00:00:00Z", "2025-02-30T00:00:00Z",
    ] {
      lines.append(#"{"id":"S\#(lines.count)","received_at":"\#(t)"}"#)
      lines.append(
        #"{"id":"S\#(lines.count)","received_at":"2025-10-01T09:00:00+08:00","compensation":{"amount":"9","currency":"CNY"},"materials_complete_at":"\#(t)"}"#
      )
    }
    let run = try Support.run(
      "ombuds", ["classify", "--rules", "rules", "--now", "2025-10-20T12:00:00+08:00"],
      stdin: lines.joined(separator: "\n"))
    #expect(run.status == 1, "\(run.stderr)")
    let decided = run.stdout.split(separator: "\n").count
    let rejected = run.stderr.split(separator: "\n").filter { $0.hasPrefix("{\"line\":") }
    #expect(decided + rejected.count == lines.count, "\(run.stderr)")
    for r in rejected { #expect(r.contains("field `"), "\(r)") }
    // The ones a reader would expect to be refused are.
    #expect(rejected.contains { $0.contains("\"line\":1,") })  // collective_size -1
    #expect(decided > 10)
  }
}
