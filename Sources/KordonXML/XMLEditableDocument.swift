import CLibXML2
import Foundation
import KordonCore

/// A parsed XML document that the redaction stage can edit and write back.
///
/// Parsed with the same guard and options as ``XMLInspector`` (``XMLInput``'s checks, then
/// libxml2 with no DTD, no network, no entity substitution, no XInclude); not thread-safe,
/// one per message, but any number of documents may be used on as many threads at once.
/// Every C handle stays inside: elements are handed out as ``XMLSelectedElement`` values
/// that index a node table kept here, and a handle whose element was removed (or that
/// another document made) is ignored.
///
/// ``serialize()`` returns the original bytes untouched while nothing was changed.
public final class XMLEditableDocument {
    /// Operations an XPath evaluation may take before it is stopped: this many, plus
    /// ``xpathOperationsPerNode`` for every node of the document.
    static let xpathOperationBase: UInt = 1_000_000
    /// See ``xpathOperationBase``.
    static let xpathOperationsPerNode: UInt = 10
    /// Most namespace bindings one selector is evaluated with on one document.
    static let maxBindings = 64

    let document: XMLDocument
    private let original: Data
    private let prepared: PreparedXML
    /// Worked out only when a changed document is written: it copies the document's
    /// bytes, which an unchanged one (most) never needs.
    private lazy var layout = SerializationLayout(original: original, prepared: prepared)
    /// Tells this document's handles from other documents'.
    private let identity = UInt64.random(in: .min ... .max)
    /// Elements handed out, by handle index; `nil` once freed.
    private var nodes: [xmlNodePtr?] = []
    private var indexOf: [xmlNodePtr: Int] = [:]
    private var protectedIndices: Set<Int> = []
    private var census: Census?
    /// Set by every change that reaches the tree.
    var modified = false
    /// The root namespaces of the documents carried in its containers, set by the inspector:
    /// their schemas' base64Binary elements are payloads too.
    var carriedNamespaces: Set<String> = []

    /// Parses `data`. Throws a ``KordonError`` (`xml.*`) when the guard or the parser refuses it.
    public convenience init(parsing data: Data, limits: Limits) throws {
        XMLRuntime.initialize()
        let prepared: PreparedXML
        switch XMLInput.prepare(data, limits: limits) {
        case .success(let p): prepared = p
        case .failure(let refusal): throw KordonError(code: KordonError.Code(rawValue: refusal.rule), message: refusal.detail)
        }
        let document: XMLDocument
        do {
            document = try XMLDocument(parsing: prepared)
        } catch {
            throw KordonError(code: "xml.malformed", message: "not well-formed: line \(error.line): \(error.message)")
        }
        guard document.root != nil else {
            throw KordonError(code: "xml.malformed", message: "the document has no root element")
        }
        self.init(document: document, prepared: prepared, original: data)
    }

    /// Takes over a document already parsed from `original` (by ``XMLInspector``) and not changed since.
    init(document: XMLDocument, prepared: PreparedXML, original data: Data) {
        self.document = document
        // Numbers the elements (in their unused `content` field, as libxslt does) so that
        // XPath sorts node sets in document order without walking the tree.
        _ = xmlXPathOrderDocElems(document.handle)
        original = data
        self.prepared = prepared
    }

