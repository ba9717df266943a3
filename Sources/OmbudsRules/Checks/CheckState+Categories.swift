import Foundation
import OmbudsScreening
import OmbudsSyntax

/// Passes `categories`, `keyword-lists`, `keywords` and `harmful-information`: harmful-content
/// screening.
extension CheckState {
  mutating func checkCategories() {
    for pair in entries("categories") {
      let context = Ctx.category(pair.key.value)
      guard
        let keys = reader.mapping(pair.value, context, shape: RuleShapes.category)
      else { continue }
      var decl = CategoryDecl(
        id: pair.key.value, label: reader.string(keys["label"]?.value, context.key("label")),
        major: keys["major"].flatMap { reader.bool($0.value, context.key("major")) } ?? false,
        location: pair.key.location)
      for item in reader.list(keys["keywords"]?.value, context.key("keywords")) ?? [] {
        if case .scalar(let k, _) = item, !item.isNull {
          decl.keywords.append(Located(k.value, at: item.contentLocation))
        } else {
          reader.typeError(item, expected: Expected.words("a keyword (text)", "关键词（文本）"), in: context.key("keywords"))
        }
      }
      for item in reader.list(keys["exceptions"]?.value, context.key("exceptions")) ?? [] {
        if case .scalar(let k, _) = item, !item.isNull {
          decl.exceptions.append(Located(k.value, at: item.contentLocation))
        } else {
          reader.typeError(
            item, expected: Expected.words("an exception phrase (text)", "例外短语（文本）"), in: context.key("exceptions"))
        }
      }
      if let node = keys["match"]?.value, let names = reader.identifiers(node, context.key("match")) {
        let known = MatchModes.names.map(\.0)
        for name in names {
          if let mode = MatchModes.named(name.value) {
            decl.modes.insert(mode)
          } else {
            reader.error(
              .unknownMatchMode,
              LocalizedText(en: "`\(name.value)` is not a match mode", zh: "`\(name.value)` 不是匹配方式"),
              at: name.location, length: name.value.unicodeScalars.count,
              help: Suggest.didYouMean(for: name.value, in: known)
                ?? LocalizedText(
                  en: "modes: \(known.joined(separator: ", "))", zh: "匹配方式：\(known.joined(separator: "、"))"))
          }
        }
      }
      categories.append(decl)
    }
  }

  // MARK: keywords

  /// `keyword_lists: [path, …]`: plain-text lists, one `category<TAB>keyword` per line, `#`
  /// comments; paths relative to the file that names them.
  mutating func checkKeywordLists() {
    for def in sections["keyword_lists"] ?? [] {
      for item in reader.list(def.value, Ctx.path("keyword_lists")) ?? [] {
        guard let relative = reader.string(item, Ctx.words("keyword list path", "关键词表路径")) else { continue }
        let path = Self.importedPath(relative, from: def.key.location.file)
        guard let read = importedFiles[path], let bytes = read else {
          reader.error(
            .io, Messages.cannotReadKeywordList(relative, path), at: item.location,
            length: relative.unicodeScalars.count)
          continue
        }
        let source = SourceFile(path: path, bytes: bytes)
        extraSources.append(source)
        readKeywordList(source)
      }
    }
  }

  mutating func readKeywordList(_ source: SourceFile) {
    let (entries, diagnostics) = KeywordList.parse(source)
    reader.bag.add(contentsOf: diagnostics)
    var index: [String: Int] = [:]
    for (i, c) in categories.enumerated() { index[c.id] = i }
    for entry in entries {
      guard let c = index[entry.category.value] else {
        reader.error(
          .undefinedCategory, Messages.undefined(.category, entry.category.value), at: entry.category.location,
          length: entry.category.value.unicodeScalars.count,
          help: Suggest.didYouMean(for: entry.category.value, in: categories.map(\.id))
            ?? Messages.defineUnder("categories"))
        continue
      }
      categories[c].keywords.append(entry.keyword)
    }
  }

