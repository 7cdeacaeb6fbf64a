import Foundation
import Kordon
import KordonCore
import KordonStore
import Logging
import Synchronization

/// Owns the engines in use (signatures, schemas, rule packs), their clean-verdict
/// cache and their reloads.
///
/// What readiness and the ICAP ISTag read — the engines, why the last reload failed,
/// how many loads there were — sits under one lock, so no reader sees one without the
/// other. Reloads run one at a time (``ReloadQueue``), and each is audited before it
/// takes effect: a swap whose record could not be written does not happen.
public final class EngineHost: Sendable {
    /// The engines a message is filtered with: taken once per message, so a reload
    /// in the middle of its scan changes nothing for it.
    public struct Engines: Sendable {
        /// The pipeline built from these engines.
        public let pipeline: Pipeline
        /// The ICAP ISTag of this generation.
        public let istag: String
        /// Clean verdicts these engines gave, by message digest and route.
        let cache: VerdictCache
    }

    private struct State {
        /// `nil` during a blocking reload.
        var loaded: Engines?
        var problem: String?
        var generation: Int
    }

    /// The configuration the engines are built from.
    public let configuration: Configuration
    private let state: Mutex<State>
    private let reloads = ReloadQueue()
    private let audit: AuditLog
    private let metrics: ServiceMetrics
    private let logger: Logger

    /// Builds the first engines (seconds of CPU: call it off the cooperative pool, as
    /// start-up does). Throws a ``KordonError`` naming what failed.
    public init(configuration: Configuration, audit: AuditLog, metrics: ServiceMetrics, logger: Logger) throws {
        self.configuration = configuration
        self.audit = audit
        self.metrics = metrics
        self.logger = logger
        let started = ContinuousClock.now
        let engines = try EngineSet(configuration: configuration)
        state = Mutex(State(loaded: Self.engines(engines, generation: 1, configuration.service), problem: nil, generation: 1))
        metrics.recordEngine(signatures: engines.clamav.signatureCount, loadTime: ContinuousClock.now - started)
        if let cache = engines.rules.cacheReport { logger.info("rule databases: \(cache.description)") }
        self.signatures = Atomic(engines.clamav.signatureCount)
    }

    private let signatures: Atomic<Int>

    /// Signatures in the engines in use, for the start record and the logs.
    public var signatureCount: Int { signatures.load(ordering: .relaxed) }

    /// The engines in use; throws ``ServiceUnavailable`` `reloading` during a blocking reload.
    public func inUse() throws(ServiceUnavailable) -> Engines {
        guard let current = state.withLock({ $0.loaded }) else { throw ServiceUnavailable.reloading }
        return current
    }

    /// The pipeline in use; `nil` during a blocking reload.
    public var pipeline: Pipeline? { state.withLock { $0.loaded?.pipeline } }

    /// The ICAP ISTag: changes whenever signatures, schemas or rules reload.
    public var istag: String { state.withLock { $0.loaded?.istag } ?? "\"kordon-reloading\"" }

    /// Whether messages can be filtered, and why the last reload failed.
    public var readiness: (ready: Bool, problem: String?) {
        state.withLock { ($0.loaded != nil, $0.problem) }
    }

    /// Builds new engines from the same configuration and swaps them in; scans in
    /// flight finish on the old ones. A reload that fails, or whose record cannot be
    /// written, keeps the old engines and says why in ``readiness`` and the log.
    /// Reloads asked for at once run one after the other.
    public func reload() async throws {
        try await reloads.run { try await reloadNow() }
    }

    private func reloadNow() async throws {
        let blocking = configuration.service.reload == .blocking
        var previous: Engines?
        if blocking {
            // Pausing the scans is this reload's first effect: recorded before it.
            try await audit.commit(AuditEntry(event: "reload", detail: "blocking: scanning paused while the engines are built"))
            previous = state.withLock { state in defer { state.loaded = nil }; return state.loaded }
        }
        let started = ContinuousClock.now
        let residentBefore = ProcessMemory.resident
        let built = await Self.build(configuration)
        do {
            let engines = try built.get()
            let next = state.withLock { $0.generation + 1 }  // reloads are serialized: nobody else moves it
            try await audit.commit(AuditEntry(event: "reload", detail: "generation \(next), \(engines.clamav.signatureCount) signatures"))
            state.withLock { state in
                state.generation = next
                state.loaded = Self.engines(engines, generation: next, configuration.service)
                state.problem = nil
            }
            signatures.store(engines.clamav.signatureCount, ordering: .relaxed)
            metrics.recordEngine(signatures: engines.clamav.signatureCount, loadTime: ContinuousClock.now - started)
            // The old engines go when the last scan holding them finishes; the peak shows what the reload cost.
            logger.info("reloaded", metadata: [
                "signatures": "\(engines.clamav.signatureCount)", "rules": "\(engines.rules.packs.count) packs",
                "strategy": "\(configuration.service.reload.rawValue)",
                "resident.before": "\(ProcessMemory.megabytes(residentBefore))",
                "resident.after": "\(ProcessMemory.megabytes(ProcessMemory.resident))",
                "resident.peak": "\(ProcessMemory.megabytes(ProcessMemory.peak))",
            ])
        } catch {
            let reason = (error as? KordonError)?.description ?? "\(error)"
            // No other reload ran meanwhile (ReloadQueue): the captured engines are still the newest good ones.
            state.withLock { state in
                if let previous { state.loaded = previous }
                state.problem = "reload failed: \(reason)"
            }
            logger.error("reload failed; the previous engines stay in use", metadata: ["reason": "\(reason)"])
            try? await audit.commit(AuditEntry(event: "reload", detail: "failed: \(reason)"))
            throw error
        }
    }

    /// Builds engines on a thread of their own: loading compiles signatures and
    /// schemas, seconds of CPU that must not hold a thread of the cooperative pool.
    private static func build(_ configuration: Configuration) async -> Result<EngineSet, Error> {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: Result { try EngineSet(configuration: configuration) }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private static func engines(_ engines: EngineSet, generation: Int, _ service: ServiceConfiguration) -> Engines {
        Engines(pipeline: Pipeline(engines: engines), istag: "\"kordon-\(generation)-\(Int(Date().timeIntervalSince1970))\"",
                cache: VerdictCache(capacity: service.cache.entries, maximumAge: .seconds(service.cache.seconds)))
    }
}
