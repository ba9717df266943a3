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
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIError("cannot read `\(path)`: no such file or not readable")
    }
    return [UInt8](data)
  }
}

/// A usage or input error that ends a command with a message.
public struct CLIError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
