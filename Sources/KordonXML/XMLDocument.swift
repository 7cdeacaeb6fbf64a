import CLibXML2
import Foundation

/// Why libxml2 could not parse a document: its first error message and line.
struct XMLParseFailure: Error, Sendable {
    /// libxml2's message, made safe to log (see ``LibXMLMessage``).
    let message: String
    /// The line libxml2 reported, 0 when unknown.
    let line: Int
}

/// A qualified name: namespace URI (empty for none) and local name.
struct QName: Hashable, Sendable, CustomStringConvertible {
    /// The namespace URI, `""` for no namespace.
    let namespace: String
    /// The local name.
    let localName: String
    /// `{ns}Local`, or `Local` without a namespace.
    var description: String { namespace.isEmpty ? localName : "{\(namespace)}\(localName)" }
}

/// Owns one parsed libxml2 document (`xmlDocPtr`), freed when this object goes away.
///
/// Not thread-safe: one document belongs to one inspection.
final class XMLDocument {
    /// The libxml2 document. Only ``CompiledSchema`` reaches for it, to validate.
    let handle: xmlDocPtr

    /// Options for every parse. Never `XML_PARSE_NOENT`, `XML_PARSE_DTDLOAD` or
    /// `XML_PARSE_XINCLUDE`. `XML_PARSE_HUGE` lets base64 text nodes exceed 10 MB;
    /// ``XMLGuard`` enforces the bounds it lifts. CDATA is merged into text nodes so
    /// that an element's text is read the same way whether or not it was in CDATA.
    static let options: Int32 = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_HUGE.rawValue | XML_PARSE_NOERROR.rawValue
        | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)

    /// Parses guarded bytes with a fresh parser context. A `transcoded` document is
    /// UTF-8 whatever its declaration says.
    init(parsing prepared: PreparedXML) throws(XMLParseFailure) {
        XMLRuntime.initialize()
        let collector = ParseErrorCollector()
        let result: xmlDocPtr? = prepared.bytes.withUnsafeBytes { raw -> xmlDocPtr? in
            guard let base = raw.baseAddress, raw.count <= Int(Int32.max),
                  let ctxt = xmlCreateMemoryParserCtxt(base.assumingMemoryBound(to: CChar.self), Int32(raw.count))
            else { return nil }
            defer { xmlFreeParserCtxt(ctxt) }
            // Errors go to this context's own handler: the global one is per-thread state.
            ctxt.pointee._private = Unmanaged.passUnretained(collector).toOpaque()
            ctxt.pointee.sax.pointee.serror = parseErrorHandler
            var options = Self.options
            if prepared.transcoded { options |= Int32(XML_PARSE_IGNORE_ENC.rawValue) }
            xmlCtxtUseOptions(ctxt, options)
            _ = xmlParseDocument(ctxt)
            let doc = ctxt.pointee.myDoc
            ctxt.pointee.myDoc = nil
            if ctxt.pointee.wellFormed == 0 || doc == nil {
                if collector.first == nil, let last = xmlCtxtGetLastError(UnsafeMutableRawPointer(ctxt)) {
                    collector.record(last)
                }
                if let doc { xmlFreeDoc(doc) }
                return nil
            }
            return doc
        }
        guard let result else {
            throw collector.first ?? XMLParseFailure(message: "the document could not be parsed", line: 0)
        }
        handle = result
    }

    /// Takes ownership of a document Kordon built itself (a carried document's copy).
    init(adopting handle: xmlDocPtr) { self.handle = handle }

    deinit {
        xmlFreeDoc(handle)
    }

    /// The root element.
    var root: XMLNode? {
        xmlDocGetRootElement(handle).map { XMLNode(document: self, pointer: $0) }
    }

    /// Calls `body` for the comments and processing instructions outside the root
    /// element that are at least `minimumLength` bytes long.
    func forEachTopLevelCommentOrPI(minimumLength: Int, _ body: (MarkupTextKind, UnsafeBufferPointer<UInt8>) -> Void) {
        XMLNode.forEachCommentOrPI(from: handle.pointee.children, minimumLength: minimumLength, body)
    }

    /// Visits every element in document order with its path (see ``XMLPathTracker``).
    /// `visit` must not change the tree. Iterative, so depth costs no stack.
    func walk(_ visit: (XMLNode, XMLPathTracker) -> Void) {
        guard let root = xmlDocGetRootElement(handle) else { return }
        let tracker = XMLPathTracker()
        tracker.steps.append(XMLNode.localName(of: root))
        visit(XMLNode(document: self, pointer: root), tracker)
        var stack = [ChildCursor(parent: root)]
        while var cursor = stack.popLast() {
            guard let child = cursor.next else {
                tracker.steps.removeLast()  // done with this parent
                continue
            }
            cursor.next = child.pointee.next
            guard child.pointee.type == XML_ELEMENT_NODE else {
                stack.append(cursor)
                continue
            }
            let step = cursor.step(for: child)
            stack.append(cursor)
            tracker.steps.append(step)
            visit(XMLNode(document: self, pointer: child), tracker)
            stack.append(ChildCursor(parent: child))
        }
    }
}

