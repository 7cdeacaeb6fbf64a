import CLibXML2
import Foundation
import KordonCore

/// One compiled XSD (`xmlSchemaPtr`), owned here and freed with this object.
///
/// `@unchecked Sendable`: a compiled `xmlSchema` is never modified after
/// `xmlSchemaParse` returns, and libxml2 documents schema validation as thread-safe
/// when each thread uses its own `xmlSchemaValidCtxt` — which ``validate(_:maxIssues:)``
/// creates for every call.
final class CompiledSchema: @unchecked Sendable {
    private let handle: xmlSchemaPtr
    /// Length facets libxml2 misreads, taken out of its copy and checked by Kordon.
    private let largeLengthFacets: LargeLengthFacets

    /// Compiles the schema file at `path`; includes and imports load through Kordon's
    /// local-only entity loader, with `catalog` standing in for remote locations.
    init(path: String, catalog: [String: String]) throws {
        XMLRuntime.initialize()
        let collector = SchemaErrorCollector(document: nil, maxIssues: 1)
        let (schema, patchedFiles): (xmlSchemaPtr?, [String]) = LocalCatalog.with(catalog) {
            withSilencedGlobalErrors {
                guard let parser = xmlSchemaNewParserCtxt(path) else { return nil }
                defer { xmlSchemaFreeParserCtxt(parser) }
                xmlSchemaSetParserStructuredErrors(parser, schemaErrorHandler, Unmanaged.passUnretained(collector).toOpaque())
                return xmlSchemaParse(parser)
            }
        }
        guard let schema else {
            let reason = collector.issues.first.map { "line \($0.line): \($0.message)" } ?? "libxml2 gave no reason"
            throw KordonError(code: "schema.compile", message: "schema \(path) does not compile: \(reason)")
        }
        handle = schema
        do {
            largeLengthFacets = patchedFiles.isEmpty ? .none
                : try LargeLengthFacets(roots: [path], reader: SchemaFileReader(catalog: catalog))
        } catch {
            xmlSchemaFree(schema)
            throw error
        }
    }

    deinit {
        xmlSchemaFree(handle)
    }

    /// Validates `document` with a fresh validation context and returns the first
    /// `maxIssues` errors, the total count, and whether libxml2 itself failed.
    func validate(_ document: XMLDocument, maxIssues: Int) -> SchemaValidation {
        let collector = SchemaErrorCollector(document: document, maxIssues: maxIssues)
        guard let context = xmlSchemaNewValidCtxt(handle) else {
            return SchemaValidation(issues: [], errorCount: 0, internalFailure: true)
        }
        defer { xmlSchemaFreeValidCtxt(context) }
        xmlSchemaSetValidStructuredErrors(context, schemaErrorHandler, Unmanaged.passUnretained(collector).toOpaque())
        let status = withSilencedGlobalErrors { xmlSchemaValidateDoc(context, document.handle) }
        let own = largeLengthFacets.issues(in: document, maxIssues: max(0, maxIssues - collector.issues.count))
        return SchemaValidation(issues: collector.issues + own.issues, errorCount: collector.count + own.count,
                                internalFailure: status < 0 || (status > 0 && collector.count == 0))
    }
}

/// The outcome of validating one document.
struct SchemaValidation {
    /// The first errors, in order.
    var issues: [SchemaIssue]
    /// How many errors libxml2 reported.
    var errorCount: Int
    /// libxml2 could not validate at all (an internal error): the document is unchecked.
    var internalFailure: Bool
}

extension SchemaValidation {
    /// What the validation found: each listed error a `schema.invalid` finding at the
    /// element path `place` gives for its node's path (inside `path`), the number of
    /// errors not listed on the last, and `schema.error` at `part` when libxml2 could not
    /// finish (`what` names the document in that finding's detail).
    func findings(in path: PartPath, part: PartPath, place: (String?) -> String, what: String) -> [Finding] {
        var findings = issues.map { issue in
            Finding(stage: .schema, rule: "schema.invalid", part: path.xml(place(issue.path)), detail: "line \(issue.line): \(issue.message)")
        }
        if errorCount > findings.count, !findings.isEmpty {
            findings[findings.count - 1].detail += " (\(errorCount - findings.count) more errors not listed)"
        }
        if internalFailure {
            findings.append(Finding(stage: .error, rule: "schema.error", part: part, detail: "libxml2 could not complete schema validation\(what)"))
        }
        return findings
    }
}

/// One validation error, safe to report.
struct SchemaIssue {
    /// The element path of the failing node (`/Root/Child[2]`), or `nil` when unknown.
    var path: String?
    /// The line libxml2 reported.
    var line: Int
    /// libxml2's message with quoted values redacted.
    var message: String
}

private final class SchemaErrorCollector {
    let document: XMLDocument?
    let maxIssues: Int
    var issues: [SchemaIssue] = []
    var count = 0

    init(document: XMLDocument?, maxIssues: Int) {
        self.document = document
        self.maxIssues = maxIssues
    }

    func record(_ error: UnsafePointer<xmlError>) {
        guard error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        count += 1
        guard issues.count < maxIssues else { return }
        var path: String?
        if let document, let raw = error.pointee.node {
            var node: XMLNode? = XMLNode(document: document, pointer: raw.assumingMemoryBound(to: xmlNode.self))
            if node?.isElement == false { node = node?.parent }
            path = node?.path
        }
        let message = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
        // Messages about a document may quote its values; messages about a schema file
        // (no document) quote only the operator's own schema.
        let safe = document == nil ? LibXMLMessage.sanitized(message) : LibXMLMessage.redactingValues(message)
        issues.append(SchemaIssue(path: path, line: Int(error.pointee.line), message: safe))
    }
}

private let schemaErrorHandler: xmlStructuredErrorFunc = { context, error in
    guard let context, let error else { return }
    Unmanaged<SchemaErrorCollector>.fromOpaque(context).takeUnretainedValue().record(UnsafePointer(error))
}

private let silentErrorHandler: xmlStructuredErrorFunc = { _, _ in }

/// Runs `body` with this thread's libxml2 global error handler silenced, so that errors
/// libxml2 raises outside a context's own handler never reach standard error; the
/// previous handler is restored afterwards (it is per-thread state).
func withSilencedGlobalErrors<T>(_ body: () -> T) -> T {
    let savedHandler = __xmlStructuredError().pointee
    let savedContext = __xmlStructuredErrorContext().pointee
    xmlSetStructuredErrorFunc(nil, silentErrorHandler)
    defer { xmlSetStructuredErrorFunc(savedContext, savedHandler) }
    return body()
}