    /// The elements `selector` chooses, in document order, without duplicates.
    ///
    /// Throws a ``KordonError``: `rules.xpath.invalid` (the expression or a prefix is
    /// unusable), `rules.xpath.result` (it selects attributes or a value, not elements),
    /// `xml.xpath.limit` (this document made the evaluation exceed the operation limit,
    /// more than 100,000 elements, or too many namespace bindings: the rule could not be
    /// applied, so the document must not pass as checked).
    public func select(_ selector: XMLSelector) throws -> [XMLSelectedElement] {
        let bindings = try namespaceBindings(for: selector)
        let nodeCount = UInt(censusOfDocument().nodeCount)
        var found: [xmlNodePtr] = []
        var seen: Set<xmlNodePtr> = []
        var evaluationsWithResults = 0
        do throws(XPathFailure) {
            let query = try XPathQuery(expression: selector.xpath, document: document.handle,
                                       operationLimit: Self.xpathOperationBase + Self.xpathOperationsPerNode * nodeCount)
            for binding in bindings {
                for (prefix, uri) in binding { try query.bind(prefix: prefix, to: uri) }
                let nodes = try query.evaluate()
                if !nodes.isEmpty { evaluationsWithResults += 1 }
                for node in nodes where seen.insert(node).inserted { found.append(node) }
                if found.count > XPathQuery.maxResults { throw XPathFailure(reason: .tooManyResults(XPathQuery.maxResults)) }
            }
        } catch {
            throw Self.error(error, selector: selector)
        }
        if evaluationsWithResults > 1 { found.sort { xmlXPathCmpNodes($0, $1) == 1 } }
        return zip(found, paths(of: found)).map { node, path in
            XMLSelectedElement(path: path, index: register(node), owner: identity)
        }
    }

    /// The element's full text content (its descendants' text too), UTF-8.
    public func text(of element: XMLSelectedElement) -> [UInt8] {
        guard let node = node(for: element) else { return [] }
        return XMLTree.fullText(of: node)
    }

    /// Replaces the element's content (text, child elements, comments) with one text node.
    /// The text is put in as text: `&`, `<` and `]]>` come out escaped, never as markup.
    /// Malformed UTF-8 and characters XML cannot hold become U+FFFD.
    public func setText(of element: XMLSelectedElement, to text: [UInt8]) {
        guard let node = node(for: element) else { return }
        while let child = node.pointee.children {
            free(child)
        }
        let safe = XMLReplacementText.characters(text)
        if !safe.isEmpty, let textNode = XMLTree.newText(safe, in: document.handle) {
            xmlAddChild(node, textNode)
        }
        modified = true
    }

    /// Removes the element (and its subtree) from the document, with the indentation
    /// (a whitespace-only text node) right before it. Handles into the subtree become inert.
    public func remove(_ element: XMLSelectedElement) {
        guard let node = node(for: element) else { return }
        if let previous = node.pointee.prev, previous.pointee.type == XML_TEXT_NODE,
           XMLTree.isWhitespace(XMLTree.ownText(of: previous)) {
            free(previous)
        }
        free(node)
        modified = true
    }

    /// Marks the element's subtree as protected (``XMLTextSite/isProtected``).
    public func protect(_ element: XMLSelectedElement) {
        guard node(for: element) != nil else { return }
        protectedIndices.insert(element.index)
    }

    /// Whether anything was changed since parsing.
    public var isModified: Bool { modified }

    /// Every namespace URI declared anywhere in the document (a rule's namespace family is
    /// matched against these).
    public var declaredNamespaces: Set<String> { censusOfDocument().namespaces }

    /// The document written back in its original encoding, with its XML declaration.
    ///
    /// Unchanged, it is the original bytes. Changed, libxml2 writes the tree without
    /// reformatting (see ``XMLSerializer`` for the small normalizations it makes) behind
    /// the original byte order mark and XML declaration, verbatim, in the declared
    /// encoding; a UTF-16 document comes back as UTF-16 in its byte order. Characters
    /// the encoding lacks are written as character references.
    public func serialize() -> Data {
        modified ? XMLSerializer.serialize(document, layout: layout) : original
    }

    /// Whether `node` is an element marked with ``protect(_:)``.
    func isMarkedProtected(_ node: xmlNodePtr) -> Bool {
        guard !protectedIndices.isEmpty, let index = indexOf[node] else { return false }
        return protectedIndices.contains(index)
    }

    // MARK: - Handles

    private func node(for element: XMLSelectedElement) -> xmlNodePtr? {
        guard element.owner == identity, nodes.indices.contains(element.index) else { return nil }
        return nodes[element.index]
    }

    private func register(_ node: xmlNodePtr) -> Int {
        if let index = indexOf[node] { return index }
        nodes.append(node)
        indexOf[node] = nodes.count - 1
        return nodes.count - 1
    }

