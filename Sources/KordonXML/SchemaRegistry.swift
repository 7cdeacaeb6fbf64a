import Foundation
import KordonCore
import Synchronization

/// The agreed schemas, keyed by target namespace: indexed at once, compiled on first use.
///
/// Every `.xsd` under the given folders (recursively) is indexed by its head only (see
/// ``SchemaHead``). A file that another file includes or redefines is part of that
/// schema, not a root of its own; the other files are roots, one per target namespace.
/// A root is compiled the first time a document of its namespace is validated, then kept
/// for the registry's lifetime: `kordon filter` on one document compiles one schema, not
/// an album of seven hundred, and `kordon serve` compiles each family once. A reload
/// builds a new registry and swaps it in, like the other engines.
///
/// Imports and includes are resolved locally: a remote `schemaLocation`
/// (`http://…/common.xsd`) is served by the registered file of that name, and nothing
/// is ever fetched over the network. A document's schema is chosen by its root
/// element's namespace only; `xsi:schemaLocation` is ignored.
public final class SchemaRegistry: Sendable {
    private let roots: [String: LazySchema]
    private let catalog: [String: String]
    private let derivedIndexes = Mutex<[String: any Sendable]>([:])
    private let fileFacts = SchemaFileFactsCache()
    private let recentUse = Mutex(RecentUse())

    /// When each compiled schema was last used, by a counter.
    private struct RecentUse {
        var clock: UInt64 = 0
        var lastUse: [String: UInt64] = [:]
    }

    /// Indexes every `.xsd` under the directories. Throws a ``KordonError`` naming the
    /// file: unreadable, refused, not an XML Schema, or a second, different definition of
    /// a namespace already registered (two identical copies — one album in two folders
    /// during a change of album — are registered once).
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

