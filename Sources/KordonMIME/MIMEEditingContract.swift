// CONTRACT STUB — the public API the redaction stage is written against.
// The MIME-editing helper replaces this file with the real implementation, keeping these signatures.
import Foundation
import KordonCore

/// One place in a MIME message that holds text.
public struct MIMETextSite: Sendable, Hashable {
    /// What kind of place.
    public enum Kind: Sendable, Hashable {
        /// An unstructured header (`Subject`, `Comments`, `Content-Description`, …),
        /// RFC 2047-decoded; the associated value is the header's name.
        case header(String)
        /// The decoded body of a text-like leaf (`text/*`, CSV, JSON), converted to UTF-8.
        case body
    }
    /// What kind of place.
    public var kind: Kind
    /// The part: `message` for the top-level headers, `mime/2` for a leaf, `mime/3/1` for
    /// the headers of an embedded `message/rfc822`'s first part.
    public var part: PartPath
    /// The media type of the part, lowercase (`text/plain`); for headers, the type of the part they head.
    public var contentType: String
}

/// A parsed MIME message that the redaction stage can edit and write back.
///
/// Parsed with GMime under the same limits as ``MIMEMessageParser``; part paths are the
/// same as that parser's. Not thread-safe, one per message.
public final class MIMEEditableMessage {
    /// Parses `data`. Throws a ``KordonError`` (`mime.*`) when GMime cannot parse it.
    public init(parsing data: Data, limits: Limits) throws { fatalError("contract stub") }

    /// Every text-holding place: unstructured headers of the message and of every part
    /// and embedded message, and the bodies of text-like leaves (not XML leaves: the
    /// XML stage edits those through ``replaceBody(of:with:)``).
    public var textSites: [MIMETextSite] { fatalError("contract stub") }

    /// The UTF-8 text at a site.
    public func text(at site: MIMETextSite) -> [UInt8] { fatalError("contract stub") }

    /// Replaces the text at a site (a header is RFC 2047-encoded as needed; a body keeps
    /// its transfer encoding and is written in UTF-8 with `charset=utf-8`).
    public func setText(at site: MIMETextSite, to text: [UInt8]) throws { fatalError("contract stub") }

    /// Replaces the decoded content of a leaf (a sanitized XML part) keeping its headers
    /// and transfer encoding.
    public func replaceBody(of part: PartPath, with data: Data) throws { fatalError("contract stub") }

    /// Whether anything was changed since parsing.
    public var isModified: Bool { fatalError("contract stub") }

    /// The message written back.
    public func serialize() throws -> Data { fatalError("contract stub") }
}
