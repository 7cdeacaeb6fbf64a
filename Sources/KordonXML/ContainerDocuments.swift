import CLibXML2
import Foundation
import KordonCore

/// One document carried in a container slot of another (see ``ContainerSlot``).
struct CarriedDocument {
    /// The carried document's root element, in the outer document's tree.
    let element: xmlNodePtr
    /// Its element path in the outer document: `/ED_Container/ContainerDoc[2]/DocBody/ESADout_CU`.
    let path: String
    /// Its root's namespace, `""` for none.
    let namespace: String
    /// How many container slots hold it: 1 directly in the outer document's slot.
    let depth: Int
}

/// The documents that container slots carry in one parsed document, found in one walk
/// over the tree, and their validation, each against its own namespace's schema.
///
/// A carried document is validated as a document of its own: its subtree is copied into
/// a new libxml2 document with the namespace declarations in scope where it stood (its
/// QName values, `xsi:type` for one, may use a prefix its container declared). Containers
/// nested in carried documents are found by the same walk, down to ``maxDepth`` slots.
///
/// The same walk notes elements of a namespace no agreed schema defines that sit in a
/// valid document outside any container slot: only an `xs:any` wildcard (`lax` or
/// `skip`), or an `xs:anyType` element, lets such an element through. The outer schema
/// allows it, so the message is not held for it, but the report says so
/// (`schema.unvalidated-content`, action `report`): the slot may be a container that
/// should be listed under `schemas.containers`.
struct ContainerDocuments {
    /// Most container slots around one carried document. Each level is copied once more
    /// to be validated, so the bound also bounds the work to this many times the document.
    static let maxDepth = 4
    /// Most `schema.unvalidated-content` findings per document.
    static let maxUnvalidatedReports = 5

    /// The carried documents in document order, within ``maxDepth``.
    private(set) var documents: [CarriedDocument] = []
    /// `xml.container-depth` (held) and `schema.unvalidated-content` (reported).
    private(set) var findings: [Finding] = []
    /// The root namespaces of the carried documents (for the payload type index).
    var namespaces: Set<String> { Set(documents.map(\.namespace)) }

    private let document: XMLDocument
    private let path: PartPath

    /// Finds the documents `formats.containers` carry in `document`, the part at `path`.
    init(in document: XMLDocument, formats: XMLFormats, schemas: SchemaRegistry, path: PartPath) {
        self.document = document
        self.path = path
        guard let root = xmlDocGetRootElement(document.handle) else { return }
        var namespaces = NamespaceCache(slots: formats.containers, schemas: schemas)
        var unvalidated = 0
        XMLTree.forEachNode(in: root) { node in
            guard node.pointee.type == XML_ELEMENT_NODE else { return }
            let info = namespaces.info(for: node.pointee.ns)
            if !info.slotNames.isEmpty, info.slotNames.contains(XMLNode.localName(of: node)) {
                collect(childrenOf: node, namespaces: &namespaces)
            }
            guard !info.agreed, info.namespace != PayloadExtractor.xopNamespace, let parent = node.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE,
                  namespaces.info(for: parent.pointee.ns).agreed, !namespaces.isSlot(parent) else { return }
            // The topmost element of foreign content in an agreed document: its descendants are not listed.
            unvalidated += 1
            guard unvalidated <= Self.maxUnvalidatedReports else { return }
            let element = XMLNode(document: document, pointer: node)
            findings.append(Finding(
                stage: .schema, rule: "schema.unvalidated-content", part: path.xml(element.path), action: .report,
                detail: "an element of \(info.namespace.isEmpty ? "no namespace" : "namespace \(info.namespace)"), which no agreed schema defines, in a slot its schema leaves open (xs:any lax or skip); only the outer schema's rules applied to it. If the slot carries documents, list it under schemas.containers"))
        }
    }

    /// Records the element children of a slot as carried documents (an `xop:Include`
    /// stands for a payload, not a document: the outer schema decides about it).
    private mutating func collect(childrenOf slot: xmlNodePtr, namespaces: inout NamespaceCache) {
        var child = slot.pointee.children
        while let element = child {
            child = element.pointee.next
            guard element.pointee.type == XML_ELEMENT_NODE else { continue }
            let info = namespaces.info(for: element.pointee.ns)
            if info.namespace == PayloadExtractor.xopNamespace, XMLNode.localName(of: element) == "Include" { continue }
            var depth = 0
            var ancestor: xmlNodePtr? = slot
            while let a = ancestor, a.pointee.type == XML_ELEMENT_NODE {
                if namespaces.isSlot(a) { depth += 1 }
                ancestor = a.pointee.parent
            }
            let elementPath = XMLNode(document: document, pointer: element).path
            guard depth <= Self.maxDepth else {
                findings.append(Finding(stage: .unchecked, rule: "xml.container-depth", part: path.xml(elementPath),
                                        detail: "a document carried \(depth) containers deep; documents are validated down to \(Self.maxDepth) containers, so this one was not"))
                continue
            }
            documents.append(CarriedDocument(element: element, path: elementPath, namespace: info.namespace, depth: depth))
        }
    }

