import Foundation
import Hummingbird
import KordonCore

/// What a `POST /v1/filter` request says about its message, besides the body:
/// route (`?from=KZ&to=RU` or `Kordon-From`/`Kordon-To`), source name (`?source=`
/// or `Kordon-Source`, default `http`), whether it wants the JSON report
/// (`Accept: application/json`), the declared body length and the body's codings.
struct HTTPFilterParameters {
    /// The route; `nil` when the request names neither state (the document decides).
    var route: Report.Route?
    /// The name the report and the audit log give the message.
    var source: String
    /// `Accept: application/json`: answer a passed message with its report.
    var wantsJSON: Bool
    /// `Content-Length`, when the request has one.
    var declaredLength: Int?
    /// The `Content-Encoding` values as sent (every field, in order), echoed on a clean answer.
    var contentEncoding: [String]
    /// The codings the body carries, in the order applied (``HTTPContentCoding``).
    var codings: [String]

    /// The longest source name taken.
    static let maxSourceLength = 256

    /// Reads the parameters; throws `http.route`, `http.source` or `http.length`.
    init(_ request: Request) throws(KordonError) {
        let query = request.uri.queryParameters
        func value(_ name: String, _ header: HTTPHeaderField.Name) -> String? {
            query[Substring(name)].map(String.init) ?? request.headers[header]
        }
        let from = try Self.state(value("from", .kordonFrom), name: "from")
        let to = try Self.state(value("to", .kordonTo), name: "to")
        route = from == nil && to == nil ? nil : Report.Route(from: from, to: to)
        source = value("source", .kordonSource) ?? "http"
        guard !source.isEmpty, source.count <= Self.maxSourceLength,
              !source.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw KordonError(code: "http.source", message: "the source name must be 1 to \(Self.maxSourceLength) characters without control characters")
        }
        wantsJSON = Self.accepts(json: request.headers[.accept])
        contentEncoding = request.headers[values: .contentEncoding]
        codings = HTTPContentCoding.codings(contentEncoding: contentEncoding, transferEncoding: request.headers[values: .transferEncoding])
        if let length = request.headers[.contentLength] {
            guard let parsed = Int(length), parsed >= 0 else {
                throw KordonError(code: "http.length", message: "Content-Length \(length.debugDescription) is not a byte count")
            }
            declaredLength = parsed
        }
    }

    /// An ISO 3166 alpha-2 code, upper-cased; throws for anything else.
    static func state(_ text: String?, name: String) throws(KordonError) -> String? {
        guard let text else { return nil }
        guard Report.Route.isStateCode(text) else {
            throw KordonError(code: "http.route", message: "\(name) must be a two-letter state code (KZ, RU, BY, KG, AM), not \(text.debugDescription)")
        }
        return text.uppercased()
    }

    /// Whether an `Accept` header asks for JSON (`application/json`, any parameters, q > 0).
    static func accepts(json accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").contains { range in
            let fields = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard fields.first == "application/json" else { return false }
            let weight = fields.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return weight > 0
        }
    }
}
