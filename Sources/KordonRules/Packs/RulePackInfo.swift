import Foundation

/// One pack as loaded from `rules/XX.yaml`, for `kordon rules list`.
public struct RulePackInfo: Sendable {
    /// `KZ`, `RU`, `BY`, `KG`, `AM` or `EAEU`.
    public var id: String
    /// The pack's version.
    public var version: String
    /// Its legal basis (the laws it implements), citations joined by `; `.
    public var legalBasis: String
    /// The file it was loaded from.
    public var source: URL
    /// The categories it declares.
    public var categories: [RestrictedCategory]
    /// Detector ids with category and action.
    public var detectors: [(id: String, category: RestrictedCategory, action: RuleAction)]
    /// Marking ids with their phrases.
    public var markings: [(id: String, phrases: [String])]
    /// Its element rules.
    public var elementRules: [ElementRule]
    /// Its title (added to the contract).
    public var title: String
    /// What a match of each category becomes where the text cannot be edited (added).
    public var uneditable: [RestrictedCategory: RuleAction]

    init(_ pack: RulePack) {
        id = pack.id
        version = pack.version
        legalBasis = pack.legalBasis.joined(separator: "; ")
        source = pack.source
        categories = pack.categories
        detectors = pack.detectors.map { ($0.id, $0.category, $0.action) }
        markings = pack.markings.map { ($0.id, $0.phrases) }
        elementRules = pack.elementRules
        title = pack.title
        uneditable = pack.uneditable
    }
}
