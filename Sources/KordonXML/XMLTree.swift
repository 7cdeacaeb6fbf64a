import CLibXML2

/// Reading and changing the nodes of a parsed tree, for ``XMLEditableDocument``.
///
/// Text is always put in as text: these functions create text nodes or set a node's
/// content directly, never through `xmlNodeSetContent` on an element (which parses
/// entity references in the string). Callers pass text already made safe by
/// ``XMLReplacementText``.
enum XMLTree {
    /// Whether a node is text (CDATA is parsed as text, but either counts).
    static func isText(_ node: xmlNodePtr) -> Bool {
        node.pointee.type == XML_TEXT_NODE || node.pointee.type == XML_CDATA_SECTION_NODE
    }

    /// Calls `body` for `start` and every node below it (not attributes), in document
    /// order, without recursion. `body` must not change the tree.
    static func forEachNode(in start: xmlNodePtr, _ body: (xmlNodePtr) -> Void) {
        var node = start
        while true {
            body(node)
            if node.pointee.type == XML_ELEMENT_NODE, let child = node.pointee.children {
                node = child
                continue
            }
            while node != start, node.pointee.next == nil {
                guard let parent = node.pointee.parent else { return }
                node = parent
            }
            guard node != start, let next = node.pointee.next else { return }
            node = next
        }
    }

    /// The bytes of a node's own content: an element's direct text children concatenated,
    /// a comment's or processing instruction's text.
    static func ownText(of node: xmlNodePtr) -> [UInt8] {
        var bytes: [UInt8] = []
        if node.pointee.type == XML_ELEMENT_NODE {
            appendText(of: node.pointee.children, to: &bytes)
        } else {
            append(node.pointee.content, to: &bytes)
        }
        return bytes
    }

    /// An attribute's value (the text nodes libxml2 keeps under it).
    static func value(of attribute: xmlAttrPtr) -> [UInt8] {
        var bytes: [UInt8] = []
        appendText(of: attribute.pointee.children, to: &bytes)
        return bytes
    }

    /// An element's full text content, its descendants' text included (`xmlNodeGetContent`).
    static func fullText(of element: xmlNodePtr) -> [UInt8] {
        guard let content = xmlNodeGetContent(element) else { return [] }
        defer { kordon_xml_free(content) }
        return Array(UnsafeBufferPointer(start: content, count: Int(xmlStrlen(content))))
    }

    /// Puts `text` into the element's first direct text child and removes its other
    /// direct text children; comments and child elements stay where they are.
    static func replaceOwnText(of element: xmlNodePtr, with text: [UInt8]) {
        var first: xmlNodePtr?
        var child = element.pointee.children
        while let c = child {
            child = c.pointee.next
            guard isText(c) else { continue }
            if first == nil {
                first = c
                if c.pointee.type == XML_TEXT_NODE {
                    setContent(of: c, to: text)
                } else if let node = newText(text, in: element.pointee.doc) {
                    // A CDATA section would not survive `]]>` in the replacement.
                    xmlReplaceNode(c, node)
                    xmlFreeNode(c)
                }
            } else {
                xmlUnlinkNode(c)
                xmlFreeNode(c)
            }
        }
        if first == nil, !text.isEmpty, let node = newText(text, in: element.pointee.doc) {
            xmlAddChild(element, node)
        }
    }

    /// Sets an attribute's value to `text`, as text (`xmlSetNsProp` creates a text node;
    /// it does not interpret `&`).
    static func setValue(of attribute: xmlAttrPtr, to text: [UInt8]) {
        guard let owner = attribute.pointee.parent, let name = attribute.pointee.name else { return }
        let value = text + [0]
        _ = value.withUnsafeBufferPointer { xmlSetNsProp(owner, attribute.pointee.ns, name, $0.baseAddress) }
    }

    /// Sets the content of a text, comment or processing-instruction node, literally.
    static func setContent(of node: xmlNodePtr, to text: [UInt8]) {
        text.withUnsafeBufferPointer { buffer in
            let empty: [xmlChar] = [0]
            empty.withUnsafeBufferPointer { fallback in
                xmlNodeSetContentLen(node, buffer.baseAddress ?? fallback.baseAddress, Int32(buffer.count))
            }
        }
    }

    /// A new text node of `document` holding `text`.
    static func newText(_ text: [UInt8], in document: xmlDocPtr?) -> xmlNodePtr? {
        text.withUnsafeBufferPointer { xmlNewDocTextLen(document, $0.baseAddress, Int32($0.count)) }
    }

    /// Whether `bytes` hold nothing but XML whitespace.
    static func isWhitespace(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }
    }

    private static func appendText(of first: xmlNodePtr?, to bytes: inout [UInt8]) {
        var child = first
        while let c = child {
            if isText(c) { append(c.pointee.content, to: &bytes) }
            child = c.pointee.next
        }
    }

    private static func append(_ content: UnsafeMutablePointer<xmlChar>?, to bytes: inout [UInt8]) {
        guard let content else { return }
        bytes.append(contentsOf: UnsafeBufferPointer(start: content, count: Int(xmlStrlen(content))))
    }
}
