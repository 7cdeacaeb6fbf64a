import Foundation
import KordonCore
import Prometheus

/// The service's Prometheus metrics: messages by verdict, findings by stage, scan
/// latency, queue depth, and the engine's signature count and load time.
public final class ServiceMetrics: Sendable {
    /// The registry `/metrics` prints.
    public let registry = PrometheusCollectorRegistry()
    private let latency: DurationHistogram
    private let queueDepth: Gauge
    private let signatures: Gauge
    private let loadSeconds: Gauge
    private let busy: Counter
    private let cacheHits: Counter

    /// Creates the metrics.
    public init() {
        latency = registry.makeDurationHistogram(
            name: "kordon_scan_duration_seconds",
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                      .seconds(2), .seconds(5), .seconds(10)],
            help: "Time from a message's arrival at the scanning pool to its verdict")
        queueDepth = registry.makeGauge(name: "kordon_queue_depth", help: "Messages waiting for a scanning thread")
        signatures = registry.makeGauge(name: "kordon_engine_signatures", help: "ClamAV signatures in the engine in use")
        loadSeconds = registry.makeGauge(name: "kordon_engine_load_seconds", help: "Time the engine in use took to load")
        busy = registry.makeCounter(name: "kordon_busy_total", help: "Messages refused because the queue was full")
        cacheHits = registry.makeCounter(name: "kordon_verdict_cache_hits_total",
                                         help: "Messages whose bytes the engines in use had already found clean (not scanned again)")
    }

    /// Records one message's outcome.
    public func record(_ report: Report, transport: String, duration: Duration) {
        latency.record(duration)
        registry.makeCounter(name: "kordon_messages_total",
                             labels: [("verdict", report.verdict.rawValue), ("transport", transport)]).increment()
        for finding in report.findings {
            registry.makeCounter(name: "kordon_findings_total", labels: [("stage", finding.stage.rawValue)]).increment()
        }
    }

    /// The queue depth now.
    public func setQueueDepth(_ depth: Int) { queueDepth.set(Double(depth)) }
    /// A message refused as busy.
    public func recordBusy() { busy.increment() }
    /// A message answered from the verdict cache.
    public func recordCacheHit() { cacheHits.increment() }
    /// The engine now in use.
    public func recordEngine(signatures count: Int, loadTime: Duration) {
        signatures.set(Double(count))
        loadSeconds.set(loadTime.seconds)
    }

    /// The exposition text for `/metrics`, with the process's memory as of now.
    public func exposition() -> String {
        registry.makeGauge(name: "kordon_process_resident_bytes", help: "Resident memory of the process now").set(Double(ProcessMemory.resident))
        registry.makeGauge(name: "kordon_process_resident_peak_bytes", help: "Highest resident memory so far (reloads hold two engine sets at once unless serve.reload is blocking)").set(Double(ProcessMemory.peak))
        return registry.emitToString()
    }
}
