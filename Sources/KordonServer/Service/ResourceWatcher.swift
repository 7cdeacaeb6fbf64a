import Foundation
import KordonCore
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// With `serve.watch: true`: reloads the engines when a file under the signature,
/// schema or rule directories changes (freshclam writing a new database, an operator
/// editing a pack), `quietPeriod` after the last change so that a burst of writes
/// reloads once.
///
/// inotify is read on a thread of its own (``InotifyReader``); the reload itself runs
/// through ``FilterService/reload()``, which keeps the old engines when the new ones fail.
public struct ResourceWatcher: Service {
    private let service: FilterService
    private let directories: [URL]
    private let logger: Logger
    private let quietPeriod: Duration

    /// Watches `directories` (and their subdirectories) for `service`.
    public init(service: FilterService, directories: [URL], logger: Logger, quietPeriod: Duration = .seconds(1)) {
        self.service = service
        self.directories = directories
        self.logger = logger
        self.quietPeriod = quietPeriod
    }

    /// The directories a service's engines were loaded from.
    public static func directories(of service: FilterService) -> [URL] {
        guard let engines = service.pipeline?.engines else { return [] }
        let sources = engines.signatureSources + engines.schemaSources + engines.ruleSources
        return sources.map { url in
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            return exists && isDirectory.boolValue ? url : url.deletingLastPathComponent()
        }
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        // Every task this transport starts is checked for blocking calls (debug builds).
        try await BlockingCallCheck.enforcing { try await serve() }
    }

    private func serve() async throws {
        let (changes, continuation) = AsyncStream<Void>.makeStream()
        let quiet = QuietPeriod(quietPeriod)
        let reader: InotifyReader
        do {
            let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE)
            reader = try InotifyReader(directories: directories.flatMap(Self.tree), mask: mask, name: "kordon-watch",
                                       idleInterval: min(quietPeriod / 4, .milliseconds(250)),
                                       onEvents: { _ in quiet.changed() },
                                       onIdle: { if quiet.elapsed() { continuation.yield() } })
        } catch {
            logger.error("watching for resource changes is off", metadata: ["error": "\(error)"])
            return
        }
        await withGracefulShutdownHandler {
            for await _ in changes {
                logger.info("resources changed; reloading")
                try? await service.reload()
            }
        } onGracefulShutdown: {
            reader.stop()
            continuation.finish()
        }
    }

    /// A directory and every directory below it.
    private static func tree(_ root: URL) -> [String] {
        var result = [root.path]
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey]) {
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isDirectoryKey]))?.isDirectory == true {
                result.append(url.path)
            }
        }
        return result
    }
}

/// Whether a quiet period has passed since the last change not yet answered.
private final class QuietPeriod: Sendable {
    private let length: Duration
    private let lastChange = Mutex<ContinuousClock.Instant?>(nil)

    init(_ length: Duration) { self.length = length }

    /// Something changed: the period starts again.
    func changed() { lastChange.withLock { $0 = .now } }

    /// True once per burst of changes, when the period has passed since its last one.
    func elapsed() -> Bool {
        lastChange.withLock { last in
            guard let since = last, ContinuousClock.now - since >= length else { return false }
            last = nil
            return true
        }
    }
}
