import Foundation
import Testing

/// The tests' scratch files: one directory per test process, deleted at its exit, and those of
/// test processes that died deleted by the next one.
@Suite struct ScratchDirectoryTests {
  @Test func temporaryDirectoriesLieInThisProcessScratchDirectory() throws {
    let a = try Support.temporaryDirectory()
    let b = try Support.temporaryDirectory()
    #expect(a != b)
    let scratch = try Support.scratch.get()
    #expect(scratch.lastPathComponent.hasPrefix("ombuds-tests-\(getpid())-"))
    #expect(a.deletingLastPathComponent().standardizedFileURL.path == scratch.path)
    #expect(b.deletingLastPathComponent().standardizedFileURL.path == scratch.path)
  }

  @Test func scratchDirectoriesOfDeadTestProcessesAreDeleted() throws {
    let root = try Support.temporaryDirectory()
    // A pid that is not running: a child that has exited and been reaped.
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/true")
    try child.run()
    child.waitUntilExit()
    let dead = child.processIdentifier
    let names = [
      "ombuds-tests-\(dead)-AAAAAAAA", "ombuds-tests-\(getpid())-BBBBBBBB", "ombuds-tests-x-CCCCCCCC",
      "ombuds-test-\(dead)",
    ]
    for name in names {
      try FileManager.default.createDirectory(
        at: root.appendingPathComponent(name).appendingPathComponent("inner"), withIntermediateDirectories: true)
    }
    var seen: [String] = []
    #expect(
      Support.removeStale(prefix: "ombuds-tests-", in: root.path) { seen.append($0) } == [
        "ombuds-tests-\(dead)-AAAAAAAA"
      ])
    #expect(seen == ["\(root.path)/ombuds-tests-\(dead)-AAAAAAAA"])
    let left = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
    #expect(left == ["ombuds-test-\(dead)", "ombuds-tests-\(getpid())-BBBBBBBB", "ombuds-tests-x-CCCCCCCC"])
  }
}
