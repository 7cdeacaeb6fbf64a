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
    /// Per branch of ``xpath``, the prefixes it needs declared to select anything; `nil` when
    /// the expression's shape is not read (see ``mayMatch(bindings:declared:)``).
    public var requiredPrefixes: [[String]]?

    /// Creates an element rule.
    public init(id: String, pack: String, xpath: String, namespaces: [String: [String]],
                action: RuleAction, category: RestrictedCategory) {
        self.id = id
        self.pack = pack
        self.xpath = xpath
        self.namespaces = namespaces
        self.action = action
        self.category = category
        self.requiredPrefixes = XPathBranches.requiredPrefixes(of: xpath)
    }

    /// Whether the rule can select anything in a document that declares the namespaces
    /// `declared`, its prefixes bound to `bindings` (``NamespacePattern/expand(_:declared:)``):
    /// `false` when every branch of the expression names, on its main path, a prefix none of
    /// whose namespaces the document declares. An FTS rule on an EEC document, say, is then
    /// not evaluated at all.
    public func mayMatch(bindings: [String: [String]], declared: Set<String>) -> Bool {
        guard let requiredPrefixes else { return true }
        return requiredPrefixes.contains { branch in
            branch.allSatisfy { prefix in bindings[prefix]?.contains(where: declared.contains) ?? true }
        }
    }
}
