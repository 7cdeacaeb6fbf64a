import KordonCore

/// One place in a MIME message that holds text.
///
/// Sites come from ``MIMEEditableMessage/textSites``; hand one back to
/// ``MIMEEditableMessage/text(at:)`` or ``MIMEEditableMessage/setText(at:to:)``.
public struct MIMETextSite: Sendable, Hashable {
    /// What kind of place.
    public enum Kind: Sendable, Hashable {
        /// An unstructured header (`Subject`, `Comments`, `Keywords`, `Content-Description`,
        /// `X-*`), RFC 2047-decoded; the associated value is the header's name as written.
        case header(String)
        /// The decoded body of a text-like leaf (`text/*`, CSV, JSON), converted to UTF-8;
        /// also a multipart's non-blank preamble or epilogue (`mime/2/preamble`).
        case body
    }
    /// What kind of place.
    public var kind: Kind
    /// The part: `message` for the top-level headers, `mime/2` for a leaf, `mime/3/1` for
    /// the headers of an embedded `message/rfc822`'s first part.
    ///
    /// Header sites sit at the path of the entity they head, numbered as
    /// ``MIMEMessageParser`` numbers parts: the top-level message's own fields and those
    /// of a top-level multipart are at `message`; a message/rfc822 part at `mime/3` holds
    /// its own fields, the fields of the message inside it, and those of that message's
    /// multipart body, all at `mime/3`. GMime keeps a message's `Content-*` fields on its
    /// body, so a single-part message's `Content-Description` is at `mime/1`.
    public var part: PartPath
    /// The media type of the part, lowercase (`text/plain`); for headers, the type of the
    /// part they head (`message/rfc822` for a message's own header block).
    public var contentType: String
    /// Which of the same-named fields at ``part`` this is, counting from 0 in message
    /// order (names compared case-insensitively); always 0 for bodies.
    public var occurrence: Int

    /// Creates a site. Sites of a message come from ``MIMEEditableMessage/textSites``.
    public init(kind: Kind, part: PartPath, contentType: String, occurrence: Int = 0) {
        self.kind = kind
        self.part = part
        self.contentType = contentType
        self.occurrence = occurrence
    }
}
