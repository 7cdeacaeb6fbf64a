import CGMime
import Foundation

/// A parser warning GMime reported while constructing the message.
///
/// Only the warnings that change what Kordon can vouch for are kept; the others
/// (an unencoded 8-bit header, a duplicated `Received:`) are harmless to a scanner.
enum GMimeParserNotice: Sendable, Equatable {
    /// GMime stopped descending: the nesting is deeper than it will parse.
    case nestingOverflow
    /// A MIME header (`Content-Type`, `Content-Transfer-Encoding`, ...) appears twice
    /// with different values: readers disagree on which one counts.
    case conflictingHeader
    /// A Content-Type or Content-Disposition parameter appears twice with different values.
    case conflictingParameter
    /// A multipart without a `boundary` parameter: its body is one opaque blob.
    case multipartWithoutBoundary
    /// A header line that is not a header (no colon, bad name): GMime ends the
    /// header block there, other readers may not, so parsers disagree on the structure.
    case invalidHeaderName
    /// A part with neither headers nor content, a known way to confuse MIME parsers.
    case partWithoutHeadersOrContent
}

/// Owns one parsed GMime message and every GObject reference that came with it.
///
/// This file is the only place that holds GMime pointers. The tree is read through
/// ``GMimeEntity`` values, which keep the document alive, so a pointer never
/// outlives the message it points into.
final class GMimeDocument {
    /// The constructed message (one reference, released in `deinit`).
    private let message: UnsafeMutablePointer<GMimeMessage>
    /// What the parser warned about, in the order it did.
    let notices: [GMimeParserNotice]

    /// Parses `bytes` as an RFC 5322 message; `nil` when GMime constructs no message.
    init?(bytes: Data) {
        guard !bytes.isEmpty else { return nil }
        GMimeRuntime.ensureInitialized()
        // `with_buffer` copies the bytes into a GByteArray the stream owns (owner = TRUE),
        // so the Swift buffer only has to live for this call. The stream is freed with
        // its last reference: ours (dropped below) and the substreams the message's
        // parts keep of it.
        let maybeStream: UnsafeMutablePointer<GMimeStream>? = bytes.withUnsafeBytes { raw in
            g_mime_stream_mem_new_with_buffer(raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard let stream = maybeStream else { return nil }
        defer { g_object_unref(stream) }
        guard let parser = g_mime_parser_new_with_stream(stream) else { return nil }
        defer { g_object_unref(parser) }
        // Default parser options, plus a warning callback collecting into `collector`.
        guard let options = g_mime_parser_options_new() else { return nil }
        defer { g_mime_parser_options_free(options) }
        let collector = NoticeCollector()
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }
        g_mime_parser_options_set_warning_callback(options, { _, code, _, userData in
            guard let userData else { return }
            Unmanaged<NoticeCollector>.fromOpaque(userData).takeUnretainedValue().record(code)
        }, context.toOpaque())
        guard let constructed = g_mime_parser_construct_message(parser, options) else { return nil }
        message = constructed
        notices = collector.notices
    }

    deinit {
        g_object_unref(message)
    }

    /// The message body: a multipart, a message/rfc822 part or a leaf; `nil` when there is none.
    var body: GMimeEntity? {
        guard let object = g_mime_message_get_mime_part(message) else { return nil }
        return GMimeEntity(document: self, object: object)
    }
}

/// Receives GMime's parser warnings during one `construct_message` call (one thread).
private final class NoticeCollector {
    var notices: [GMimeParserNotice] = []

    func record(_ code: GMimeParserWarning) {
        switch code {
        case GMIME_CRIT_NESTING_OVERFLOW: notices.append(.nestingOverflow)
        case GMIME_CRIT_CONFLICTING_HEADER: notices.append(.conflictingHeader)
        case GMIME_CRIT_CONFLICTING_PARAMETER: notices.append(.conflictingParameter)
        case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: notices.append(.multipartWithoutBoundary)
        case GMIME_CRIT_INVALID_HEADER_NAME: notices.append(.invalidHeaderName)
        case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: notices.append(.partWithoutHeadersOrContent)
        default: break
        }
    }
}

/// The Content-Transfer-Encoding of a leaf, as GMime understood it.
enum TransferEncoding: Sendable, Equatable {
    /// No header: 7bit by default.
    case absent
    /// `7bit`, `8bit` or `binary`: the bytes are the content.
    case identity
    /// `base64`.
    case base64
    /// `quoted-printable`.
    case quotedPrintable
    /// `x-uuencode` and friends.
    case uuencode
    /// A header GMime did not recognize; it passes the bytes through undecoded.
    case unknown
}

/// A borrowed view of one node of a ``GMimeDocument``'s tree.
///
/// Holds a strong reference to the document, which owns the node, so the pointer
/// stays valid for as long as the entity exists. Every accessor copies what it
/// returns into Swift values.
struct GMimeEntity {
    private let document: GMimeDocument
    private let object: UnsafeMutablePointer<GMimeObject>

    fileprivate init(document: GMimeDocument, object: UnsafeMutablePointer<GMimeObject>) {
        self.document = document
        self.object = object
    }

    /// What kind of node this is.
    enum Kind {
        /// A multipart with its number of children.
        case multipart(childCount: Int)
        /// A message/rfc822 part; its own body is ``embeddedBody``.
        case messagePart
        /// A leaf with content.
        case leaf
        /// Something GMime built that is none of the above (should not happen).
        case other
    }

    /// The kind of node.
    var kind: Kind {
        if let multipart = kordon_as_multipart(object) {
            return .multipart(childCount: Int(max(0, g_mime_multipart_get_count(multipart))))
        }
        if kordon_as_message_part(object) != nil { return .messagePart }
        if kordon_as_part(object) != nil { return .leaf }
        return .other
    }