/// Which markup a text of ``XMLNode/forEachMarkupText(minimumLength:_:)`` came from.
enum MarkupTextKind: Equatable {
    /// An attribute value (local name).
    case attribute(String)
    /// A namespace URI declared with this prefix (`nil`: the default namespace).
    case namespace(String?)
    /// A comment.
    case comment
    /// A processing instruction's content (after its target).
    case processingInstruction

    /// The step appended to the element's path in a part path: `/@name`, `/@xmlns:p`,
    /// `/comment()`, `/processing-instruction()` (the restricted stage names them the same).
    var pathStep: String {
        switch self {
        case .attribute(let name): "/@" + name
        case .namespace(let prefix): "/@xmlns" + (prefix.map { ":" + $0 } ?? "")
        case .comment: "/comment()"
        case .processingInstruction: "/processing-instruction()"
        }
    }
}

/// Where ``XMLDocument/walk(_:)`` is among one element's children, and how many
/// children of each name it has (to decide which steps need a position).
///
/// Names are counted by libxml2's name pointers when the parser interned them all in
/// the document's dictionary (equal names, equal pointers): no string is made or hashed
/// for a child that does not need a position. Otherwise (a tree Kordon built) by name.
struct ChildCursor {
    var next: xmlNodePtr?
    private var totals: [UnsafePointer<xmlChar>: Int] = [:]
    private var seen: [UnsafePointer<xmlChar>: Int] = [:]
    private var totalsByName: [String: Int]?
    private var seenByName: [String: Int] = [:]

    init(parent: xmlNodePtr) {
        next = parent.pointee.children
        let dictionary = parent.pointee.doc?.pointee.dict
        var child = next
        while let c = child {
            defer { child = c.pointee.next }
            guard c.pointee.type == XML_ELEMENT_NODE, let name = c.pointee.name else { continue }
            if let dictionary, xmlDictOwns(dictionary, name) == 1 {
                totals[name, default: 0] += 1
            } else {
                totalsByName = [:]
                break
            }
        }
        if totalsByName != nil {
            totals = [:]
            var child = next
            while let c = child {
                if c.pointee.type == XML_ELEMENT_NODE { totalsByName?[XMLNode.localName(of: c), default: 0] += 1 }
                child = c.pointee.next
            }
        }
    }

    /// The path step for `child`, the next child element in order: its local name,
    /// with its 1-based position among its siblings of that name when there are several.
    mutating func step(for child: xmlNodePtr) -> String {
        let local = XMLNode.localName(of: child)
        let position: Int, total: Int
        if totalsByName == nil, let name = child.pointee.name {
            position = seen[name, default: 0] + 1
            seen[name] = position
            total = totals[name, default: 0]
        } else {
            position = seenByName[local, default: 0] + 1
            seenByName[local] = position
            total = totalsByName?[local, default: 0] ?? 0
        }
        return total > 1 ? "\(local)[\(position)]" : local
    }
}

/// The element path of the element being visited: `/Root/Child[2]/Leaf`.
///
/// Steps are local names (prefixes vary between senders; namespaces are left out).
/// A step carries a 1-based position `[n]` only when its parent has more than one
/// child element with that local name, like libxml2's `xmlGetNodePath` — so a
/// lone element is `Content`, the first of two `AttachedDocument[1]`.
final class XMLPathTracker {
    fileprivate var steps: [String] = []
    /// The path of the element being visited.
    var path: String { "/" + steps.joined(separator: "/") }
    /// The path of its parent element.
    var parentPath: String { "/" + steps.dropLast().joined(separator: "/") }
}

