// CONTRACT STUB — replaced by the real implementation.
import Foundation
import KordonCore
import CGMime

/// One leaf of a MIME message, decoded.
public struct MIMELeaf: Sendable {
    /// The decoded body with its path, type and file name.
    public var part: ExtractedPart
    /// Content-ID without angle brackets, when present.
    public var contentID: String?
    /// Whether the part is an XML document (by type or name), to be inspected as XML.
    public var isXML: Bool
    /// Whether this is the root of an MTOM/XOP package (`application/xop+xml`).
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
public struct MIMEMessageParser: Sendable {
    /// Creates a parser.
    public init(limits: Limits) {}
    /// Whether the bytes start like an RFC 5322 message (header fields, then a blank line).
    public static func looksLikeMIME(_ data: Data) -> Bool { false }
    /// Decodes every part of the message.
    public func parse(_ data: Data) -> MIMEParseResult { MIMEParseResult() }
}
