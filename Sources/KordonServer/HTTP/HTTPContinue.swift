import Hummingbird
import NIOCore
import NIOSSL

/// The request context of the API: Hummingbird's basics plus the connection, which
/// ``HTTPContinue`` writes to.
struct HTTPRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// `Expect: 100-continue`: a client that sends it (curl does for bodies over 1 MiB)
/// waits for `100 Continue` before it sends the body, and Hummingbird 2.28 never
/// sends one, so each such request would stall for the client's timeout (1 s for
/// curl). The route sends it once the message is admitted (authorized, declared
/// length within the limit, memory reserved) and before it reads the body; a
/// refused message gets its final answer instead and the body is never sent.
enum HTTPContinue {
    /// Whether the request asks for `100 Continue` (HTTP/1.1 only, RFC 9110 §10.1.1).
    static func isExpected(_ request: Request, declaredLength: Int?) -> Bool {
        guard let expect = request.headers[.expect], expect.lowercased() == "100-continue" else { return false }
        return declaredLength != 0
    }

    /// Writes `HTTP/1.1 100 Continue` on `channel`, below the HTTP encoder (an
    /// interim response is a complete message of its own; no final response of
    /// this connection is under way while a request's body is still unread).
    static func send(on channel: any Channel) async throws {
        try await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            let context: ChannelHandlerContext
            if let existing = try? pipeline.context(handlerType: HTTPContinueWriter.self) {
                context = existing
            } else {
                let writer = HTTPContinueWriter()
                // Raw bytes: above TLS when there is TLS, else straight to the socket.
                if let tls = try? pipeline.handler(type: NIOSSLServerHandler.self) {
                    try pipeline.addHandler(writer, position: .after(tls))
                } else {
                    try pipeline.addHandler(writer, position: .first)
                }
                context = try pipeline.context(handler: writer)
            }
            context.writeAndFlush(NIOAny(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
        }.get()
    }
}

/// A pass-through handler at the byte level of a connection: its context is where
/// ``HTTPContinue`` writes the interim response.
final class HTTPContinueWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
}
