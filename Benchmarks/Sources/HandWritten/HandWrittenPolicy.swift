import OmbudsEngine
import OmbudsRules

/// POLICY §1 levels and the §4 refund approver written by hand in Swift over the same
/// `CaseFacts`: the baseline the compiled evaluator is measured against. Slots and ordinals
/// are looked up once from the rule set; the thresholds are the regulation's.
public struct HandWrittenPolicy: Sendable {
  let collective: Int
  let litigation: Int
  let media: Int
  let delay: Int
  let reopened: Int
  let external: Int
  let compensation: Int
  let clock: ZoneClock
  let major: Int, hot: Int, important: Int, ordinary: Int
  let marketManagement: Int?, generalManager: Int?

  public init(rules: CompiledRules) {
    let set = rules.ruleSet
    func slot(_ id: String) -> Int { set.field(id)?.slot ?? 0 }
    collective = slot("collective_size")
    litigation = slot("litigation")
    media = slot("media")
    delay = slot("delay_cause")
    reopened = slot("reopened_after_resolution")
    external = slot("needs_external_support")
    compensation = slot("compensation")
    clock = rules.calendar.clock
    func level(_ id: String) -> Int { set.levels.firstIndex { $0.id == id } ?? 0 }
    major = level("major")
    hot = level("hot")
    important = level("important")
    ordinary = level("ordinary")
    marketManagement = set.roles.firstIndex { $0.id == "market_management" }
    generalManager = set.roles.firstIndex { $0.id == "general_manager" }
  }

  /// Level index and approver index. Enum ordinals as declared in rules/fields.yaml:
  /// litigation none/threatened/filed, media none/threatened/exposed, delay none/ours/….
  @inline(never)
  public func decide(_ f: borrowing CaseFacts, now: Millis, sameIssueComplainants: Int) -> (Int, Int?) {
    let n = f.numbers
    let end = min(f.resolvedAt ?? now, now)
    let ours = n[delay] == 1
    let level: Int
    if n[litigation] == 2 || n[media] == 2 || n[collective] >= 10
      || (ours && end >= clock.adding(months: 1, to: f.receivedAt))
    {
      level = major
    } else if n[litigation] == 1 || n[media] == 1 || sameIssueComplainants >= 3 || n[collective] >= 3
      || (ours && end - f.receivedAt >= 7 * 86_400_000)
    {
      level = hot
    } else if n[reopened] == 1 || n[external] == 1 {
      level = important
    } else {
      level = ordinary
    }
    let amount = n[compensation]
    let approver: Int? =
      amount == CaseFacts.null ? nil : amount > 500 * Money.scale ? generalManager : amount > 0 ? marketManagement : nil
    return (level, approver)
  }
}
