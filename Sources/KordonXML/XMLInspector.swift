// CONTRACT STUB — replaced by the real implementation.
import Foundation
import KordonCore
import CLibXML2

/// libxml2's process-wide set-up, done once before any concurrency.
public enum XMLRuntime {
    /// Calls `xmlInitParser()`, `xmlSchemaInitTypes()` and installs the no-network entity loader.
    public static func initialize() {}
}

/// The agreed schemas, compiled once and shared, keyed by target namespace.
public final class SchemaRegistry: @unchecked Sendable {
    /// Registers every `.xsd` under the directories. Throws a ``KordonError`` naming the file.
    public init(directories: [URL]) throws {}
    /// Registered target namespaces, sorted.
    public var namespaces: [String] { [] }
}

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
    /// Creates an empty inspection.
    public init() {}
}

/// Checks one XML document: safety bounds, well-formedness, schema, base64 payloads.
public struct XMLInspector: Sendable {
    /// Creates an inspector.
    public init(schemas: SchemaRegistry, limits: Limits) {}
    /// Inspects `data`, the document at `path`; `attachments` maps MIME Content-IDs to bytes for XOP.
    public func inspect(_ data: Data, at path: PartPath, attachments: [String: Data] = [:]) -> XMLInspection { XMLInspection() }
}
