import Foundation
import Kordon
import KordonServer
import Logging
import ServiceLifecycle
import Testing

/// Hosts the ICAP service for `Benchmarks/icap-vs-c-icap.py` and the interop checks
/// by hand, until `kordon serve` exists on this branch: with
/// `KORDON_ICAP_HOST_CONFIG=FILE` it loads that configuration, serves ICAP until
/// SIGTERM or SIGINT and prints `KORDON-ICAP-LISTENING <port>` once bound (and writes
/// the port to `KORDON_ICAP_HOST_PORT_FILE` when set: `swift test` may hold back output). Without
/// the variable it does nothing (it is not a test).
@Suite("ICAP benchmark host", .timeLimit(.minutes(10)))
struct ICAPBenchmarkHost {
    @Test("serve ICAP for the benchmark (only with KORDON_ICAP_HOST_CONFIG)",
          .enabled(if: ProcessInfo.processInfo.environment["KORDON_ICAP_HOST_CONFIG"] != nil))
    func serve() async throws {
        let path = try #require(ProcessInfo.processInfo.environment["KORDON_ICAP_HOST_CONFIG"])
        let configuration = try ConfigurationFile.load(path)
        var logger = Logger(label: "kordon.icap")
        logger.logLevel = .warning
        let filter = try FilterService(configuration: configuration, logger: logger)
        let icap = ICAPService(service: filter, configuration: configuration.service, logger: logger)
        let scanning = ScanningLifecycle(service: filter, grace: .seconds(configuration.service.gracePeriodSeconds), logger: logger)
        // The scanning side first in the group: shut down last, after the listener.
        let group = ServiceGroup(configuration: .init(services: [scanning, icap], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let task = Task { try await group.run() }
        let address = try await icap.boundAddress()
        FileHandle.standardOutput.write(Data("KORDON-ICAP-LISTENING \(address.port!)\n".utf8))
        if let portFile = ProcessInfo.processInfo.environment["KORDON_ICAP_HOST_PORT_FILE"] {
            try "\(address.port!)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
        }
        try await task.value
    }
}
