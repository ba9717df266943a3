import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Pass `refunds`: the refund approval tiers and currency equivalents.
extension CheckState {
  mutating func checkRefunds() {
    guard let def = sections["refund_approval"]?.first else { return }
    guard
      let keys = reader.mapping(def.value, Ctx.path("refund_approval"), shape: RuleShapes.refundApproval)
    else { return }
    var base = currency
    if let node = keys["currency"]?.value, let c = reader.string(node, Ctx.path("refund_approval currency")) {
      if c != currency {
        reader.error(
          .tierCurrency,
          LocalizedText(
            en: "refund tiers are in \(c) but the policy's currency is \(currency)",
            zh: "退款档位的币种是 \(c)，但政策的币种是 \(currency)"),
          at: node.location, length: c.unicodeScalars.count)
      }
      base = c
    }
    var equivalents: [String: Int64] = [base: Money.scale]
    if let node = keys["equivalents"]?.value, let pairs = node.pairs {
      for p in pairs {
        if let t = p.value.scalarText, let v = Money.parseUnits(Substring(t)), v > 0 {
          equivalents[p.key.value] = v
        } else {
          reader.typeError(
            p.value, expected: Expected.words("a positive exchange rate such as 7.10", "正的汇率，如 7.10"),
            in: Context(en: "equivalent of \(p.key.value)", zh: "\(p.key.value) 的折算汇率"))
        }
      }
    } else if let node = keys["equivalents"]?.value {
      reader.typeError(
        node, expected: Expected.words("a mapping of currency codes to rates", "币种代码到汇率的映射"),
        in: Ctx.path("refund_approval equivalents"))
    }
    var tiers: [RefundTier] = []
    for node in reader.list(keys["tiers"]?.value, Ctx.path("refund_approval tiers")) ?? [] {
      guard
        let t = reader.mapping(node, Ctx.words("refund tier", "退款档位"), shape: RuleShapes.tier)
      else { continue }
      guard let above = reader.money(t["above"]?.value, Ctx.words("tier above", "档位的 `above`"), currency: base),
        let approver = reader.identifier(t["approver"]?.value, Ctx.words("tier approver", "档位的 `approver`"))
      else { continue }
      let upTo = t["up_to"].flatMap { reader.money($0.value, Ctx.words("tier up_to", "档位的 `up_to`"), currency: base) }
      if let upTo, upTo <= above {
        reader.error(
          .tierOverlap,
          LocalizedText(
            en: "tier is empty: up_to \(Money.format(units: upTo)) is not above \(Money.format(units: above))",
            zh: "档位为空：`up_to` \(Money.format(units: upTo)) 不大于 `above` \(Money.format(units: above))"),
          at: node.location)
        continue
      }
      tiers.append(RefundTier(above: above, upTo: upTo, approver: approver.value, location: node.location))
      _ = approver
    }
    let sorted = tiers.sorted { $0.above < $1.above }
    if let first = sorted.first, first.above > 0 {
      reader.error(
        .tierGap, Messages.noApprover(from: "0", upTo: Money.format(units: first.above), base),
        at: first.location)
    }
    for (a, b) in zip(sorted, sorted.dropFirst()) {
      guard let upTo = a.upTo else {
        reader.error(
          .tierOverlap,
          LocalizedText(
            en: "this tier has no upper limit, so it overlaps the tier above \(Money.format(units: b.above))",
            zh: "本档位没有上限，因此与 \(Money.format(units: b.above)) 以上的档位重叠"),
          at: a.location, related: [.init(LocalizedText(en: "overlapping tier", zh: "重叠的档位"), at: b.location)])
        continue
      }
      if upTo < b.above {
        reader.error(
          .tierGap,
          Messages.noApprover(from: Money.format(units: upTo), upTo: Money.format(units: b.above), base),
          at: b.location,
          related: [.init(LocalizedText(en: "the tier below ends here", zh: "下一档位在此结束"), at: a.location)])
      } else if upTo > b.above {
        reader.error(
          .tierOverlap,
          LocalizedText(
            en:
              "amounts above \(Money.format(units: b.above)) up to \(Money.format(units: upTo)) \(base) fall in two tiers",
            zh: "高于 \(Money.format(units: b.above)) 且不超过 \(Money.format(units: upTo)) \(base) 的金额落在两个档位中"),
          at: b.location,
          related: [
            .init(
              LocalizedText(
                en: "the tier below reaches up to \(Money.format(units: upTo))",
                zh: "下一档位一直到 \(Money.format(units: upTo))"), at: a.location)
          ])
      }
    }
    if let last = sorted.last, let upTo = last.upTo {
      reader.error(
        .tierGap, Messages.noApprover(from: Money.format(units: upTo), upTo: nil, base), at: last.location,
        help: LocalizedText(en: "leave out `up_to` on the highest tier", zh: "最高档位请不要写 `up_to`"))
    }
    refund = RefundPolicy(currency: base, equivalents: equivalents, tiers: sorted, location: def.key.location)
  }
}
