import CLibXML2

/// One distinct name a document uses: an element or attribute name, a namespace
/// prefix or URI, a processing-instruction target.
///
/// Names are markup, not text: the restricted-data stage cannot change them without
/// changing what the document means, so an identifier written into one (`<IIN_870612300012>`,
/// `xmlns:p="urn:person:870612300012"`) can only be reported.
public struct XMLNameSite {
    /// Where in the markup the name stands.
    public enum Kind: Sendable, Equatable {
        /// An element's local name (with its prefix when the prefix is undeclared).
        case element
        /// An attribute's local name.
        case attribute
        /// The prefix a namespace declaration binds (`p` of `xmlns:p`).
        case namespacePrefix
        /// The URI a namespace declaration binds.
        case namespaceURI
        /// A processing instruction's target.
        case processingInstruction
    }

    /// Where the name stands.
    public let kind: Kind
    /// The name's UTF-8 bytes.
    public let name: [UInt8]
    /// The element the name belongs to (the PI's parent for a target); `nil` outside the root.
    let element: XMLNode?

    /// The element path of the first element where the name was seen (`/Root/Child[2]`),
    /// `""` for a processing instruction outside the root element.
    public var path: String { element?.path ?? "" }
}

extension XMLEditableDocument {
    /// Visits every distinct name of the document once, in document order of first use.
    ///
    /// libxml2 keeps element and attribute names in the parser's dictionary, so the
    /// same name is the same pointer: names are told apart by pointer first and only
    /// a name not seen before is copied, which keeps this walk cheap on documents of
    /// many elements with few names. Namespace declarations are few and always offered.
    public func forEachName(_ body: (XMLNameSite) -> Void) {
        var seenPointers: Set<UnsafePointer<xmlChar>> = []
        var seenNames: Set<[UInt8]> = []
        func offer(_ kind: XMLNameSite.Kind, _ pointer: UnsafePointer<xmlChar>?, _ element: xmlNodePtr?) {
            guard let pointer, seenPointers.insert(pointer).inserted else { return }
            let bytes = Array(UnsafeBufferPointer(start: pointer, count: Int(xmlStrlen(pointer))))
            guard !bytes.isEmpty, seenNames.insert(bytes).inserted else { return }
            body(XMLNameSite(kind: kind, name: bytes,
                             element: element.map { XMLNode(document: document, pointer: $0) }))
        }
        var node = document.handle.pointee.children
        while let current = node {
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                offer(.element, current.pointee.name, current)
                var declaration = current.pointee.nsDef
                while let ns = declaration {
                    offer(.namespacePrefix, ns.pointee.prefix, current)
                    offer(.namespaceURI, ns.pointee.href, current)
                    declaration = ns.pointee.next
                }
                var attribute = current.pointee.properties
                while let a = attribute {
                    offer(.attribute, a.pointee.name, current)
                    attribute = a.pointee.next
                }
            case XML_PI_NODE:
                let parent = current.pointee.parent.flatMap { $0.pointee.type == XML_ELEMENT_NODE ? $0 : nil }
                offer(.processingInstruction, current.pointee.name, parent)
            default:
                break
            }
            node = Self.next(after: current)
        }
    }

    /// The node after `node` in document order: its first child (elements only),
    /// else its next sibling, else the next sibling of the nearest ancestor that has one.
    private static func next(after node: xmlNodePtr) -> xmlNodePtr? {
        if node.pointee.type == XML_ELEMENT_NODE, let child = node.pointee.children { return child }
        var current: xmlNodePtr? = node
        while let c = current {
            if let sibling = c.pointee.next { return sibling }
            guard let parent = c.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE else { return nil }
            current = parent
        }
        return nil
    }
}
