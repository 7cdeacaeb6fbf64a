import Foundation

/// Parses an ICAP request line and its header fields (RFC 3507 §4.3).
enum ICAPHeadParser {
    /// Why a head was refused, and the status that says so.
    struct Problem: Error, Equatable {
        /// The ICAP status to answer.
        var status: ICAPStatus
        /// What was wrong (sent back in the status answer; never message content).
        var reason: String
    }

    /// Parses `text`, the head up to and including its empty line.
    static func parse(_ text: String, limits: ICAPLimits) -> Result<ICAPRequestHead, Problem> {
        // Lines are split on the bytes CRLF, never on Characters: header parsing is ASCII work, once per request.
        let (split, rest) = CRLFLines.split(Array(text.utf8)[...])
        var lines = split + [rest]
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first.map({ String(decoding: $0, as: UTF8.self) }) else {
            return .failure(Problem(status: .badRequest, reason: "empty request"))
        }
        let words = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 3 else { return .failure(Problem(status: .badRequest, reason: "malformed request line")) }
        guard words[2] == "ICAP/1.0" else {
            return .failure(words[2].hasPrefix("ICAP/") ? Problem(status: .versionNotSupported, reason: "only ICAP/1.0 is supported")
                                                         : Problem(status: .badRequest, reason: "malformed request line"))
        }
        guard let method = ICAPMethod(rawValue: String(words[0])) else {
            let token = !words[0].isEmpty && words[0].allSatisfy { $0.isASCII && $0.isLetter }
            return .failure(token ? Problem(status: .notImplemented, reason: "method \(words[0].prefix(16)) is not implemented")
                                  : Problem(status: .badRequest, reason: "malformed request line"))
        }
        let uri = String(words[1])
        guard let service = serviceName(uri) else { return .failure(Problem(status: .badRequest, reason: "malformed ICAP URI")) }

        var headers = ICAPHeaders()
        for line in lines.dropFirst() {
            guard headers.fields.count < limits.maxHeaderFields else {
                return .failure(Problem(status: .badRequest, reason: "more than \(limits.maxHeaderFields) header fields"))
            }
            // Obsolete line folding is refused: two parsers must never disagree on a header.
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), line.first != UInt8(ascii: " "), line.first != UInt8(ascii: "\t") else {
                return .failure(Problem(status: .badRequest, reason: "malformed header field"))
            }
            let name = line[..<colon]
            // Visible ASCII only (no spaces, controls or bytes of multi-byte characters).
            guard !name.isEmpty, name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                return .failure(Problem(status: .badRequest, reason: "malformed header field name"))
            }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
            headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        }

        let encapsulated: ICAPEncapsulated
        if let value = headers["Encapsulated"] {
            guard let parsed = ICAPEncapsulated(value), parsed.suits(method) else {
                return .failure(Problem(status: .badRequest, reason: "Encapsulated does not describe a valid \(method.rawValue) message"))
            }
            encapsulated = parsed
        } else if method == .options {
            encapsulated = ICAPEncapsulated("null-body=0")!
        } else {
            return .failure(Problem(status: .badRequest, reason: "\(method.rawValue) needs an Encapsulated header"))
        }

        var preview: Int?
        if let value = headers["Preview"] {
            guard value.count <= 9, let size = Int(value), size >= 0, size <= limits.maxPreview else {
                return .failure(Problem(status: .badRequest, reason: "malformed Preview"))
            }
            preview = size
        }
        return .success(ICAPRequestHead(method: method, uri: uri, service: service, headers: headers,
                                        encapsulated: encapsulated, preview: encapsulated.body == .none ? nil : preview))
    }

    /// `icap://host:1344/kordon?mode=x` → `kordon`; `nil` when not an ICAP URI.
    static func serviceName(_ uri: String) -> String? {
        let lowered = uri.lowercased()
        guard let scheme = ["icap://", "icaps://"].first(where: { lowered.hasPrefix($0) }) else { return nil }
        let rest = uri.dropFirst(scheme.count)
        guard let slash = rest.firstIndex(of: "/") else { return rest.isEmpty ? nil : "" }
        guard slash > rest.startIndex else { return nil }
        let path = rest[rest.index(after: slash)...]
        return String(path.prefix { $0 != "?" })
    }
}
