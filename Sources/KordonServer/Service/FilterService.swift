import Foundation
import Kordon
import KordonCore
import KordonCrypto
import KordonStore
import Logging
import Synchronization

/// The scanning side every transport shares: the engines in use (swapped on reload),
/// the bounded pool of scanning threads, the quarantine store, the audit log and the
/// metrics. Spool, ICAP and HTTP all filter through ``filter(_:source:route:transport:id:)``.
public final class FilterService: Sendable {
    /// One message's outcome.
    public struct Outcome: Sendable {
        /// The pipeline's result: report and output.
        public var result: FilterResult
        /// The quarantine id of the stored original (quarantined and sanitized messages).
        public var quarantineID: String?
    }

    /// The engines in use, what identifies them, and the clean verdicts they gave.
    private struct Loaded: Sendable {
        var pipeline: Pipeline
        var istag: String
        var cache: VerdictCache
    }

    /// The configuration the service was started with.
    public let configuration: Configuration
    /// Encrypted originals of quarantined and sanitized messages.
    public let store: QuarantineStore
    /// The HMAC-chained record of every decision.
    public let audit: AuditLog
    /// Prometheus metrics.
    public let metrics: ServiceMetrics
    /// The service's logger.
    public let logger: Logger
    private let pool: ScanPool
    /// Threads that store originals in the quarantine (fsyncs of the blob and the
    /// index): a scanning thread waiting on a disk scans nothing meanwhile.
    private let storing: ScanPool
    /// The engines in use, why the last reload failed, and how many loads there were:
    /// one lock, so that readiness never sees one without the other.
    private let engines: Mutex<EngineState>
    /// Reloads run one at a time.
    private let reloads = ReloadQueue()

    private struct EngineState {
        /// `nil` during a blocking reload.
        var loaded: Loaded?
        var problem: String?
        var generation: Int
    }

