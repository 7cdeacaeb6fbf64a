import CLibXML2
import Foundation

extension XMLEditableDocument {
    /// Visits every text-holding place in document order, except the text of
    /// elements typed `xs:base64Binary` by `schemas` (payloads, scanned as files)
    /// and of removed elements. `body` returns replacement UTF-8 text, or `nil` to keep.
    ///
    /// For each element: its attributes (in their order), then its own text (its direct
    /// text children concatenated, so that a value split by a comment or written with
    /// character references is seen whole), then its children in order (comments,
    /// processing instructions, child elements). Comments and processing instructions
    /// outside the root element come in their place. Whitespace-only text is skipped.
    ///
    /// Besides typed elements, text is skipped as a payload when it is what
    /// ``XMLInspector`` decodes as one: an attachment element of `payloadElements` or an
    /// element declared base64Binary in some schema and not in another, whose text
    /// decodes, or 256+ characters that decode as base64.
    /// The fallback is a little stricter than the inspector's, so it never skips prose:
    /// every whitespace-separated piece but the last must be 16 characters or longer.
    ///
    /// A replacement goes in as text (escaped on output, never markup): an element's own
    /// text goes into its first text child and its other direct text children are
    /// removed; a comment never gets `--`, a processing instruction never `?>`; malformed
    /// UTF-8 and characters XML cannot hold become U+FFFD.
    public func forEachText(skippingBinaryOf schemas: SchemaRegistry?, payloadElements: PayloadElements = .defaults,
                            _ body: (XMLTextSite, [UInt8]) -> [UInt8]?) {
        let payloads = PayloadFilter(index: schemas?.typeIndex(for: carriedNamespaces.union([document.root?.namespace ?? ""])) ?? .empty,
                                     payloadElements: payloadElements, document: document)
        var child = document.handle.pointee.children
        while let node = child {
            child = node.pointee.next
            switch node.pointee.type {
            case XML_ELEMENT_NODE: visitTree(node, payloads: payloads, body)
            case XML_COMMENT_NODE, XML_PI_NODE: offerContent(of: node, in: "", isProtected: false, body)
            default: continue
            }
        }
    }

    /// Where the walk is among one element's children.
    private struct Frame {
        var cursor: ChildCursor
        let path: String
        let isProtected: Bool
    }

    /// Visits `root` and everything below it without recursion. Each element's own sites
    /// are visited (and edited) before its children are listed, so edits never disturb
    /// the walk: only direct text children change, and the cursor is made afterwards.
    private func visitTree(_ root: xmlNodePtr, payloads: PayloadFilter, _ body: (XMLTextSite, [UInt8]) -> [UInt8]?) {
        var stack: [Frame] = []
        func enter(_ element: xmlNodePtr, path: String, parentIsProtected: Bool) {
            let isProtected = parentIsProtected || isMarkedProtected(element)
            offerAttributes(of: element, in: path, isProtected: isProtected, body)
            // A payload's text (as large as the document, at worst) is told in place, never copied.
            let isPayload = XMLNode(document: payloads.document, pointer: element).withTextBytes {
                payloads.isPayload(element, text: $0)
            }
            let text = isPayload ? [] : XMLTree.ownText(of: element)
            if !XMLTree.isWhitespace(text) {
                offer(XMLTextSite(kind: .elementText, path: path, isProtected: isProtected), text, body) { replacement in
                    XMLTree.replaceOwnText(of: element, with: XMLReplacementText.characters(replacement))
                }
            }
            stack.append(Frame(cursor: ChildCursor(parent: element), path: path, isProtected: isProtected))
        }
        enter(root, path: "/" + XMLNode.localName(of: root), parentIsProtected: false)
        while let top = stack.indices.last {
            guard let child = stack[top].cursor.next else {
                stack.removeLast()
                continue
            }
            stack[top].cursor.next = child.pointee.next
            let frame = stack[top]
            switch child.pointee.type {
            case XML_ELEMENT_NODE:
                let step = stack[top].cursor.step(for: child)
                enter(child, path: frame.path + "/" + step, parentIsProtected: frame.isProtected)
            case XML_COMMENT_NODE, XML_PI_NODE:
                offerContent(of: child, in: frame.path, isProtected: frame.isProtected, body)
            default:
                continue
            }
        }
    }

