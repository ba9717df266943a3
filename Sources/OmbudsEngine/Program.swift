import OmbudsRules

/// A condition flattened into one array of nodes with child indices, evaluated without
/// reference counting: the evaluator's hot path.
struct Node {
  enum Kind: UInt8 {
    case constant, flag, compare, isNull, oneOf, stringEquals, stringIsNull
    case openForFixed, openForCalendar, sameIssue, level, and, or, not
  }
  var kind: Kind
  var op: CompareOp
  var slot: Int32
  /// First child (in `Program.children`), or an index into a side table.
  var first: Int32
  var count: Int32
  var k: Int64
  /// Whether time passing can change this node's value.
  var timeDependent: Bool
}

/// The flattened conditions of a whole rule set.
final class Program: @unchecked Sendable {
  // @unchecked: the buffers are written only in `init` and freed in `deinit`; after init the
  // object is immutable, so sharing it between threads is safe.
  let nodes: UnsafeMutableBufferPointer<Node>
  let children: UnsafeMutableBufferPointer<Int32>
  let strings: [String]
  let durations: [RuleDuration]
  let windows: [RuleDuration]

  /// Builds the program; `roots` receives the node index of each condition, in order.
  init(_ conds: [Cond], windows: [RuleDuration], roots: inout [Int32]) {
    var nodes: [Node] = []
    var children: [Int32] = []
    var strings: [String] = []
    var durations: [RuleDuration] = []
    func add(_ c: Cond) -> Int32 {
      func leaf(
        _ kind: Node.Kind, _ op: CompareOp = .eq, slot: Int = 0, first: Int = 0, k: Int64 = 0, time: Bool = false
      )
        -> Int32
      {
        nodes.append(
          Node(kind: kind, op: op, slot: Int32(slot), first: Int32(first), count: 0, k: k, timeDependent: time))
        return Int32(nodes.count - 1)
      }
      switch c {
      case .constant(let b): return leaf(.constant, k: b ? 1 : 0)
      case .flag(let slot): return leaf(.flag, slot: slot)
      case .compare(let slot, let op, let k): return leaf(.compare, op, slot: slot, k: k)
      case .isNull(let slot): return leaf(.isNull, slot: slot)
      case .oneOf(let slot, let mask): return leaf(.oneOf, slot: slot, k: Int64(bitPattern: mask))
      case .stringEquals(let slot, let s):
        strings.append(s)
        return leaf(.stringEquals, slot: slot, first: strings.count - 1)
      case .stringIsNull(let slot): return leaf(.stringIsNull, slot: slot)
      case .openFor(let op, let d):
        if let s = d.fixedSeconds { return leaf(.openForFixed, op, k: s * 1000, time: true) }
        durations.append(d)
        return leaf(.openForCalendar, op, first: durations.count - 1, time: true)
      case .sameIssueComplainants(let w, let op, let k):
        return leaf(.sameIssue, op, first: windows.firstIndex(of: w) ?? 0, k: k)
      case .level(let op, let rank): return leaf(.level, op, k: Int64(rank))
      case .and(let cs), .or(let cs):
        let kids = cs.map(add)
        let start = children.count
        children.append(contentsOf: kids)
        let time = kids.contains { nodes[Int($0)].timeDependent }
        if case .and = c {
          nodes.append(
            Node(kind: .and, op: .eq, slot: 0, first: Int32(start), count: Int32(kids.count), k: 0, timeDependent: time)
          )
        } else {
          nodes.append(
            Node(kind: .or, op: .eq, slot: 0, first: Int32(start), count: Int32(kids.count), k: 0, timeDependent: time))
        }
        return Int32(nodes.count - 1)
      case .not(let x):
        let kid = add(x)
        let start = children.count
        children.append(kid)
        nodes.append(
          Node(
            kind: .not, op: .eq, slot: 0, first: Int32(start), count: 1, k: 0,
            timeDependent: nodes[Int(kid)].timeDependent))
        return Int32(nodes.count - 1)
      }
    }
    roots = conds.map(add)
    self.nodes = makeBuffer(nodes)
    self.children = makeBuffer(children)
    self.strings = strings
    self.durations = durations
    self.windows = windows
  }

  deinit {
    nodes.deallocate()
    children.deallocate()
  }
}

/// A buffer holding exactly the elements of `a` (count may be zero), freed with `.deallocate()`.
func makeBuffer<T>(_ a: [T]) -> UnsafeMutableBufferPointer<T> {
  let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, a.count))
  _ = b.initialize(from: a)
  return UnsafeMutableBufferPointer(rebasing: b[0..<a.count])
}
