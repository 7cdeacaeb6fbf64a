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
    private static let lock = NSLock()
    nonisolated(unsafe) private static var byThread: [UInt: [String: String]] = [:]

    /// Runs `body` with `catalog` (file name → absolute local path) in force on this thread.
    static func with<T>(_ catalog: [String: String], _ body: () throws -> T) rethrows -> T {
        let key = currentThread()
        lock.withLock { byThread[key] = catalog }
        defer { lock.withLock { _ = byThread.removeValue(forKey: key) } }
        return try body()
    }

    /// The local file standing in for `fileName` on this thread, if any.
    static func lookup(_ fileName: String) -> String? {
        let key = currentThread()
        return lock.withLock { byThread[key]?[fileName] }
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

    /// Whether the local file is safe to hand to libxml2: it passes ``XMLGuard``
    /// (in particular, no DOCTYPE — libxml2 compiles schemas with entity substitution on).
    static func isSafe(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        return XMLInput.prepare(data, limits: Limits.schemaFiles).isSuccess
    }
}

/// The loader libxml2 calls for every external resource: local, guarded files only.
private let kordonEntityLoader: xmlExternalEntityLoader = { url, _, ctxt in
    guard let url, let path = LocalEntityLoader.localPath(for: String(cString: url)),
          LocalEntityLoader.isSafe(path)
    else { return nil }
    return path.withCString { xmlNewInputFromFile(ctxt, $0) }
}
