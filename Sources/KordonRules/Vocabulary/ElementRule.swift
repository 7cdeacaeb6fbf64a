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
    /// The `|`-branches of ``xpath`` with their main-path name tests, and the prefixes its
    /// predicates use; `nil` when the expression's shape is not read (see ``plan(bindings:elements:)``).
    public var branches: [XPathBranch]?
    /// Prefixes used inside predicates: their bindings are never narrowed.
    public var predicatePrefixes: Set<String> = []

    /// Creates an element rule.
    public init(id: String, pack: String, xpath: String, namespaces: [String: [String]],
                action: RuleAction, category: RestrictedCategory) {
        self.id = id
        self.pack = pack
        self.xpath = xpath
        self.namespaces = namespaces
        self.action = action
        self.category = category
        if let parsed = XPathBranches.parse(xpath) {
            self.branches = parsed.branches
            self.predicatePrefixes = parsed.predicatePrefixes
        }
    }

    /// What to evaluate on one document: the branches of ``xpath`` that can select something
    /// and, for each prefix only main paths use, the bound namespaces that have the elements
    /// those paths name. `nil` when no branch can select anything: every branch has a name test
    /// (`p:Name`, `p:*`) that no element of the document matches, in any namespace `p` is bound
    /// to. An FTS rule on an EEC document, or `//fts:NumDoc` on a declaration without `NumDoc`,
    /// is then not evaluated at all, and `//fts:IdentityCardNumber` is evaluated only for the
    /// namespaces that hold an `IdentityCardNumber`, not for every FTS namespace declared.
    ///
    /// `elements(namespace, localName)` says whether the document has such an element
    /// (`localName` `*`: any element in that namespace).
    public func plan(bindings: [String: [String]], elements: (String, String) -> Bool) -> (xpath: String, bindings: [String: [String]])? {
        guard let branches else { return (xpath, bindings) }
        func matches(_ test: XPathBranch.NameTest, _ uri: String) -> Bool { elements(uri, test.localName) }
        let possible = branches.filter { branch in
            branch.tests.allSatisfy { test in (bindings[test.prefix] ?? []).contains { matches(test, $0) } }
        }
        guard !possible.isEmpty else { return nil }
        var narrowed = bindings
        for (prefix, uris) in bindings where !predicatePrefixes.contains(prefix) {
            let useful = uris.filter { uri in
                possible.contains { branch in
                    let tests = branch.tests.filter { $0.prefix == prefix }
                    return !tests.isEmpty && tests.allSatisfy { matches($0, uri) }
                }
            }
            if !useful.isEmpty { narrowed[prefix] = useful }
        }
        let expression = possible.count == branches.count ? xpath : possible.map(\.text).joined(separator: " | ")
        return (expression, narrowed)
    }
}
