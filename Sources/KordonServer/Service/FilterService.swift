import Foundation
import Kordon
import KordonCore
import KordonStore
import Logging
import NIOPosix

/// What every transport of one `kordon serve` shares, built once at start (like
/// Hummingbird's `Application`): the engines and their reloads (``EngineHost``), the
/// one ``Decider`` every message goes through, the quarantine store, the audit log
/// and the metrics. It owns nothing a part does not own: it wires them together.
public final class FilterService: Sendable {
    /// The configuration the service was started with.
    public let configuration: Configuration
    /// The engines in use and their reloads.
    public let engines: EngineHost
    /// Decides every message.
    public let decider: Decider
    /// Encrypted originals of quarantined and sanitized messages.
    public let store: QuarantineStore
    /// The HMAC-chained record of every decision.
    public let audit: AuditLog
    /// Prometheus metrics.
    public let metrics: ServiceMetrics
    /// The service's logger.
    public let logger: Logger

    /// Opens the store and the audit log, builds the engines and starts the scanning
    /// threads (seconds of CPU: call it from a thread of its own, as start-up does).
    /// Throws a ``KordonError`` naming what failed.
    public init(configuration: Configuration, logger: Logger) throws {
        _ = Self.noBlockingOnEventLoops
        self.configuration = configuration
        self.logger = logger
        let service = configuration.service
        metrics = ServiceMetrics()
        store = try QuarantineStore(directory: URL(fileURLWithPath: service.effectiveQuarantineDirectory),
                                    keyFile: service.effectiveQuarantineKeyFile)
        audit = try AuditLog(file: URL(fileURLWithPath: service.effectiveAuditFile), keyFile: service.effectiveAuditKeyFile)
        engines = try EngineHost(configuration: configuration, audit: audit, metrics: metrics, logger: logger)
        decider = Decider(engines: engines, store: store, audit: audit, metrics: metrics, service: service)
        // Start-up is synchronous and on a thread of its own: waiting for the flush here blocks nothing shared.
        try audit.append(AuditEntry(event: "start", detail: "kordon \(KordonVersion.current), \(engines.signatureCount) signatures"))
    }

    /// Debug builds trap a blocking call made on an event loop (see ``BlockingCallCheck``).
    private static let noBlockingOnEventLoops: Void = BlockingCallCheck.forbid {
        MultiThreadedEventLoopGroup.currentEventLoop != nil ? "a swift-nio event loop" : nil
    }

    /// The pipeline in use; `nil` during a blocking reload.
    public var pipeline: Pipeline? { engines.pipeline }

    /// The ICAP ISTag: changes whenever signatures, schemas or rules reload.
    public var istag: String { engines.istag }

    /// Whether the service can scan, and why not.
    public var readiness: (ready: Bool, problem: String?) { engines.readiness }

    /// Reloads signatures, schemas and rule packs (see ``EngineHost/reload()``).
    public func reload() async throws { try await engines.reload() }

    /// Stops taking messages, waits up to `grace` for those in flight, and records the stop.
    /// Suspends; the waiting is done on a thread of its own.
    public func shutdown(grace: Duration) async -> Bool {
        let decider = self.decider
        let drained = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: decider.stop(grace: grace)) }.start()
        }
        try? await audit.commit(AuditEntry(event: "stop", detail: drained ? "drained" : "grace period over"))
        return drained
    }
}
