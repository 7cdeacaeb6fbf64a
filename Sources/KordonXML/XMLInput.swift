import Foundation
import KordonCore

/// A Unicode encoding form that ``XMLInput`` transcodes to UTF-8 before the guard and libxml2.
enum TranscodedForm: Sendable, Equatable {
    /// UTF-16 in the given byte order.
    case utf16(littleEndian: Bool)
    /// UTF-32 in the given byte order.
    case utf32(littleEndian: Bool)
}

/// A document that passed Kordon's pre-checks and may be handed to libxml2.
struct PreparedXML: Sendable {
    /// UTF-8, or an ASCII-compatible single-byte encoding that libxml2 decodes as declared.
    let bytes: Data
    /// The form the input was in when `bytes` is its UTF-8 transcoding; `nil` when `bytes`
    /// are the input itself.
    let transcodedFrom: TranscodedForm?
    /// Whether the transcoded input began with a byte order mark.
    let hadByteOrderMark: Bool
    /// Base64-looking text runs in `bytes` (see ``XMLGuard``).
    let base64Runs: [Range<Int>]

    /// The input was UTF-16 or UTF-32 and `bytes` is its UTF-8 transcoding: libxml2 must
    /// ignore the declared encoding.
    var transcoded: Bool { transcodedFrom != nil }
}

extension Limits {
    /// The bounds applied to schema files (the defaults: XSDs are operator-supplied but
    /// parsed with entity substitution by libxml2, so they are guarded all the same).
    static var schemaFiles: Limits { Limits() }
}

/// Encoding detection and the pre-checks every XML input goes through before libxml2.
///
/// The encoding form is the one ``XMLSniffer`` (shared with form detection) recognises.
/// UTF-16 and UTF-32, either byte order, with or without a byte order mark, are transcoded
/// to UTF-8 first, so that the guard and libxml2 both see markup as ASCII. UCS-4 in the
/// unusual byte orders and EBCDIC are refused (`xml.encoding`): libxml2 does not read the
/// former, and the latter would hide markup from the byte scanner. Otherwise the bytes are
/// taken as they are, but only if the declared encoding is ASCII-compatible (UTF-8,
/// ISO-8859-*, windows-125*, KOI8, CP866): an encoding such as UTF-7 would let markup hide
/// from the byte scanner and reappear after libxml2 decodes it.
enum XMLInput {
    /// Size, emptiness, encoding and ``XMLGuard`` checks.
    static func prepare(_ data: Data, limits: Limits) -> Result<PreparedXML, XMLRefusal> {
        if data.count > limits.maxMessageSize {
            return .failure(XMLRefusal(rule: "xml.size",
                                       detail: "the document is larger than the limit of \(limits.maxMessageSize) bytes"))
        }
        let bytes: Data
        var transcodedFrom: TranscodedForm?
        let sniff = XMLSniffer.sniff(data)
        switch sniff?.form {
        case .utf16(let littleEndian):
            guard let utf8 = transcodeUTF16(data, littleEndian: littleEndian) else {
                return .failure(XMLRefusal(rule: "xml.encoding", detail: "the document is not valid UTF-16"))
            }
            bytes = utf8
            transcodedFrom = .utf16(littleEndian: littleEndian)
        case .utf32(let littleEndian):
            guard let utf8 = transcodeUTF32(data, littleEndian: littleEndian) else {
                return .failure(XMLRefusal(rule: "xml.encoding", detail: "the document is not valid UTF-32"))
            }
            bytes = utf8
            transcodedFrom = .utf32(littleEndian: littleEndian)
        case .ucs4Unusual:
            return .failure(XMLRefusal(rule: "xml.encoding",
                                       detail: "the document is UCS-4 in an unusual byte order (2143 or 3412), which is not read"))
        case .ebcdic:
            return .failure(XMLRefusal(rule: "xml.encoding",
                                       detail: "the document is in an EBCDIC encoding, which is not an accepted ASCII-compatible encoding"))
        case .ascii, nil:
            bytes = data
        }
        let transcoded = transcodedFrom != nil
        guard let first = bytes.firstIndex(where: { !isWhitespaceOrBOM($0) }) else {
            return .failure(XMLRefusal(rule: "xml.empty", detail: "the document is empty"))
        }
        if bytes[first] != UInt8(ascii: "<") {
            return .failure(XMLRefusal(rule: "xml.malformed", detail: "not well-formed: the document does not start with markup"))
        }
        if !transcoded, let declared = declaredEncoding(bytes), !isASCIICompatible(declared) {
            return .failure(XMLRefusal(rule: "xml.encoding",
                                       detail: "declared encoding \(declared.prefix(40)) is not an accepted ASCII-compatible encoding"))
        }
        return XMLGuard(limits: limits).scan(bytes).map {
            PreparedXML(bytes: bytes, transcodedFrom: transcodedFrom,
                        hadByteOrderMark: (sniff?.byteOrderMarkLength ?? 0) > 0, base64Runs: $0)
        }
    }

