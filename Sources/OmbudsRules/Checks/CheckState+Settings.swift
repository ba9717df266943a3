import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Pass `settings`: name, time zone, calendar, currency, override role.
extension CheckState {
  mutating func checkSettings() {
    guard let def = sections["settings"]?.first else { return }
    guard
      let keys = reader.mapping(def.value, Ctx.path("settings"), shape: RuleShapes.settings)
    else { return }
    settingsName = reader.string(keys["name"]?.value, Ctx.path("settings.name"))
    if let tz = keys["time_zone"]?.value {
      if let id = reader.string(tz, Ctx.path("settings.time_zone")) {
        if TimeZone(identifier: id) == nil {
          reader.error(
            .unknownTimeZone, Messages.unknownTimeZone(id), at: tz.location, length: id.unicodeScalars.count,
            help: Suggest.didYouMean(for: id, in: TimeZone.knownTimeZoneIdentifiers) ?? Messages.useIANAName)
        } else {
          timeZone = id
        }
      }
    }
    if let c = reader.identifier(keys["calendar"]?.value, Ctx.path("settings.calendar")) { defaultCalendar = c.value }
    overrideBy = reader.identifier(keys["override_by"]?.value, Ctx.path("settings.override_by"))
    if let c = keys["currency"]?.value, let code = reader.string(c, Ctx.path("settings.currency")) {
      if code.count == 3, code.unicodeScalars.allSatisfy({ $0.value >= 65 && $0.value <= 90 }) {
        currency = code
      } else {
        reader.error(
          .invalidCurrency,
          LocalizedText(en: "currency must be a three-letter code such as CNY", zh: "币种必须是三个字母的代码，如 CNY"),
          at: c.location)
      }
    }
  }
}
