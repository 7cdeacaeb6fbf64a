import Kordon
import NIOCore

/// One ICAP response, encoded in a single buffer so that it leaves in one write and
/// one flush: a client never waits on a delayed ACK between its pieces.
struct ICAPAnswer: Sendable {
    /// The status.
    var status: ICAPStatus
    /// ICAP header fields besides ISTag, Server, Connection and Encapsulated.
    var headers: [(String, String)] = []
    /// The encapsulated HTTP request header (a modified REQMOD request).
    var requestHeader: HTTPHeaderBlock?
    /// The encapsulated HTTP response header.
    var responseHeader: HTTPHeaderBlock?
    /// The encapsulated body, sent chunked; `nil` for `null-body`.
    var body: ByteBuffer?
    /// Whether the body is the request's (`req-body`) rather than a response's.
    var bodyIsRequest = false
    /// Close the connection after this answer.
    var close = false

    /// `ICAP/1.0 100 Continue`: the rest of the body after a preview.
    static let continueAfterPreview: StaticString = "ICAP/1.0 100 Continue\r\n\r\n"

    /// The answer's bytes.
    func encode(istag: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let sectionBytes = (requestHeader?.byteCount ?? 0) + (responseHeader?.byteCount ?? 0)
        var buffer = allocator.buffer(capacity: 256 + sectionBytes + (body?.readableBytes ?? 0) + 32)
        buffer.writeString("ICAP/1.0 \(status.rawValue) \(status.reason)\r\n")
        buffer.writeString("ISTag: \(istag)\r\n")
        buffer.writeString("Server: kordon/\(KordonVersion.current)\r\n")
        if close { buffer.writeStaticString("Connection: close\r\n") }
        for (name, value) in headers { buffer.writeString("\(name): \(value)\r\n") }
        var encapsulated: [String] = []
        var offset = 0
        if let requestHeader {
            encapsulated.append("req-hdr=\(offset)")
            offset += requestHeader.byteCount
        }
        if let responseHeader {
            encapsulated.append("res-hdr=\(offset)")
            offset += responseHeader.byteCount
        }
        encapsulated.append(body == nil ? "null-body=\(offset)" : (bodyIsRequest ? "req-body=\(offset)" : "res-body=\(offset)"))
        buffer.writeString("Encapsulated: \(encapsulated.joined(separator: ", "))\r\n\r\n")
        requestHeader?.write(to: &buffer)
        responseHeader?.write(to: &buffer)
        if var body {
            if body.readableBytes > 0 {
                buffer.writeString(String(body.readableBytes, radix: 16))
                buffer.writeStaticString("\r\n")
                buffer.writeBuffer(&body)
                buffer.writeStaticString("\r\n")
            }
            buffer.writeStaticString("0\r\n\r\n")
        }
        return buffer
    }

    /// An error answer: no encapsulated message, the reason in `X-Kordon-Reason`.
    static func error(_ status: ICAPStatus, _ reason: String, close: Bool = false, headers: [(String, String)] = []) -> ICAPAnswer {
        // Reasons are Kordon's own words, never message content; keep them to one printable line.
        let printable = String(reason.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
        return ICAPAnswer(status: status, headers: headers + [("X-Kordon-Reason", String(printable.prefix(200)))], close: close)
    }
}
