import Foundation
import Testing

/// A throwaway PostgreSQL cluster for the tests, started from the installed server binaries
/// on 127.0.0.1 and a private socket directory, stopped and deleted when the test process
/// exits. Clusters left by test processes that died (killed, crashed) are deleted when the
/// next one starts.
/// As root (CI), the binaries run as the `postgres` system user: initdb refuses root.
/// Under `CI=true` missing binaries are a failure, never a skip.
final class PostgresServer: @unchecked Sendable {
  // @unchecked: created once (static let), read-only afterwards; `next` is locked.
  static let shared: Result<PostgresServer, Error> = Result { try PostgresServer() }

  let directory: URL
  let port: Int
  let bin: String
  private let lock = NSLock()
  private var next = 0

  struct Unavailable: Error, CustomStringConvertible {
    var description: String
  }

  static func findBinaries() -> String? {
    var candidates: [String] = []
    if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
      candidates += versions.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
    }
    candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
    return candidates.first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
  }

  static var isRoot: Bool { getuid() == 0 }

  /// Runs a server binary (as `postgres` when root) and waits for it with waitpid:
  /// Foundation's Process misses the exit of `runuser` once pg_ctl has started a server.
  @discardableResult
  func run(_ tool: String, _ arguments: [String]) throws -> String {
    let argv = (Self.isRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + ["\(bin)/\(tool)"] + arguments
    // Output goes to a file, not a pipe: the server that pg_ctl starts would hold a pipe open.
    let log = directory.appendingPathComponent("\(tool)-\(UUID().uuidString).out").path
    let (exited, text) = try Self.spawn(argv, log: log)
    guard exited else {
      throw Unavailable(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(text)")
    }
    return text
  }

  /// Runs `argv` with standard input from /dev/null and its output in `log`, and waits for it:
  /// whether it exited with 0, and its output. The child gets no other descriptor of this
  /// process: the server pg_ctl starts lives as long as the tests, and a pipe of another
  /// test's child that it inherited (spawned at the same moment on another thread) would
  /// never reach end-of-file — that test hung until the process exited.
  static func spawn(_ argv: [String], log: String) throws -> (exited: Bool, output: String) {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    closeFrom3(&actions)
    var cargs = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, nil, &cargs, environ)
    guard rc == 0 else { throw Unavailable(description: "cannot start \(argv[0]): error \(rc)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    return (status & 0x7F == 0 && (status >> 8) & 0xFF == 0, text)
  }

  /// Adds "close every descriptor from 3 on" to `actions`: glibc's
  /// `posix_spawn_file_actions_addclosefrom_np` (2.34 on; looked up at run time, since Swift's
  /// Glibc module does not declare it), else a close for each descriptor open now.
  static func closeFrom3(_ actions: inout posix_spawn_file_actions_t) {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
      _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
      return
    }
    let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    for fd in open.compactMap({ Int32($0) }) where fd >= 3 { posix_spawn_file_actions_addclose(&actions, fd) }
  }

  static func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { p in
      p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
    }
    _ = withUnsafeMutablePointer(to: &addr) { p in
      p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
  }

  init() throws {
    // OMBUDS_TEST_NO_POSTGRES=1 behaves as if the binaries were missing (to see the skips).
    guard ProcessInfo.processInfo.environment["OMBUDS_TEST_NO_POSTGRES"] != "1", let bin = Self.findBinaries() else {
      throw Unavailable(
        description: "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install -y postgresql")
    }
    self.bin = bin
    Self.removeStale(bin: bin)
    directory = URL(fileURLWithPath: "\(Self.parent)/\(Self.prefix)\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    if Self.isRoot {
      let chown = Process()
      chown.executableURL = URL(fileURLWithPath: "/bin/chown")
      chown.arguments = ["postgres:postgres", directory.path]
      try chown.run()
      chown.waitUntilExit()
    }
    port = Self.freePort()
    let data = directory.appendingPathComponent("data").path
    try run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
    try run(
      "pg_ctl",
      [
        "-D", data, "-l", directory.appendingPathComponent("log").path, "-w", "-o",
        "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
      ])
    PostgresServer.stopAtExit = (bin, data)
    atexit {
      guard let (bin, data) = PostgresServer.stopAtExit else { return }
      PostgresServer.stop(bin: bin, data: data)
      try? FileManager.default.removeItem(atPath: (data as NSString).deletingLastPathComponent)
    }
  }

  /// Stops the server of the cluster in `data` at once (`pg_ctl stop -m immediate`, which waits
  /// for it to exit and checks that the pid in its pid file is that cluster's server); nothing
  /// when none runs.
  static func stop(bin: String, data: String) {
    let argv =
      (isRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [
        "\(bin)/pg_ctl", "-D", data, "-m", "immediate", "stop",
      ]
    _ = try? spawn(argv, log: "/dev/null")
  }

  nonisolated(unsafe) static var stopAtExit: (String, String)?

  static let parent = "/tmp"
  static let prefix = "ombuds-pg-"

  /// Deletes the clusters (`ombuds-pg-<pid>-<id>` in `directory`) whose test process is gone,
  /// stopping first a server still running in one (with `bin`'s pg_ctl); returns their names.
  /// Each is 250–800 MB: before this, every test run left its cluster behind.
  @discardableResult
  static func removeStale(in directory: String = parent, bin: String?) -> [String] {
    Support.removeStale(prefix: prefix, in: directory) { path in
      if let bin, FileManager.default.fileExists(atPath: "\(path)/data/postmaster.pid") {
        stop(bin: bin, data: "\(path)/data")
      }
    }
  }

  /// A new, empty database on the server, as a store URL.
  func newDatabase() throws -> String {
    lock.lock()
    next += 1
    let name = "ombuds_test_\(next)"
    lock.unlock()
    try run("createdb", ["-h", directory.path, "-p", "\(port)", "-U", "postgres", name])
    return "postgres://postgres@127.0.0.1:\(port)/\(name)"
  }

  /// The shared server. Without one, a test failure under `CI=true`; elsewhere the test (or,
  /// in a parameterized test, this test case) is cancelled, which the runner reports as
  /// skipped with the reason — never a silent pass. Never returns nil; Optional only so that
  /// callers may bind it.
  static func available() throws -> PostgresServer? {
    switch shared {
    case .success(let s): return s
    case .failure(let error):
      if ProcessInfo.processInfo.environment["CI"] == "true" { throw error }
      try Test.cancel("skipped: \(error) (under CI=true this fails)")
    }
  }
}

/// The harness cleans up after test processes that died: their clusters are deleted, a live
/// process's cluster is kept.
@Suite struct PostgresHarnessTests {
  @Test func clustersOfDeadTestProcessesAreDeleted() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("pg-stale-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    // A pid that is not running: a child that has exited and been reaped.
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/true")
    try child.run()
    child.waitUntilExit()
    let dead = child.processIdentifier
    let names = ["ombuds-pg-\(dead)-AAAAAAAA", "ombuds-pg-\(getpid())-BBBBBBBB", "other-\(dead)"]
    for name in names {
      let data = root.appendingPathComponent(name).appendingPathComponent("data")
      try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
      try Data("x".utf8).write(to: data.appendingPathComponent("PG_VERSION"))
    }
    #expect(PostgresServer.removeStale(in: root.path, bin: nil) == ["ombuds-pg-\(dead)-AAAAAAAA"])
    let left = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
    #expect(left == ["ombuds-pg-\(getpid())-BBBBBBBB", "other-\(dead)"])
  }

  /// The server binaries are spawned without this process's descriptors: a pipe open here
  /// (another test reading a child's output) does not reach them.
  @Test func serverBinariesInheritNoDescriptors() throws {
    var ends: [Int32] = [0, 0]
    #expect(pipe(&ends) == 0)  // not close-on-exec, as a plain pipe(2) is
    defer {
      close(ends[0])
      close(ends[1])
    }
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("fds-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: log) }
    // `ls` lists its own descriptors: 0, 1, 2 and the directory it reads.
    let (exited, output) = try PostgresServer.spawn(["/bin/ls", "/proc/self/fd"], log: log)
    #expect(exited)
    #expect(output.split(separator: "\n") == ["0", "1", "2", "3"])
  }
}

/// Says in the test report whether the PostgreSQL cases ran: without server binaries (and
/// outside CI) this test is skipped with the reason, and each `.postgres` case of the store,
/// CLI and notifier tests is cancelled ("➜ … was cancelled: skipped: …") instead of passing.
@Suite struct PostgreSQLAvailabilityTests {
  static var startable: Bool {
    if ProcessInfo.processInfo.environment["CI"] == "true" { return true }
    if case .success = PostgresServer.shared { return true }
    return false
  }

  @Test(
    .enabled(
      if: startable,
      "PostgreSQL server binaries not found (apt-get install -y postgresql): every PostgreSQL case was skipped"))
  func theThrowawayPostgreSQLServerStarts() throws {
    if case .failure(let error) = PostgresServer.shared { Issue.record("\(error)") }
  }
}
