import Foundation
import OmbudsEngine
import OmbudsRules
import OmbudsSyntax

/// Paths and helpers shared by the tests.
enum Support {
  /// The package root.
  static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let tests: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  static var rulesDir: String { root.appendingPathComponent("rules").path }

  /// The shipped default rule set, compiled.
  static func defaultRules() throws -> CompiledRules {
    let result = RuleSetLoader.load(paths: [rulesDir])
    guard let set = result.ruleSet else {
      throw CaseError("default rules have errors: \(result.diagnostics.map(\.description))")
    }
    return try CompiledRules(set)
  }

  static func compile(_ yaml: String, path: String = "test.yaml") throws -> CompiledRules {
    let result = RuleSetLoader.check(sources: [SourceFile(path: path, text: yaml)])
    guard let set = result.ruleSet else {
      throw CaseError("rules have errors: \(result.diagnostics.map(\.description))")
    }
    return try CompiledRules(set)
  }

  static func facts(_ rules: CompiledRules, _ json: String) throws -> CaseFacts {
    var bytes = Array(json.utf8)
    return try bytes.withUnsafeMutableBufferPointer { b in
      try rules.reader.read(UnsafeBufferPointer(b))
    }
  }

  static func time(_ s: String) -> Millis {
    RFC3339.parse(s) ?? Millis.min
  }

  static func format(_ t: Millis?) -> String? {
    t.map { RFC3339.format($0, offsetSeconds: 8 * 3600) }
  }

  /// A fresh store of `kind` for the command-line tests: a SQLite file in `dir`, or a new
  /// PostgreSQL database; nil when PostgreSQL is not installed and this is not CI.
  static func storeLocation(_ kind: StoreKind, in dir: URL) throws -> String? {
    switch kind {
    case .sqlite: return dir.appendingPathComponent("s.sqlite").path
    case .postgres: return try PostgresServer.available()?.newDatabase()
    }
  }

  /// A fresh temporary directory, inside this test process's scratch directory (deleted when
  /// the process exits).
  static func temporaryDirectory() throws -> URL {
    let url = try scratch.get().appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// This test process's scratch directory, `/tmp/ombuds-tests-<pid>-<id>`: deleted at exit,
  /// and those of test processes that died (killed, crashed) are deleted when the next one
  /// starts. Before, every run left its few thousand directories behind (15,386, 5.6 GB, on
  /// one machine).
  static let scratch: Result<URL, any Error> = Result {
    removeStale(prefix: scratchPrefix)
    let url = URL(fileURLWithPath: "/tmp/\(scratchPrefix)\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    scratchAtExit = url.path
    atexit {
      if let path = Support.scratchAtExit { try? FileManager.default.removeItem(atPath: path) }
    }
    return url
  }
  static let scratchPrefix = "ombuds-tests-"
  nonisolated(unsafe) static var scratchAtExit: String?

  /// Deletes the entries `<prefix><pid>-…` of `directory` whose process `pid` is gone, calling
  /// `before` with each one's path first; returns their names. A live process's are kept.
  @discardableResult
  static func removeStale(prefix: String, in directory: String = "/tmp", before: (String) -> Void = { _ in })
    -> [String]
  {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    var removed: [String] = []
    for name in names where name.hasPrefix(prefix) {
      let owner = name.dropFirst(prefix.count).split(separator: "-").first.flatMap { pid_t($0) }
      guard let owner, owner > 0, kill(owner, 0) != 0, errno == ESRCH else { continue }
      let path = "\(directory)/\(name)"
      before(path)
      if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(name) }
    }
    return removed
  }

  /// The directory holding the built executables.
  static func productsDirectory() -> URL? {
    var candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
    if let arg0 = CommandLine.arguments.first {
      candidates.append(URL(fileURLWithPath: arg0).deletingLastPathComponent())
    }
    candidates.append(root.appendingPathComponent(".build/debug"))
    return candidates.first {
      FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("rules-check").path)
    }
  }

  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs one of the package's executables (or the one at an absolute path) to the end.
  static func run(
    _ tool: String, _ arguments: [String], stdin: String? = nil, in directory: URL? = nil,
    environment: [String: String] = [:]
  ) throws -> Run {
    let process = Process()
    if tool.hasPrefix("/") {
      process.executableURL = URL(fileURLWithPath: tool)
    } else {
      guard let products = productsDirectory() else { throw CaseError("built executables not found") }
      process.executableURL = products.appendingPathComponent(tool)
    }
    process.arguments = arguments
    process.currentDirectoryURL = directory ?? root
    // The locale is the test's to choose: `rules-check` speaks Chinese under a `zh` locale.
    var inherited = ProcessInfo.processInfo.environment
    for name in ["LC_ALL", "LC_MESSAGES", "LANG"] { inherited[name] = nil }
    process.environment = inherited.merging(environment) { _, new in new }
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    // Read both pipes to the end before waiting, so a full pipe cannot block the child.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
      outData = out.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    errData = err.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    // terminationStatus is the signal number when a signal killed the process.
    return Run(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}
