/// An element rule of a pack: an XPath selection with declared prefixes.
public struct ElementRule: Sendable, Hashable {
    /// Rule id, for example `eaeu.person-id`.
    public var id: String
    /// The pack it comes from (`EAEU`, `KZ`, …).
    public var pack: String
    /// The XPath 1.0 expression, for example `//casdo:PersonId`.
    public var xpath: String
    /// Prefix → namespace URIs the prefix may stand for (real EEC versions and our sample).
    /// Holds exactly the prefixes `xpath` uses.
    public var namespaces: [String: [String]]
    /// What to do with the selected elements.
    public var action: RuleAction
    /// The category of what the element holds.
    public var category: RestrictedCategory

    /// Creates an element rule.
    public init(id: String, pack: String, xpath: String, namespaces: [String: [String]],
                action: RuleAction, category: RestrictedCategory) {
        self.id = id
        self.pack = pack
        self.xpath = xpath
        self.namespaces = namespaces
        self.action = action
        self.category = category
    }
}
