import Foundation
import KordonCore

/// An XPath selection with the namespace prefixes it uses. A prefix may stand for
/// several namespace URIs (the EEC's versions, our sample's): the expression is
/// evaluated once per binding that the document can match, and the results merged.
///
/// XPath 1.0 rules apply: an unprefixed name matches elements in no namespace only,
/// so elements in a (default) namespace need a prefix. The expression must select
/// elements; a text node stands for its element (`//Id/text()` selects `Id`), while
/// attributes, comments or a value (`count(…)`) are rejected (`rules.xpath.result`).
public struct XMLSelector: Sendable, Hashable {
    /// An id for reports and errors, for example `eaeu.person-id`.
    public var id: String
    /// The XPath 1.0 expression, for example `//casdo:PersonId`.
    public var xpath: String
    /// Prefix → namespace URIs.
    public var namespaces: [String: [String]]
    /// Creates a selector.
    public init(id: String, xpath: String, namespaces: [String: [String]]) {
        self.id = id; self.xpath = xpath; self.namespaces = namespaces
    }

    /// Compiles the expression with every binding and throws a ``KordonError``
    /// (`rules.xpath.invalid`) naming the selector when libxml2 rejects it.
    ///
    /// Beyond syntax, the expression is evaluated once on an empty stand-in document, which
    /// finds prefixes missing from ``namespaces`` (in the steps an empty document reaches),
    /// prefixes bound to no URI, and expressions returning a value instead of elements;
    /// calls to functions other than XPath 1.0's are rejected by name.
    public func check() throws {
        do {
            try XPathQuery.check(expression: xpath, namespaces: namespaces)
        } catch {
            throw KordonError(code: "rules.xpath.invalid", message: invalidMessage(error))
        }
    }

    /// The message for a selector libxml2 rejects.
    func invalidMessage(_ failure: XPathFailure) -> String {
        "element rule \(id): the XPath expression \(xpath) is not usable: \(failure.description); fix the rule pack"
    }
}

/// An element a selector chose, by its place in one ``XMLEditableDocument``.
///
/// A handle into a removed subtree, or from another document, is ignored by every
/// operation (``XMLEditableDocument/text(of:)`` returns nothing).
public struct XMLSelectedElement: Sendable, Hashable {
    /// Its element path, the same style as every report: `/GoodsDeclaration/DeclarantDetails/PersonId`.
    /// Positions (`[2]`) are those at the time of selection.
    public var path: String
    /// Index into the document's node table; meaningful only to the document that made it.
    let index: Int
    /// The identity of the document that made it.
    let owner: UInt64
}

/// One place that holds text, handed to ``XMLEditableDocument/forEachText(skippingBinaryOf:_:)``.
public struct XMLTextSite: Sendable, Hashable {
    /// What kind of place.
    public enum Kind: Sendable, Hashable {
        /// An element's own text children (text and CDATA), concatenated.
        case elementText
        /// An attribute value; the associated value is the attribute's local name.
        case attribute(String)
        /// A comment.
        case comment
        /// A processing instruction's content.
        case processingInstruction
    }
    /// What kind of place.
    public var kind: Kind
    /// The element path; attributes as `/Root/Child/@name`, comments as `/Root/Child/comment()`,
    /// processing instructions as `/Root/Child/processing-instruction()`; outside the root
    /// element `/comment()`. Positions (`[2]`) describe the document as it is when visited.
    public var path: String
    /// Whether the place lies inside an element marked with ``XMLEditableDocument/protect(_:)``.
    public var isProtected: Bool

    /// Creates a site (the document makes them; tests and callers may too).
    public init(kind: Kind, path: String, isProtected: Bool) {
        self.kind = kind
        self.path = path
        self.isProtected = isProtected
    }
}
