import Foundation
import Kordon
import KordonCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The ICAP server (RFC 3507) of `kordon serve`: OPTIONS, REQMOD and RESPMOD on
/// `serve.icap.listen`, optionally over TLS (`serve.tls`) and with a bearer token
/// (`serve.http.bearerTokenFile`, required on REQMOD and RESPMOD).
///
/// Every body is filtered whole before anything of it is answered: clean → `204`
/// (or the message unchanged when the client does not allow 204), sanitized → the
/// sanitized message, quarantined (an object over the size limit included) → an HTTP
/// `403` with a short explanation page. On graceful shutdown it stops accepting,
/// lets requests in flight finish within `serve.gracePeriodSeconds`, then closes.
///
/// ```swift
/// services.append(ICAPService(service: filterService, configuration: configuration.service, logger: logger))
/// ```
/// With no `serve.icap.listen` the service binds nothing and waits for shutdown.
///
/// Squid (`squid.conf`): `icap_enable on`, `icap_service kordon respmod_precache
/// icap://127.0.0.1:1344/kordon bypass=off`, `adaptation_access kordon allow all`, and
/// with a token `adaptation_meta Authorization "Bearer TOKEN"`. Squid 5 (Debian 12)
/// stalls RESPMOD bodies over about 64 KB for any service that answers only after the
/// whole body, as Kordon must (Squid bug 5352, fixed in Squid 6): use Squid 6 or later
/// in front of origins that send large files.
public final class ICAPService: Service, Sendable {
    private let service: FilterService
    private let configuration: ServiceConfiguration
    private let logger: Logger
    private let bufferBudget: Int
    private let bound = Mutex<BindState>(.waiting([]))

    private enum BindState {
        case waiting([CheckedContinuation<SocketAddress, Error>])
        case bound(SocketAddress)
        case failed(KordonError)
    }

    /// Creates the service. `bufferBudget` bounds the body bytes all connections may
    /// hold at once (default: twice the largest message, at least 256 MiB).
    public init(service: FilterService, configuration: ServiceConfiguration, logger: Logger, bufferBudget: Int? = nil) {
        self.service = service
        self.configuration = configuration
        self.logger = logger
        let largest = service.configuration.limits.maxMessageSize
        self.bufferBudget = bufferBudget ?? max(256 << 20, largest.multipliedReportingOverflow(by: 2).overflow ? Int.max : largest * 2)
    }

    /// The address the listener is bound to, once it is (`nil` before, or when ICAP is off).
    public var localAddress: SocketAddress? {
        bound.withLock { if case .bound(let address) = $0 { address } else { nil } }
    }

