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
    private let service: FilterService
    private let settings: ServiceConfiguration.Spool
    private let workers: Int
    private let logger: Logger
    private let outbox: SpoolOutbox
    private let queue = SpoolQueue()
    /// The workers' threads, one each (``work()``): their file work waits on fsyncs, so
    /// many messages wait on the disk at once and Swift's few cooperative threads never do.
    private let files: ScanPool
    private let stopping = StopSignal()
    private let counts = Mutex(Statistics())
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
        files = ScanPool(threads: workers, queueBound: workers, name: "kordon-spool", batch: true)
    }

    /// Counts since the service started.
    public var statistics: Statistics { counts.withLock { $0 } }

    /// Redoes what `work/` holds, then takes every message that arrives in `inbox/`
    /// until graceful shutdown (or cancellation): then it stops taking, finishes the
    /// messages in flight and returns. Whatever is still in `work/` (a message the
    /// service was busy with) is redone at the next start.
    public func run() async throws {
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
    private struct Attempt {
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

    // MARK: Completing a claim

    /// Retries a claim whose attempt failed with `error`, after a wait that suits
    /// the failure, until it is done or the service stops; a claim not done stays in
    /// `work/` for the next start.
    private func retry(_ claim: SpoolClaim, after error: Error) {
        var attempt = 0
        var failure: Error? = error
        while let error = failure {
            let delay: Duration
            switch error {
            case let refused as ServiceUnavailable where refused.code != "stopping":
                // busy or reloading: the scanning side will take it shortly. Short, jittered
                // waits, so that the spool keeps its share beside ICAP and HTTP clients.
                delay = .milliseconds(Int.random(in: 5...(10 + 5 * min(attempt, 8))))
            case let refused as ServiceUnavailable:
                logger.info("the scanning service is stopping; the message stays in work/ for the next start",
                            metadata: ["claim": "\(claim)", "reason": "\(refused.description)"])
                return
            default:
                // A store, audit-log or disk failure: back off, 0.25 s doubling up to 30 s.
                let milliseconds = min(30_000, 250 << min(attempt, 7))
                delay = .milliseconds(milliseconds)
                logger.error("cannot finish a claimed message; it stays in work/ and is retried",
                             metadata: ["claim": "\(claim)", "error": "\(error)", "retryInMs": "\(milliseconds)"])
            }
            attempt += 1
            counts.withLock { $0.retries += 1 }
            guard stopping.pauseBlocking(delay) else { return }
            failure = finish([Attempt(claim: claim, fresh: false)]).first?.1
        }
    }

    /// One attempt for each claim; each step is safe to repeat after a failure or a
    /// crash. The batch moves together, so that its thread blocks a few times for all
    /// of it rather than at every step of every message: the messages are read and
    /// filtered as one group (``FilterService/filterBlocking(_:)``); the passed ones
    /// are written to their outbox temporary files while the writer records the
    /// decisions; once each decision is recorded its message is linked into `outbox/`.
    /// The claims decided are released together: one flush of `outbox/` for those
    /// delivered (step 2 of ``SpoolOutbox``), their claims removed, one flush of
    /// `work/` (step 3), then their temporary files removed (step 4). Returns the
    /// claims not done, with why.
    ///
    /// The messages read are filtered in groups of at most `limits.maxMessageSize`
    /// bytes (a larger message is never read: see ``FilterService/holdOversized(file:source:route:transport:id:)``),
    /// so that a worker holds about that much in memory at most, whatever its batch:
    /// large messages go a few at a time, small ones all eight together.
    private func finish(_ attempts: [Attempt]) -> [(SpoolClaim, Error)] {
        let budget = service.configuration.limits.maxMessageSize
        var failed: [(SpoolClaim, Error)] = []
        var group: [Message] = []
        var bytes = 0
        var oversized: [SpoolClaim] = []
        for attempt in attempts {
            do {
                switch try read(attempt) {
                case .bytes(let data)?:
                    if !group.isEmpty, bytes + data.count > budget {
                        failed += complete(group, oversized: [])
                        group = []
                        bytes = 0
                    }
                    group.append(Message(claim: attempt.claim, data: data, fresh: attempt.fresh))
                    bytes += data.count
                case .tooLarge?: oversized.append(attempt.claim)
                case .notRegular?, nil: break
                }
            } catch {
                failed.append((attempt.claim, error))
            }
        }
        return failed + complete(group, oversized: oversized)
    }

    /// A claimed message read into memory.
    private struct Message {
        var claim: SpoolClaim
        var data: Data
        var fresh: Bool
    }

    /// ``finish(_:)`` for one group read into memory, and the claims too large to read.
    private func complete(_ messages: [Message], oversized: [SpoolClaim]) -> [(SpoolClaim, Error)] {
        var failed: [(SpoolClaim, Error)] = []
        let decisions = service.filterBlocking(messages.map {
            FilterService.Message(data: $0.data, source: $0.claim.name, route: nil, transport: "spool", id: $0.claim.id)
        })
        var written: [(claim: SpoolClaim, decision: FilterService.Decision, file: UnsyncedFile?)] = []
        for (message, decision) in zip(messages, decisions) {
            do {
                let decision = try decision.get()
                let file = try decision.outcome.result.output.map {
                    try outbox.write($0, for: message.claim, replacing: !message.fresh)
                }
                written.append((message.claim, decision, file))
            } catch {
                failed.append((message.claim, error))
            }
        }
        // The batch's outbox copies are flushed together (see UnsyncedFile): all writebacks first.
        for entry in written { entry.file?.startWriteback() }
        var decided: [(claim: SpoolClaim, delivered: Bool)] = []
        // Too large to read: held without being read into memory, streamed into the store.
        for claim in oversized {
            do {
                let outcome = try service.holdOversized(file: directories.workPath(claim), source: claim.name, route: nil,
                                                        transport: "spool", id: claim.id)
                decided.append((claim, try place(claim, outcome)))
            } catch {
                failed.append((claim, error))
            }
        }
        for (claim, decision, file) in written {
            do {
                try file?.flush()
                decided.append((claim, try place(claim, try decision.recorded())))
            } catch {
                failed.append((claim, error))
            }
        }
        guard !decided.isEmpty else { return failed }
        do {
            if decided.contains(where: \.delivered) { try directories.outboxSync.sync() }
            for (claim, _) in decided { try SpoolFiles.remove(directories.workPath(claim)) }
            try directories.workSync.sync()
        } catch {
            return failed + decided.map { ($0.claim, error) }
        }
        for (claim, _) in decided { outbox.finish(claim) }
        return failed
    }

    /// The claimed message's bytes, or `.tooLarge` when it holds more than
    /// `limits.maxMessageSize` (nothing kept in memory); `nil` when there is nothing to
    /// filter (delivered before a restart, vanished), after dealing with it.
    private func read(_ attempt: Attempt) throws -> SpoolFiles.Contents? {
        let claim = attempt.claim
        if !attempt.fresh {
            if try outbox.wasDelivered(claim) {
                try outbox.confirm()
                try release(claim)
                counts.withLock { $0.alreadyDelivered += 1 }
                logger.info("already delivered before the restart; released", metadata: ["claim": "\(claim)"])
                return nil
            }
            guard try SpoolFiles.status(directories.workPath(claim)) != nil else {
                logger.error("a claimed message vanished from work/", metadata: ["claim": "\(claim)"])
                return nil
            }
        }
        let contents = try SpoolFiles.readRegular(directories.workPath(claim), limit: service.configuration.limits.maxMessageSize)
        if case .notRegular = contents {
            // A symlink or device swapped in before the claim: not a message, and never followed.
            logger.warning("a claimed entry is not a regular file; removed", metadata: ["claim": "\(claim)"])
            try release(claim)
            return nil
        }
        return contents
    }

    /// Links the passed message, already written to its temporary file, into
    /// `outbox/` (step 2 of ``SpoolOutbox``, without the flush), or leaves it held;
    /// true when delivered.
    private func place(_ claim: SpoolClaim, _ outcome: FilterService.Outcome) throws -> Bool {
        let verdict = outcome.result.report.verdict
        guard outcome.result.output != nil else {
            counts.withLock { $0.held += 1 }
            logger.debug("held", metadata: ["claim": "\(claim)", "verdict": "\(verdict.rawValue)",
                                           "quarantineID": "\(outcome.quarantineID ?? "-")"])
            return false
        }
        let delivered = try outbox.publish(claim)
        counts.withLock { $0.delivered += 1 }
        logger.debug("delivered", metadata: ["claim": "\(claim)", "verdict": "\(verdict.rawValue)", "outbox": "\(delivered)"])
        return true
    }

    /// Removes the claim from `work/` (durably, before its outbox temporary file goes).
    private func release(_ claim: SpoolClaim) throws {
        try SpoolFiles.remove(directories.workPath(claim))
        try directories.workSync.sync()
        outbox.finish(claim)
    }
}
