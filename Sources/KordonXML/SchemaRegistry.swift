import Foundation
import KordonCore

/// The agreed schemas, compiled once and shared, keyed by target namespace.
///
/// Every `.xsd` under the given folders (recursively) is read. A file that another file
/// includes or redefines is part of that schema, not a root of its own; the other files
/// are roots, one per target namespace. Imports and includes are resolved locally: a
/// remote `schemaLocation` (`http://…/common.xsd`) is served by the registered file of
/// that name, and nothing is ever fetched over the network. A document's schema is
/// chosen by its root element's namespace only; `xsi:schemaLocation` is ignored.
public final class SchemaRegistry: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable after init, and
    // CompiledSchema is safe to share (see there).
    private let schemas: [String: CompiledSchema]
    private let files: [String: URL]
    /// Elements with base64Binary content across all registered schemas.
    let typeIndex: SchemaTypeIndex

    /// Registers every `.xsd` under the directories. Throws a ``KordonError`` naming the
    /// file: unreadable, not well-formed, two root files for one namespace, or a schema
    /// that does not compile.
    public init(directories: [URL]) throws {
        XMLRuntime.initialize()
        let paths = try Self.schemaFiles(in: directories)
        var catalog: [String: String] = [:]
        var ambiguousNames: Set<String> = []
        for path in paths {
            let name = URL(fileURLWithPath: path).lastPathComponent
            if catalog[name] != nil { ambiguousNames.insert(name) }
            catalog[name] = path
        }
        // A remote location whose file name matches two local files cannot be mapped safely.
        for name in ambiguousNames { catalog[name] = nil }

        let reader = SchemaFileReader(catalog: catalog)
        var included: Set<String> = []
        for path in paths { included.formUnion(try reader.references(of: path).includes) }
        var roots: [String: String] = [:]
        for path in paths where !included.contains(path) {
            let namespace = try reader.document(at: path).root?.attribute("targetNamespace") ?? ""
            if let other = roots[namespace] {
                throw KordonError(code: "schema.duplicate-namespace",
                                  message: "\(other) and \(path) both define namespace \(namespace.isEmpty ? "(no namespace)" : namespace); keep one, or include one from the other")
            }
            roots[namespace] = path
        }
        var schemas: [String: CompiledSchema] = [:]
        for (namespace, path) in roots {
            schemas[namespace] = try CompiledSchema(path: path, catalog: catalog)
        }
        self.schemas = schemas
        self.files = roots.mapValues { URL(fileURLWithPath: $0) }
        self.typeIndex = try SchemaTypeIndex(roots: roots.values.sorted(), reader: reader)
    }

    /// Registered target namespaces, sorted.
    public var namespaces: [String] { schemas.keys.sorted() }

    /// Whether an agreed schema exists for documents whose root is in `namespace`.
    public func hasSchema(for namespace: String) -> Bool {
        schemas[namespace] != nil
    }

    /// The root schema file registered for `namespace`.
    public func schemaFile(for namespace: String) -> URL? {
        files[namespace]
    }

    /// Qualified names (`{ns}Local`) of the elements whose content is `xs:base64Binary`,
    /// sorted; Kordon decodes and scans them.
    public var base64ElementNames: [String] {
        typeIndex.base64Elements.union(typeIndex.ambiguousElements).map(\.description).sorted()
    }

    /// The compiled schema for `namespace`.
    func schema(for namespace: String) -> CompiledSchema? {
        schemas[namespace]
    }

    private static func schemaFiles(in directories: [URL]) throws -> [String] {
        var paths: [String] = []
        for directory in directories {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue,
                  let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
            else {
                throw KordonError(code: "schema.directory", message: "schema directory \(directory.path) does not exist or is not a directory")
            }
            for case let url as URL in enumerator where url.pathExtension.lowercased() == "xsd" {
                paths.append(url.standardizedFileURL.resolvingSymlinksInPath().path)
            }
        }
        return Array(Set(paths)).sorted()
    }
}
