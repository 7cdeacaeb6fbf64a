import Foundation

/// Decodes unstructured header text (RFC 5322 unfolding, RFC 2047 encoded-words) to UTF-8.
///
/// Kordon decodes headers itself rather than through GMime: GMime 3.2.13 (Debian 12)
/// drops every base64 encoded-word that follows a padded one (`=?UTF-8?B?SGVsbG8=?=
/// =?UTF-8?B?IHdvcmxk?=` reads as `Hello`; jstedfast/gmime#133), which would hide the
/// rest of a Subject from the redaction stage.
///
/// Decoding is lenient, as mail readers are: an encoded-word is decoded wherever it
/// stands, white space between two encoded-words is dropped, the bytes of adjacent words
/// in the same charset are joined before conversion (a character may be split between
/// them), malformed words stay as they are. Text outside encoded-words is UTF-8 when
/// valid, else read as windows-1251 (see ``GMimeCharsetConverter/utf8Text(_:declaredCharset:)``).
enum RFC2047 {
    /// The decoded text of a raw (folded) header value, trimmed of surrounding white space.
    static func decode(_ raw: Data) -> String {
        let bytes = unfold(Array(raw))
        var output = ""
        var pendingBytes: [UInt8] = []  // decoded bytes of the current run of words
        var pendingCharset = ""
        var gap: [UInt8] = []           // white space after the last word, dropped if a word follows
        var literal: [UInt8] = []
        func flushWords() {
            guard !pendingBytes.isEmpty || !pendingCharset.isEmpty else { return }
            output += text(pendingBytes, charset: pendingCharset)
            pendingBytes = []
            pendingCharset = ""
        }
        func flushLiteral() {
            // Raw 8-bit text in a header: UTF-8 when valid, else windows-1251 (as bodies).
            output += String(decoding: GMimeCharsetConverter.utf8Text(Data(literal), declaredCharset: nil), as: UTF8.self)
            literal = []
        }
        var index = 0
        while index < bytes.count {
            if let word = encodedWord(in: bytes, at: index) {
                flushLiteral()
                if word.charset != pendingCharset { flushWords() }
                gap = []
                pendingCharset = word.charset
                pendingBytes += word.bytes
                index = word.end
                continue
            }
            let byte = bytes[index]
            if !pendingCharset.isEmpty, byte == 0x20 || byte == 0x09 {
                gap.append(byte)  // may separate two words: hold it back
            } else {
                flushWords()
                literal += gap
                gap = []
                literal.append(byte)
            }
            index += 1
        }
        flushWords()
        literal += gap
        flushLiteral()
        return output.trimmingCharacters(in: .whitespaces)
    }

    /// RFC 5322 2.2.3: a line break followed by white space is removed; the white space stays.
    private static func unfold(_ bytes: [UInt8]) -> [UInt8] {
        bytes.filter { $0 != 0x0D && $0 != 0x0A }
    }

    private struct Word {
        var charset: String
        var bytes: [UInt8]
        var end: Int
    }

    /// The encoded-word `=?charset?B|Q?text?=` starting at `start`, decoded to bytes.
    private static func encodedWord(in bytes: [UInt8], at start: Int) -> Word? {
        guard start + 1 < bytes.count, bytes[start] == UInt8(ascii: "="), bytes[start + 1] == UInt8(ascii: "?") else {
            return nil
        }
        // Find the three '?' separators and the closing "?=" with no white space in between.
        var marks: [Int] = []
        var index = start + 2
        while index < bytes.count, index - start < 1024 {
            let byte = bytes[index]
            if byte == 0x20 || byte == 0x09 { return nil }
            if byte == UInt8(ascii: "?") {
                if marks.count == 2 {
                    guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "=") else { return nil }
                    marks.append(index)
                    break
                }
                marks.append(index)
            }
            index += 1
        }
        guard marks.count == 3, marks[1] == marks[0] + 2 else { return nil }
        // RFC 2231 allows a language after the charset: `utf-8*ru`.
        let charsetField = String(decoding: bytes[(start + 2)..<marks[0]], as: UTF8.self)
        let charset = charsetField.split(separator: "*", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !charset.isEmpty else { return nil }
        let payload = bytes[(marks[1] + 1)..<marks[2]]
        let decoded: [UInt8]?
        switch bytes[marks[0] + 1] {
        case UInt8(ascii: "B"), UInt8(ascii: "b"): decoded = base64(payload)
        case UInt8(ascii: "Q"), UInt8(ascii: "q"): decoded = quoted(payload)
        default: decoded = nil
        }
        guard let decoded else { return nil }
        return Word(charset: charset.lowercased(), bytes: decoded, end: marks[2] + 2)
    }

    /// Lenient base64: padding optional, anything after the first `=` ignored.
    private static func base64(_ payload: ArraySlice<UInt8>) -> [UInt8]? {
        var text = String(decoding: payload.prefix { $0 != UInt8(ascii: "=") }, as: UTF8.self)
        guard text.utf8.count % 4 != 1 else { return nil }
        text += String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
        return Data(base64Encoded: text).map(Array.init)
    }

    /// RFC 2047 "Q": `_` is a space, `=XX` a byte; a malformed escape stays as written.
    private static func quoted(_ payload: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        var index = payload.startIndex
        while index < payload.endIndex {
            let byte = payload[index]
            if byte == UInt8(ascii: "_") {
                output.append(0x20)
            } else if byte == UInt8(ascii: "="), index + 2 < payload.endIndex,
                      let high = hex(payload[index + 1]), let low = hex(payload[index + 2]) {
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Decoded word bytes in `charset` as text.
    private static func text(_ bytes: [UInt8], charset: String) -> String {
        String(decoding: GMimeCharsetConverter.utf8Text(Data(bytes), declaredCharset: charset), as: UTF8.self)
    }
}