    /// Unlinks and frees `node` with its subtree, and forgets handles into it first.
    private func free(_ node: xmlNodePtr) {
        if !indexOf.isEmpty {
            XMLTree.forEachNode(in: node) { inner in
                guard let index = indexOf.removeValue(forKey: inner) else { return }
                nodes[index] = nil
                protectedIndices.remove(index)
            }
        }
        xmlUnlinkNode(node)
        xmlFreeNode(node)
    }

    // MARK: - Selection helpers

    /// What selection needs to know about the whole document, gathered once.
    private struct Census {
        /// Every node below the document (attributes not counted).
        var nodeCount = 0
        /// Every namespace URI declared anywhere.
        var namespaces: Set<String> = []
    }

    private func censusOfDocument() -> Census {
        if let census { return census }
        var result = Census()
        if let root = xmlDocGetRootElement(document.handle) {
            XMLTree.forEachNode(in: root) { node in
                result.nodeCount += 1
                guard node.pointee.type == XML_ELEMENT_NODE else { return }
                var declaration = node.pointee.nsDef
                while let ns = declaration {
                    if let href = ns.pointee.href { result.namespaces.insert(String(cString: href)) }
                    declaration = ns.pointee.next
                }
            }
        }
        census = result
        return result
    }

    /// Every combination of one URI per prefix worth evaluating: URIs the document never
    /// declares cannot match, so only declared ones are tried (or the first URI, when a
    /// prefix has none declared or the expression does not use it, so that it still
    /// evaluates).
    private func namespaceBindings(for selector: XMLSelector) throws -> [[(String, String)]] {
        let declared = censusOfDocument().namespaces
        var combinations: [[(String, String)]] = [[]]
        for (prefix, uris) in selector.namespaces.sorted(by: { $0.key < $1.key }) {
            var unique: [String] = []
            for uri in uris where !unique.contains(uri) { unique.append(uri) }
            guard let first = unique.first else {
                throw KordonError(code: "rules.xpath.invalid", message: selector.invalidMessage(
                    XPathFailure(reason: .invalid("the namespace prefix '\(prefix)' is bound to no namespace URI", position: nil))))
            }
            // A prefix the expression never writes (`p:`) needs one binding only.
            let usable = selector.xpath.contains(prefix + ":") ? unique.filter(declared.contains) : []
            let candidates = usable.isEmpty ? [first] : usable
            combinations = combinations.flatMap { binding in candidates.map { binding + [(prefix, $0)] } }
            if combinations.count > Self.maxBindings {
                throw KordonError(code: "xml.xpath.limit",
                                  message: "element rule \(selector.id) would need more than \(Self.maxBindings) namespace bindings on this document; the rule was not applied")
            }
        }
        return combinations
    }

    /// Element paths of `nodes`: sibling counting for a few, one walk of the tree for many.
    private func paths(of nodes: [xmlNodePtr]) -> [String] {
        let wrapped = nodes.map { XMLNode(document: document, pointer: $0) }
        guard wrapped.count > 32 else { return wrapped.map(\.path) }
        let wanted = Set(wrapped)
        var found: [XMLNode: String] = [:]
        document.walk { node, tracker in
            if wanted.contains(node) { found[node] = tracker.path }
        }
        return wrapped.map { found[$0] ?? $0.path }
    }

    private static func error(_ error: XPathFailure, selector: XMLSelector) -> KordonError {
        switch error.reason {
        case .invalid:
            return KordonError(code: "rules.xpath.invalid", message: selector.invalidMessage(error))
        case .notNodeSet, .notElements:
            return KordonError(code: "rules.xpath.result",
                               message: "element rule \(selector.id): the XPath expression \(selector.xpath) is not usable: \(error.description); fix the rule pack")
        case .limit, .tooManyResults:
            return KordonError(code: "xml.xpath.limit",
                               message: "element rule \(selector.id) could not be applied to this document: \(error.description); the document was not fully checked")
        }
    }
}
