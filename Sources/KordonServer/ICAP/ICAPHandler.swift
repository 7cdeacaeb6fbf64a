import KordonCore
import NIOCore

/// One ICAP connection: collects each request's body (bounded), answers `100
/// Continue` after a preview, has the body filtered off the event loop and writes the
/// answer in one flush. Requests on a connection are answered in order: while one
/// waits for its verdict, reading stops and parts already decoded wait their turn.
final class ICAPHandler: ChannelDuplexHandler {
    typealias InboundIn = ICAPRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One request being received.
    private struct Request {
        var head: ICAPRequestHead
        var body = ByteBuffer()
        var received = 0
        var reserved = 0
        var overLimit = false
        /// An answer decided before the body arrived (auth, service, busy): the body is discarded.
        var rejection: ICAPAnswer?
        var route: Report.Route?
    }

    private let shared: ICAPShared
    private let control: ICAPPreviewControl
    /// Why the connection is refused at once (too many connections), or `nil`.
    private let refusal: String?
    /// Runs while a head is awaited: from the connection's start, then from each head's first byte.
    private var headDeadline: Scheduled<Void>?
    private var request: Request?
    private var pending: [ICAPRequestPart] = []
    private var awaitingVerdict = false
    private var readHeld = false
    private var quiescing = false
    private var closed = false

    init(shared: ICAPShared, control: ICAPPreviewControl, refusal: String?) {
        self.shared = shared
        self.control = control
        self.refusal = refusal
    }

