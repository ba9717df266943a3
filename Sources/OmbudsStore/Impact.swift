import Foundation
import OmbudsEngine

/// What a draft rule set would do to the cases in the store (`ombuds impact`): every stored
/// case decided under the rules in force and under the draft, at one instant, the way the
/// store decides (the stored level as the ratchet's floor, the override's pin, extended
/// deadlines), and compared. Computed from reads only.
public struct Impact: Sendable {
  /// One side of the comparison: a rule set.
  public struct Side: Sendable {
    /// The rule set's content hash.
    public var ruleSet: String
    /// Its level ids, highest first.
    public var levels: [String]
  }

  /// A count of cases going from one value to another (a level, an approver; `nil`: none).
  public struct Transition: Sendable, Hashable, Comparable {
    public var from: String?
    public var to: String?
    public var cases: Int

    public init(from: String?, to: String?, cases: Int) {
      self.from = from
      self.to = to
      self.cases = cases
    }

    public static func < (a: Transition, b: Transition) -> Bool {
      (a.from ?? "", a.to ?? "") < (b.from ?? "", b.to ?? "")
    }
  }

  /// How one deadline (by id) moves over the open, unresolved cases.
  public struct DeadlineShift: Sendable, Equatable {
    public var deadline: String
    /// Cases whose deadline is earlier, later, newly set, no longer set.
    public var earlier = 0
    public var later = 0
    public var added = 0
    public var removed = 0
    /// The smallest and largest move among the moved ones (milliseconds; negative: earlier).
    public var smallest: Millis?
    public var largest: Millis?
    public var moved: Int { earlier + later }

    public init(deadline: String) { self.deadline = deadline }
  }

  /// A notice or report duty (or a gate's demand) with the number of open cases that would
  /// gain or lose it.
  public struct Count: Sendable, Equatable {
    public var what: String
    public var cases: Int

    public init(what: String, cases: Int) {
      self.what = what
      self.cases = cases
    }
  }

  /// One case that the draft would change.
  public struct ChangedCase: Sendable {
    public var id: String
    public var state: String
    /// The level stored now.
    public var storedLevel: String
    /// The decisions, as `ombuds classify` prints them (`{"id", "level", "reasons", …}`).
    public var currentJSON: String
    public var draftJSON: String
    /// What differs, one line each ("level hot → major", "deadline `resolve` …").
    public var changes: [String]
  }

  public var current: Side
  public var draft: Side
  /// The instant both sides decide at.
  public var at: Millis
  /// Stored cases, and those of them open.
  public var cases = 0
  public var openCases = 0
  /// Cases the draft rules cannot read (a field it removed or retyped): listed as changed.
  public var refusedByDraft = 0
  /// Levels under the rules in force → levels under the draft, as the store would record them
  /// (ratchet and override applied): every cell with at least one case.
  public var levels: [Transition] = []
  /// The same without the ratchet or the override: the rule sets' own verdicts.
  public var ruleLevels: [Transition] = []
  /// Cases the draft would put lower than their level today, kept there because levels never
  /// fall on their own (or pinned by an override).
  public var heldByRatchet = 0
  /// Refund approvers that change (`nil`: no approver), counts per pair.
  public var approvers: [Transition] = []
  /// Per deadline id, over open cases not yet resolved.
  public var deadlines: [DeadlineShift] = []
  /// Notices and reports the open cases would be owed under the draft and not now, and the
  /// other way round, per duty.
  public var noticesAdded: [Count] = []
  public var noticesRemoved: [Count] = []
  /// Gate demands not yet met that the draft would add to open cases ("`close` needs the
  /// approval of `cfo`") and those it would lift.
  public var gatesAdded: [Count] = []
  public var gatesRemoved: [Count] = []
  /// Every case with a difference, by id; `changedTotal` counts them all when the list is cut.
  public var changed: [ChangedCase] = []
  public var changedTotal = 0
  /// The events mode: the store's events replayed under both rule sets (nil without it).
  public var replay: ReplayImpact?
}

/// `ombuds impact --at events`: every stored event applied again, in order, to two scratch
/// stores — one under the rules in force, one under the draft — and compared event by event.
public struct ReplayImpact: Sendable {
  /// One event whose outcome differs.
  public struct EventChange: Sendable {
    public var caseID: String
    public var eventID: String
    public var type: String
    public var at: Millis
    /// The level after the event, or the refusal ("refused: …"), on each side.
    public var current: String
    public var draft: String
  }
  /// Events replayed.
  public var events = 0
  /// Events whose resulting level differs.
  public var levelDiffers = 0
  /// Events one side refuses and the other applies.
  public var refusedByDraft = 0
  public var refusedByCurrentOnly = 0
  /// Notices and reports (outbox rows, by kind and recipient) only one side would have sent.
  public var noticesAdded: [Impact.Count] = []
  public var noticesRemoved: [Impact.Count] = []
  /// The first differing event of each case that has one, by case id (cut like `changed`).
  public var firstDifferences: [EventChange] = []
  public var casesDiffering = 0
}
