import Foundation

/// A lock for async code: a waiter is suspended, never a thread blocked. First come, first
/// served. The internal `NSLock` guards only the waiter list, for a few instructions.
final class AsyncMutex: @unchecked Sendable {
  // @unchecked: `locked` and `waiters` are only touched under `state`.
  private let state = NSLock()
  private var locked = false
  private var waiters: [CheckedContinuation<Void, Never>] = []

  init() {}

  func lock() async {
    if state.withLock({ take() }) { return }
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
      // Released in the meantime: taken at once; otherwise queued.
      let taken = state.withLock { () -> Bool in
        if take() { return true }
        waiters.append(c)
        return false
      }
      if taken { c.resume() }
    }
  }

  /// Takes the lock if it is free. Called under `state`.
  private func take() -> Bool {
    if locked { return false }
    locked = true
    return true
  }

  func unlock() {
    let next = state.withLock { () -> CheckedContinuation<Void, Never>? in
      if waiters.isEmpty {
        locked = false
        return nil
      }
      // The lock passes straight to the first waiter: it stays locked.
      return waiters.removeFirst()
    }
    next?.resume()
  }

  /// Runs `body` holding the lock.
  func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
    await lock()
    defer { unlock() }
    return try await body()
  }
}
