import NIOCore

/// Bounds on what one ICAP request may make Kordon hold before its body.
struct ICAPLimits: Sendable {
    /// The ICAP request line and header fields.
    var maxHeadBytes = 64 * 1024
    /// ICAP header fields.
    var maxHeaderFields = 128
    /// The encapsulated HTTP header sections together.
    var maxSectionBytes = 128 * 1024
    /// One chunk-size line, extensions included, or one trailer line.
    var maxLineBytes = 4096
    /// Largest `Preview` a client may announce.
    var maxPreview = 1 << 20
}

/// What the connection handler decided after a preview without `ieof`; the decoder
/// reads the bytes that follow accordingly. Shared by the two handlers of one
/// connection and used on its event loop only.
final class ICAPPreviewControl {
    /// How a preview was answered.
    enum Decision {
        /// `100 Continue` was sent: the rest of the body follows.
        case continueBody
        /// A final answer was sent: the next request follows.
        case answered
    }

    /// The decision for the preview that just ended; `nil` until the handler decides.
    var decision: Decision?
}

/// Reads ICAP requests (RFC 3507): request line, header fields, the encapsulated
/// HTTP header sections at the offsets `Encapsulated` gives, then the chunked body
/// with its preview and `ieof`. Anything malformed ends in one `.malformed` part;
/// the rest of the connection's input is then ignored (the handler closes it).
struct ICAPDecoder: ByteToMessageDecoder {
    typealias InboundOut = ICAPRequestPart

    private enum State {
        case head
        case sections(ICAPRequestHead)
        case chunkSize(preview: Bool)
        case chunkData(remaining: Int, preview: Bool)
        case chunkEnd(preview: Bool)
        case trailer(preview: Bool, ieof: Bool, lines: Int)
        case previewPending
        case failed
    }

    private var state = State.head
    /// Bytes of the head already searched for its end, so slow senders cost linear time.
    private var scanned = 0
    /// Refuses garbage as its bytes arrive.
    private var screen = ICAPHeadScreen()
    /// Whether `.headStarted` went out for the head being read.
    private var headStarted = false
    private let limits: ICAPLimits
    private let control: ICAPPreviewControl

    init(limits: ICAPLimits, control: ICAPPreviewControl) {
        self.limits = limits
        self.control = control
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch state {
        case .failed:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        case .head:
            return decodeHead(context: context, buffer: &buffer)
        case .sections(let head):
            return decodeSections(head, context: context, buffer: &buffer)
        case .chunkSize(let preview):
            let line: ByteBuffer
            switch readLine(&buffer) {
            case .incomplete: return .needMoreData
            case .invalid(let reason): return fail(context, .badRequest, reason)
            case .line(let read): line = read
            }
            guard let (size, ieof) = Self.chunkSize(line) else {
                return fail(context, .badRequest, "malformed chunk size line")
            }
            state = size == 0 ? .trailer(preview: preview, ieof: ieof, lines: 0) : .chunkData(remaining: size, preview: preview)
            return .continue
        case .chunkData(let remaining, let preview):
            guard buffer.readableBytes > 0 else { return .needMoreData }
            let take = min(remaining, buffer.readableBytes)
            let slice = buffer.readSlice(length: take)!
            state = take == remaining ? .chunkEnd(preview: preview) : .chunkData(remaining: remaining - take, preview: preview)
            context.fireChannelRead(wrapInboundOut(.body(slice)))
            return .continue
        case .chunkEnd(let preview):
            guard buffer.readableBytes >= 2 else { return .needMoreData }
            guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                return fail(context, .badRequest, "a chunk is longer than its size")
            }
            state = .chunkSize(preview: preview)
            return .continue
        case .trailer(let preview, let ieof, let lines):
            let line: ByteBuffer
            switch readLine(&buffer) {
            case .incomplete: return .needMoreData
            case .invalid(let reason): return fail(context, .badRequest, reason)
            case .line(let read): line = read
            }
            guard line.readableBytes == 0 else {
                guard lines < limits.maxHeaderFields else { return fail(context, .badRequest, "too many trailer fields") }
                state = .trailer(preview: preview, ieof: ieof, lines: lines + 1)
                return .continue
            }
            if preview && !ieof {
                state = .previewPending
                control.decision = nil
                context.fireChannelRead(wrapInboundOut(.previewEnd))
            } else {
                state = .head
                context.fireChannelRead(wrapInboundOut(.end(ieof: preview && ieof)))
            }
            return .continue
        case .previewPending:
            switch control.decision {
            case nil: return .needMoreData
            case .continueBody: state = .chunkSize(preview: false)
            case .answered: state = .head
            }
            control.decision = nil
            return .continue
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A request cut short is simply dropped: the handler sees the channel close.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    // MARK: - Head

    private mutating func decodeHead(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        // Tolerate empty lines between requests, as HTTP does.
        // (`scanned` is 1 when a lone CR came first.)
        while scanned <= 1, buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
            scanned = 0
        }
        guard buffer.readableBytes > 0 else { return .needMoreData }
        if !headStarted {
            headStarted = true
            context.fireChannelRead(wrapInboundOut(.headStarted))
        }
        let end = Self.find(crlfcrlfIn: buffer, from: max(0, scanned - 3))
        let screenedBytes = min(end.map { $0 + 4 } ?? buffer.readableBytes, limits.maxHeadBytes + 4)
        if let problem = buffer.withUnsafeReadableBytes({ screen.problem(in: UnsafeRawBufferPointer(rebasing: $0.prefix(screenedBytes))) }) {
            return fail(context, .badRequest, problem)
        }
        guard let end else {
            scanned = buffer.readableBytes
            if scanned > limits.maxHeadBytes { return fail(context, .badRequest, "the ICAP header is larger than \(limits.maxHeadBytes) bytes") }
            return .needMoreData
        }
        scanned = 0
        screen.reset()
        headStarted = false
        guard end <= limits.maxHeadBytes else { return fail(context, .badRequest, "the ICAP header is larger than \(limits.maxHeadBytes) bytes") }
        let text = buffer.readString(length: end + 4) ?? ""
        switch ICAPHeadParser.parse(text, limits: limits) {
        case .failure(let problem):
            return fail(context, problem.status, problem.reason)
        case .success(let head):
            guard head.encapsulated.bodyOffset <= limits.maxSectionBytes else {
                return fail(context, .badRequest, "the encapsulated HTTP headers are larger than \(limits.maxSectionBytes) bytes")
            }
            state = .sections(head)
            // Decode the sections now: with `null-body=0` no further byte may ever come.
            return decodeSections(head, context: context, buffer: &buffer)
        }
    }

