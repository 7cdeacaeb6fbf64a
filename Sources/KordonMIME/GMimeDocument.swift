import CGMime
import Foundation

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
        let collector = GMimeNoticeCollector()
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }
        g_mime_parser_options_set_warning_callback(options, { _, code, _, userData in
            guard let userData else { return }
            Unmanaged<GMimeNoticeCollector>.fromOpaque(userData).takeUnretainedValue().record(code)
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

    /// The message itself, whose ``GMimeEntity/headerFields`` are the message's own header
    /// block (`Subject`, `From`, `X-*`, ...); GMime keeps the `Content-*` fields on ``body``.
    var headerEntity: GMimeEntity? {
        guard let object = kordon_message_as_object(message) else { return nil }
        return GMimeEntity(document: self, object: object)
    }

    /// The whole message written back by GMime; `nil` when writing fails.
    ///
    /// Header fields and bodies nobody changed are copied as they were parsed; changed
    /// header fields are folded again by GMime. Every line break GMime writes (after
    /// headers, around boundaries, inside non-`binary` bodies) is `CRLF` when `crlf` is
    /// set and `LF` otherwise, so pass the convention the message came in with.
    func write(crlf: Bool) -> Data? {
        guard let object = kordon_message_as_object(message), let options = g_mime_format_options_new() else {
            return nil
        }
        defer { g_mime_format_options_free(options) }
        g_mime_format_options_set_newline_format(options, crlf ? GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX)
        return GMimeEntity.collect { g_mime_object_write_to_stream(object, options, $0) >= 0 }
    }
}

/// One header field: its name as written and its raw value.
struct GMimeHeaderField: Sendable, Equatable {
    /// The name, as written in the message (`Subject`, `X-Note`).
    var name: String
    /// The value as GMime holds it: folded and RFC 2047-encoded, as parsed or as set.
    var rawValue: Data
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

    /// The document this entity belongs to.
    var owner: GMimeDocument { document }

    /// The message inside a message/rfc822 part, as an entity holding its header block.
    var embeddedMessage: GMimeEntity? {
        guard let part = kordon_as_message_part(object),
              let inner = g_mime_message_part_get_message(part),
              let innerObject = kordon_message_as_object(inner) else { return nil }
        return GMimeEntity(document: document, object: innerObject)
    }

    // MARK: - Editing

    /// Every header field of this entity, in order: the name as written and the raw
    /// (folded, still RFC 2047-encoded) value. Decode it with ``RFC2047``, not with
    /// GMime's `g_mime_header_get_value`, which loses encoded-words (see ``RFC2047``).
    var headerFields: [GMimeHeaderField] {
        guard let list = g_mime_object_get_header_list(object) else { return [] }
        return (0..<Int(max(0, g_mime_header_list_get_count(list)))).compactMap { index in
            guard let header = g_mime_header_list_get_header_at(list, Int32(index)),
                  let name = g_mime_header_get_name(header) else { return nil }
            return GMimeHeaderField(name: String(cString: name), rawValue: Self.bytes(of: g_mime_header_get_raw_value(header)) ?? Data())
        }
    }

    /// Sets the decoded value of the header field at `index` of ``headerFields``.
    ///
    /// `g_mime_header_set_value` trims the value, RFC 2047-encodes it in UTF-8 where it is
    /// not plain ASCII, and folds it (again at write time, with the write's line breaks).
    func setHeaderValue(at index: Int, to value: String) -> Bool {
        guard let list = g_mime_object_get_header_list(object), index >= 0,
              index < Int(g_mime_header_list_get_count(list)),
              let header = g_mime_header_list_get_header_at(list, Int32(index)) else { return false }
        g_mime_header_set_value(header, nil, value, "utf-8")
        return true
    }

    /// Replaces a leaf's decoded content. GMime transfer-encodes it again, with the
    /// part's current Content-Transfer-Encoding, when the message is written.
    func replaceContent(with data: Data) -> Bool {
        guard let part = kordon_as_part(object) else { return false }
        let maybeStream: UnsafeMutablePointer<GMimeStream>? = data.isEmpty ? g_mime_stream_mem_new() : data.withUnsafeBytes { raw in
            g_mime_stream_mem_new_with_buffer(raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard let stream = maybeStream else { return false }
        defer { g_object_unref(stream) }
        // DEFAULT marks the stream as not encoded: GMime encodes it on write.
        guard let wrapper = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT) else { return false }
        defer { g_object_unref(wrapper) }
        g_mime_part_set_content(part, wrapper)  // takes its own reference
        return true
    }

    /// Sets a leaf's Content-Transfer-Encoding to quoted-printable or base64.
    func setTransferEncoding(_ encoding: TransferEncoding) -> Bool {
        guard let part = kordon_as_part(object) else { return false }
        switch encoding {
        case .quotedPrintable: g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
        case .base64: g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64)
        case .absent, .identity, .uuencode, .unknown: return false
        }
        return true
    }

    /// Sets a Content-Type parameter (`charset`).
    func setContentTypeParameter(_ name: String, to value: String) {
        g_mime_object_set_content_type_parameter(object, name, value)
    }

    /// Replaces a multipart's preamble (`preamble` true) or epilogue.
    func setFace(_ text: String, preamble: Bool) -> Bool {
        guard let multipart = kordon_as_multipart(object) else { return false }
        if preamble {
            g_mime_multipart_set_prologue(multipart, text)
        } else {
            g_mime_multipart_set_epilogue(multipart, text)
        }
        return true
    }

    /// Runs `write` against a fresh memory stream and returns what it wrote.
    fileprivate static func collect(_ write: (UnsafeMutablePointer<GMimeStream>) -> Bool) -> Data? {
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
