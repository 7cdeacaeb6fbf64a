import Foundation

/// One rule pack as loaded from `rules/XX.yaml`: the model the matcher compiles.
struct RulePack: Sendable {
    /// `KZ`, `RU`, `BY`, `KG`, `AM` or `EAEU`.
    var id: String
    /// The pack's version, `2026.12.1`.
    var version: String
    /// A human title.
    var title: String
    /// The laws it implements, one citation each.
    var legalBasis: [String]
    /// The file it was loaded from.
    var source: URL
    /// The line of its `pack:` key.
    var line: Int
    /// The categories its rules use.
    var categories: [RestrictedCategory]
    /// What to do with a match where the text cannot be edited, per category.
    var uneditable: [RestrictedCategory: RuleAction]
    /// Identifier detectors.
    var detectors: [Detector]
    /// Classification markings.
    var markings: [Marking]
    /// Prefix → namespace URIs, for the element rules.
    var namespaces: [String: [String]]
    /// XPath selections with an action.
    var elementRules: [ElementRule]
    /// Line of every rule id, for duplicate-id errors.
    var ruleLines: [String: Int]
}

/// A pattern for one kind of identifier, with its validator and context words.
struct Detector: Sendable {
    /// `kz.iin`.
    var id: String
    /// The pack it comes from.
    var pack: String
    /// What it finds.
    var category: RestrictedCategory
    /// The Hyperscan expression, matched byte by byte over UTF-8.
    var pattern: String
    /// Byte width of the pattern's matches when it is fixed; `nil` when variable.
    var fixedWidth: Int?
    /// Checks a candidate; `nil` when the identifier has no checksum or structure to check.
    var validator: Validator?
    /// Words that must (or may) be found near a candidate.
    var context: ContextRule?
    /// What to do with a match.
    var action: RuleAction
    /// The file and line of its `pattern`, for compile errors.
    var file: String
    var line: Int
}

/// Context words of a detector.
struct ContextRule: Sendable {
    /// The words, folded.
    var words: [ContextWord]
    /// Phrases that, in a place name, make its context word mean something else: the
    /// FTS formats' «паспорт сделки» (`DealPassport`) and vehicle passports
    /// (`TransportMeansPassport`) name no person's passport.
    var unlessInPlace: [ContextWord] = []
    /// Whether a candidate without a context word is dropped.
    var required: Bool
    /// How many characters before the candidate are searched.
    var before: Int
    /// How many characters after the candidate are searched.
    var after: Int
}

/// One context word or phrase, folded like the text it is compared with.
struct ContextWord: Sendable {
    /// As written in the pack, without the stem's `*`.
    var text: String
    /// Folded scalars; words of a phrase separated by a single space.
    var folded: [UInt32]
    /// Written with a trailing `*`: matches any word it begins (`налогоплательщик*`).
    var isStem: Bool
}

/// A classification marking: one or more phrases that quarantine a message.
struct Marking: Sendable {
    /// `eaeu.marking.secret`.
    var id: String
    /// The pack it comes from.
    var pack: String
    /// What the marking announces.
    var category: RestrictedCategory
    /// The phrases as written in the pack.
    var phrases: [String]
    /// Short abbreviations (`ДСП`) are ordinary words too: only count when the
    /// marking stands alone on its line or field, or before `Экз.`.
    var standalone: Bool
    /// What to do (quarantine unless the pack says report).
    var action: RuleAction
    /// The file and line of its `phrases`, for compile errors.
    var file: String
    var line: Int
}
