import CLibXML2
import Foundation
import KordonCore

/// What the XML stage learned about one XML document.
public struct XMLInspection: Sendable {
    /// `xml`, `schema` and `unchecked` findings.
    public var findings: [Finding] = []
    /// `{namespace}LocalName` of the root element, when the document parsed.
    public var documentType: String?
    /// Decoded base64 payloads (and resolved XOP attachments), each its own part.
    public var payloads: [ExtractedPart] = []
    /// The document as ClamAV should see it: payloads that were decoded are cut out.
    public var scanView: Data = Data()
    /// Content-IDs of MIME parts that `xop:Include` resolved to (now scanned as payloads).
    public var usedAttachments: Set<String> = []
    /// The root namespaces of the documents its containers carry (see ``ContainerDocuments``).
    var carriedNamespaces: Set<String> = []
    /// Creates an empty inspection.
    public init() {}
}

/// Checks one XML document: safety bounds, well-formedness, schema, base64 payloads.
///
/// In order: ``XMLGuard`` (Kordon's own bounds, no DOCTYPE), libxml2 parsing with a fresh
/// context (no network, no entities, no XInclude), XInclude detection, XOP resolution,
/// base64 payload extraction, validation against the schema of the root's namespace, and
/// the scan view. Nothing throws: every refusal is a finding, and the scan view is always
/// set so the document can still be virus-scanned.
public struct XMLInspector: Sendable {
    /// Most schema errors reported per document.
    public static let maxSchemaFindings = 5
    /// The XInclude namespaces; Kordon never processes XInclude and refuses documents using it.
    static let xincludeNamespaces: Set<String> = ["http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"]

    private let schemas: SchemaRegistry
    private let limits: Limits
    private let formats: XMLFormats

    /// Creates an inspector.
    public init(schemas: SchemaRegistry, limits: Limits, formats: XMLFormats = XMLFormats()) {
        XMLRuntime.initialize()
        self.schemas = schemas
        self.limits = limits
        self.formats = formats
    }

    /// Inspects `data`, the document at `path`; `attachments` maps MIME Content-IDs to bytes for XOP.
    public func inspect(_ data: Data, at path: PartPath, attachments: [String: Data] = [:]) -> XMLInspection {
        inspectKeepingDocument(data, at: path, attachments: attachments).inspection
    }

    /// Inspects like ``inspect(_:at:attachments:)`` and hands the parsed document on for
    /// editing, which saves the restricted-data stage a second parse. The document is
    /// `nil` when it did not parse, and when `attachments` were given: resolving
    /// `xop:Include` elements changes the tree, which must not be written back.
    public func inspectForEditing(_ data: Data, at path: PartPath, attachments: [String: Data] = [:])
        -> (inspection: XMLInspection, document: XMLEditableDocument?) {
        let (inspection, parsed) = inspectKeepingDocument(data, at: path, attachments: attachments)
        guard attachments.isEmpty, let parsed else { return (inspection, nil) }
        let editable = XMLEditableDocument(document: parsed.document, prepared: parsed.prepared, original: data)
        editable.carriedNamespaces = inspection.carriedNamespaces
        return (inspection, editable)
    }

    private func inspectKeepingDocument(_ data: Data, at path: PartPath, attachments: [String: Data])
        -> (inspection: XMLInspection, parsed: (document: XMLDocument, prepared: PreparedXML)?) {
        var inspection = XMLInspection()
        inspection.scanView = data
        let prepared: PreparedXML
        switch XMLInput.prepare(data, limits: limits) {
        case .success(let p):
            prepared = p
        case .failure(let refusal):
            inspection.findings.append(Finding(stage: .xml, rule: refusal.rule, part: path, detail: refusal.detail))
            return (inspection, nil)
        }
        let document: XMLDocument
        do {
            document = try XMLDocument(parsing: prepared)
        } catch {
            inspection.findings.append(Finding(stage: .xml, rule: "xml.malformed", part: path,
                                               detail: "not well-formed: line \(error.line): \(error.message)"))
            return (inspection, nil)
        }
        guard let root = document.root else {
            inspection.findings.append(Finding(stage: .xml, rule: "xml.malformed", part: path, detail: "the document has no root element"))
            return (inspection, nil)
        }
        inspection.documentType = root.qname.description
        inspection.findings += xincludeFindings(document, path: path)

        let carried = ContainerDocuments(in: document, formats: formats, schemas: schemas, path: path)
        inspection.carriedNamespaces = carried.namespaces
        var extractor = PayloadExtractor(path: path, index: schemas.typeIndex(for: carried.namespaces.union([root.namespace])),
                                         payloadElements: formats.payloadElements, maxPayloads: limits.maxMIMEParts)
        extractor.resolveXOP(in: document, attachments: attachments)
        // Validated before the payloads are decoded: libxml2 copies a base64Binary value to
        // check it, so a large payload's copy and its decoded bytes are never held at once.
        let outerFindings = validate(document, root: root, path: path)
        let schemaFindings = outerFindings + carried.validate(with: schemas, maxIssues: Self.maxSchemaFindings, besides: outerFindings)
        extractor.extract(from: document)
        inspection.findings += extractor.findings
        inspection.payloads = extractor.payloads
        inspection.usedAttachments = extractor.usedAttachments

        inspection.findings += schemaFindings
        if let view = PayloadExtractor.scanView(of: prepared.bytes, runs: prepared.base64Runs, cutting: extractor.payloadTexts) {
            inspection.scanView = view
        }
        return (inspection, (document, prepared))
    }