    /// Validates every carried document against its own namespace's schema: an unknown
    /// namespace is `schema.unknown-namespace`, errors are `schema.invalid` at element
    /// paths of the outer document, at most `maxIssues` a document.
    func validate(with schemas: SchemaRegistry, maxIssues: Int) -> [Finding] {
        var results: [Finding] = []
        for carried in documents {
            let part = path.xml(carried.path)
            let schema: CompiledSchema?
            do {
                schema = try schemas.schema(for: carried.namespace)
            } catch {
                results.append(Finding(stage: .error, rule: "schema.compile", part: part,
                                       detail: "the agreed schema of the carried document could not be compiled, so it was not validated"))
                continue
            }
            guard let schema else {
                results.append(Finding(stage: .schema, rule: "schema.unknown-namespace", part: part,
                                       detail: "a carried document of \(carried.namespace.isEmpty ? "no namespace" : "namespace \(carried.namespace)"), for which there is no agreed schema"))
                continue
            }
            guard let copy = StandaloneCopy.document(of: carried.element, in: document) else {
                results.append(Finding(stage: .error, rule: "schema.error", part: part,
                                       detail: "the carried document could not be copied to be validated"))
                continue
            }
            results += Self.findings(of: schema.validate(copy, maxIssues: maxIssues), carried: carried, part: part, path: path)
        }
        return results
    }

    /// A carried document's validation errors at element paths of the outer document:
    /// the copy's `/ESADout_CU/…` becomes `/ED_Container/ContainerDoc[2]/DocBody/ESADout_CU/…`.
    private static func findings(of result: SchemaValidation, carried: CarriedDocument, part: PartPath, path: PartPath) -> [Finding] {
        var findings = result.issues.map { issue in
            Finding(stage: .schema, rule: "schema.invalid", part: path.xml(outerPath(of: issue.path, carried: carried)),
                    detail: "line \(issue.line): \(issue.message)")
        }
        if result.errorCount > findings.count, !findings.isEmpty {
            findings[findings.count - 1].detail += " (\(result.errorCount - findings.count) more errors not listed)"
        }
        if result.internalFailure {
            findings.append(Finding(stage: .error, rule: "schema.error", part: part,
                                    detail: "libxml2 could not complete schema validation of the carried document"))
        }
        return findings
    }

    /// `innerPath` (a path in the copy, which starts at the carried root) in the outer document.
    static func outerPath(of innerPath: String?, carried: CarriedDocument) -> String {
        guard let innerPath, innerPath.hasPrefix("/") else { return carried.path }
        let belowRoot = innerPath.dropFirst().firstIndex(of: "/").map { innerPath[$0...] } ?? ""
        return carried.path + belowRoot
    }
}

/// What the walk needs to know about one namespace declaration (`xmlNs`), looked up
/// once per declaration rather than once per element.
private struct NamespaceCache {
    struct Info {
        /// The namespace URI, `""` for none.
        var namespace: String
        /// Whether an agreed schema defines it.
        var agreed: Bool
        /// The local names of the container slots in it.
        var slotNames: Set<String>
    }

    let slots: [ContainerSlot]
    let schemas: SchemaRegistry
    private var known: [UnsafeMutableRawPointer?: Info] = [:]
    private var last: (key: UnsafeMutableRawPointer?, info: Info)?

    init(slots: [ContainerSlot], schemas: SchemaRegistry) {
        self.slots = slots
        self.schemas = schemas
    }

    /// The facts about the namespace `ns` names (`nil`: no namespace).
    mutating func info(for ns: xmlNsPtr?) -> Info {
        let key = ns.map { UnsafeMutableRawPointer($0) }
        if let last, last.key == key { return last.info }
        let info = known[key] ?? {
            let uri = ns?.pointee.href.map { String(cString: $0) } ?? ""
            let found = Info(namespace: uri, agreed: schemas.hasSchema(for: uri),
                             slotNames: Set(slots.filter { $0.matches(namespace: uri) }.map(\.localName)))
            known[key] = found
            return found
        }()
        last = (key, info)
        return info
    }

    /// Whether `element` is a container slot.
    mutating func isSlot(_ element: xmlNodePtr) -> Bool {
        let names = info(for: element.pointee.ns).slotNames
        return !names.isEmpty && names.contains(XMLNode.localName(of: element))
    }
}
