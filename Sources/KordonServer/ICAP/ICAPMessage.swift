import Foundation
import NIOCore

/// The ICAP methods Kordon answers (RFC 3507 §4.3.2).
enum ICAPMethod: String, Sendable {
    /// Capabilities of a service.
    case options = "OPTIONS"
    /// Request modification: an HTTP request (an upload) on its way to the origin.
    case reqmod = "REQMOD"
    /// Response modification: an HTTP response on its way to the client.
    case respmod = "RESPMOD"
}

/// The ICAP header fields of one request, in the order received; names compare
/// case-insensitively.
struct ICAPHeaders: Sendable {
    private(set) var fields: [(name: String, value: String)] = []

    /// Appends one field.
    mutating func add(name: String, value: String) { fields.append((name, value)) }

    /// The first value of `name`.
    subscript(name: String) -> String? {
        fields.first { Self.sameIgnoringASCIICase($0.name, name) }?.value
    }

    /// Whether a comma-separated field (`Allow: 204, trailers`) holds `token`.
    func contains(_ name: String, token: String) -> Bool {
        fields.contains { field in
            Self.sameIgnoringASCIICase(field.name, name)
                && field.value.split(separator: ",").contains { Self.sameIgnoringASCIICase($0.trimmingCharacters(in: .whitespaces), token) }
        }
    }

    /// Header names and tokens are ASCII (RFC 3507 §4.3 via RFC 2616 §4.2): compared
    /// byte by byte with A–Z folded, without Foundation's locale-aware comparison.
    static func sameIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { x, y in
            x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A)
        }
    }
}

/// The `Encapsulated` header (RFC 3507 §4.4.1): which HTTP sections follow the ICAP
/// header, at which offsets. Only the body section may be last, and there is exactly one.
struct ICAPEncapsulated: Sendable, Equatable {
    /// How the encapsulated message ends.
    enum Body: String, Sendable, Equatable {
        /// `req-body`: a chunked HTTP request body follows.
        case request = "req-body"
        /// `res-body`: a chunked HTTP response body follows.
        case response = "res-body"
        /// `opt-body`: an OPTIONS body (read and ignored).
        case options = "opt-body"
        /// `null-body`: no body.
        case none = "null-body"
    }

    /// Offset of the encapsulated HTTP request header, when present.
    var requestHeader: Int?
    /// Offset of the encapsulated HTTP response header, when present.
    var responseHeader: Int?
    /// The body section.
    var body: Body
    /// Offset of the body section: the total length of the header sections before it.
    var bodyOffset: Int

    /// Parses `req-hdr=0, res-hdr=137, res-body=296`; `nil` when malformed: unknown
    /// names, offsets not starting at 0 or not increasing, sections out of order, or
    /// not exactly one body section at the end.
    init?(_ value: String) {
        var requestHeader: Int?, responseHeader: Int?, body: Body?
        var previous = -1
        var bodyOffset = 0
        let entries = value.split(separator: ",", omittingEmptySubsequences: false)
        guard !entries.isEmpty, entries.count <= 3 else { return nil }
        for entry in entries {
            let pair = entry.split(separator: "=", omittingEmptySubsequences: false)
            guard pair.count == 2, body == nil else { return nil }
            let name = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            let digits = pair[1].trimmingCharacters(in: .whitespaces)
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCII), let offset = Int(digits),
                  offset > previous, previous >= 0 || offset == 0 else { return nil }
            previous = offset
            switch name {
            case "req-hdr" where requestHeader == nil && responseHeader == nil: requestHeader = offset
            case "res-hdr" where responseHeader == nil: responseHeader = offset
            default:
                guard let kind = Body(rawValue: name) else { return nil }
                body = kind
                bodyOffset = offset
            }
        }
        guard let body else { return nil }
        self.requestHeader = requestHeader
        self.responseHeader = responseHeader
        self.body = body
        self.bodyOffset = bodyOffset
    }

    /// Whether the sections suit `method`: REQMOD carries an HTTP request (its header,
    /// then `req-body` or `null-body`); RESPMOD the request and response headers (each
    /// optional: `c-icap-client -noreshdr` sends none) and `res-body` or `null-body`.
    func suits(_ method: ICAPMethod) -> Bool {
        switch method {
        case .options: return requestHeader == nil && responseHeader == nil && (body == .none || body == .options)
        case .reqmod: return responseHeader == nil && (body == .request || body == .none)
        case .respmod: return body == .response || body == .none
        }
    }
}

/// One request's head: the request line, the ICAP headers and the encapsulated HTTP
/// header sections (kept byte for byte, to be echoed or edited in the answer).
struct ICAPRequestHead: Sendable {
    /// The method.
    var method: ICAPMethod
    /// The ICAP URI as sent (`icap://host:1344/kordon?x=y`).
    var uri: String
    /// The service name: the URI's path without its slash and query.
    var service: String
    /// The ICAP header fields.
    var headers: ICAPHeaders
    /// The sections.
    var encapsulated: ICAPEncapsulated
    /// The encapsulated HTTP request header.
    var requestHeader: HTTPHeaderBlock?
    /// The encapsulated HTTP response header.
    var responseHeader: HTTPHeaderBlock?
    /// The `Preview` size when the client sends a preview.
    var preview: Int?

    /// Whether a chunked body follows the header sections.
    var hasBody: Bool { encapsulated.body != .none }
    /// Whether the client accepts `204 No Content` outside a preview.
    var allows204: Bool { headers.contains("Allow", token: "204") }
}

/// What the decoder hands to the connection handler, in order, for each request.
enum ICAPRequestPart: Sendable {
    /// The first byte of a request's head arrived: the head deadline runs from here.
    case headStarted
    /// The head; body parts follow when `head.hasBody`.
    case head(ICAPRequestHead)
    /// Bytes of the (de-chunked) body.
    case body(ByteBuffer)
    /// The preview ended without `ieof`: the client waits for `100 Continue` or a final answer.
    case previewEnd
    /// The request is complete; `ieof` when the preview held the whole body.
    case end(ieof: Bool)
    /// The request could not be read; the connection is answered `status` and closed.
    case malformed(status: ICAPStatus, reason: String)
}

/// The ICAP status codes Kordon sends.
enum ICAPStatus: Int, Sendable {
    case `continue` = 100
    case ok = 200
    case noContent = 204
    case badRequest = 400
    case unauthorized = 401
    case notFound = 404
    case methodNotAllowed = 405
    case requestTimeout = 408
    case serverError = 500
    case notImplemented = 501
    case serviceUnavailable = 503
    case versionNotSupported = 505

    /// The reason phrase.
    var reason: String {
        switch self {
        case .continue: "Continue"
        case .ok: "OK"
        case .noContent: "No Content"
        case .badRequest: "Bad Request"
        case .unauthorized: "Unauthorized"
        case .notFound: "ICAP Service Not Found"
        case .methodNotAllowed: "Method Not Allowed For Service"
        case .requestTimeout: "Request Timeout"
        case .serverError: "Server Error"
        case .notImplemented: "Method Not Implemented"
        case .serviceUnavailable: "Service Overloaded"
        case .versionNotSupported: "ICAP Version Not Supported"
        }
    }
}