    /// Checks a document Kordon itself wrote (a sanitized copy) the way ``inspect(_:at:attachments:)``
    /// would — guard, well-formedness, schema — without decoding its payloads again:
    /// sanitizing never touches base64 payloads, which were decoded and scanned in the original.
    /// Returns the findings; none means the document may be passed on.
    public func revalidate(_ data: Data, at path: PartPath, attachments: [String: Data] = [:]) -> [Finding] {
        let prepared: PreparedXML
        switch XMLInput.prepare(data, limits: limits) {
        case .success(let p): prepared = p
        case .failure(let refusal): return [Finding(stage: .xml, rule: refusal.rule, part: path, detail: refusal.detail)]
        }
        let document: XMLDocument
        do {
            document = try XMLDocument(parsing: prepared)
        } catch {
            return [Finding(stage: .xml, rule: "xml.malformed", part: path, detail: "not well-formed: line \(error.line): \(error.message)")]
        }
        guard let root = document.root else {
            return [Finding(stage: .xml, rule: "xml.malformed", part: path, detail: "the document has no root element")]
        }
        let carried = ContainerDocuments(in: document, formats: formats, schemas: schemas, path: path)
        if !attachments.isEmpty {
            // xop:Include elements must be put back as their payloads' base64 for the schema to see them.
            var extractor = PayloadExtractor(path: path, index: schemas.typeIndex(for: [root.namespace]),
                                             payloadElements: formats.payloadElements, maxPayloads: limits.maxMIMEParts)
            extractor.resolveXOP(in: document, attachments: attachments)
        }
        let outerFindings = validate(document, root: root, path: path)
        return xincludeFindings(document, path: path) + outerFindings
            + carried.validate(with: schemas, maxIssues: Self.maxSchemaFindings, besides: outerFindings)
    }

    private func xincludeFindings(_ document: XMLDocument, path: PartPath) -> [Finding] {
        // A pointer walk comparing namespace bytes: building every element's path and
        // names only to find none costs more than the schema validation of a large document.
        guard let root = xmlDocGetRootElement(document.handle) else { return [] }
        var found: xmlNodePtr?
        XMLTree.forEachNode(in: root) { node in
            guard found == nil, node.pointee.type == XML_ELEMENT_NODE, let href = node.pointee.ns?.pointee.href else { return }
            if Self.xincludeNamespaceBytes.contains(where: { xmlStrEqual(href, $0) != 0 }) { found = node }
        }
        guard let found else { return [] }
        return [Finding(stage: .xml, rule: "xml.xinclude", part: path.xml(XMLNode(document: document, pointer: found).path),
                        detail: "an XInclude element: XInclude is never processed and not allowed in agreed formats")]
    }

    /// ``xincludeNamespaces`` as NUL-terminated bytes, for comparing with libxml2's.
    private static let xincludeNamespaceBytes: [[xmlChar]] = xincludeNamespaces.map { Array($0.utf8) + [0] }


    private func validate(_ document: XMLDocument, root: XMLNode, path: PartPath) -> [Finding] {
        let namespace = root.namespace
        let compiled: CompiledSchema?
        do {
            compiled = try schemas.schema(for: namespace)
        } catch {
            // The operator's schema is broken: nothing of this namespace can be checked.
            return [Finding(stage: .error, rule: "schema.error", part: path,
                            detail: "the agreed schema for \(namespace) does not compile; see `kordon selftest`")]
        }
        guard let schema = compiled else {
            return [Finding(stage: .schema, rule: "schema.unknown-namespace", part: path,
                            detail: "no agreed schema for \(namespace.isEmpty ? "(no namespace)" : namespace)")]
        }
        return schema.validate(document, maxIssues: Self.maxSchemaFindings)
            .findings(in: path, part: path, place: { $0 ?? "/" + root.localName }, what: "")
    }
}
