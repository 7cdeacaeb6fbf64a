import Foundation
import Kordon
import KordonCore
import KordonCrypto
import KordonStore

/// Decides every message of every transport (spool, ICAP, HTTP, and the next one).
///
/// A decision is always the same four steps, written once here:
/// 1. **verdict** — from the verdict cache when these engines found these bytes clean
///    before, else a scan on a scanning thread (or, over the size limit, `unchecked`
///    without a scan);
/// 2. **keep** — the original of a held or sanitized message stored in the quarantine
///    (on the storing threads: it waits on fsyncs);
/// 3. **record** — the decision appended to the audit log, as far as its answer needs
///    (flushed for held and sanitized messages), before the transport acts on it;
/// 4. **count** — the metrics.
///
/// A transport only translates: its bytes into an ``IncomingMessage`` and the ``Decision``
/// into its protocol's answer. If a step fails the message is not passed.
public final class Decider: Sendable {
    private let engines: EngineHost
    private let store: QuarantineStore
    private let audit: AuditLog
    private let metrics: ServiceMetrics
    private let scanning: WorkerPool
    private let storing: WorkerPool
    private let flushEveryDecision: Bool

    init(engines: EngineHost, store: QuarantineStore, audit: AuditLog, metrics: ServiceMetrics, service: ServiceConfiguration) {
        self.engines = engines
        self.store = store
        self.audit = audit
        self.metrics = metrics
        flushEveryDecision = service.auditFlush == .all
        scanning = WorkerPool(threads: service.effectiveThreads, queueBound: service.queue, name: "kordon-scan")
        // A scanning thread waiting on a disk scans nothing meanwhile: originals have threads of their own.
        storing = WorkerPool(threads: service.effectiveThreads * 2, queueBound: Int.max, name: "kordon-store")
    }

    deinit {
        // Its threads end once idle; messages still storing have their callers, which hold the decider.
        storing.stop()
    }

    /// Messages waiting for a scanning thread.
    public var queueDepth: Int { scanning.depth }

    // MARK: - Entry points

    /// Decides one message, suspending (never blocking) the calling task. Throws
    /// ``ServiceUnavailable`` when busy, stopping or reloading, and the store's or the
    /// audit log's error when the decision could not be recorded.
    public func decide(_ message: IncomingMessage) async throws -> Decision {
        let request = try prepare(message)
        let decision: Decision
        if let hit = request.cached {
            decision = hit
        } else {
            metrics.setQueueDepth(scanning.depth + 1)
            let result: FilterResult
            do {
                result = try await scanning.submit(request.scan)
            } catch let refused as ServiceUnavailable {
                metrics.recordBusy()
                throw refused
            }
            metrics.setQueueDepth(scanning.depth)
            decision = result.report.verdict == .clean
                ? Decision(result: result, quarantineID: nil)
                : try await storing.submit { Result { try request.keep(result) } }.get()
        }
        // Concurrent decisions share one write and one flush of the audit log.
        try await audit.commit(.decision(decision), until: durability(decision))
        return count(decision, request)
    }

    /// Decides several messages for a caller on a thread of its own (the spool's file
    /// threads), blocking it as few times as it can: every scan is queued at once and
    /// waited for once; originals are stored on the calling thread; every decision is
    /// handed to the audit log without waiting, so the writer takes them as one group.
    /// The caller waits with ``PendingDecision/recorded()`` before it passes a message
    /// on. Each message's result is in its place: its decision, or why there is none.
    public func decideAll(_ messages: [IncomingMessage]) -> [Result<PendingDecision, Error>] {
        let requests = messages.map { message in Result { try prepare(message) } }
        var scans: [(index: Int, scan: @Sendable () -> FilterResult)] = []
        for (index, request) in requests.enumerated() {
            if case .success(let request) = request, request.cached == nil { scans.append((index, request.scan)) }
        }
        metrics.setQueueDepth(scanning.depth + scans.count)
        let results = scanning.runAll(scans.map(\.scan))
        metrics.setQueueDepth(scanning.depth)
        let scanned = Dictionary(uniqueKeysWithValues: zip(scans.map(\.index), results))
        return requests.indices.map { index in
            Result {
                let request = try requests[index].get()
                let decision: Decision
                if let hit = request.cached {
                    decision = hit
                } else {
                    let result: FilterResult
                    do {
                        result = try scanned[index]!.get()
                    } catch {
                        metrics.recordBusy()
                        throw error
                    }
                    decision = try request.keep(result)
                }
                let receipt = audit.submit(.decision(decision), until: durability(decision))
                return PendingDecision(decision: count(decision, request), receipt: receipt)
            }
        }
    }

    /// Decides a message over the size limit, suspending the calling task: held as
    /// `unchecked`, its original (when the transport kept it) streamed into the store
    /// on a storing thread, the decision flushed to the audit log.
    public func decide(_ oversized: OversizedMessage) async throws -> Decision {
        let started = ContinuousClock.now
        let pipeline = try engines.inUse().pipeline
        let (decision, detail) = try await storing.submit { Result { try Self.keep(oversized, pipeline: pipeline, in: self.store) } }.get()
        try await audit.commit(.decision(decision, detail: detail), until: .flushed)
        return count(decision, transport: oversized.transport, since: started)
    }

