import Foundation
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// With `serve.watch: true`: reloads the engines when a file under the signature,
/// schema or rule directories changes (freshclam writing a new database, an operator
/// editing a pack), a second after the last change so that a burst of writes
/// reloads once.
///
/// inotify is read on a thread of its own; the reload itself runs through
/// ``FilterService/reload()``, which keeps the old engines when the new ones fail.
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
            FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            return isDirectory.boolValue ? url : url.deletingLastPathComponent()
        }
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        let events = InotifyStream(directories: directories, logger: logger)
        try await withGracefulShutdownHandler {
            var pending = false
            for await event in events.stream {
                switch event {
                case .changed:
                    pending = true
                case .tick where pending:
                    pending = false
                    logger.info("resources changed; reloading")
                    try? await service.reload()
                case .tick:
                    continue
                }
            }
        } onGracefulShutdown: {
            events.stop()
        }
    }
}

/// inotify over a set of directory trees, as an async stream of `changed` events and
/// a `tick` after each quiet second.
private final class InotifyStream: Sendable {
    enum Event: Sendable { case changed, tick }

    let stream: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let stopped = Atomic<Bool>(false)

    init(directories: [URL], logger: Logger) {
        (stream, continuation) = AsyncStream<Event>.makeStream()
        start(directories: directories, logger: logger)
    }

    private func start(directories: [URL], logger: Logger) {
        let continuation = self.continuation
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            logger.error("inotify is unavailable; watching for resource changes is off")
            continuation.finish()
            return
        }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE)
        for directory in directories {
            for path in Self.tree(directory) { _ = inotify_add_watch(fd, path, mask) }
        }
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var quietSince = Date()
            var dirty = false
            while !stopped.load(ordering: .relaxed) {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, 250)
                if ready > 0 {
                    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if count > 0 {
                        dirty = true
                        quietSince = Date()
                        continuation.yield(.changed)
                    }
                } else if dirty, Date().timeIntervalSince(quietSince) >= 1 {
                    dirty = false
                    continuation.yield(.tick)
                }
            }
            close(fd)
            continuation.finish()
        }
        thread.name = "kordon-watch"
        thread.start()
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

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
