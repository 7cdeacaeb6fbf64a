import KordonCore
import Logging
import ServiceLifecycle
import UnixSignals

/// The scanning side of a ``FilterService`` as a ServiceLifecycle `Service`, for
/// `kordon serve` and any other host that runs the service in-process: reloads the
/// engines on SIGHUP, and once every transport has stopped (put it first in the
/// group, so it is shut down last) stops the scanning threads, letting what is in
/// flight finish within the grace period, and records the stop.
public struct ScanningLifecycle: Service, CustomStringConvertible {
    let service: FilterService
    let grace: Duration
    let logger: Logger

    /// The lifecycle of `service`, waiting up to `grace` for scans in flight at shutdown.
    public init(service: FilterService, grace: Duration, logger: Logger) {
        self.service = service
        self.grace = grace
        self.logger = logger
    }

    /// `scanning`, in ServiceLifecycle's logs.
    public var description: String { "scanning" }

    /// Reloads on SIGHUP until graceful shutdown, then stops the scanning side.
    public func run() async throws {
        // Every task this transport starts is checked for blocking calls (debug builds).
        try await BlockingCallCheck.enforcing { try await serve() }
    }

    private func serve() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading signatures, schemas and rule packs")
            do {
                try await service.reload()
            } catch {
                // The engine host has logged why and keeps the previous engines.
                logger.warning("the previous engines stay in use after the failed reload")
            }
        }
        if await service.shutdown(grace: grace) {
            logger.info("scanning stopped; nothing left in flight")
        } else {
            logger.warning("grace period over with scans still running")
        }
    }
}