  /// Empty categories and keywords, keywords in two categories, keywords an exception swallows.
  mutating func checkKeywords() {
    if categories.count > 64, let extra = categories.dropFirst(64).first {
      reader.error(
        .tooManyCategories, Messages.tooManyCategories(categories.count),
        at: extra.location, length: extra.id.unicodeScalars.count)
    }
    var seen: [[UInt32]: (category: String, location: SourceLocation)] = [:]
    for category in categories {
      if category.keywords.isEmpty {
        reader.error(
          .emptyCategory, Messages.emptyCategory(category.id), at: category.location,
          length: category.id.unicodeScalars.count, help: Messages.listKeywords)
      }
      let exceptions = category.exceptions.map { ($0, Normalizer.fold($0.value).filter { $0 != 0x0A }) }
      for (e, folded) in exceptions where folded.isEmpty {
        reader.error(
          .emptyKeyword,
          Messages.emptyKeyword(exception: e.value),
          at: e.location, length: max(1, e.value.unicodeScalars.count))
      }
      for k in category.keywords {
        let folded = Normalizer.fold(k.value).filter { $0 != 0x0A }
        if folded.isEmpty {
          reader.error(
            .emptyKeyword,
            Messages.emptyKeyword(keyword: k.value),
            at: k.location, length: max(1, k.value.unicodeScalars.count))
          continue
        }
        if let first = seen[folded] {
          reader.warning(
            .duplicateKeyword,
            first.category == category.id
              ? Messages.keywordTwice(k.value, in: category.id)
              : Messages.keywordInTwo(k.value, first.category, category.id),
            at: k.location, length: k.value.unicodeScalars.count,
            related: [.init(Messages.alsoListedHere, at: first.location)],
            help: Messages.keepInOneCategory)
        } else {
          seen[folded] = (category.id, k.location)
        }
        if category.modes.contains(.pinyin), let letters = PinyinCheck.shortest(folded),
          letters < PinyinCheck.minimumLetters
        {
          reader.warning(
            .shortPinyinKeyword,
            LocalizedText(
              en:
                "keyword `\(k.value)` is only \(letters) letters in pinyin: in `match: [pinyin]` it fires on ordinary syllables",
              zh: "关键词 `\(k.value)` 的拼音只有 \(letters) 个字母：在 `match: [pinyin]` 下会误中普通音节"),
            at: k.location, length: k.value.unicodeScalars.count,
            help: LocalizedText(
              en:
                "lengthen it (a two-character keyword of at least \(PinyinCheck.minimumLetters) letters), or drop `pinyin` from the category's `match`",
              zh: "请改用更长的关键词（至少 \(PinyinCheck.minimumLetters) 个字母的两字词），或从该类别的 `match` 中去掉 `pinyin`"))
        }
        for (e, ef) in exceptions where !ef.isEmpty && Self.contains(folded, ef) {
          reader.warning(
            .keywordSwallowed,
            Messages.keywordSwallowed(k.value, by: e.value),
            at: k.location, length: k.value.unicodeScalars.count,
            related: [.init(Messages.exceptionHere, at: e.location)])
        }
      }
    }
  }

  static func contains(_ haystack: [UInt32], _ needle: [UInt32]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    for start in 0...(haystack.count - needle.count)
    where haystack[start..<(start + needle.count)].elementsEqual(needle) {
      return true
    }
    return false
  }

  /// `harmful_information: {on_major: [duty, …]}`: what a report in a `major` category triggers.
  mutating func checkHarmfulInformation() {
    guard let def = sections["harmful_information"]?.first else { return }
    guard let keys = reader.mapping(def.value, Ctx.path("harmful_information"), shape: RuleShapes.harmfulInformation)
    else {
      return
    }
    harmfulMajorDuties = (reader.list(keys["on_major"]?.value, Ctx.path("harmful_information on_major")) ?? [])
      .compactMap {
        duty($0, Ctx.path("harmful_information on_major"))
      }
  }
}
