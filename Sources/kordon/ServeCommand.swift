import ArgumentParser
import Foundation
import Kordon
import KordonCore
import KordonServer
import Logging
import ServiceLifecycle
import UnixSignals

/// `kordon serve`: the gateway service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway service: the crash-safe spool (and the ICAP and HTTP listeners when configured).",
        discussion: """
        Loads the engines once, then filters every message that arrives through the \
        transports the configuration turns on. Scanning runs on a fixed pool of threads \
        (serve.threads, default one per core) with a bounded queue (serve.queue): a full \
        queue is answered "busy", never buffered without limit.

        Spool: every file that appears in <root>/inbox/ is claimed (renamed into \
        <root>/work/), filtered, and ends up exactly once in <root>/outbox/ (clean, or its \
        sanitized copy) or in the quarantine store (held; the original of a sanitized \
        message is kept there too), even if the process is killed at any moment: on start, \
        whatever work/ holds is finished. Writers must write under a temporary name (a \
        partialSuffixes ending, or a leading dot) and rename the file when it is complete. \
        A name already in outbox/ is never overwritten: the newcomer is delivered as \
        NAME.<claim-id>. Files in outbox/ whose names start with a dot are Kordon's \
        temporary files: readers skip them. One process serves a spool (a lock in work/).

        Signals: SIGTERM or SIGINT stops taking messages, finishes those in flight and \
        exits within serve.gracePeriodSeconds; SIGHUP reloads signatures, schemas and rule \
        packs (messages in flight finish on the old ones; a failed reload keeps them and \
        says why in the log). Logs go to stderr. Exit code 0 after a clean stop, 2 when \
        the service cannot start.

        Example configuration (kordon.yaml):
          state: /var/lib/kordon          # audit log and keys
          serve:
            threads: 0                    # 0: one per core
            queue: 64
            gracePeriodSeconds: 30
            spool:
              root: /var/spool/kordon     # inbox/ outbox/ quarantine/ work/
              partialSuffixes: [".tmp", ".part"]
              minimumAgeMilliseconds: 0
              rescanSeconds: 5

        Examples:
          kordon serve --config /etc/kordon/kordon.yaml
          kill -HUP $(pidof kordon)       # after freshclam or a rule-pack update
        """
    )

    /// swift-log's levels, as the option spells them.
    enum LogLevel: String, ExpressibleByArgument, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    @OptionGroup var engine: EngineOptions

    @Option(name: .long, help: "The lowest level logged to stderr.")
    var logLevel: LogLevel = .info

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "kordon")
        // Loading the engines is seconds of CPU: on a thread of its own, not the cooperative pool.
        let engine = self.engine
        let started = await withCheckedContinuation { (continuation: CheckedContinuation<Result<(FilterService, [any Service], Duration), Error>, Never>) in
            let thread = Thread {
                continuation.resume(returning: Result { try withStartupErrors { try Self.start(engine, logger: logger) } })
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        let (service, transports, grace) = try started.get()
        let services: [any Service] = [ScanningLifecycle(service: service, grace: grace, logger: logger)] + transports
        var settings = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        settings.maximumGracefulShutdownDuration = grace
        let group = ServiceGroup(configuration: settings)
        logger.info("kordon serve started", metadata: ["transports": "\(transports.map { "\(type(of: $0))" })"])
        do {
            try await group.run()
        } catch {
            StandardError.write("kordon: the service stopped: \((error as? KordonError)?.description ?? "\(error)")\n")
            throw ExitCode(2)
        }
        logger.info("kordon serve stopped")
    }

    /// Reads the configuration, builds the service and its transports.
    private static func start(_ engine: EngineOptions, logger: Logger) throws -> (FilterService, [any Service], Duration) {
        do {
            let configuration = try engine.configuration()
            try checkTransports(configuration.service)
            let service = try FilterService(configuration: configuration, logger: logger)
            let transports = try transports(for: service, configuration: configuration.service, logger: logger)
            return (service, transports, .seconds(configuration.service.gracePeriodSeconds))
        } catch let error where !(error is KordonError) {
            throw KordonError(code: "serve.start", message: "cannot start: \(error.localizedDescription)")
        }
    }

    /// Refuses a configuration that turns nothing on, before the engines load.
    static func checkTransports(_ configuration: ServiceConfiguration) throws {
        guard configuration.spool.root != nil || configuration.icap.listen != nil || configuration.http.listen != nil else {
            throw KordonError(code: "serve.nothing", message: "nothing to serve: set serve.spool.root, serve.icap.listen or serve.http.listen in the --config file")
        }
    }

    /// The transports the configuration turns on, in start order (they stop in reverse,
    /// before the scanning side). A transport is a ServiceLifecycle `Service` built from
    /// the shared `FilterService`, the service settings and a logger; its `run()` serves
    /// until graceful shutdown, then stops accepting, finishes what is in flight and
    /// returns. Adding one is one line here.
    static func transports(for service: FilterService, configuration: ServiceConfiguration, logger: Logger) throws -> [any Service] {
        var transports: [any Service] = []
        if configuration.spool.root != nil {
            transports.append(try SpoolService(service: service, configuration: configuration, logger: logger))
        }
        if configuration.icap.listen != nil {
            transports.append(ICAPService(service: service, configuration: configuration, logger: logger))
        }
        if configuration.http.listen != nil {
            transports.append(try HTTPService(service: service, configuration: configuration, logger: logger))
        }
        if configuration.watch {
            transports.append(ResourceWatcher(service: service, directories: ResourceWatcher.directories(of: service), logger: logger))
        }
        return transports
    }
}