        let resolver = SchemaFileReader(catalog: catalog)
        let heads = try paths.map { try SchemaHead(path: $0, resolver: resolver) }
        let included = Set(heads.flatMap(\.includes))
        var roots: [String: String] = [:]
        for head in heads where !included.contains(head.path) {
            let namespace = head.targetNamespace
            guard let other = roots[namespace] else {
                roots[namespace] = head.path
                continue
            }
            guard try SchemaEquivalence.sameDefinition(other, head.path, reader: resolver) else {
                throw KordonError(code: "schema.duplicate-namespace",
                                  message: "\(other) and \(head.path) define namespace \(namespace.isEmpty ? "(no namespace)" : namespace) differently; keep one, or include one from the other")
            }
        }
        self.catalog = catalog
        self.roots = roots.mapValues { LazySchema(path: $0) }
    }

    /// Registered target namespaces, sorted.
    public var namespaces: [String] { roots.keys.sorted() }

    /// Whether an agreed schema exists for documents whose root is in `namespace`.
    public func hasSchema(for namespace: String) -> Bool {
        roots[namespace] != nil
    }

    /// The root schema file registered for `namespace`.
    public func schemaFile(for namespace: String) -> URL? {
        roots[namespace].map { URL(fileURLWithPath: $0.path) }
    }

    /// Compiles every registered schema, one at a time, and returns those that do not
    /// compile (each error names its file): the check `kordon selftest` makes, so that an
    /// operator finds a broken schema before a document does. Schemas not yet in use are
    /// freed again: the album's 723 compiled together would hold 1.5 GB.
    public func compileProblems() -> [KordonError] {
        namespaces.compactMap { namespace in
            guard let root = roots[namespace] else { return nil }
            do {
                _ = try root.isCompiled ? root.compiled(catalog: catalog) : CompiledSchema(path: root.path, catalog: catalog)
                return nil
            } catch let error as KordonError {
                return error
            } catch {
                return KordonError(code: "schema.compile", message: "schema \(root.path) does not compile: \(error)")
            }
        }
    }

    /// Qualified names (`{ns}Local`) of the elements whose content is `xs:base64Binary`
    /// in the schemas of `namespaces`, sorted; Kordon decodes and scans them.
    public func base64ElementNames(for namespaces: Set<String>) -> [String] {
        let index = typeIndex(for: namespaces)
        return index.base64Elements.union(index.ambiguousElements).map(\.description).sorted()
    }

    /// The compiled schema for `namespace`, compiled now if this is its first use;
    /// `nil` when no agreed schema defines the namespace. Throws a ``KordonError``
    /// (`schema.compile`, naming the file and libxml2's reason) when it does not compile —
    /// at every use, so a broken schema never validates anything.
    func schema(for namespace: String) throws -> CompiledSchema? {
        guard let root = roots[namespace] else { return nil }
        let wasCompiled = root.isCompiled
        defer { keepRecent(namespace, newlyCompiled: !wasCompiled) }
        return try root.compiled(catalog: catalog)
    }

    /// Most compiled schemas kept at once. Each family's schema is compiled with its own
    /// copy of every import (libxml2 shares nothing between compiled schemas): the whole
    /// FTS album compiled holds 1.5 GB, a family 2-10 MB. A long-running `kordon serve`
    /// keeps the families it has used most recently and compiles an evicted one again
    /// (10-80 ms) when it comes back; a document being validated keeps its schema alive.
    static let maxCompiledSchemas = 64

    /// How many schemas are compiled and kept now.
    var compiledCount: Int { roots.values.filter(\.isCompiled).count }

    /// Marks `namespace` as just used and, when a compile brought the count over the
    /// bound, lets the least recently used compiled schema go.
    private func keepRecent(_ namespace: String, newlyCompiled: Bool) {
        let evicted: String? = recentUse.withLock { recent in
            recent.clock += 1
            recent.lastUse[namespace] = recent.clock
            guard newlyCompiled, recent.lastUse.count > Self.maxCompiledSchemas,
                  let oldest = recent.lastUse.min(by: { $0.value < $1.value })?.key else { return nil }
            recent.lastUse[oldest] = nil
            return oldest
        }
        if let evicted { roots[evicted]?.forget() }
    }

    /// Which elements hold base64Binary content in the schemas of `namespaces` and
    /// everything they import; built on first use for each set of namespaces and kept.
    /// Unknown namespaces add nothing; a schema whose files cannot be read adds nothing
    /// either (its documents fail validation, which holds them).
    func typeIndex(for namespaces: Set<String>) -> SchemaTypeIndex {
        namespaces.sorted().reduce(SchemaTypeIndex.empty) { $0.joined(with: typeIndex(for: $1)) }
    }

    /// The type index of one namespace's schema (and its imports), built once.
    private func typeIndex(for namespace: String) -> SchemaTypeIndex {
        derived("types", for: namespace) { root, reader in try SchemaTypeIndex(roots: [root], reader: reader) } ?? .empty
    }

    /// Something read from the schema files of `namespace` (its root and everything that
    /// includes or imports), built by `build` the first time it is asked for and kept as
    /// long as this registry: a reload brings a new registry, and fresh indexes with it.
    /// `kind` names what is built (`"types"`, `"facets"`…), one entry per kind and
    /// namespace. `nil` when the namespace has no schema or its files cannot be read.
    func derived<Index: Sendable>(_ kind: String, for namespace: String,
                                  build: (_ root: String, _ reader: SchemaFileReader) throws -> Index) -> Index? {
        guard let root = roots[namespace] else { return nil }
        let key = kind + "\u{0}" + namespace
        if let known = derivedIndexes.withLock({ $0[key] }) as? Index { return known }
        // Built outside the lock (reading a family's files takes a while); two threads
        // asking at once may both build, and the first stored wins.
        guard let index = try? build(root.path, SchemaFileReader(catalog: catalog, facts: fileFacts)) else { return nil }
        return derivedIndexes.withLock { indexes in
            if let first = indexes[key] as? Index { return first }
            indexes[key] = index
            return index
        }
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

/// One root schema file, compiled the first time it is needed and kept.
///
/// The lock is held while compiling, so that threads wanting the same schema at once
/// wait for one compile instead of each compiling a copy; other schemas have their own.
private final class LazySchema: Sendable {
    let path: String
    private let state = Mutex<Result<CompiledSchema, KordonError>?>(nil)

    init(path: String) {
        self.path = path
    }

    /// Whether a first use has compiled (or failed to compile) the schema already.
    var isCompiled: Bool { state.withLock { $0 != nil } }

    /// Lets the compiled schema go (validations in flight keep their reference); the next
    /// use compiles it again.
    func forget() {
        state.withLock { $0 = nil }
    }

    func compiled(catalog: [String: String]) throws -> CompiledSchema {
        let result = state.withLock { state in
            if let state { return state }
            let result: Result<CompiledSchema, KordonError>
            do {
                result = .success(try CompiledSchema(path: path, catalog: catalog))
            } catch let error as KordonError {
                result = .failure(error)
            } catch {
                result = .failure(KordonError(code: "schema.compile", message: "schema \(path) does not compile: \(error)"))
            }
            state = result
            return result
        }
        return try result.get()
    }
}