    /// ``decide(_:)-(OversizedMessage)`` for a caller on a thread of its own (the spool).
    /// Redoing it after a crash finds the original already stored under its id.
    public func decideBlocking(_ oversized: OversizedMessage) throws -> Decision {
        let started = ContinuousClock.now
        let pipeline = try engines.inUse().pipeline
        let (decision, detail) = try Self.keep(oversized, pipeline: pipeline, in: store)
        try audit.submit(.decision(decision, detail: detail), until: .flushed).wait()
        return count(decision, transport: oversized.transport, since: started)
    }

    /// Stops taking messages and waits up to `grace` for those in flight (blocks: call
    /// it from a thread of its own).
    func stop(grace: Duration) -> Bool {
        scanning.stop()
        return scanning.drain(timeout: grace)
    }

    // MARK: - The steps

    /// One message on its way: the cached decision for its bytes, or the job that
    /// scans it and the step that keeps its original when it is held or sanitized.
    private struct Request: Sendable {
        var transport: String
        var started: ContinuousClock.Instant
        var cached: Decision?
        var scan: @Sendable () -> FilterResult
        var keep: @Sendable (FilterResult) throws -> Decision
    }

    /// Step 1's set-up: takes the engines in use, looks the message up in their
    /// verdict cache and builds the scanning job (a clean verdict remembered).
    private func prepare(_ message: IncomingMessage) throws -> Request {
        let current = try engines.inUse()
        let pipeline = current.pipeline, cache = current.cache, metrics = self.metrics, store = self.store
        let data = message.data, route = message.route, held = message.held, id = message.id
        let source = pipeline.maskingIdentifiers(in: message.source)  // a URL or file name the sender chose: no raw identifier in reports
        let started = ContinuousClock.now
        // Small messages are hashed where they arrive, so a cache hit never waits for a scanning thread.
        let digest = data.count <= Self.inlineDigestLimit ? try? SHA256Digest.hex(data) : nil
        let scan: @Sendable () -> FilterResult = {
            // No digest (OpenSSL failed): no cache either, and the pipeline holds the message.
            guard let sha256 = digest ?? (try? SHA256Digest.hex(data)) else {
                return Self.holding(pipeline.filter(data, source: source, route: route), held)
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
        let keep: @Sendable (FilterResult) throws -> Decision = { result in
            guard result.report.verdict != .clean else { return Decision(result: result, quarantineID: nil) }
            let record = try store.put(id: id ?? UUID().uuidString.lowercased(), original: data, report: result.report)
            return Decision(result: result, quarantineID: record.id)
        }
        var request = Request(transport: message.transport, started: started, cached: nil, scan: scan, keep: keep)
        if held.isEmpty, let digest, let report = cache.report(for: VerdictCache.Key(sha256: digest, route: route), source: source) {
            // The same bytes were found clean by these engines: the decision is made again, the scan is not.
            metrics.recordCacheHit()
            request.cached = Decision(result: FilterResult(report: report, output: data), quarantineID: nil)
        }
        return request
    }

    /// `result` held with the transport's `findings` first: nothing is passed on.
    private static func holding(_ result: FilterResult, _ findings: [Finding]) -> FilterResult {
        guard !findings.isEmpty else { return result }
        var report = result.report
        report.findings = findings + report.findings
        report.verdict = .quarantined
        report.output = nil
        return FilterResult(report: report, output: nil)
    }

    /// Steps 1 and 2 for an oversized message: its `unchecked` verdict, and its original
    /// streamed into the store when the transport kept it. Returns the audit detail too.
    private static func keep(_ oversized: OversizedMessage, pipeline: Pipeline,
                             in store: QuarantineStore) throws -> (Decision, detail: String?) {
        let source = pipeline.maskingIdentifiers(in: oversized.source)
        switch oversized.original {
        case .notKept(let disposition):
            let result = pipeline.oversized(size: oversized.size, sha256: "", form: .opaque, source: source, route: oversized.route)
            return (Decision(result: result, quarantineID: nil), "\(oversized.size) bytes or more: not scanned, not stored; \(disposition)")
        case .file(let path, let id):
            let head = FileHead.read(path)
            var decided: FilterResult?
            let record = try store.put(id: id, file: path) { sha256, size in
                let result = pipeline.oversized(size: size, sha256: sha256, form: MessageForm.detect(head), source: source, route: oversized.route)
                decided = result
                return result.report
            }
            // Stored by an earlier attempt: its record holds the report.
            return (Decision(result: decided ?? FilterResult(report: record.report, output: nil), quarantineID: record.id), nil)
        }
    }

    /// How far a decision's audit record must go before the message is answered.
    private func durability(_ decision: Decision) -> AuditLog.Durability {
        flushEveryDecision || decision.report.verdict != .clean ? .flushed : .written
    }

    /// Step 4.
    private func count(_ decision: Decision, _ request: Request) -> Decision {
        count(decision, transport: request.transport, since: request.started)
    }

    private func count(_ decision: Decision, transport: String, since started: ContinuousClock.Instant) -> Decision {
        metrics.record(decision.report, transport: transport, duration: ContinuousClock.now - started)
        return decision
    }

    /// Messages up to this size are hashed on the caller's task; larger ones on the scanning thread.
    private static let inlineDigestLimit = 1 << 20
}

/// The first 4 KB of a regular file (never through a symlink), for its message form.
private enum FileHead {
    static func read(_ path: String) -> Data {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return Data() }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { (try? FileDescriptorIO.read(fd, into: $0.baseAddress!, count: $0.count)) ?? 0 }
        return Data(bytes.prefix(count))
    }
}
