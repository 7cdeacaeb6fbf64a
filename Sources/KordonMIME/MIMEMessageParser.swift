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
/// `mime.encoded-container` (a transfer-encoded multipart or message/rfc822).
public struct MIMEMessageParser: Sendable {
    /// The bounds enforced on each message.
    public let limits: Limits

    /// Creates a parser.
    public init(limits: Limits) {
        self.limits = limits
    }

    /// Whether the bytes start like an RFC 5322 message: an optional mbox `From ` line,
    /// header fields, then a blank line, with at least one field mail carries
    /// (`MIME-Version`, `Content-Type`, `From`, `To`, `Subject`, `Date`, `Message-ID`,
    /// `Received`, `Return-Path`). Looks at the first 64 KB only.
    public static func looksLikeMIME(_ data: Data) -> Bool {
        MIMEHeaderSniffer.looksLikeMessage(data)
    }

    /// Decodes every part of the message.
    public func parse(_ data: Data) -> MIMEParseResult {
        let message = data.dropFirst(MIMEHeaderSniffer.mboxFromLineLength(data))
        guard let document = GMimeDocument(bytes: message) else {
            var result = MIMEParseResult()
            result.findings.append(Finding(stage: .unchecked, rule: "mime.unparsable", part: .message,
                                           action: .quarantine, detail: "GMime could not construct a message"))
            return result
        }
        var walker = MIMETreeWalker(limits: limits)
        walker.walk(document)
        var result = walker.result
        // GMime warns about some malformed header lines, not all; flag the rest once.
        if MIMEHeaderSniffer.shape(of: data) == .malformedHeaders,
           !result.findings.contains(where: { $0.rule == "mime.malformed-header" }) {
            result.findings.append(Finding(stage: .unchecked, rule: "mime.malformed-header", part: .message, action: .quarantine,
                                           detail: "a header line is not a valid header field; MIME readers disagree on where the headers end"))
        }
        return result
    }
}
