import Foundation

/// Unbuffered writes to standard output and standard error.
public enum Output {
  public static func out(_ s: String) { write(1, Array(s.utf8)) }
  public static func err(_ s: String) { write(2, Array(s.utf8)) }

  public static func write(_ fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { b in
      var offset = 0
      while offset < b.count {
        guard let base = b.baseAddress else { return }
        let n = Foundation.write(fd, base + offset, b.count - offset)
        if n <= 0 {
          if n < 0, errno == EINTR { continue }
          return
        }
        offset += n
      }
    }
  }

  /// Reads a whole file, or standard input for `-`.
  public static func readAll(_ path: String) throws -> [UInt8] {
    if path == "-" {
      return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
    }
    // Regular files go straight into one array of their size: no Data, no second copy.
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw CLIError("cannot read `\(path)`: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw CLIError("cannot read `\(path)`: \(String(cString: strerror(errno)))") }
    if (info.st_mode & S_IFMT) == S_IFDIR { throw CLIError("cannot read `\(path)`: it is a directory") }
    let size = Int(info.st_size)
    guard (info.st_mode & S_IFMT) == S_IFREG, size > 0 else {
      return [UInt8](FileHandle(fileDescriptor: fd, closeOnDealloc: false).readDataToEndOfFile())
    }
    var failure: Int32 = 0
    var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
      count = 0
      guard let base = buffer.baseAddress else { return }
      while count < size {
        let r = read(fd, base + count, size - count)
        if r < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        if r == 0 { return }
        count += r
      }
    }
    if failure != 0 { throw CLIError("cannot read `\(path)`: \(String(cString: strerror(failure)))") }
    // A file that grew while being read: take the rest too.
    bytes += [UInt8](FileHandle(fileDescriptor: fd, closeOnDealloc: false).readDataToEndOfFile())
    return bytes
  }
}

/// A usage or input error that ends a command with a message.
public struct CLIError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
