import Foundation
import Kordon
import KordonCore
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The spool transport: every message written into `inbox/` ends up exactly once in
/// `outbox/` (clean, or its sanitized copy) or in the quarantine store (held; a
/// sanitized message's original is stored too) — none lost, none duplicated, none
/// passed unscanned — even when the process is killed at any instant.
///
/// A message is claimed by an atomic rename into `work/` under a fresh claim id
/// (``SpoolClaim``), filtered with that id as its quarantine id, delivered through
/// ``SpoolOutbox`` when passed, and only then removed from `work/`. On start,
/// everything `work/` holds is redone: the store's `put` is idempotent per id, and
/// the outbox's temporary file tells whether the message was already delivered.
///
/// Writers must not let a partial file be picked up: write under a name ending with
/// one of `partialSuffixes` (or starting with `.`) and rename when complete, or set
/// `minimumAgeMilliseconds`.
///
/// ```swift
/// let spool = try SpoolService(service: filter, configuration: configuration.service, logger: logger)
/// let group = ServiceGroup(services: [spool], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public final class SpoolService: Service, Sendable {
    /// Counts since the service started.
    public struct Statistics: Sendable, Equatable {
        /// Messages written to `outbox/`.
        public var delivered = 0
        /// Messages held in quarantine (nothing delivered).
        public var held = 0
        /// Claims from a previous run found already delivered and only released.
        public var alreadyDelivered = 0
        /// Claims a previous run left in `work/`.
        public var recovered = 0
        /// Attempts that failed and were retried (busy, store or disk errors).
        public var retries = 0
    }

    /// The spool's directories (and its lock, held while the service exists).
    public let directories: SpoolDirectories
    let service: FilterService
    private let settings: ServiceConfiguration.Spool
    private let workers: Int
    let logger: Logger
    let outbox: SpoolOutbox
    private let queue = SpoolQueue()
    /// The workers' threads, one each (``work()``): their file work waits on fsyncs, so
    /// many messages wait on the disk at once and Swift's few cooperative threads never do.
    private let files: WorkerPool
    let stopping = StopSignal()
    let counts = Mutex(Statistics())
    private let undecodableSeen = Atomic<Int>(0)

    /// Opens the spool at `configuration.spool.root`: creates the directories that are
    /// missing (`work/` with mode 0700) and takes the spool's lock. Throws a
    /// ``KordonError`` when the root is not set, cannot be created, is served by another
    /// process, or its file system cannot give the guarantees (see ``SpoolDirectories``).
    public init(service: FilterService, configuration: ServiceConfiguration, logger: Logger) throws {
        guard let root = configuration.spool.root, !root.isEmpty else {
            throw KordonError(code: "spool.root", message: "serve.spool.root is not set: name the directory holding inbox/ and outbox/")
        }
        directories = try SpoolDirectories(root: URL(fileURLWithPath: root))
        outbox = SpoolOutbox(directories: directories)
        self.service = service
        settings = configuration.spool
        var logger = logger
        logger[metadataKey: "spool"] = "\(root)"
        self.logger = logger
        // Enough workers that the scanning threads stay busy while others wait on fsyncs,
        // never more messages at once than the scan queue takes (the spool should not
        // make itself busy): each worker queues its whole batch.
        let threads = configuration.effectiveThreads
        workers = max(2, (threads + configuration.queue) / Self.batchSize)
        // Batch-scheduled: a file thread waking from an fsync waits for the end of a scan's
        // time slice instead of preempting it (a third fewer preemptions, measured).
        files = WorkerPool(threads: workers, queueBound: workers, name: "kordon-spool", batch: true)
    }

    /// Counts since the service started.
    public var statistics: Statistics { counts.withLock { $0 } }

    /// Redoes what `work/` holds, then takes every message that arrives in `inbox/`
    /// until graceful shutdown (or cancellation): then it stops taking, finishes the
    /// messages in flight and returns. Whatever is still in `work/` (a message the
    /// service was busy with) is redone at the next start.
    public func run() async throws {
        // Every task this transport starts is checked for blocking calls (debug builds).
        try await BlockingCallCheck.enforcing { try await serve() }
    }

    private func serve() async throws {
        defer { directories.release() }
        let (claims, others) = try directories.claimsInWork()
        for name in others {
            logger.warning("work/ holds an entry that is not a claim; it is left alone", metadata: ["name": "\(name)"])
        }
        let stale = try outbox.removeStaleTemporaries(keeping: Set(claims.map(\.id)))
        counts.withLock { $0.recovered = claims.count }
        if let advice = SpoolFileSystemAdvice(directories: directories, scratch: SpoolFileSystemAdvice.scratchDirectory(service.configuration)) {
            logger.log(level: advice.level, "\(advice.message)")
        }
        logger.info("spool started", metadata: ["workers": "\(workers)", "redo": "\(claims.count)", "staleTemporaries": "\(stale)"])
        for claim in claims { queue.add(claim) }
        // Watch first, then list: a file arriving in between is seen by one or the other.
        // Files closed after writing or moved in; when events were lost, a full rescan. The
        // periodic rescan stays the safety net for what inotify cannot see (hard links,
        // network file systems).
        let watcher: InotifyReader?
        do {
            watcher = try InotifyReader(directories: [directories.inbox.path],
                                        mask: UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR), name: "kordon-inbox",
                                        onEvents: { [self] events in
                                            if !events.names.isEmpty { offer(events.names) }
                                            if events.overflowed { rescan() }
                                        })
        } catch {
            watcher = nil
            logger.warning("inotify is not available; inbox/ is only rescanned every \(settings.rescanSeconds) s",
                           metadata: ["error": "\(error)"])
        }
        defer { watcher?.stop() }
        rescan()
        await withTaskCancellationOrGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for _ in 0..<workers {
                    group.addTask { _ = try? await self.files.submit { self.work() } }
                }
                group.addTask { await self.rescanPeriodically() }
            }
        } onCancelOrGracefulShutdown: { [self] in
            stopping.stop()
            queue.close()
        }
        files.stop()
        let final = statistics
        logger.info("spool stopped", metadata: ["delivered": "\(final.delivered)", "held": "\(final.held)",
                                                "leftInWork": "\((try? directories.claimsInWork().claims.count) ?? -1)"])
    }

    // MARK: Finding messages

    /// Whether a name in `inbox/` may be a complete message.
    func isCandidate(_ name: String) -> Bool {
        !name.hasPrefix(".") && !settings.partialSuffixes.contains { !$0.isEmpty && name.hasSuffix($0) }
    }

    private func offer(_ names: [String]) {
        queue.offer(names.filter(isCandidate))
    }

    /// Lists `inbox/` and queues every candidate.
    private func rescan() {
        do {
            let (names, undecodable) = try SpoolFiles.list(directories.inbox.path)
            if undecodable > 0, undecodableSeen.exchange(undecodable, ordering: .relaxed) != undecodable {
                logger.warning("inbox/ holds files whose names are not UTF-8; rename them to be taken",
                               metadata: ["count": "\(undecodable)"])
            }
            offer(names)
        } catch {
            logger.error("cannot list inbox/", metadata: ["error": "\(error)"])
        }
    }

    private func rescanPeriodically() async {
        while await stopping.pause(.seconds(settings.rescanSeconds)) {
            rescan()
        }
    }

    // MARK: Claiming

    /// Messages a worker takes at once. Their directory flushes are shared — one of
    /// `work/` and `inbox/` for the claims, one of `outbox/` for the deliveries, one of
    /// `work/` for the releases — which, beside the scan, is most of what a spool
    /// message costs.
    static let batchSize = 8

    /// A worker, on a file thread of its own until the queue closes: takes up to
    /// ``batchSize`` items and handles them whole (claim, read, filter, record,
    /// deliver, release, with retries), so that a message hops between threads only
    /// to be scanned and audited.
    private func work() {
        while case let items = queue.next(upTo: Self.batchSize), !items.isEmpty {
            process(items)
        }
    }

    /// Claims the batch's names (then flushes `work/` and `inbox/` once for all of
    /// them) and completes every claim; a claim whose first attempt failed is retried
    /// on its own.
    private func process(_ items: [SpoolQueue.Item]) {
        var attempts: [Attempt] = []
        var claimed = false
        for item in items {
            switch item {
            case .recovered(let claim):
                attempts.append(Attempt(claim: claim, fresh: false))
            case .inbox(let name):
                guard let claim = take(name) else { continue }
                attempts.append(Attempt(claim: claim, fresh: true))
                claimed = true
            }
        }
        // A claim must be durable before anything of its message is (stored, delivered):
        // both directories the renames changed, or after a power failure a name could be
        // back in inbox/ and its message handled twice. Until the flush succeeds nothing
        // goes further; if the service stops first, the claims are redone at the next start.
        var wait = 250
        while claimed {
            do {
                try directories.workSync.sync()
                try directories.inboxSync.sync()
                break
            } catch {
                logger.error("cannot flush work/ and inbox/ after claiming; retrying",
                             metadata: ["error": "\(error)", "retryInMs": "\(wait)"])
                guard stopping.pauseBlocking(.milliseconds(wait)) else { return }
                wait = min(wait * 2, 30_000)
            }
        }
        for (claim, error) in finish(attempts) { retry(claim, after: error) }
    }

    /// A claim to complete, and whether this process made it a moment ago: then no
    /// earlier attempt can have left anything behind (an outbox temporary file, a
    /// delivery), and three file-system lookups a message are saved.
    struct Attempt {
        var claim: SpoolClaim
        var fresh: Bool
    }

    /// Claims `name` by renaming it into `work/` (the caller flushes both directories);
    /// `nil` when it is gone (another process took it), not a regular file, or not old enough yet.
    private func take(_ name: String) -> SpoolClaim? {
        let path = directories.inboxPath(name)
        do {
            guard let status = try SpoolFiles.status(path), status.isRegular else { return nil }
            let minimumAge = Double(settings.minimumAgeMilliseconds) / 1000
            let age = Date().timeIntervalSince(status.modified)
            if minimumAge > 0, age < minimumAge {
                recheck(name, after: min(minimumAge, minimumAge - age))
                return nil
            }
            guard name.utf8.count <= SpoolClaim.longestName else {
                logger.error("a name in inbox/ is too long to be claimed; rename it (at most \(SpoolClaim.longestName) bytes)",
                             metadata: ["name": "\(name.prefix(64))…"])
                return nil
            }
            let claim = SpoolClaim(name: name)
            guard try SpoolFiles.move(path, to: directories.workPath(claim)) else { return nil }
            logger.debug("claimed", metadata: ["claim": "\(claim)"])
            return claim
        } catch {
            logger.error("cannot claim a message; it stays in inbox/ for the next rescan",
                         metadata: ["name": "\(name)", "error": "\(error)"])
            return nil
        }
    }

    private func recheck(_ name: String, after seconds: Double) {
        Task { [self] in
            if await stopping.pause(.milliseconds(Int(seconds * 1000) + 1)) { offer([name]) }
        }
    }
}
