import CLibXML2
import Foundation
import KordonCore

/// What the start of one schema file says: its target namespace and the files it
/// includes or redefines — all the registry needs to know which files are roots and
/// which namespace each root defines, without parsing the rest of the file.
///
/// XML Schema puts `include`, `import`, `redefine` and `override` before every other
/// top-level component (annotations aside), so a streaming read can stop at the first
/// definition: reading the heads of the FTS album's 723 files costs a fraction of what
/// parsing them whole does, and compiling them all costs 1.5 GB (each root compiles its
/// own copy of every import). The whole file is still guarded (``XMLGuard``: no DOCTYPE,
/// bounds) before a single byte reaches libxml2, and is parsed whole when compiled.
struct SchemaHead: Sendable {
    /// The file, an absolute path with symlinks resolved.
    let path: String
    /// The `targetNamespace` attribute; empty for a schema without one.
    let targetNamespace: String
    /// Files this one includes, redefines or overrides (they take its namespace).
    let includes: [String]

    /// Reads the head of the schema file at `path`. Throws a ``KordonError`` naming the
    /// file: unreadable, refused by the guard, not well-formed, or not an XML Schema.
    init(path: String, resolver: SchemaFileReader) throws {
        let prepared = try SchemaFileReader.prepared(path)
        self.path = path
        (targetNamespace, includes) = try Self.read(prepared, path: path, resolver: resolver)
    }

    private static func read(_ prepared: PreparedXML, path: String, resolver: SchemaFileReader) throws
        -> (targetNamespace: String, includes: [String]) {
        var options = XMLDocument.options
        if prepared.transcoded { options |= Int32(XML_PARSE_IGNORE_ENC.rawValue) }
        let reader: xmlTextReaderPtr? = prepared.bytes.withUnsafeBytes { raw in
            raw.baseAddress.flatMap { base in
                xmlReaderForMemory(base.assumingMemoryBound(to: CChar.self), Int32(raw.count), path, nil, options)
            }
        }
        guard let reader else {
            throw KordonError(code: "schema.malformed", message: "schema file \(path) could not be read")
        }
        defer { xmlFreeTextReader(reader) }
        // The reader refers to the bytes it was given: keep them alive while it reads.
        return try withExtendedLifetime(prepared.bytes) {
            var targetNamespace: String?
            var includes: [String] = []
            var status = withSilencedGlobalErrors { xmlTextReaderRead(reader) }
            while status == 1 {
                guard xmlTextReaderNodeType(reader) == Int32(XML_READER_TYPE_ELEMENT.rawValue) else {
                    status = withSilencedGlobalErrors { xmlTextReaderRead(reader) }
                    continue
                }
                let namespace = string(xmlTextReaderConstNamespaceUri(reader))
                let name = string(xmlTextReaderConstLocalName(reader))
                guard targetNamespace != nil else {
                    guard namespace == xsdNamespace, name == "schema" else {
                        throw KordonError(code: "schema.not-a-schema", message: "\(path) is not an XML Schema (its root is not xs:schema)")
                    }
                    targetNamespace = attribute(reader, "targetNamespace") ?? ""
                    status = withSilencedGlobalErrors { xmlTextReaderRead(reader) }
                    continue
                }
                // A child of xs:schema: references come first, then the definitions.
                guard namespace == xsdNamespace, ["include", "redefine", "override", "import", "annotation"].contains(name) else {
                    return (targetNamespace ?? "", includes)
                }
                if name != "import", name != "annotation",
                   let location = attribute(reader, "schemaLocation"), let target = resolver.resolve(location, from: path) {
                    includes.append(target)
                }
                status = withSilencedGlobalErrors { xmlTextReaderNext(reader) }
            }
            guard status == 0 else {
                throw KordonError(code: "schema.malformed",
                                  message: "schema file \(path) is not well-formed near line \(xmlTextReaderGetParserLineNumber(reader))")
            }
            guard let targetNamespace else {
                throw KordonError(code: "schema.not-a-schema", message: "\(path) is not an XML Schema (it has no root element)")
            }
            return (targetNamespace, includes)
        }
    }

    private static func string(_ pointer: UnsafePointer<xmlChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    private static func attribute(_ reader: xmlTextReaderPtr, _ name: String) -> String? {
        guard let value = xmlTextReaderGetAttribute(reader, name) else { return nil }
        defer { kordon_xml_free(value) }
        return String(cString: value)
    }
}