    func channelActive(context: ChannelHandlerContext) {
        if let refusal {
            send(.error(.serviceUnavailable, refusal, close: true), context: context)
        } else {
            armHeadDeadline(context: context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        disarmHeadDeadline()
        releaseBudget()
        request = nil
        pending.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if awaitingVerdict || !pending.isEmpty {
            pending.append(part)
        } else {
            handle(part, context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        // Back-pressure: no more input while a verdict is pending.
        if awaitingVerdict { readHeld = true } else { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if request == nil && !awaitingVerdict { context.close(promise: nil) }
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, !awaitingVerdict {
            // A client that stalls mid-request (or idles between requests) is let go.
            if request != nil { send(.error(.requestTimeout, "the request did not arrive in time", close: true), context: context) }
            else { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        shared.logger.debug("ICAP connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Requests

    private func handle(_ part: ICAPRequestPart, context: ChannelHandlerContext) {
        guard !closed else { return }
        switch part {
        case .malformed(let status, let reason):
            disarmHeadDeadline()
            releaseBudget()
            request = nil
            send(.error(status, reason, close: true), context: context)
        case .headStarted:
            armHeadDeadline(context: context)
        case .head(let head):
            disarmHeadDeadline()
            request = Request(head: head)
            request!.rejection = screen(head, route: &request!.route)
        case .body(let bytes):
            receive(bytes)
        case .previewEnd:
            guard let current = request else { return }
            if current.rejection != nil || current.overLimit {
                control.decision = .answered
                finish(current, ieof: false, context: context)
            } else {
                control.decision = .continueBody
                var buffer = context.channel.allocator.buffer(capacity: 32)
                buffer.writeStaticString(ICAPAnswer.continueAfterPreview)
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            }
        case .end(let ieof):
            guard let current = request else { return }
            finish(current, ieof: ieof, context: context)
        }
    }

    /// Decides what can be decided from the head alone.
    private func screen(_ head: ICAPRequestHead, route: inout Report.Route?) -> ICAPAnswer? {
        guard head.service == shared.serviceName else {
            return .error(.notFound, "no ICAP service named \(head.service.prefix(64)); this server offers \(shared.serviceName)")
        }
        guard head.method != .options else { return nil }
        if let authorization = shared.authorization, !authorization.accepts(head.headers["Authorization"]) {
            return .error(.unauthorized, "a valid Authorization: Bearer token is required", headers: [("WWW-Authenticate", "Bearer realm=\"kordon\"")])
        }
        let from = head.headers["X-Kordon-From"], to = head.headers["X-Kordon-To"]
        if from != nil || to != nil {
            let valid = { (code: String?) in code.map { (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } } ?? true }
            guard valid(from), valid(to) else { return .error(.badRequest, "X-Kordon-From and X-Kordon-To take a state code such as KZ") }
            route = Report.Route(from: from?.uppercased(), to: to?.uppercased())
        }
        if head.hasBody, shared.responder.service.decider.queueDepth >= shared.queueBound {
            shared.responder.service.metrics.recordBusy()
            return .error(.serviceUnavailable, "every scanning thread is busy and the queue is full; try again", headers: [("Retry-After", "1")])
        }
        return nil
    }

    /// Keeps body bytes while they fit the size limit and the shared budget.
    private func receive(_ bytes: ByteBuffer) {
        guard var current = request else { return }
        request = nil  // keep the body uniquely referenced while it grows
        defer { request = current }
        guard current.rejection == nil, current.head.method != .options else { return }
        current.received += bytes.readableBytes
        guard !current.overLimit else { return }
        if current.received > shared.maxBody {
            current.overLimit = true
            shared.budget.release(current.reserved)
            current.reserved = 0
            current.body = ByteBuffer()
            return
        }
        guard shared.budget.reserve(bytes.readableBytes) else {
            shared.budget.release(current.reserved)
            current.reserved = 0
            current.body = ByteBuffer()
            current.rejection = .error(.serviceUnavailable, "too many bodies are being received at once; try again", headers: [("Retry-After", "1")])
            return
        }
        current.reserved += bytes.readableBytes
        var bytes = bytes
        current.body.writeBuffer(&bytes)
    }

    /// Answers a complete request (or one ended by its preview).
    private func finish(_ current: Request, ieof: Bool, context: ChannelHandlerContext) {
        let responder = shared.responder
        if let rejection = current.rejection { return complete(rejection, context: context) }
        if current.head.method == .options { return complete(responder.options(), context: context) }
        if !current.head.hasBody { return complete(responder.bodiless(current.head), context: context) }
        awaitingVerdict = true
        let head = current.head, body = current.body, route = current.route, size = current.received
        let overLimit = current.overLimit, may204 = current.head.allows204 || ieof
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: ICAPAnswer.self)
        promise.completeWithTask {
            // Started from the event loop, this task inherits nothing: it is checked explicitly.
            await BlockingCallCheck.enforcing {
                overLimit ? await responder.oversized(head, size: size, route: route)
                          : await responder.answer(head, body: body, route: route, may204: may204)
            }
        }
        promise.futureResult.whenSuccess { answer in
            let (handler, context) = bound.value
            handler.awaitingVerdict = false
            handler.complete(answer, context: context)
            handler.resume(context: context)
        }
    }

    /// Writes the answer of the current request and forgets it.
    private func complete(_ answer: ICAPAnswer, context: ChannelHandlerContext) {
        releaseBudget()
        request = nil
        var answer = answer
        if quiescing { answer.close = true }
        send(answer, context: context)
    }

    /// Handles parts that arrived during the verdict, then lets reading go on.
    private func resume(context: ChannelHandlerContext) {
        while !awaitingVerdict, !closed, !pending.isEmpty {
            handle(pending.removeFirst(), context: context)
        }
        if !awaitingVerdict, readHeld {
            readHeld = false
            context.read()
        }
    }

    private func send(_ answer: ICAPAnswer, context: ChannelHandlerContext) {
        guard !closed else { return }
        let buffer = answer.encode(istag: shared.istag, allocator: context.channel.allocator)
        if answer.close {
            // Once the answer is out, close our side only and let the client's remaining
            // input drain (closing with unread input sends a reset that can destroy the
            // answer in the client's buffer); the connection closes when the client
            // closes, or two seconds later.
            closed = true
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
                let context = bound.value
                context.close(mode: .output, promise: nil)
                context.eventLoop.scheduleTask(in: .seconds(2)) { bound.value.close(promise: nil) }
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }

    /// A head that does not arrive whole within `serve.icap.headTimeoutSeconds` is answered
    /// 408 and the connection closed: each byte of a trickled head does not buy more time.
    private func armHeadDeadline(context: ChannelHandlerContext) {
        guard headDeadline == nil, !closed else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let timeout = shared.headTimeout
        headDeadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            handler.headDeadline = nil
            handler.send(.error(.requestTimeout, "the ICAP head did not arrive within \(timeout.nanoseconds / 1_000_000_000) s", close: true),
                         context: context)
        }
    }

    private func disarmHeadDeadline() {
        headDeadline?.cancel()
        headDeadline = nil
    }

    private func releaseBudget() {
        if let reserved = request?.reserved { shared.budget.release(reserved) }
        request?.reserved = 0
    }
}