    /// Waits until ``run()`` has bound the listener and returns its address (with the
    /// port the OS chose for `:0`); throws when binding failed or ICAP is off.
    public func boundAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            bound.withLock { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                case .bound(let address): continuation.resume(returning: address)
                case .failed(let error): continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Serves until graceful shutdown or cancellation.
    public func run() async throws {
        // Every task this transport starts is checked for blocking calls (debug builds).
        try await BlockingCallCheck.enforcing { try await serve() }
    }

    private func serve() async throws {
        guard let listen = configuration.icap.listen else {
            settle(.failed(KordonError(code: "icap.off", message: "serve.icap.listen is not set")))
            try? await gracefulShutdown()
            return
        }
        let channel: Channel
        let connections = ICAPConnections(limit: configuration.icap.maxConnections, perAddress: configuration.icap.maxConnectionsPerAddress)
        let idle = TimeAmount.seconds(Int64(configuration.icap.idleTimeoutSeconds))
        do {
            let address = try ListenAddress(listen, key: "serve.icap.listen", code: "icap.listen")
            let shared = try makeShared()
            let tls = try configuration.tls.map { try NIOSSLContext(configuration: ServerTLS.configuration($0, code: "icap.tls")) }
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    let refusal = connections.add(channel)
                    return channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(ICAPQuickAck())
                        if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                        try pipeline.addHandler(IdleStateHandler(readTimeout: idle))
                        let control = ICAPPreviewControl()
                        try pipeline.addHandler(ByteToMessageHandler(ICAPDecoder(limits: shared.limits, control: control)))
                        try pipeline.addHandler(ICAPHandler(shared: shared, control: control, refusal: refusal))
                    }
                }
                .bind(host: address.host, port: address.port).get()
        } catch {
            let failure = (error as? KordonError)
                ?? KordonError(code: "icap.listen", message: "cannot listen for ICAP on \(listen): \(error); check serve.icap.listen")
            settle(.failed(failure))
            throw failure
        }
        let address = channel.localAddress!
        settle(.bound(address))
        logger.info("ICAP listening", metadata: ["address": "\(address)", "service": "\(configuration.icap.service)",
                                                 "tls": "\(configuration.tls != nil)"])
        try? await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
        // No new connections; let the ones with a request in flight finish it.
        connections.quiesce()
        let deadline = ContinuousClock.now + .seconds(configuration.gracePeriodSeconds)
        while connections.count > 0, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
        connections.closeAll()
        logger.info("ICAP stopped")
    }

    private func makeShared() throws -> ICAPShared {
        let authorization = try configuration.http.bearerTokenFile.map { try BearerTokenFile(path: $0, logger: logger) }
        let budget = ICAPBufferBudget(limit: bufferBudget)
        return ICAPShared(responder: ICAPResponder(service: service, configuration: configuration.icap, logger: logger, budget: budget),
                          limits: ICAPLimits(), budget: budget, authorization: authorization,
                          maxBody: service.configuration.limits.maxMessageSize, queueBound: configuration.queue, logger: logger,
                          headTimeout: .seconds(Int64(configuration.icap.headTimeoutSeconds)))
    }

    private func settle(_ state: BindState) {
        let waiters: [CheckedContinuation<SocketAddress, Error>] = bound.withLock { current in
            guard case .waiting(let waiters) = current else { return [] }
            current = state
            return waiters
        }
        for waiter in waiters {
            switch state {
            case .bound(let address): waiter.resume(returning: address)
            case .failed(let error): waiter.resume(throwing: error)
            case .waiting: break
            }
        }
    }
}

/// The open connections of one listener: counted against Max-Connections and against
/// the bound per client address, told to finish on shutdown.
final class ICAPConnections: Sendable {
    private struct Open {
        var channels: [ObjectIdentifier: Channel] = [:]
        var perAddress: [String: Int] = [:]
    }

    private let limit: Int
    private let perAddressLimit: Int
    private let open = Mutex(Open())

    init(limit: Int, perAddress: Int) {
        self.limit = limit
        self.perAddressLimit = perAddress
    }

    /// Tracks `channel` until it closes; says why it is refused when it is over a limit
    /// (it is then answered 503 and closed), `nil` when it is taken. One client address
    /// cannot hold every connection: half-sent heads from one host leave the others room.
    func add(_ channel: Channel) -> String? {
        let id = ObjectIdentifier(channel)
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let refusal: String? = open.withLock { open in
            defer {
                open.channels[id] = channel
                open.perAddress[address, default: 0] += 1
            }
            if open.channels.count >= limit { return "too many connections" }
            if open.perAddress[address, default: 0] >= perAddressLimit { return "too many connections from this address" }
            return nil
        }
        channel.closeFuture.whenComplete { [self] _ in
            open.withLock { open in
                open.channels.removeValue(forKey: id)
                let left = open.perAddress[address, default: 1] - 1
                open.perAddress[address] = left > 0 ? left : nil
            }
        }
        return refusal
    }

    /// Connections open now.
    var count: Int { open.withLock { $0.channels.count } }

    /// Asks every connection to close once its current request is answered.
    func quiesce() {
        for channel in open.withLock({ Array($0.channels.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Closes every connection now.
    func closeAll() {
        for channel in open.withLock({ Array($0.channels.values) }) { channel.close(promise: nil) }
    }
}

/// Acknowledges every read at once (Linux `TCP_QUICKACK`). A client that does not
/// set TCP_NODELAY (stock `c-icap-client`) holds its second small write until the
/// first is acknowledged; with delayed ACKs that is a 40 ms stall per request.
final class ICAPQuickAck: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        quickAck(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        quickAck(context)
        context.fireChannelRead(data)
    }

    private func quickAck(_ context: ChannelHandlerContext) {
        #if os(Linux)
        // TCP_QUICKACK (12) is not sticky: the kernel may fall back to delayed ACKs, so it is set after each read.
        try? context.channel.syncOptions?.setOption(.tcpOption(.init(rawValue: 12)), value: 1)
        #endif
    }
}
