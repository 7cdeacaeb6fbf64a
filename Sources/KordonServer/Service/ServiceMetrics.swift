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
            descriptor: Self.named("scan_duration", unit: "seconds", help: "Time from a message's arrival at the scanning pool to its verdict"),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                      .seconds(2), .seconds(5), .seconds(10)])
        queueDepth = registry.makeGauge(descriptor: Self.named("queue_depth", help: "Messages waiting for a scanning thread"))
        signatures = registry.makeGauge(descriptor: Self.named("engine_signatures", help: "ClamAV signatures in the engine in use"))
        loadSeconds = registry.makeGauge(descriptor: Self.named("engine_load", unit: "seconds", help: "Time the engine in use took to load"))
        busy = registry.makeCounter(descriptor: Self.named("busy", unit: "total", help: "Messages refused because the queue was full"))
        cacheHits = registry.makeCounter(descriptor: Self.named(
            "verdict_cache_hits", unit: "total", help: "Messages whose bytes the engines in use had already found clean (not scanned again)"))
    }

    /// Records one message's outcome.
    public func record(_ report: Report, transport: String, duration: Duration) {
        latency.record(duration)
        registry.makeCounter(descriptor: Self.messages,
                             labels: [("verdict", report.verdict.rawValue), ("transport", transport)]).increment()
        for finding in report.findings {
            registry.makeCounter(descriptor: Self.findings, labels: [("stage", finding.stage.rawValue)]).increment()
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
        registry.makeGauge(descriptor: Self.resident).set(Double(ProcessMemory.resident))
        registry.makeGauge(descriptor: Self.residentPeak).set(Double(ProcessMemory.peak))
        return registry.emitToString()
    }

    // MARK: Names

    /// `kordon_NAME` or `kordon_NAME_UNIT`, with its help line.
    private static func named(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "kordon", metricName: name, unitName: unit, helpText: help)
    }

    // Computed: the library's descriptor type is not Sendable, so it cannot be a stored static.
    private static var messages: MetricNameDescriptor { named("messages", unit: "total", help: "Messages decided, by verdict and transport") }
    private static var findings: MetricNameDescriptor { named("findings", unit: "total", help: "Findings in decided messages, by stage") }
    private static var resident: MetricNameDescriptor {
        named("process_resident", unit: "bytes", help: "Resident memory of the process now")
    }
    private static var residentPeak: MetricNameDescriptor {
        named("process_resident_peak", unit: "bytes",
              help: "Highest resident memory so far (reloads hold two engine sets at once unless serve.reload is blocking)")
    }
}
