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
    /// Carried documents are validated until their findings reach this many.
    static let maxFindings = 20
    /// Most `schema.unvalidated-content` findings per document.
    static let maxUnvalidatedReports = 5

    /// The carried documents in document order, within ``maxDepth``.
    private(set) var documents: [CarriedDocument] = []
    /// `xml.container-depth` (held) and `schema.unvalidated-content` (reported).
    private var findings: [Finding] = []
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
        var paths = ElementPaths()
        var unvalidated = 0
        XMLTree.forEachNode(in: root) { node in
            guard node.pointee.type == XML_ELEMENT_NODE else { return }
            let info = namespaces.info(for: node.pointee.ns)
            if !info.slotNames.isEmpty, info.slotNames.contains(XMLNode.localName(of: node)) {
                collect(childrenOf: node, namespaces: &namespaces, paths: &paths)
            }
            // The topmost element of foreign content in an agreed document (its descendants
            // are not listed); a carried document is the slot's business, and XOP the extractor's.
            guard !info.agreed, info.namespace != PayloadExtractor.xopNamespace,
                  let parent = node.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE,
                  namespaces.info(for: parent.pointee.ns).agreed, !namespaces.isSlot(parent) else { return }
            unvalidated += 1
            guard unvalidated <= Self.maxUnvalidatedReports else { return }
            findings.append(Finding(
                stage: .schema, rule: "schema.unvalidated-content", part: path.xml(paths.path(of: node)), action: .report,
                detail: "an element of \(info.namespace.isEmpty ? "no namespace" : "namespace \(info.namespace)"), which no agreed schema defines, in a slot its schema leaves open (xs:any lax or skip); only the outer schema's rules applied to it. If the slot carries documents, list it under schemas.containers"))
        }
    }

    /// Records the element children of a slot as carried documents (an `xop:Include`
    /// stands for a payload, not a document: the outer schema decides about it).
    private mutating func collect(childrenOf slot: xmlNodePtr, namespaces: inout NamespaceCache, paths: inout ElementPaths) {
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
            let elementPath = paths.path(of: element)
            guard depth <= Self.maxDepth else {
                // One finding holds the message; the first place is enough to find the rest.
                if !findings.contains(where: { $0.rule == "xml.container-depth" }) {
                    findings.append(Finding(stage: .unchecked, rule: "xml.container-depth", part: path.xml(elementPath),
                                            detail: "a document carried \(depth) containers deep; documents are validated down to \(Self.maxDepth) containers, so this one was not"))
                }
                continue
            }
            documents.append(CarriedDocument(element: element, path: elementPath, namespace: info.namespace, depth: depth))
        }
    }

    /// The walk's findings and the validation of every carried document against its own
    /// namespace's schema, given the outer document's own schema findings (`outer`): an
    /// unknown namespace is `schema.unknown-namespace`, errors are `schema.invalid` at
    /// element paths of the outer document, at most `maxIssues` a document.
    ///
    /// An outer document with no agreed schema (or a broken one) is held for that, and
    /// whether its slots are containers at all is unknown: nothing more is said. An outer
    /// document that is invalid is not told of unvalidated content (only a valid one can
    /// hold it through a wildcard). A finding the outer validation already made (same
    /// rule and place) is left out: a slot declared `processContents="strict"` (the EEC's)
    /// is validated by the outer schema too.
    func validate(with schemas: SchemaRegistry, maxIssues: Int, besides outer: [Finding]) -> [Finding] {
        let whole = path.description
        if outer.contains(where: { ["schema.unknown-namespace", "schema.error"].contains($0.rule) && $0.part == whole }) { return [] }
        let outerInvalid = outer.contains { $0.stage == .schema && $0.action == .quarantine }
        let walk = outerInvalid ? findings.filter { $0.action == .quarantine } : findings
        let reported = Set(outer.map { [$0.rule, $0.part] })
        return walk + validateAll(with: schemas, maxIssues: maxIssues).filter { !reported.contains([$0.rule, $0.part]) }
    }

    private func validateAll(with schemas: SchemaRegistry, maxIssues: Int) -> [Finding] {
        var results: [Finding] = []
        for (number, carried) in documents.enumerated() {
            if results.count >= Self.maxFindings, let last = results.indices.last {
                // Held already: the rest would only lengthen the report (and the wait).
                results[last].detail += " (\(documents.count - number) more carried documents not validated: the message is held already)"
                break
            }
            let part = path.xml(carried.path)
            let schema: CompiledSchema?
            do {
                schema = try schemas.schema(for: carried.namespace)
            } catch {
                results.append(Finding(stage: .error, rule: "schema.error", part: part,
                                       detail: "the agreed schema for \(carried.namespace), a carried document's, does not compile; see `kordon selftest`"))
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
            // The copy's `/ESADout_CU/…` is `/ED_Container/ContainerDoc[2]/DocBody/ESADout_CU/…` outside.
            results += schema.validate(copy, maxIssues: maxIssues)
                .findings(in: path, part: part, place: { Self.outerPath(of: $0, carried: carried) }, what: " of the carried document")
        }
        return results
    }

    /// `innerPath` (a path in the copy, which starts at the carried root) in the outer document.
    static func outerPath(of innerPath: String?, carried: CarriedDocument) -> String {
        guard let innerPath, innerPath.hasPrefix("/") else { return carried.path }
        let belowRoot = innerPath.dropFirst().firstIndex(of: "/").map { innerPath[$0...] } ?? ""
        return carried.path + belowRoot
    }
}
