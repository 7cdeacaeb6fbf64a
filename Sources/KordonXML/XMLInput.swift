import Foundation
import KordonCore

/// A document that passed Kordon's pre-checks and may be handed to libxml2.
struct PreparedXML: Sendable {
    /// UTF-8, or an ASCII-compatible single-byte encoding that libxml2 decodes as declared.
    let bytes: Data
    /// The input was UTF-16 and `bytes` is its UTF-8 transcoding: libxml2 must
    /// ignore the declared encoding.
    let transcoded: Bool
    /// Base64-looking text runs in `bytes` (see ``XMLGuard``).
    let base64Runs: [Range<Int>]
}

extension Limits {
    /// The bounds applied to schema files (the defaults: XSDs are operator-supplied but
    /// parsed with entity substitution by libxml2, so they are guarded all the same).
    static var schemaFiles: Limits { Limits() }
}

/// Encoding detection and the pre-checks every XML input goes through before libxml2.
///
/// UTF-16 (byte order mark, or `<` followed or preceded by a NUL) is transcoded to
/// UTF-8 first, so that the guard and libxml2 both see markup as ASCII. Otherwise the
/// bytes are taken as they are, but only if the declared encoding is ASCII-compatible
/// (UTF-8, ISO-8859-*, windows-125*, KOI8, CP866): an encoding such as UTF-7 or EBCDIC
/// would let markup hide from the byte scanner and reappear after libxml2 decodes it.
enum XMLInput {
    /// Size, emptiness, encoding and ``XMLGuard`` checks.
    static func prepare(_ data: Data, limits: Limits) -> Result<PreparedXML, XMLRefusal> {
        if data.count > limits.maxMessageSize {
            return .failure(XMLRefusal(rule: "xml.size",
                                       detail: "the document is larger than the limit of \(limits.maxMessageSize) bytes"))
        }
        let bytes: Data
        let transcoded: Bool
        switch utf16Order(of: data) {
        case .some(let littleEndian):
            guard let utf8 = transcodeUTF16(data, littleEndian: littleEndian) else {
                return .failure(XMLRefusal(rule: "xml.encoding", detail: "the document is not valid UTF-16"))
            }
            bytes = utf8
            transcoded = true
        case .none:
            bytes = data
            transcoded = false
        }
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
            PreparedXML(bytes: bytes, transcoded: transcoded, base64Runs: $0)
        }
    }

    /// `true` for UTF-16LE, `false` for UTF-16BE, `nil` when not UTF-16.
    static func utf16Order(of data: Data) -> Bool? {
        guard data.count >= 2 else { return nil }
        let b0 = data[data.startIndex], b1 = data[data.startIndex + 1]
        if b0 == 0xFF, b1 == 0xFE { return true }
        if b0 == 0xFE, b1 == 0xFF { return false }
        if b0 == UInt8(ascii: "<"), b1 == 0 { return true }
        if b0 == 0, b1 == UInt8(ascii: "<") { return false }
        return nil
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