    /// Builds the engines, opens the store and the audit log, and starts the
    /// scanning threads. Throws a ``KordonError`` naming what failed.
    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let service = configuration.service
        metrics = ServiceMetrics()
        store = try QuarantineStore(directory: URL(fileURLWithPath: service.effectiveQuarantineDirectory),
                                    keyFile: service.effectiveQuarantineKeyFile)
        audit = try AuditLog(file: URL(fileURLWithPath: service.effectiveAuditFile), keyFile: service.effectiveAuditKeyFile)
        let started = ContinuousClock.now
        let engines = try EngineSet(configuration: configuration)
        self.engines = Mutex(EngineState(loaded: Loaded(pipeline: Pipeline(engines: engines), istag: Self.istag(1), cache: Self.cache(service)),
                                         problem: nil, generation: 1))
        metrics.recordEngine(signatures: engines.clamav.signatureCount, loadTime: ContinuousClock.now - started)
        if let cache = engines.rules.cacheReport { logger.info("rule databases: \(cache.description)") }
        pool = ScanPool(threads: service.effectiveThreads, queueBound: service.queue)
        storing = ScanPool(threads: service.effectiveThreads * 2, queueBound: Int.max, name: "kordon-store")
        try audit.append(AuditEntry(event: "start", detail: "kordon \(KordonVersion.current), \(engines.clamav.signatureCount) signatures"))
    }

    deinit {
        // Its threads end once idle; messages still storing have their callers, which hold the service.
        storing.stop()
    }

    /// The pipeline in use; `nil` during a blocking reload.
    public var pipeline: Pipeline? { engines.withLock { $0.loaded?.pipeline } }

    /// The ICAP ISTag: changes whenever signatures, schemas or rules reload.
    public var istag: String { engines.withLock { $0.loaded?.istag } ?? "\"kordon-reloading\"" }

    /// Whether the service can scan, and why not.
    public var readiness: (ready: Bool, problem: String?) {
        engines.withLock { ($0.loaded != nil, $0.problem) }
    }

    /// Messages waiting for a scanning thread.
    public var queueDepth: Int { pool.depth }

    /// Filters one message on a scanning thread (unless the verdict cache already
    /// holds these bytes as clean), stores the original when it is held or sanitized,
    /// appends the decision to the audit log, and records metrics.
    /// Throws ``ServiceUnavailable`` when busy or stopping, and the store's or audit
    /// log's error when the decision could not be recorded (the message is then not
    /// passed). The spool uses ``filterBlocking(_:)`` instead.
    /// `held`: findings the transport made before the pipeline (a body whose
    /// Content-Encoding cannot be decoded); with any, the message is quarantined with
    /// them whatever the stages say, and the verdict cache is not consulted.
    public func filter(_ data: Data, source: String, route: Report.Route?, transport: String,
                       id: String? = nil, held: [Finding] = []) async throws -> Outcome {
        let request = try prepare(data, source: source, route: route, id: id, held: held)
        let decided: Decided
        if let hit = request.cached {
            decided = hit
        } else {
            metrics.setQueueDepth(pool.depth + 1)
            let result: FilterResult
            do {
                result = try await pool.submit(request.scan)
            } catch let refused as ServiceUnavailable {
                metrics.recordBusy()
                throw refused
            }
            metrics.setQueueDepth(pool.depth)
            let stored = result.report.verdict == .clean ? nil : try await storing.submit { Result { try request.keep(result) } }.get()
            decided = (result, stored)
        }
        // Concurrent decisions share one write and one flush of the audit log.
        try await audit.commit(Self.decision(decided), until: durability(decided))
        return outcome(decided, transport: transport, since: request.started)
    }

    /// One message for ``filterBlocking(_:)``.
    public struct Message: Sendable {
        /// The message's bytes.
        public var data: Data
        /// Where it came from (a file name, a URL), for reports and the store.
        public var source: String
        /// Its route, when the transport knows it; otherwise read from the message.
        public var route: Report.Route?
        /// `spool`, `icap` or `http`, for metrics.
        public var transport: String
        /// The quarantine id to store it under when held or sanitized (a fresh one when `nil`).
        public var id: String?

        /// A message to filter.
        public init(data: Data, source: String, route: Report.Route?, transport: String, id: String? = nil) {
            self.data = data
            self.source = source
            self.route = route
            self.transport = transport
            self.id = id
        }
    }

    /// A decision whose audit record is on its way to the log.
    public struct Decision: Sendable {
        /// What was decided (the original is already stored when held or sanitized).
        public var outcome: Outcome
        fileprivate let receipt: AuditLog.Receipt

        /// Waits until the decision's audit record has gone as far as the message's
        /// answer needs (see ``AuditLog/Durability``); throws the log's error, and then
        /// the message must not be passed on.
        public func recorded() throws -> Outcome {
            try receipt.wait()
            return outcome
        }
    }

    /// Filters several messages for a caller on a thread of its own (the spool's
    /// file threads), blocking it as few times as it can: every scan is queued at
    /// once and waited for once; the originals of held and sanitized messages are
    /// stored on the calling thread (which may wait on a disk); every decision is
    /// handed to the audit log without waiting, so that the writer takes them as one
    /// group, and the caller waits with ``Decision/recorded()`` before it passes a
    /// message on. Each message's result is in its place: its decision, or why there
    /// is none (``ServiceUnavailable`` when busy or stopping, the store's error).
    public func filterBlocking(_ messages: [Message]) -> [Result<Decision, Error>] {
        let requests = messages.map { message in
            Result { try prepare(message.data, source: message.source, route: message.route, id: message.id) }
        }
        var scanning: [(index: Int, scan: @Sendable () -> FilterResult)] = []
        for (index, request) in requests.enumerated() {
            if case .success(let request) = request, request.cached == nil { scanning.append((index, request.scan)) }
        }
        metrics.setQueueDepth(pool.depth + scanning.count)
        let results = pool.runAll(scanning.map(\.scan))
        metrics.setQueueDepth(pool.depth)
        let scanned = Dictionary(uniqueKeysWithValues: zip(scanning.map(\.index), results))
        return requests.indices.map { index in
            Result {
                let request = try requests[index].get()
                let decided: Decided
                if let hit = request.cached {
                    decided = hit
                } else {
                    let result: FilterResult
                    do {
                        result = try scanned[index]!.get()
                    } catch {
                        metrics.recordBusy()
                        throw error
                    }
                    decided = (result, try request.keep(result))
                }
                let receipt = audit.submit(Self.decision(decided), until: durability(decided))
                return Decision(outcome: outcome(decided, transport: messages[index].transport, since: request.started),
                                receipt: receipt)
            }
        }
    }

    /// Holds the file at `path`, larger than ``Limits/maxMessageSize``, without reading
    /// it into memory: quarantined as `unchecked` (never scanned, never passed), its
    /// original streamed into the quarantine store under `id`, the decision audited and
    /// flushed before this returns. For a caller on a thread of its own (the spool).
    /// Redoing it after a crash finds the original already stored under `id`.
    public func holdOversized(file path: String, source: String, route: Report.Route?, transport: String,
                              id: String) throws -> Outcome {
        let pipeline = try inUse().pipeline
        let started = ContinuousClock.now
        let head = Self.head(of: path)
        var decided: FilterResult?
        let record = try store.put(id: id, file: path) { sha256, size in
            let result = pipeline.oversized(size: size, sha256: sha256, form: MessageForm.detect(head),
                                            source: pipeline.maskingIdentifiers(in: source), route: route)
            decided = result
            return result.report
        }
        // Stored by an earlier attempt: its record holds the report.
        let result = decided ?? FilterResult(report: record.report, output: nil)
        try audit.submit(Self.decision(result.report, quarantineID: record.id), until: .flushed).wait()
        return outcome((result, record.id), transport: transport, since: started)
    }

    /// The first 4 KB of the regular file at `path` (never through a symlink), for its form.
    private static func head(of path: String) -> Data {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return Data() }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { (try? FileDescriptorIO.read(fd, into: $0.baseAddress!, count: $0.count)) ?? 0 }
        return Data(bytes.prefix(count))
    }

    /// A decision before it is recorded: the pipeline's result and the stored original's quarantine id.
    private typealias Decided = (result: FilterResult, quarantineID: String?)

    /// One message on its way: the cached decision for its bytes, or the job that
    /// scans it and the step that stores its original when it is held or sanitized.
    private struct Request: Sendable {
        var started: ContinuousClock.Instant
        var cached: Decided?
        var scan: @Sendable () -> FilterResult
        var keep: @Sendable (FilterResult) throws -> String?
    }

    /// Takes the engines in use, looks the message up in their verdict cache and
    /// builds the scanning job (the pipeline; a clean verdict remembered) and the
    /// storing step (never on Swift's cooperative pool or a scanning thread: it waits on fsyncs).
    private func prepare(_ data: Data, source: String, route: Report.Route?, id: String?, held: [Finding] = []) throws -> Request {
        let current = try inUse()
        let pipeline = current.pipeline, cache = current.cache
        let source = pipeline.maskingIdentifiers(in: source)  // a URL or file name the sender chose: no raw identifier in reports
        let started = ContinuousClock.now
        // Small messages are hashed where they arrive, so a cache hit never waits for a scanning thread.
        let digest = data.count <= Self.inlineDigestLimit ? try? SHA256Digest.hex(data) : nil
        let store = self.store, metrics = self.metrics
        let scan: @Sendable () -> FilterResult = {
            // No digest (OpenSSL failed): no cache either, and the pipeline holds the message.
            guard let sha256 = digest ?? (try? SHA256Digest.hex(data)) else {
                let result = pipeline.filter(data, source: source, route: route)
                return held.isEmpty ? result : Self.holding(result, held)
            }
            guard held.isEmpty else { return Self.holding(pipeline.filter(data, source: source, route: route, sha256: sha256), held) }
            let key = VerdictCache.Key(sha256: sha256, route: route)
            if digest == nil, let report = cache.report(for: key, source: source) {  // not looked up yet: large
                metrics.recordCacheHit()
                return FilterResult(report: report, output: data)
            }
            let result = pipeline.filter(data, source: source, route: route, sha256: sha256)
            cache.remember(result.report, for: key)
            return result
        }
        let keep: @Sendable (FilterResult) throws -> String? = { try Self.keep($0, original: data, id: id, in: store) }
        if held.isEmpty, let digest, let report = cache.report(for: VerdictCache.Key(sha256: digest, route: route), source: source) {
            // The same bytes were found clean by these engines: the decision is made again, the scan is not.
            metrics.recordCacheHit()
            return Request(started: started, cached: (FilterResult(report: report, output: data), nil), scan: scan, keep: keep)
        }
        return Request(started: started, cached: nil, scan: scan, keep: keep)
    }

    /// `result` quarantined with the transport's `findings` first: nothing is passed on.
    private static func holding(_ result: FilterResult, _ findings: [Finding]) -> FilterResult {
        var report = result.report
        report.findings = findings + report.findings
        report.verdict = .quarantined
        report.output = nil
        return FilterResult(report: report, output: nil)
    }

    /// The engines in use; throws ``ServiceUnavailable`` `reloading` during a blocking reload.
    private func inUse() throws -> Loaded {
        guard let current = engines.withLock({ $0.loaded }) else { throw ServiceUnavailable.reloading }
        return current
    }

    /// How far a decision's audit record must go before the message is answered.
    private func durability(_ decided: Decided) -> AuditLog.Durability {
        configuration.service.auditFlush == .all || decided.result.report.verdict != .clean ? .flushed : .written
    }

    private func outcome(_ decided: Decided, transport: String, since started: ContinuousClock.Instant) -> Outcome {
        metrics.record(decided.result.report, transport: transport, duration: ContinuousClock.now - started)
        return Outcome(result: decided.result, quarantineID: decided.quarantineID)
    }

    /// Messages up to this size are hashed on the caller's task; larger ones on the scanning thread.
    private static let inlineDigestLimit = 1 << 20

    /// Stores the original of a held or sanitized message; returns its quarantine id.
    private static func keep(_ result: FilterResult, original: Data, id: String?, in store: QuarantineStore) throws -> String? {
        guard result.report.verdict != .clean else { return nil }
        return try store.put(id: id ?? UUID().uuidString.lowercased(), original: original, report: result.report).id
    }

    /// The audit record of one decision: digests, verdict, rule ids, route — never content.
    private static func decision(_ decided: Decided) -> AuditEntry {
        decision(decided.result.report, quarantineID: decided.quarantineID)
    }

    private static func decision(_ report: Report, quarantineID: String?) -> AuditEntry {
        AuditEntry(event: "decision", source: report.message.source, messageSHA256: report.message.sha256,
                   outputSHA256: report.output?.sha256, verdict: report.verdict.rawValue,
                   rules: Array(Set(report.findings.map(\.rule))).sorted(), route: report.message.route,
                   quarantineID: quarantineID)
    }

    /// Builds new engines from the same configuration and swaps them in; scans in
    /// flight finish on the old ones. A reload that fails keeps the old engines and
    /// reports why in ``readiness`` and the log. Reloads asked for at once run one
    /// after the other (``ReloadQueue``).
    public func reload() async throws {
        try await reloads.run { try await reloadNow() }
    }

    private func reloadNow() async throws {
        let blocking = configuration.service.reload == .blocking
        let previous: Loaded? = blocking ? engines.withLock { state in defer { state.loaded = nil }; return state.loaded } : nil
        let started = ContinuousClock.now
        let residentBefore = ProcessMemory.resident
        let configuration = self.configuration
        let built: Result<EngineSet, Error> = await withCheckedContinuation { continuation in
            // Loading compiles signatures and schemas: seconds of CPU, on its own thread.
            let thread = Thread { continuation.resume(returning: Result { try EngineSet(configuration: configuration) }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
        switch built {
        case .success(let engines):
            let next = self.engines.withLock { state in
                state.generation += 1
                state.loaded = Loaded(pipeline: Pipeline(engines: engines), istag: Self.istag(state.generation), cache: Self.cache(configuration.service))
                state.problem = nil
                return state.generation
            }
            metrics.recordEngine(signatures: engines.clamav.signatureCount, loadTime: ContinuousClock.now - started)
            // The old engines go when the last scan holding them finishes; the peak shows what the reload cost.
            logger.info("reloaded", metadata: [
                "signatures": "\(engines.clamav.signatureCount)", "rules": "\(engines.rules.packs.count) packs",
                "strategy": "\(configuration.service.reload.rawValue)",
                "resident.before": "\(ProcessMemory.megabytes(residentBefore))",
                "resident.after": "\(ProcessMemory.megabytes(ProcessMemory.resident))",
                "resident.peak": "\(ProcessMemory.megabytes(ProcessMemory.peak))",
            ])
            try? audit.append(AuditEntry(event: "reload", detail: "generation \(next), \(engines.clamav.signatureCount) signatures"))
        case .failure(let error):
            let reason = (error as? KordonError)?.description ?? "\(error)"
            // No other reload ran meanwhile (ReloadQueue): the captured engines are still the newest good ones.
            engines.withLock { state in
                if let previous { state.loaded = previous }
                state.problem = "reload failed: \(reason)"
            }
            logger.error("reload failed; the previous engines stay in use", metadata: ["reason": "\(reason)"])
            try? audit.append(AuditEntry(event: "reload", detail: "failed: \(reason)"))
            throw error
        }
    }

    /// Stops taking messages and waits up to `grace` for those in flight.
    public func shutdown(grace: Duration) -> Bool {
        pool.stop()
        let drained = pool.drain(timeout: grace)
        try? audit.append(AuditEntry(event: "stop", detail: drained ? "drained" : "grace period over"))
        return drained
    }

    private static func cache(_ service: ServiceConfiguration) -> VerdictCache {
        VerdictCache(capacity: service.cache.entries, maximumAge: .seconds(service.cache.seconds))
    }

    private static func istag(_ generation: Int) -> String {
        "\"kordon-\(generation)-\(Int(Date().timeIntervalSince1970))\""
    }
}
