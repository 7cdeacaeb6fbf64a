import Foundation
import KordonCompression
import KordonCore
import NIOPosix

/// Undoes the content codings of an HTTP body (`Content-Encoding`, and any transfer
/// coding other than `chunked`), so that the filter sees what a browser or an HTTP
/// library would hand to its user, not compressed bytes.
///
/// Shared by ICAP (the encapsulated request or response) and `POST /v1/filter`.
/// Decodes what browsers decode: `gzip` (and `x-gzip`; several members, as `gzip -d`),
/// `deflate` (zlib-wrapped as RFC 9110 says, or the raw deflate some servers send),
/// `br` and `zstd`; `identity` is nothing. A list (`gzip, br`) was applied in order and
/// is undone last coding first. Each step is bounded by the message size limit: a body
/// that decodes to more is a bomb. Anything that cannot be decoded is held, never passed
/// as scanned: an unknown coding (`compress`, `dcb`, …), a stream that is corrupt or cut
/// short, more than ``maxCodings`` codings.
enum HTTPContentCoding {
    /// More codings than this on one body is not a real server's doing.
    static let maxCodings = 4

    /// What a body's codings came to.
    enum Outcome: Sendable {
        /// No coding (none named, or only `identity`): the body is the message.
        case unencoded
        /// The body decoded to this message; `codings` as named, in the order applied.
        case decoded(Data, codings: [String])
        /// The body could not be decoded: the message is held with this finding.
        case held(Finding)
    }

    /// The codings named by `contentEncoding` then `transferEncoding` (each the values of
    /// every field of that name, in order), as a body received them: content codings first,
    /// transfer codings on top; `chunked` and `identity` are left out.
    static func codings(contentEncoding: [String], transferEncoding: [String]) -> [String] {
        let tokens = { (values: [String]) in
            values.flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                .filter { !$0.isEmpty && $0 != "identity" }
        }
        return tokens(contentEncoding) + tokens(transferEncoding).filter { $0 != "chunked" }
    }

    /// ``decode(_:codings:limit:)`` on NIO's threads for blocking work: decoding up to the
    /// size limit takes tenths of a second, too long to hold one of Swift's few cooperative
    /// threads (which every connection's tasks share).
    static func decodeOffPool(_ body: Data, codings: [String], limit: Int) async -> Outcome {
        guard !codings.isEmpty else { return .unencoded }
        do {
            return try await NIOThreadPool.singleton.runIfActive { decode(body, codings: codings, limit: limit) }
        } catch {
            return decode(body, codings: codings, limit: limit)  // the pool is shutting down: decode here
        }
    }

    /// Decodes `body` (coded with `codings`, in the order applied) into at most `limit` bytes.
    static func decode(_ body: Data, codings: [String], limit: Int) -> Outcome {
        guard !codings.isEmpty else { return .unencoded }
        guard codings.count <= maxCodings else {
            return .held(finding("http.content-encoding-unknown",
                                 "\(codings.count) content codings on one body (at most \(maxCodings) are decoded); not scanned"))
        }
        if let unknown = codings.first(where: { format(of: $0) == nil }) {
            return .held(finding("http.content-encoding-unknown",
                                 "Content-Encoding \(printable(unknown)) is not one Kordon decodes (gzip, deflate, br, zstd); not scanned"))
        }
        // An empty body is empty in any coding: what a HEAD or 304 answer may carry.
        guard !body.isEmpty else { return .decoded(body, codings: codings) }
        var message = body
        for coding in codings.reversed() {
            let result = coding == "deflate"
                ? Decompressor.decodeHTTPDeflate(message, limit: limit)
                : Decompressor.decode(message, as: format(of: coding)!, limit: limit)
            switch result {
            case .decoded(let data):
                message = data
            case .overLimit:
                return .held(finding("http.content-encoding-bomb",
                                     "the \(coding) body decodes to more than the limit of \(limit) bytes (limits.maxMessageSize); not scanned"))
            case .truncated:
                return .held(finding("http.content-encoding-corrupt", "the \(coding) body is cut short; not scanned"))
            case .corrupt(let reason):
                return .held(finding("http.content-encoding-corrupt", "the \(coding) body does not decode (\(reason)); not scanned"))
            }
        }
        return .decoded(message, codings: codings)
    }

    /// The stream format of a coding name; `nil` for one Kordon does not decode.
    /// `deflate` maps to zlib, and is tried as raw deflate too (see ``Decompressor/decodeHTTPDeflate(_:limit:)``).
    static func format(of coding: String) -> Compression? {
        switch coding {
        case "gzip", "x-gzip": return .gzip
        case "deflate": return .zlib
        case "br": return .brotli
        case "zstd": return .zstd
        default: return nil
        }
    }

    private static func finding(_ rule: String, _ detail: String) -> Finding {
        Finding(stage: .unchecked, rule: rule, part: .message, detail: detail)
    }

    /// A coding name as it may appear in a report: letters and `-_.+` only, bounded; digits
    /// are dropped (a header is the sender's text, and reports carry no identifiers).
    private static func printable(_ coding: String) -> String {
        let kept = String(coding.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || "-_.+".unicodeScalars.contains($0)) }
            .map(Character.init).prefix(24))
        return kept.isEmpty ? "(not a token)" : kept
    }
}