    /// Whether this is a multipart or a message/rfc822 part: an entity that holds others.
    var isContainer: Bool {
        kordon_as_multipart(object) != nil || kordon_as_message_part(object) != nil
    }

    /// The child at `index` (from 0) of a multipart.
    func child(at index: Int) -> GMimeEntity? {
        guard let multipart = kordon_as_multipart(object),
              let child = g_mime_multipart_get_part(multipart, Int32(index)) else { return nil }
        return GMimeEntity(document: document, object: child)
    }

    /// The body of the message inside a message/rfc822 part.
    var embeddedBody: GMimeEntity? {
        guard let part = kordon_as_message_part(object),
              let inner = g_mime_message_part_get_message(part),
              let body = g_mime_message_get_mime_part(inner) else { return nil }
        return GMimeEntity(document: document, object: body)
    }

    /// Text before the first boundary of a multipart (RFC 2046 "preamble").
    var prologue: Data? {
        guard let multipart = kordon_as_multipart(object) else { return nil }
        return Self.bytes(of: g_mime_multipart_get_prologue(multipart))
    }

    /// Text after the closing boundary of a multipart (RFC 2046 "epilogue").
    var epilogue: Data? {
        guard let multipart = kordon_as_multipart(object) else { return nil }
        return Self.bytes(of: g_mime_multipart_get_epilogue(multipart))
    }

    /// `type/subtype`, lowercased; GMime defaults a missing or invalid Content-Type to text/plain.
    var mediaType: String {
        guard let type = g_mime_object_get_content_type(object) else { return "text/plain" }
        let major = g_mime_content_type_get_media_type(type).map { String(cString: $0) } ?? "text"
        let minor = g_mime_content_type_get_media_subtype(type).map { String(cString: $0) } ?? "plain"
        return (major + "/" + minor).lowercased()
    }

    /// A Content-Type parameter (`type`, `start`, `boundary`), decoded by GMime.
    func contentTypeParameter(_ name: String) -> String? {
        g_mime_object_get_content_type_parameter(object, name).map { String(cString: $0) }
    }

    /// A raw header value (first occurrence), unfolded by GMime.
    func header(_ name: String) -> String? {
        g_mime_object_get_header(object, name).map { String(cString: $0) }
    }

    /// The Content-ID, without angle brackets.
    var contentID: String? {
        guard let id = g_mime_object_get_content_id(object) else { return nil }
        return MIMEText.unbracketed(String(cString: id))
    }

    /// The file name from Content-Disposition or Content-Type `name`, RFC 2231/2047 decoded.
    var filename: String? {
        guard let part = kordon_as_part(object), let name = g_mime_part_get_filename(part) else { return nil }
        return String(cString: name)
    }

    /// Whether this is a message/partial fragment.
    var isMessagePartial: Bool { kordon_is_message_partial(object) != 0 }

    /// Whether this is encrypted: multipart/encrypted, S/MIME, or an inline OpenPGP message.
    var isEncrypted: Bool {
        if kordon_is_multipart_encrypted(object) != 0 || kordon_is_application_pkcs7_mime(object) != 0 {
            return true
        }
        guard let part = kordon_as_part(object) else { return false }
        return g_mime_part_get_openpgp_data(part) == GMIME_OPENPGP_DATA_ENCRYPTED
    }

    /// The Content-Transfer-Encoding of a leaf.
    var transferEncoding: TransferEncoding {
        guard let part = kordon_as_part(object) else { return .absent }
        switch g_mime_part_get_content_encoding(part) {
        case GMIME_CONTENT_ENCODING_7BIT, GMIME_CONTENT_ENCODING_8BIT, GMIME_CONTENT_ENCODING_BINARY:
            return .identity
        case GMIME_CONTENT_ENCODING_BASE64: return .base64
        case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE: return .quotedPrintable
        case GMIME_CONTENT_ENCODING_UUENCODE: return .uuencode
        default:
            // DEFAULT means "no usable header": absent, or present but unrecognized.
            return header("Content-Transfer-Encoding") == nil ? .absent : .unknown
        }
    }

    /// The leaf's body with its transfer encoding removed; `nil` when GMime fails to
    /// write it, empty when the part has no content.
    func decodedContent() -> Data? {
        guard let part = kordon_as_part(object) else { return nil }
        guard let wrapper = g_mime_part_get_content(part) else { return Data() }
        return Self.collect { g_mime_data_wrapper_write_to_stream(wrapper, $0) >= 0 }
    }

    /// The leaf's body exactly as it sits in the message, still transfer-encoded.
    func encodedContent() -> Data? {
        guard let part = kordon_as_part(object) else { return nil }
        guard let wrapper = g_mime_part_get_content(part),
              let source = g_mime_data_wrapper_get_stream(wrapper) else { return Data() }
        return Self.collect { sink in
            guard g_mime_stream_reset(source) == 0 else { return false }
            let copied = g_mime_stream_write_to_stream(source, sink)
            _ = g_mime_stream_reset(source)
            return copied >= 0
        }
    }

    /// Runs `write` against a fresh memory stream and returns what it wrote.
    private static func collect(_ write: (UnsafeMutablePointer<GMimeStream>) -> Bool) -> Data? {
        guard let sink = g_mime_stream_mem_new() else { return nil }
        defer { g_object_unref(sink) }
        guard write(sink), let array = kordon_stream_mem_bytes(sink) else { return nil }
        let count = Int(array.pointee.len)
        guard count > 0, let bytes = array.pointee.data else { return Data() }
        return Data(bytes: bytes, count: count)
    }

    private static func bytes(of string: UnsafePointer<CChar>?) -> Data? {
        guard let string else { return nil }
        return Data(bytes: string, count: strlen(string))
    }
}
