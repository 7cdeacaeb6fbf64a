import Foundation

/// A decoded piece of a message that must be scanned on its own:
/// a MIME part body, a base64 payload out of an XML element.
public struct ExtractedPart: Sendable {
    /// Where it sits in the message.
    public var path: PartPath
    /// The decoded bytes.
    public var data: Data
    /// A media type when one is known (`application/xml`, `application/pdf`).
    public var contentType: String?
    /// A file name when one is known, for reports and for the scanner's hints.
    public var filename: String?

    /// Creates an extracted part.
    public init(path: PartPath, data: Data, contentType: String? = nil, filename: String? = nil) {
        self.path = path
        self.data = data
        self.contentType = contentType
        self.filename = filename
    }
}