/// One element of an ``XMLDocument``; keeps the document alive.
struct XMLNode: Hashable {
    /// The document the element belongs to.
    let document: XMLDocument
    private let pointer: xmlNodePtr

    /// Wraps a node of `document`. Only this file and ``CompiledSchema`` create nodes.
    init(document: XMLDocument, pointer: xmlNodePtr) {
        self.document = document
        self.pointer = pointer
    }

    static func == (lhs: XMLNode, rhs: XMLNode) -> Bool { lhs.pointer == rhs.pointer }
    func hash(into hasher: inout Hasher) { hasher.combine(pointer) }

    static func localName(of node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    /// Whether this is an element (validation errors may point at other nodes).
    var isElement: Bool { pointer.pointee.type == XML_ELEMENT_NODE }
    /// The local name.
    var localName: String { Self.localName(of: pointer) }
    /// The namespace URI, `""` for none.
    var namespace: String { pointer.pointee.ns?.pointee.href.map { String(cString: $0) } ?? "" }
    /// Namespace and local name.
    var qname: QName { QName(namespace: namespace, localName: localName) }
    /// The line the element starts on.
    var line: Int { Int(xmlGetLineNo(pointer)) }

    /// The parent element, if any.
    var parent: XMLNode? {
        guard let p = pointer.pointee.parent, p.pointee.type == XML_ELEMENT_NODE else { return nil }
        return XMLNode(document: document, pointer: p)
    }

    /// The child elements in order.
    var children: [XMLNode] {
        var result: [XMLNode] = []
        var child = pointer.pointee.children
        while let c = child {
            if c.pointee.type == XML_ELEMENT_NODE { result.append(XMLNode(document: document, pointer: c)) }
            child = c.pointee.next
        }
        return result
    }

    /// The value of an attribute without a namespace.
    func attribute(_ name: String) -> String? {
        guard let value = xmlGetNoNsProp(pointer, name) else { return nil }
        defer { kordon_xml_free(value) }
        return String(cString: value)
    }

    /// The total length in bytes of the element's own text children.
    var textLength: Int {
        var length = 0
        var child = pointer.pointee.children
        while let c = child {
            if c.pointee.type == XML_TEXT_NODE || c.pointee.type == XML_CDATA_SECTION_NODE, let content = c.pointee.content {
                length += Int(xmlStrlen(content))
            }
            child = c.pointee.next
        }
        return length
    }

    /// The bytes of the element's own text children (not its descendants'), concatenated.
    func textBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        var child = pointer.pointee.children
        while let c = child {
            if c.pointee.type == XML_TEXT_NODE || c.pointee.type == XML_CDATA_SECTION_NODE, let content = c.pointee.content {
                bytes.append(contentsOf: UnsafeBufferPointer(start: content, count: Int(xmlStrlen(content))))
            }
            child = c.pointee.next
        }
        return bytes
    }

