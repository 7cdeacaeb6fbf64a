/// Bounds Kordon enforces itself, so that no input can make it slow, big or blind.
///
/// Every bound is checked in linear time, before the C libraries see the input.
public struct Limits: Sendable, Codable, Equatable {
    /// Largest message accepted, in bytes (default 100 MB).
    public var maxMessageSize: Int = 100 * 1024 * 1024
    /// Deepest XML element nesting.
    public var maxXMLDepth: Int = 256
    /// Most attributes on one XML element.
    public var maxXMLAttributes: Int = 256
    /// Longest XML element or attribute name, in bytes.
    public var maxXMLNameLength: Int = 1024
    /// Longest XML attribute value, in bytes.
    public var maxXMLAttributeValueLength: Int = 1024 * 1024
    /// Most MIME parts in one message, nested ones included.
    public var maxMIMEParts: Int = 1000
    /// Deepest MIME nesting (multipart in multipart, message/rfc822).
    public var maxMIMEDepth: Int = 32
    /// ClamAV: most bytes scanned out of one part's unpacked content.
    public var clamMaxScanSize: Int = 400 * 1024 * 1024
    /// ClamAV: largest single file inside a part.
    public var clamMaxFileSize: Int = 200 * 1024 * 1024
    /// ClamAV: deepest archive nesting.
    public var clamMaxRecursion: Int = 17
    /// ClamAV: most files inside one part.
    public var clamMaxFiles: Int = 10_000
    /// ClamAV: longest scan of one part, in milliseconds.
    public var clamMaxScanTimeMilliseconds: Int = 120_000

    /// The defaults above.
    public init() {}
}
