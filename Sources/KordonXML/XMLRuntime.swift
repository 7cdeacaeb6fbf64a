import CLibXML2
import Foundation
import KordonCore

/// libxml2's process-wide set-up, done once before any concurrency.
///
/// libxml2 keeps three pieces of global state that Kordon depends on: the parser's
/// own tables (`xmlInitParser`), the built-in XSD types (`xmlSchemaInitTypes`, which
/// races when first done from several threads in 2.9.14) and the external entity
/// loader, which every file libxml2 opens goes through. Kordon's loader never touches
/// the network: see ``LocalEntityLoader``.
public enum XMLRuntime {
    /// Swift initializes a static `let` exactly once, thread-safely.
    private static let once: Void = {
        xmlInitParser()
        xmlSchemaInitTypes()
        xmlSetExternalEntityLoader(kordonEntityLoader)
    }()

    /// Calls `xmlInitParser()`, `xmlSchemaInitTypes()` and installs the no-network
    /// entity loader. Idempotent and thread-safe; every entry point calls it.
    public static func initialize() {
        once
    }
}

/// Maps remote schema locations to local files by file name, for the one thread
/// that is compiling a schema.
///
/// libxml2's entity loader is a plain C function with no user context, so the
/// catalog in force is looked up by the calling thread: ``SchemaRegistry`` sets it
/// around `xmlSchemaParse`, which loads every include and import synchronously on
/// that thread.
enum LocalCatalog {
    /// One thread's compile: its catalog, and the files served patched (see ``LargeLengthFacets``).
    final class Session {
        let catalog: [String: String]
        var patchedFiles: [String] = []
        init(catalog: [String: String]) { self.catalog = catalog }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var byThread: [UInt: Session] = [:]

    /// Runs `body` with `catalog` (file name → absolute local path) in force on this
    /// thread; returns its result and the files whose length facets were patched.
    static func with<T>(_ catalog: [String: String], _ body: () throws -> T) rethrows -> (result: T, patchedFiles: [String]) {
        let key = currentThread()
        let session = Session(catalog: catalog)
        lock.withLock { byThread[key] = session }
        defer { lock.withLock { _ = byThread.removeValue(forKey: key) } }
        let result = try body()
        return (result, lock.withLock { session.patchedFiles })
    }

    /// The local file standing in for `fileName` on this thread, if any.
    static func lookup(_ fileName: String) -> String? {
        let key = currentThread()
        return lock.withLock { byThread[key]?.catalog[fileName] }
    }

    /// Whether this thread is compiling a schema.
    static var isCompiling: Bool {
        let key = currentThread()
        return lock.withLock { byThread[key] != nil }
    }

    /// Records that `path` was served patched on this thread.
    static func notePatched(_ path: String) {
        let key = currentThread()
        lock.withLock { byThread[key]?.patchedFiles.append(path) }
    }

    private static func currentThread() -> UInt {
        #if canImport(Darwin)
        return UInt(bitPattern: pthread_self())
        #else
        return UInt(pthread_self())
        #endif
    }
}

/// Decides which local file, if any, a URL that libxml2 wants to open stands for.
enum LocalEntityLoader {
    /// The local path for `url`, or `nil` when it must not be opened.
    ///
    /// - `file:` URLs and plain paths are local files.
    /// - Any other scheme (`http`, `https`, `ftp`, …) is never fetched; when its last
    ///   path component names a file in the thread's ``LocalCatalog``, that local file
    ///   is used instead (an agreed schema importing its common types by URL).
    static func localPath(for url: String) -> String? {
        if let scheme = scheme(of: url) {
            if scheme == "file" {
                var rest = String(url.dropFirst("file:".count))
                if rest.hasPrefix("//") {
                    rest = String(rest.dropFirst(2))
                    if rest.hasPrefix("localhost/") { rest = String(rest.dropFirst("localhost".count)) }
                    guard rest.hasPrefix("/") else { return nil }  // file://host/... is remote
                }
                return existing(rest)
            }
            let withoutQuery = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
            guard let name = withoutQuery.split(separator: "/").last.map(String.init), !name.isEmpty else { return nil }
            return LocalCatalog.lookup(name) ?? LocalCatalog.lookup(name.removingPercentEncoding ?? name)
        }
        return existing(url)
    }

    /// The scheme of an absolute URL (`http` in `http://x`), lowercased; `nil` for a path.
    static func scheme(of url: String) -> String? {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let candidate = url[..<colon]
        // One letter before a colon is a drive letter, not a scheme.
        guard candidate.count > 1, let first = candidate.first, first.isASCII, first.isLetter,
              candidate.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }
        return candidate.lowercased()
    }

    private static func existing(_ path: String) -> String? {
        if FileManager.default.fileExists(atPath: path) { return path }
        if let decoded = path.removingPercentEncoding, FileManager.default.fileExists(atPath: decoded) { return decoded }
        return nil
    }

    /// The file's bytes when it is safe to hand to libxml2: it passes ``XMLGuard`` (in
    /// particular, no DOCTYPE — libxml2 compiles schemas with entity substitution on).
    static func safeContents(_ path: String) -> Data? {
        guard let data = FileManager.default.contents(atPath: path),
              XMLInput.prepare(data, limits: Limits.schemaFiles).isSuccess else { return nil }
        return data
    }

    /// A libxml2 input that reads `bytes` as the file at `path` (whose folder relative
    /// references resolve against).
    static func input(_ bytes: Data, standingFor path: String, context: xmlParserCtxtPtr?) -> xmlParserInputPtr? {
        let buffer: xmlParserInputBufferPtr? = bytes.withUnsafeBytes { raw in
            // libxml2 copies the bytes into its own buffer.
            xmlParserInputBufferCreateMem(raw.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(raw.count), XML_CHAR_ENCODING_NONE)
        }
        guard let buffer else { return nil }
        guard let input = xmlNewIOInputStream(context, buffer, XML_CHAR_ENCODING_NONE) else {
            xmlFreeParserInputBuffer(buffer)
            return nil
        }
        // libxml2 frees the name with the input; relative includes resolve against it.
        let canonical = path.withCString { xmlCanonicPath(UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) }
        input.pointee.filename = canonical.map { UnsafePointer(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        return input
    }
}

/// The loader libxml2 calls for every external resource: local, guarded files only.
/// While a schema compiles, a file with length facets libxml2 misreads is served patched.
private let kordonEntityLoader: xmlExternalEntityLoader = { url, _, ctxt in
    guard let url, let path = LocalEntityLoader.localPath(for: String(cString: url)),
          let data = LocalEntityLoader.safeContents(path)
    else { return nil }
    if LocalCatalog.isCompiling, let patched = LargeLengthFacets.patched(data) {
        LocalCatalog.notePatched(path)
        return LocalEntityLoader.input(patched, standingFor: path, context: ctxt)
    }
    return path.withCString { xmlNewInputFromFile(ctxt, $0) }
}
