import Foundation
import Hummingbird
import HummingbirdTLS
import Kordon
import KordonCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The HTTP API of `kordon serve`: `POST /v1/filter`, `GET /healthz`, `GET /readyz`
/// and `GET /metrics`, over HTTP/1.1 or TLS, with optional bearer-token auth.
///
/// A ServiceLifecycle `Service`: it runs until its task is cancelled or shut down
/// gracefully; a graceful shutdown stops accepting connections and lets the
/// requests in flight finish. Scanning never happens on an event loop: the route
/// hands the collected body to ``FilterService``, whose threads do the work.
///
/// ```swift
/// services.append(try HTTPService(service: filter, configuration: configuration.service, logger: logger))
/// ```
public struct HTTPService: Service, CustomStringConvertible {
    /// The address the service was configured to bind.
    public let listen: ListenAddress
    /// Whether the listener speaks TLS.
    public let usesTLS: Bool
    private let application: Application<RouterResponder<HTTPRequestContext>>

    /// Builds the HTTP API over `service` from the `serve.http` and `serve.tls`
    /// settings. Reads the bearer token file and the TLS certificate and key now, so
    /// that a mistake in them stops `kordon serve` at start, not at the first request.
    ///
    /// - Parameters:
    ///   - service: The scanning service every request goes through.
    ///   - configuration: The service settings; `http.listen` must be set (`host:port`,
    ///     port `0` lets the system choose).
    ///   - logger: The logger.
    ///   - onRunning: Called once the listener is bound, with the port it got
    ///     (how a caller that asked for port 0 learns the port).
    /// - Throws: ``KordonError`` `http.listen`, `serve.token` or `http.tls`.
    public init(service: FilterService, configuration: ServiceConfiguration, logger: Logger,
                onRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }) throws {
        guard let listen = configuration.http.listen else {
            throw KordonError(code: "http.listen", message: "serve.http.listen is not set; give host:port (e.g. 127.0.0.1:8080) to turn the HTTP API on")
        }
        self.listen = try ListenAddress(listen, key: "serve.http.listen", code: "http.listen")
        let token = try configuration.http.bearerTokenFile.map { try BearerTokenFile(path: $0, logger: logger) }
        let tls = try configuration.tls.map { try ServerTLS.configuration($0, code: "http.tls") }
        usesTLS = tls != nil
        let routes = HTTPRoutes(service: service, token: token, logger: logger)
        let address = self.listen
        let settings = ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "kordon")
        let running: @Sendable (any Channel) async -> Void = { channel in
            let port = channel.localAddress?.port ?? address.port
            logger.info("HTTP API listening", metadata: ["address": "\(address.host):\(port)", "tls": "\(tls != nil)"])
            await onRunning(port)
        }
        // Two calls, as the server builder's type is not exported by Hummingbird.
        if let tls {
            application = Application(router: routes.router(),
                                      server: try .tls(.http1(configuration: .init(idleTimeout: Self.idleTimeout)), tlsConfiguration: tls),
                                      configuration: settings, onServerRunning: running, logger: logger)
        } else {
            application = Application(router: routes.router(), server: .http1(configuration: .init(idleTimeout: Self.idleTimeout)),
                                      configuration: settings, onServerRunning: running, logger: logger)
        }
    }

    /// Runs the listener until cancelled or shut down gracefully.
    public func run() async throws {
        // Every task this transport starts is checked for blocking calls (debug builds).
        try await BlockingCallCheck.enforcing { try await serve() }
    }

    private func serve() async throws {
        try await application.run()
    }

    /// `HTTPService(host:port)`.
    public var description: String { "HTTPService(\(listen.host):\(listen.port))" }

    /// Keep-alive connections idle this long are closed (a request being scanned is not idle).
    private static let idleTimeout = TimeAmount.seconds(120)
}