    /// Strict UTF-16 → UTF-8; drops the byte order mark; `nil` on odd length or a lone surrogate.
    static func transcodeUTF16(_ data: Data, littleEndian: Bool) -> Data? {
        guard data.count % 2 == 0 else { return nil }
        var output = [UInt8]()
        output.reserveCapacity(data.count)
        let failed = data.withUnsafeBytes { raw -> Bool in
            let units = (0..<(raw.count / 2)).lazy.map { k -> UInt16 in
                let a = UInt16(raw[2 * k]), b = UInt16(raw[2 * k + 1])
                return littleEndian ? (b << 8 | a) : (a << 8 | b)
            }
            return transcode(units.makeIterator(), from: UTF16.self, to: UTF8.self, stoppingOnError: true) {
                output.append($0)
            }
        }
        guard !failed else { return nil }
        if output.starts(with: [0xEF, 0xBB, 0xBF]) { output.removeFirst(3) }
        return Data(output)
    }

    /// Strict UTF-32 → UTF-8; drops the byte order mark; `nil` when the length is not a
    /// multiple of four or a unit is not a Unicode scalar value.
    static func transcodeUTF32(_ data: Data, littleEndian: Bool) -> Data? {
        guard data.count % 4 == 0 else { return nil }
        var output = [UInt8]()
        output.reserveCapacity(data.count / 2)
        let failed = data.withUnsafeBytes { raw -> Bool in
            let units = (0..<(raw.count / 4)).lazy.map { k -> UInt32 in
                let a = UInt32(raw[4 * k]), b = UInt32(raw[4 * k + 1]), c = UInt32(raw[4 * k + 2]), d = UInt32(raw[4 * k + 3])
                return littleEndian ? (d << 24 | c << 16 | b << 8 | a) : (a << 24 | b << 16 | c << 8 | d)
            }
            return transcode(units.makeIterator(), from: UTF32.self, to: UTF8.self, stoppingOnError: true) {
                output.append($0)
            }
        }
        guard !failed else { return nil }
        if output.starts(with: [0xEF, 0xBB, 0xBF]) { output.removeFirst(3) }
        return Data(output)
    }

    /// UTF-8 `bytes` in a transcoded form again, with or without a byte order mark: how a
    /// sanitized copy of a transcoded document is written back in the sender's encoding.
    static func encode(_ bytes: [UInt8], as form: TranscodedForm, byteOrderMark: Bool) -> Data {
        let text = (byteOrderMark ? "\u{FEFF}" : "") + String(decoding: bytes, as: UTF8.self)
        var output: [UInt8] = []
        switch form {
        case .utf16(let littleEndian):
            output.reserveCapacity(bytes.count * 2 + 2)
            for unit in text.utf16 {
                let low = UInt8(truncatingIfNeeded: unit), high = UInt8(truncatingIfNeeded: unit >> 8)
                output += littleEndian ? [low, high] : [high, low]
            }
        case .utf32(let littleEndian):
            output.reserveCapacity(bytes.count * 4 + 4)
            for scalar in text.unicodeScalars {
                let v = scalar.value
                let be = [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
                output += littleEndian ? be.reversed() : be
            }
        }
        return Data(output)
    }

    /// The `encoding` pseudo-attribute of the XML declaration, if any.
    static func declaredEncoding(_ data: Data) -> String? {
        var start = data.startIndex
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { start += 3 }
        let head = data[start..<min(data.endIndex, start + 4096)]
        guard head.starts(with: Array("<?xml".utf8)),
              let end = head.firstRange(of: Array("?>".utf8)),
              let declaration = String(data: head[head.startIndex..<end.lowerBound], encoding: .isoLatin1),
              let key = declaration.range(of: "encoding")
        else { return nil }
        var rest = declaration[key.upperBound...].drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
        guard rest.first == "=" else { return nil }
        rest = rest.dropFirst().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix(while: { $0 != quote }))
    }

    /// Encodings in which every byte below 0x80 is ASCII and every character is one byte or
    /// a UTF-8 sequence, so that the byte scanner sees exactly the markup libxml2 sees.
    static func isASCIICompatible(_ name: String) -> Bool {
        let n = name.lowercased()
        if ["utf-8", "utf8", "us-ascii", "ascii", "latin1", "koi8-r", "koi8-u", "ibm866", "cp866"].contains(n) { return true }
        for prefix in ["iso-8859-", "iso8859-", "iso_8859-"] where n.hasPrefix(prefix) {
            if let part = Int(n.dropFirst(prefix.count)), (1...16).contains(part), part != 12 { return true }
        }
        for prefix in ["windows-", "cp"] where n.hasPrefix(prefix) {
            if let page = Int(n.dropFirst(prefix.count)), (1250...1258).contains(page) { return true }
        }
        return false
    }

    private static func isWhitespaceOrBOM(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0xEF || byte == 0xBB || byte == 0xBF
    }
}

extension Result {
    /// Whether this is a success.
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