    private mutating func decodeSections(_ head: ICAPRequestHead, context: ChannelHandlerContext,
                                         buffer: inout ByteBuffer) -> DecodingState {
        let encapsulated = head.encapsulated
        guard buffer.readableBytes >= encapsulated.bodyOffset else { return .needMoreData }
        var head = head
        let start = buffer.readerIndex
        // Each section runs from its offset to the next one; each must end with an empty line.
        let offsets = [encapsulated.requestHeader, encapsulated.responseHeader].compactMap { $0 } + [encapsulated.bodyOffset]
        var sections: [HTTPHeaderBlock] = []
        for (from, to) in zip(offsets, offsets.dropFirst()) {
            guard let section = HTTPHeaderBlock(buffer.getSlice(at: start + from, length: to - from)!) else {
                return fail(context, .badRequest, "an encapsulated HTTP header section is malformed or does not end where Encapsulated says")
            }
            sections.append(section)
        }
        buffer.moveReaderIndex(forwardBy: encapsulated.bodyOffset)
        if encapsulated.requestHeader != nil { head.requestHeader = sections.removeFirst() }
        if encapsulated.responseHeader != nil { head.responseHeader = sections.removeFirst() }
        if head.hasBody {
            state = .chunkSize(preview: head.preview != nil)
            context.fireChannelRead(wrapInboundOut(.head(head)))
        } else {
            state = .head
            context.fireChannelRead(wrapInboundOut(.head(head)))
            context.fireChannelRead(wrapInboundOut(.end(ieof: false)))
        }
        return .continue
    }

    // MARK: - Helpers

    private mutating func fail(_ context: ChannelHandlerContext, _ status: ICAPStatus, _ reason: String) -> DecodingState {
        state = .failed
        context.fireChannelRead(wrapInboundOut(.malformed(status: status, reason: reason)))
        return .continue
    }

    private enum Line {
        case line(ByteBuffer)
        case incomplete
        case invalid(String)
    }

    /// One CRLF-terminated line (without the CRLF).
    private func readLine(_ buffer: inout ByteBuffer) -> Line {
        let view = buffer.readableBytesView.prefix(limits.maxLineBytes + 2)
        guard let newline = view.firstIndex(of: 0x0A) else {
            return view.count > limits.maxLineBytes ? .invalid("a chunk-size or trailer line is too long") : .incomplete
        }
        guard newline > view.startIndex, view[newline - 1] == 0x0D else { return .invalid("a line ends in LF without CR") }
        let line = buffer.readSlice(length: newline - view.startIndex - 1)!
        buffer.moveReaderIndex(forwardBy: 2)
        return .line(line)
    }

    /// `1a2b;ieof` → (0x1a2b, true); `nil` when not a bounded hexadecimal size.
    static func chunkSize(_ line: ByteBuffer) -> (Int, Bool)? {
        let bytes = Array(line.readableBytesView)
        let semicolon = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
        var digits = bytes[..<semicolon]
        while let last = digits.last, last == 0x20 || last == 0x09 { digits.removeLast() }
        guard !digits.isEmpty, digits.count <= 12 else { return nil }
        var size = 0
        for byte in digits {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            size = size * 16 + value
        }
        let extensions = String(decoding: bytes[semicolon...], as: UTF8.self).split(separator: ";")
        let ieof = extensions.contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "ieof" }
        return (size, ieof)
    }

    /// The offset of the first CRLF CRLF in `buffer`'s readable bytes at or after `from`.
    static func find(crlfcrlfIn buffer: ByteBuffer, from: Int) -> Int? {
        buffer.withUnsafeReadableBytes { raw -> Int? in
            guard raw.count >= 4 else { return nil }
            var index = from
            while index + 3 < raw.count {
                if raw[index + 3] != 0x0A { index += raw[index + 3] == 0x0D ? 1 : 4; continue }
                if raw[index] == 0x0D && raw[index + 1] == 0x0A && raw[index + 2] == 0x0D { return index }
                index += 1
            }
            return nil
        }
    }
}
