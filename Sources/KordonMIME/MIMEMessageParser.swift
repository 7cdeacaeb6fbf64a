import Foundation
import KordonCore

/// One leaf of a MIME message, decoded.
public struct MIMELeaf: Sendable {
    /// The body with its transfer encoding (base64, quoted-printable, uuencode) removed and its
    /// charset left as sent, with its path, type (`type/subtype`, lowercased) and file name
    /// (RFC 2047/2231 decoded).
    public var part: ExtractedPart
    /// Content-ID without angle brackets, when present.
    public var contentID: String?
    /// Whether the part is an XML document (by type, name or XML declaration), to be inspected as XML.
    public var isXML: Bool
    /// Whether this is the root of an MTOM/XOP package: an `application/xop+xml` part, or the
    /// root (`start`, else first) part of a `multipart/related; type="application/xop+xml"`.
    public var isXOPRoot: Bool
    /// Creates a leaf.
    public init(part: ExtractedPart, contentID: String?, isXML: Bool, isXOPRoot: Bool) {
        self.part = part
        self.contentID = contentID
        self.isXML = isXML
        self.isXOPRoot = isXOPRoot
    }
}

/// The decoded parts of a MIME message and what went wrong decoding them.
public struct MIMEParseResult: Sendable {
    /// Every leaf part, depth first, in message order.
    public var leaves: [MIMELeaf] = []
    /// Problems met while decoding: limits, undecodable parts (`unchecked`), parse errors (`error`).
    public var findings: [Finding] = []
    /// Creates an empty result.
    public init() {}
}

/// Parses RFC 5322/2045/2046 messages with GMime.
///
/// A value type holding only its limits: every ``parse(_:)`` creates and frees its
/// own GMime parser, streams and message, so one parser may be used from many
/// tasks at once. Part paths are numbered like IMAP part specifiers; see
/// ``MIMETreeWalker`` for the scheme.
///
/// Fails closed: everything that cannot be vouched for becomes an `unchecked`
/// finding with action `quarantine` — `mime.limit` (too many parts, too deep),
/// `mime.unparsable`, `mime.base64-invalid`, `mime.encoding-unknown`,
/// `mime.undecodable`, `mime.partial`, `mime.encrypted`, `mime.ambiguous`
/// (a MIME header or parameter given twice with different values),
/// `mime.encoded-container` (a transfer-encoded multipart or message/rfc822),
/// `mime.malformed-header`, `mime.line-endings` (bare CRs where they change the parts),
/// `mime.no-boundary` (a multipart that lost its boundary parameter but is divided into parts).
/// A part labelled as something else whose content is XML is inspected as XML and reported
/// (`mime.type-mismatch`, a `policy` finding with action `report`).
public struct MIMEMessageParser: Sendable {
    /// The bounds enforced on each message.
    public let limits: Limits

    /// Creates a parser.
    public init(limits: Limits) {
        self.limits = limits
    }

    /// Whether a mail reader would parse the bytes as a message: an optional mbox `From `
    /// line, header fields (lines ending in CRLF, LF or a bare CR), then a blank line, with
    /// at least one field mail carries (`MIME-Version`, `Content-*`, `From`, `To`,
    /// `Subject`, `Date`, `Message-ID`, `Received`, `Return-Path`); or a headerless
    /// multipart body (a `--boundary` line, then part headers: an HTTP form upload).
    /// Reads the header block to its end, at most once.
    public static func looksLikeMIME(_ data: Data) -> Bool {
        MIMEHeaderSniffer.looksLikeMessage(data)
    }

    /// Decodes every part of the message.
    public func parse(_ data: Data) -> MIMEParseResult {
        let input = MIMEInput(data)
        guard let document = GMimeDocument(bytes: input.message) else {
            var result = MIMEParseResult()
            result.findings.append(Finding(stage: .unchecked, rule: "mime.unparsable", part: .message,
                                           action: .quarantine, detail: "GMime could not construct a message"))
            return result
        }
        var walker = MIMETreeWalker(limits: limits)
        walker.walk(document)
        var result = walker.result
        // GMime warns about some malformed header lines, not all; flag the rest once.
        if input.sniff.shape == .malformedHeaders,
           !result.findings.contains(where: { $0.rule == "mime.malformed-header" }) {
            result.findings.append(Finding(stage: .unchecked, rule: "mime.malformed-header", part: .message, action: .quarantine,
                                           detail: "a header line is not a valid header field; MIME readers disagree on where the headers end"))
        }
        if !input.normalizedLineEnds, walker.sawBareCRInHeaders
            || MIMEBareCR.precedesOrEndsBoundary(in: input.message, boundaries: walker.boundaries) {
            result.findings.append(Finding(stage: .unchecked, rule: "mime.line-endings", part: .message, action: .quarantine,
                                           detail: "a bare CR ends a header or boundary line inside the message; MIME readers disagree on its parts"))
        }
        return result
    }
}

/// Where bare CRs (a CR not followed by LF) change a message's structure for readers that
/// take them for line breaks (Python's `email`) but not for GMime.
enum MIMEBareCR {
    /// Whether a bare CR comes right before a delimiter `--boundary`, or right after one.
    static func precedesOrEndsBoundary(in data: Data, boundaries: Set<String>) -> Bool {
        guard !boundaries.isEmpty else { return false }
        let delimiters = boundaries.flatMap { [Array("--\($0)--".utf8), Array("--\($0)".utf8)] }
        return data.withUnsafeBytes { raw -> Bool in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let base = bytes.baseAddress else { return false }
            var k = 0
            while k < bytes.count, let found = memchr(base + k, 0x0D, bytes.count - k) {
                k = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                defer { k += 1 }
                if k + 1 < bytes.count, bytes[k + 1] == 0x0A { continue }
                for delimiter in delimiters {
                    if matches(delimiter, bytes, at: k + 1) || matches(delimiter, bytes, at: k - delimiter.count) { return true }
                }
            }
            return false
        }
    }

    private static func matches(_ needle: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard start >= 0, start + needle.count <= bytes.count else { return false }
        for (offset, byte) in needle.enumerated() where bytes[start + offset] != byte { return false }
        return true
    }
}
