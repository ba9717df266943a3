import ArgumentParser
import Dispatch
import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsScreening
import OmbudsSyntax

/// `ombuds screen`: harmful-content screening of plain-text files.
public struct ScreenCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "screen",
    abstract: "Screen text files for harmful information (the nine report categories).",
    discussion: """
      Prints one JSON line per match: {"file", "line", "start", "end", "category", "keyword"}, where \
      start and end are 0-based Unicode-scalar offsets in the line (end exclusive) and keyword is \
      the keyword as the rules write it; a match found through a disguise (a category's `match:` \
      modes) also has "disguise": pinyin, homophone, split, lookalike, or several joined with +. \
      With --explain, one readable line per match instead, quoting the text and naming the \
      disguise undone. With --count, one object {"bytes", "matches", "seconds"}. \
      Exit status: 0, or 2 for bad usage or bad rules.
      """)

  @Option(help: "The rule-set directory whose categories to use.")
  public var rules: String?

  @Option(help: "A keyword list (category<TAB>keyword per line) instead of a rule set.")
  public var keywords: String?

  @Option(
    help: ArgumentHelp(
      "With --keywords: the disguises to match too, comma-separated (pinyin,homophones,split,lookalike).",
      valueName: "modes"))
  public var match: String?

  @Flag(help: .hidden)
  public var noDetector = false

  @Flag(help: "Print only the totals.")
  public var count = false

  @Flag(help: "Print one readable line per match: where, the text matched, the keyword, the disguise undone.")
  public var explain = false

  @Argument(help: "Text files (standard input when none or `-`).")
  public var files: [String] = []

  public init() {}

  public func validate() throws {
    if rules != nil, keywords != nil { throw ValidationError("give --rules or --keywords, not both") }
    if match != nil, keywords == nil {
      throw ValidationError("--match goes with --keywords; a rule set chooses its modes per category (`match:`)")
    }
    if count, explain { throw ValidationError("give --count or --explain, not both") }
    _ = try modes()
  }

  /// The `--match` modes.
  func modes() throws -> MatchModes {
    var modes: MatchModes = []
    for name in (match ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
    where !name.isEmpty {
      guard let m = MatchModes.named(name) else {
        let known = MatchModes.names.map(\.0).joined(separator: ", ")
        throw ValidationError("unknown match mode `\(name)` (modes: \(known))")
      }
      modes.insert(m)
    }
    return modes
  }

  /// The automaton and the category ids, from a rule set or a bare keyword list.
  func automaton() throws -> (KeywordAutomaton, [String]) {
    if let keywords {
      let bytes = try Output.readAll(keywords)
      let source = SourceFile(path: keywords, bytes: bytes)
      var categories: [String] = []
      var index: [String: Int32] = [:]
      var patterns: [Pattern] = []
      let modes = try modes()
      let (entries, diagnostics) = KeywordList.parse(source)
      if let first = diagnostics.first { throw CLIError(first.description) }
      for entry in entries {
        if entry.keyword.value.isEmpty { throw CLIError("\(entry.keyword.location): empty keyword") }
        let c: Int32
        if let known = index[entry.category.value] {
          c = known
        } else {
          c = Int32(categories.count)
          index[entry.category.value] = c
          categories.append(entry.category.value)
        }
        patterns.append(Pattern(text: entry.keyword.value, category: c, isException: false, modes: modes))
      }
      return (KeywordAutomaton(patterns: patterns, detector: !noDetector), categories)
    }
    let compiled = try loadRules(rules ?? "rules")
    guard let screening = compiled.screening else {
      throw CLIError("the rule set in `\(rules ?? "rules")` has no keywords")
    }
    let automaton = noDetector ? KeywordAutomaton(patterns: screening.patterns, detector: !noDetector) : screening
    return (automaton, compiled.ruleSet.categories.map(\.id))
  }

  public func run() throws {
    let (automaton, categories) = try automaton()
    let sources = files.isEmpty ? ["-"] : files
    var totalBytes = 0
    var totalMatches = 0
    var seconds = 0.0
    for file in sources {
      let bytes = try Output.readAll(file)
      totalBytes += bytes.count
      let start = DispatchTime.now().uptimeNanoseconds
      if count {
        totalMatches += Self.countMatches(bytes, automaton)
      } else if explain {
        Self.explain(bytes, file: file, automaton, categories)
      } else {
        Self.report(bytes, file: file, automaton, categories)
      }
      seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    if count {
      Output.out(
        "{\"bytes\":\(totalBytes),\"matches\":\(totalMatches),\"seconds\":\(String(format: "%.6f", seconds))}\n")
    }
  }

  /// Chunks of whole lines, one or more per core.
  static func chunks(_ b: UnsafeBufferPointer<UInt8>, parts: Int) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var start = 0
    let size = max(1 << 16, b.count / max(1, parts))
    while start < b.count {
      var end = min(b.count, start + size)
      while end < b.count, b[end - 1] != 0x0A { end += 1 }
      out.append(start..<end)
      start = end
    }
    return out
  }

  static func countMatches(_ bytes: [UInt8], _ automaton: KeywordAutomaton) -> Int {
    bytes.withUnsafeBufferPointer { all in
      let ranges = chunks(all, parts: ProcessInfo.processInfo.activeProcessorCount * 4)
      var counts = [Int](repeating: 0, count: ranges.count)
      let input = UnsafeSendableBuffer(all)
      counts.withUnsafeMutableBufferPointer { out in
        let results = UnsafeSendableMutable(out)
        DispatchQueue.concurrentPerform(iterations: ranges.count) { k in
          let chunk = UnsafeBufferPointer(rebasing: input.value[ranges[k]])
          var n = 0
          if automaton.hasExceptions || automaton.hasDisguises {
            forEachLine(chunk) { line, _ in n += automaton.matches(in: line).count }
          } else {
            automaton.scanRaw(chunk) { _ in n += 1 }
          }
          results.value[k] = n
        }
      }
      return counts.reduce(0, +)
    }
  }

  static func report(_ bytes: [UInt8], file: String, _ automaton: KeywordAutomaton, _ categories: [String]) {
    let fileJSON = JSONText.quoted(file)
    let categoryJSON = categories.map(JSONText.quoted)
    let keywordJSON = automaton.patterns.map { JSONText.quoted($0.text) }
    bytes.withUnsafeBufferPointer { all in
      let ranges = chunks(all, parts: ProcessInfo.processInfo.activeProcessorCount * 4)
      // The line number each chunk starts at.
      var firstLine = [Int](repeating: 1, count: ranges.count)
      for k in 1..<max(1, ranges.count) {
        firstLine[k] = firstLine[k - 1] + all[ranges[k - 1]].count { $0 == 0x0A }
      }
      var outputs = [[UInt8]](repeating: [], count: ranges.count)
      let input = UnsafeSendableBuffer(all)
      let lines = firstLine
      outputs.withUnsafeMutableBufferPointer { out in
        let results = UnsafeSendableMutable(out)
        DispatchQueue.concurrentPerform(iterations: ranges.count) { k in
          var text: [UInt8] = []
          forEachLine(UnsafeBufferPointer(rebasing: input.value[ranges[k]])) { line, index in
            for m in automaton.matches(in: line) {
              let p = automaton.patterns[Int(m.pattern)]
              text.append(
                contentsOf:
                  "{\"file\":\(fileJSON),\"line\":\(lines[k] + index),\"start\":\(m.start),\"end\":\(m.end),\"category\":\(categoryJSON[Int(p.category)]),\"keyword\":\(keywordJSON[Int(m.pattern)])\(m.disguise.name.map { ",\"disguise\":\"\($0)\"" } ?? "")}\n"
                  .utf8)
            }
          }
          results.value[k] = text
        }
      }
      for o in outputs where !o.isEmpty { Output.write(1, o) }
    }
  }

  /// `--explain`: per match, `file:line:start-end 「text」 category keyword — disguise`.
  static func explain(_ bytes: [UInt8], file: String, _ automaton: KeywordAutomaton, _ categories: [String]) {
    var out = ""
    bytes.withUnsafeBufferPointer { all in
      forEachLine(all) { line, index in
        let found = automaton.matches(in: line)
        guard !found.isEmpty else { return }
        let scalars = Array(String(decoding: line, as: UTF8.self).unicodeScalars)
        for m in found {
          let p = automaton.patterns[Int(m.pattern)]
          let lo = max(0, min(m.start, scalars.count))
          let hi = max(lo, min(m.end, scalars.count))
          let quoted = String(String.UnicodeScalarView(scalars[lo..<hi]))
          let how: String
          if let name = m.disguise.name {
            how = "written disguised (\(name)): \(Self.disguiseHelp(m.disguise))"
          } else {
            how = "as written (spaces, punctuation, width, case and traditional forms ignored)"
          }
          out +=
            "\(file):\(index + 1):\(m.start)-\(m.end): \u{300C}\(quoted)\u{300D} is \(categories[Int(p.category)]) keyword `\(p.text)`, \(how)\n"
        }
      }
    }
    Output.out(out)
  }

  static func disguiseHelp(_ d: Disguise) -> String {
    var parts: [String] = []
    if d.contains(.pinyin) { parts.append("characters written in pinyin") }
    if d.contains(.homophone) { parts.append("characters replaced by others with the same syllable") }
    if d.contains(.split) { parts.append("a character written as its components") }
    if d.contains(.lookalike) { parts.append("a character replaced by a look-alike") }
    return parts.joined(separator: "; ")
  }

  /// Calls `body` with each line (without its `\n`) and its 0-based index in the chunk.
  static func forEachLine(_ chunk: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) {
    var start = 0
    var index = 0
    while start < chunk.count {
      var end = start
      while end < chunk.count, chunk[end] != 0x0A { end += 1 }
      body(UnsafeBufferPointer(rebasing: chunk[start..<end]), index)
      index += 1
      start = end + 1
    }
  }
}

/// Lets concurrent iterations read one buffer.
struct UnsafeSendableBuffer: @unchecked Sendable {
  let value: UnsafeBufferPointer<UInt8>
  init(_ value: UnsafeBufferPointer<UInt8>) { self.value = value }
}

/// Lets concurrent iterations write disjoint indices of one buffer.
struct UnsafeSendableMutable<T>: @unchecked Sendable {
  let value: UnsafeMutableBufferPointer<T>
  init(_ value: UnsafeMutableBufferPointer<T>) { self.value = value }
}