    /// Calls `body` with ``textBytes()``, read in place from libxml2's node when the
    /// element has a single text child (a payload, usually), so that a large payload's
    /// text is not copied to be decoded.
    func withTextBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var only: UnsafeMutablePointer<xmlChar>?
        var texts = 0
        var child = pointer.pointee.children
        while let c = child {
            if c.pointee.type == XML_TEXT_NODE || c.pointee.type == XML_CDATA_SECTION_NODE, let content = c.pointee.content {
                only = content
                texts += 1
            }
            child = c.pointee.next
        }
        guard texts == 1, let only else { return try textBytes().withUnsafeBufferPointer(body) }
        return try body(UnsafeBufferPointer(start: only, count: Int(xmlStrlen(only))))
    }

    /// Calls `body` for each text of this element's markup that is not element text —
    /// attribute values, namespace URIs it declares, the comments and processing
    /// instructions among its children — that is at least `minimumLength` bytes long.
    func forEachMarkupText(minimumLength: Int, _ body: (MarkupTextKind, UnsafeBufferPointer<UInt8>) -> Void) {
        var attribute = pointer.pointee.properties
        while let a = attribute {
            attribute = a.pointee.next
            var length = 0
            var child = a.pointee.children
            while let c = child {
                if let content = c.pointee.content { length += Int(xmlStrlen(content)) }
                child = c.pointee.next
            }
            guard length >= minimumLength else { continue }
            let value = XMLTree.value(of: a)
            value.withUnsafeBufferPointer { body(.attribute(a.pointee.name.map { String(cString: $0) } ?? ""), $0) }
        }
        var namespace = pointer.pointee.nsDef
        while let ns = namespace {
            namespace = ns.pointee.next
            guard let href = ns.pointee.href else { continue }
            let length = Int(xmlStrlen(href))
            guard length >= minimumLength else { continue }
            body(.namespace(ns.pointee.prefix.map { String(cString: $0) }), UnsafeBufferPointer(start: href, count: length))
        }
        Self.forEachCommentOrPI(from: pointer.pointee.children, minimumLength: minimumLength, body)
    }

    /// The comments and processing instructions among `first` and its siblings.
    static func forEachCommentOrPI(from first: xmlNodePtr?, minimumLength: Int,
                                   _ body: (MarkupTextKind, UnsafeBufferPointer<UInt8>) -> Void) {
        var child = first
        while let c = child {
            child = c.pointee.next
            let isComment = c.pointee.type == XML_COMMENT_NODE
            guard isComment || c.pointee.type == XML_PI_NODE, let content = c.pointee.content else { continue }
            let length = Int(xmlStrlen(content))
            guard length >= minimumLength else { continue }
            body(isComment ? .comment : .processingInstruction, UnsafeBufferPointer(start: content, count: length))
        }
    }

    /// Resolves a QName-valued attribute (`xs:string`) with this element's in-scope namespaces;
    /// an unprefixed name takes the default namespace. `nil` for an undeclared prefix.
    func resolve(qualifiedName value: String) -> QName? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = trimmed.split(separator: ":", maxSplits: 1).map(String.init)
        let prefix = parts.count == 2 ? parts[0] : nil
        let local = parts.last ?? ""
        let ns = prefix.map { p in xmlSearchNs(document.handle, pointer, p) } ?? xmlSearchNs(document.handle, pointer, nil)
        if prefix != nil, ns == nil { return nil }
        return QName(namespace: ns?.pointee.href.map { String(cString: $0) } ?? "", localName: local)
    }

    /// The element path (see ``XMLPathTracker``), computed by looking at siblings:
    /// fine for a handful of nodes; ``XMLDocument/walk(_:)`` is linear for all of them.
    var path: String {
        var steps: [String] = []
        var node: xmlNodePtr? = pointer
        while let n = node, n.pointee.type == XML_ELEMENT_NODE {
            let name = Self.localName(of: n)
            var position = 1, total = 0
            var sibling = n.pointee.parent?.pointee.children
            while let s = sibling {
                if s.pointee.type == XML_ELEMENT_NODE, Self.localName(of: s) == name {
                    total += 1
                    if s == n { position = total }
                }
                sibling = s.pointee.next
            }
            let isRoot = n.pointee.parent.map { $0.pointee.type != XML_ELEMENT_NODE } ?? true
            steps.append(total > 1 && !isRoot ? "\(name)[\(position)]" : name)
            node = n.pointee.parent
        }
        return "/" + steps.reversed().joined(separator: "/")
    }

    /// Replaces this element with a text node (the XOP infoset for an `xop:Include`).
    /// The node is freed: do not use this value afterwards.
    func replaceWithText(_ text: String) {
        let textNode = text.withCString { xmlNewDocTextLen(document.handle, UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self), Int32(strlen($0))) }
        guard let textNode else { return }
        xmlReplaceNode(pointer, textNode)
        xmlFreeNode(pointer)
    }
}

/// Collects the first error libxml2 raises on one parser context.
private final class ParseErrorCollector {
    var first: XMLParseFailure?

    func record(_ error: UnsafePointer<xmlError>) {
        guard first == nil else { return }
        let message = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
        first = XMLParseFailure(message: LibXMLMessage.parserMessage(message), line: Int(error.pointee.line))
    }
}

/// The structured error handler set on each parser context; `userData` is the context.
private let parseErrorHandler: xmlStructuredErrorFunc = { userData, error in
    guard let userData, let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    let ctxt = userData.assumingMemoryBound(to: xmlParserCtxt.self)
    guard let box = ctxt.pointee._private else { return }
    Unmanaged<ParseErrorCollector>.fromOpaque(box).takeUnretainedValue().record(UnsafePointer(error))
}
