import Crypto
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
  /// The sections a rule file may hold (declared in `RuleShapes.sections`).
  static let sectionKeys = RuleShapes.sections.map(\.name)

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
            .io, Messages.noSuchPath(path),
            at: SourceLocation(file: path, line: 1, column: 1, offset: 0)))
      }
    }
    var sources: [SourceFile] = []
    for file in files {
      guard let data = FileManager.default.contents(atPath: file) else {
        diagnostics.append(
          .error(.io, Messages.cannotRead(file), at: SourceLocation(file: file, line: 1, column: 1, offset: 0)))
        continue
      }
      sources.append(SourceFile(path: file, bytes: [UInt8](data)))
    }
    if files.isEmpty, diagnostics.isEmpty {
      let place = paths.first ?? "."
      diagnostics.append(
        .error(
          .empty, Messages.noRuleFiles(place),
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
          .error(.tooManyDiagnostics, Messages.moreNotShown(reader.bag.dropped), at: last.location))
      }
      return LoadResult(
        ruleSet: nil, diagnostics: diagnostics,
        sources: Dictionary(sources.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }),
        files: sources.map(\.path), checked: false)
    }
    // The keyword lists the files import are read here, so that the passes do no I/O.
    var imported: [String: [UInt8]?] = [:]
    for path in CheckState.importedPaths(roots) where imported[path] == nil { imported[path] = .some(readFile(path)) }
    var state = CheckState(reader: reader, roots: roots, importedFiles: imported)
    var ruleSet = state.run(hash: "", files: sources.map(\.path))
    let allSources = sources + state.extraSources
    var hasher = Crypto.SHA256()
    for source in allSources.sorted(by: { $0.path < $1.path }) {
      hasher.update(data: Array((source.path as NSString).lastPathComponent.utf8))
      hasher.update(data: [0])
      hasher.update(data: source.bytes)
      hasher.update(data: [0])
    }
    ruleSet.contentHash = "sha256:" + Hex.encode(hasher.finalize())
    ruleSet.files = allSources.map(\.path)
    let bag = state.reader.bag
    let labels = state.labelTable
    var diagnostics = bag.sorted.map { $0.resolvingLabels(labels) }
    if bag.dropped > 0, let last = diagnostics.last {
      diagnostics.append(
        .error(.tooManyDiagnostics, Messages.moreNotShown(bag.dropped), at: last.location))
    }
    let hasErrors = diagnostics.contains { $0.severity == .error }
    return LoadResult(
      ruleSet: hasErrors ? nil : ruleSet, diagnostics: diagnostics,
      sources: Dictionary(allSources.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }),
      files: allSources.map(\.path))
  }
}
