import Foundation
import Hummingbird
import KordonCore

/// One header field (`HTTPTypes.HTTPField`, named through the `HTTPFields` Hummingbird exports).
typealias HTTPHeaderField = HTTPFields.Element

/// Header names of the HTTP API.
extension HTTPHeaderField.Name {
    /// The verdict: `clean`, `sanitized` or `quarantined`.
    static let kordonVerdict = Self("Kordon-Verdict")!
    /// SHA-256 of the message as received.
    static let kordonMessageSHA256 = Self("Kordon-Message-Sha256")!
    /// SHA-256 of the bytes passed on.
    static let kordonOutputSHA256 = Self("Kordon-Output-Sha256")!
    /// The quarantine id of the stored original (sanitized and quarantined messages).
    static let kordonQuarantineID = Self("Kordon-Quarantine-Id")!
    /// The sending state, when not given as `?from=`.
    static let kordonFrom = Self("Kordon-From")!
    /// The receiving state, when not given as `?to=`.
    static let kordonTo = Self("Kordon-To")!
    /// The source name for the report and the audit log, when not given as `?source=`.
    static let kordonSource = Self("Kordon-Source")!
}

/// Builds the API's responses; every body the API writes besides a passed message is JSON.
enum HTTPReply {
    static let json = "application/json"

    /// A JSON error: `{"error":{"code":…,"message":…}}`.
    static func error(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) -> Response {
        let body = ErrorBody(error: .init(code: code, message: message))
        return jsonResponse(status, body, headers: headers)
    }

    /// A report as the response body (`403` for a quarantined message, `200` on request).
    static func report(_ status: HTTPResponse.Status, _ report: Report, headers: HTTPFields) -> Response {
        var headers = headers
        headers[.contentType] = json
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: report.jsonLine() + "\n")))
    }

    /// `413`: the message is over `limit`. Shaped like a report, with the finding the
    /// pipeline gives an oversized message, so clients read it like any refusal; but
    /// nothing was scanned or stored: the sender keeps the message.
    static func tooLarge(limit: Int, declared: Int?, source: String, route: Report.Route?) -> Response {
        let detail = declared.map { "message is \($0) bytes, over the limit of \(limit); not scanned" }
            ?? "message is over the limit of \(limit) bytes; not scanned"
        let body = TooLargeBody(
            error: .init(code: "http.too-large",
                         message: "the message is larger than limits.maxMessageSize (\(limit) bytes); it was not scanned or stored"),
            message: .init(source: source, size: declared, route: route),
            verdict: "refused",
            findings: [Finding(stage: .unchecked, rule: "kordon.message-size", part: .message, detail: detail)])
        return jsonResponse(.contentTooLarge, body, headers: [.connection: "close"])
    }

    /// A `503` for a service that cannot take the message now.
    static func unavailable(_ problem: ServiceUnavailable) -> Response {
        var headers: HTTPFields = [.retryAfter: "1"]
        if problem.code == .stopping { headers[.connection] = "close" }
        return error(.serviceUnavailable, code: "service.\(problem.code.rawValue)", message: problem.description, headers: headers)
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Plain value types: encoding cannot fail; an empty object is the fallback anyway.
        var data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        data.append(0x0A)
        var headers = headers
        headers[.contentType] = json
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    private struct TooLargeBody: Encodable {
        struct Message: Encodable {
            var source: String
            var size: Int?
            var route: Report.Route?
        }
        var error: ErrorBody.Detail
        var message: Message
        var verdict: String
        var findings: [Finding]
    }
}
