// One RESPMOD request, built once per file, byte for byte the shape of
// Benchmarks/icap_client.py's respmod(): req-hdr, res-hdr, res-body, the body as
// one chunk, then the last chunk. No Preview, so the server must answer once.
import Foundation

/// A complete RESPMOD request for one body, and where in it the per-request stamp goes.
struct ICAPRequestTemplate: Sendable {
    /// The whole request, ready to send.
    let bytes: [UInt8]
    /// Where the 16 stamp bytes start in `bytes` (inside the body).
    let stampOffset: Int
    /// How a unique stamp is written there.
    let stampKind: UniqueBody.Kind

    static let httpRequest = "GET http://origin.test/declaration.xml HTTP/1.1\r\nHost: origin.test\r\n\r\n"

    init(host: String, service: String, body: [UInt8], stamp: UniqueBody.Location) {
        let response = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: \(body.count)\r\n\r\n"
        let request = Self.httpRequest
        let head = "RESPMOD icap://\(host)/\(service) ICAP/1.0\r\nHost: \(host)\r\nAllow: 204\r\n"
            + "Encapsulated: req-hdr=0, res-hdr=\(request.utf8.count), res-body=\(request.utf8.count + response.utf8.count)\r\n\r\n"
        var bytes = Array((head + request + response + String(body.count, radix: 16) + "\r\n").utf8)
        let bodyStart = bytes.count
        bytes.reserveCapacity(bodyStart + body.count + 7)
        bytes.append(contentsOf: body)
        bytes.append(contentsOf: Array("\r\n0\r\n\r\n".utf8))
        self.bytes = bytes
        stampOffset = bodyStart + stamp.offset
        stampKind = stamp.kind
    }
}