    private func offerAttributes(of element: xmlNodePtr, in path: String, isProtected: Bool,
                                 _ body: (XMLTextSite, [UInt8]) -> [UInt8]?) {
        var attribute = element.pointee.properties
        while let current = attribute {
            attribute = current.pointee.next
            let name = current.pointee.name.map { String(cString: $0) } ?? ""
            let site = XMLTextSite(kind: .attribute(name), path: path + "/@" + name, isProtected: isProtected)
            offer(site, XMLTree.value(of: current), body) { replacement in
                XMLTree.setValue(of: current, to: XMLReplacementText.characters(replacement))
            }
        }
    }

    private func offerContent(of node: xmlNodePtr, in path: String, isProtected: Bool,
                              _ body: (XMLTextSite, [UInt8]) -> [UInt8]?) {
        let isComment = node.pointee.type == XML_COMMENT_NODE
        let site = XMLTextSite(kind: isComment ? .comment : .processingInstruction,
                               path: path + (isComment ? "/comment()" : "/processing-instruction()"), isProtected: isProtected)
        offer(site, XMLTree.ownText(of: node), body) { replacement in
            XMLTree.setContent(of: node, to: isComment ? XMLReplacementText.comment(replacement)
                                                       : XMLReplacementText.processingInstruction(replacement))
        }
    }

    /// Hands `text` to `body` unless it is whitespace only; applies a changed replacement.
    private func offer(_ site: XMLTextSite, _ text: [UInt8], _ body: (XMLTextSite, [UInt8]) -> [UInt8]?,
                       apply: ([UInt8]) -> Void) {
        guard !XMLTree.isWhitespace(text), let replacement = body(site, text), replacement != text else { return }
        apply(replacement)
        modified = true
    }
}

/// Tells payload text (base64 the pipeline scans as files) from text to look at.
private struct PayloadFilter {
    /// The shortest whitespace-separated piece of a wrapped payload other than its last line.
    static let minimumLineLength = 16

    let index: SchemaTypeIndex
    let payloadElements: PayloadElements
    let document: XMLDocument

    func isPayload(_ element: xmlNodePtr, text: UnsafeBufferPointer<UInt8>) -> Bool {
        let node = XMLNode(document: document, pointer: element)
        if !index.base64Elements.isEmpty || !index.ambiguousElements.isEmpty {
            let name = node.qname
            if index.base64Elements.contains(name) { return true }
            if index.ambiguousElements.contains(name), Base64.decode(text) != nil { return true }
        }
        // An attachment's text is skipped only when it is base64 (decoded and scanned as a
        // file); anything else in it is held by the inspector, and the packs still see it.
        if payloadElements.contains(node), Base64.decode(text) != nil { return true }
        return Self.looksLikePayload(text)
    }

    /// 256+ base64 characters that decode, in pieces no shorter than a wrapped line.
    /// Counted in one pass, not split: a wrapped 98 MB payload has 1.3 million lines.
    static func looksLikePayload(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.count >= PayloadExtractor.minimumFallbackLength else { return false }
        var total = 0, piece = 0
        var shortPiece = false  // the last piece ended so far was short: it must be the last of all
        for byte in text {
            if !isXMLSpace(byte) {
                piece += 1
                continue
            }
            guard piece > 0 else { continue }
            if shortPiece { return false }
            shortPiece = piece < minimumLineLength
            total += piece
            piece = 0
        }
        if piece > 0 {
            if shortPiece { return false }
            total += piece
        }
        guard total >= PayloadExtractor.minimumFallbackLength else { return false }
        return Base64.decode(text) != nil
    }
}
