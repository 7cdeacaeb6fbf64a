// CONTRACT STUB — the public API the redaction stage is written against.
// The XML-editing helper replaces this file with the real implementation
// (XMLEditableDocument.swift, XPathSelection.swift, …), keeping these signatures.
import Foundation
import KordonCore

/// An XPath selection with the namespace prefixes it uses. A prefix may stand for
/// several namespace URIs (the EEC's versions, our sample's): the expression is
/// evaluated once per binding that the document can match, and the results merged.
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
    public func check() throws { fatalError("contract stub") }
}

/// An element a selector chose, by its place in one ``XMLEditableDocument``.
public struct XMLSelectedElement: Sendable, Hashable {
    /// Its element path, the same style as every report: `/GoodsDeclaration/DeclarantDetails/PersonId`.
    public var path: String
    /// Index into the document's node table; meaningful only to the document that made it.
    let index: Int
}

/// One place that holds text, handed to ``XMLEditableDocument/forEachText(_:)``.
public struct XMLTextSite: Sendable {
    /// What kind of place.
    public enum Kind: Sendable, Hashable {
        /// An element's own text children (text and CDATA), concatenated.
        case elementText
        /// An attribute value; the associated value is the attribute's name.
        case attribute(String)
        /// A comment.
        case comment
        /// A processing instruction's content.
        case processingInstruction
    }
    /// What kind of place.
    public var kind: Kind
    /// The element path; attributes as `/Root/Child/@name`, comments as `/Root/Child/comment()`.
    public var path: String
    /// Whether the place lies inside an element marked with ``XMLEditableDocument/protect(_:)``.
    public var isProtected: Bool
}

/// A parsed XML document that the redaction stage can edit and write back.
///
/// Parsed with the same guard and options as ``XMLInspector`` (no DTD, no network,
/// no entities); not thread-safe, one per message. Every C handle stays inside.
public final class XMLEditableDocument {
    /// Parses `data`. Throws a ``KordonError`` (`xml.*`) when the guard or the parser refuses it.
    public init(parsing data: Data, limits: Limits) throws { fatalError("contract stub") }

    /// The elements `selector` chooses, in document order, without duplicates.
    public func select(_ selector: XMLSelector) throws -> [XMLSelectedElement] { fatalError("contract stub") }

    /// The element's full text content (its descendants' text too), UTF-8.
    public func text(of element: XMLSelectedElement) -> [UInt8] { fatalError("contract stub") }

    /// Replaces the element's content with one text node.
    public func setText(of element: XMLSelectedElement, to text: [UInt8]) { fatalError("contract stub") }

    /// Removes the element (and its subtree) from the document.
    public func remove(_ element: XMLSelectedElement) { fatalError("contract stub") }

    /// Marks the element's subtree as protected (``XMLTextSite/isProtected``).
    public func protect(_ element: XMLSelectedElement) { fatalError("contract stub") }

    /// Visits every text-holding place in document order, except the text of
    /// elements typed `xs:base64Binary` by `schemas` (payloads, scanned as files)
    /// and of removed elements. `body` returns replacement UTF-8 text, or `nil` to keep.
    public func forEachText(skippingBinaryOf schemas: SchemaRegistry?, _ body: (XMLTextSite, [UInt8]) -> [UInt8]?) { fatalError("contract stub") }

    /// Whether anything was changed since parsing.
    public var isModified: Bool { fatalError("contract stub") }

    /// The document written back in its original encoding, with its XML declaration.
    public func serialize() -> Data { fatalError("contract stub") }
}
