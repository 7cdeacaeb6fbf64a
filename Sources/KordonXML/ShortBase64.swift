import Foundation

/// The untyped fallback for short files: base64 too short, or too uniform, for
/// ``EncodedText`` (which wants 32 characters and the case-and-digit mixing of random
/// base64) and shorter than the 256 characters the long fallback decodes unconditionally.
/// A 68-byte EICAR followed by a hundred zero bytes is 212 characters of mostly `A`.
///
/// Names, codes and numbers must not be taken for files, so the text must look like a
/// file's base64 and decode to one:
/// - ``minimumLength`` characters or more, whitespace aside, all strict base64, split by
///   whitespace (if at all) only into groups of four (`WDVP IVAl QEFQ …`, as `b64decode`
///   reads them) or wrapped lines of ``minimumLineLength`` or more: a name or a phrase of
///   several words is not one;
/// - both upper and lower case letters (codes, registration numbers, VINs and container
///   numbers are upper case and digits; numbers, dates and amounts have no letters), and a
///   digit, `+`, `/` or `=` (a camel-case word or enumeration value, `DtIssueSuspended`, has
///   none; 16 characters of random base64 lack them one time in 28);
/// - not hex digits only (digests, identifiers);
/// - decoded, bytes that are not text: a control character or malformed UTF-8. Base64 of
///   text is left to the rule packs, which see the element's text as it is.
enum ShortBase64 {
    /// The fewest base64 characters (12 decoded bytes).
    static let minimumLength = 16
    /// The shortest piece before a line break inside a wrapped payload.
    static let minimumLineLength = 16
    /// The longest text looked at: base64 past 256 characters is the long fallback's.
    static let maximumLength = 1024

    /// The decoded bytes when `text` is, by the rules above, a short file in base64;
    /// `minimumLength` is a parameter only for measuring other thresholds.
    static func decodeFile(_ text: UnsafeBufferPointer<UInt8>, minimumLength: Int = ShortBase64.minimumLength) -> Data? {
        let trimmed = EncodedText.trimmingSpace(text)
        guard trimmed.count >= minimumLength, trimmed.count <= maximumLength else { return nil }
        var upper = false, lower = false, notHex = false, notLetter = false
        var piece = 0, characters = 0
        for byte in trimmed {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                upper = true
                if byte > UInt8(ascii: "F") { notHex = true }
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                lower = true
                if byte > UInt8(ascii: "f") { notHex = true }
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                notLetter = true
            case UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
                notHex = true
                notLetter = true
            case 0x0A, 0x0D, 0x20, 0x09:
                // Whitespace ends a piece: whole groups of four, or a wrapped line (then
                // indentation, which ends nothing).
                if piece > 0 {
                    let isLineBreak = byte == 0x0A || byte == 0x0D
                    guard piece % 4 == 0 || (isLineBreak && piece >= minimumLineLength) else { return nil }
                    characters += piece
                    piece = 0
                }
                continue
            default:
                return nil
            }
            piece += 1
        }
        characters += piece
        guard characters >= minimumLength, upper, lower, notHex, notLetter,
              let decoded = Base64.decode(trimmed), !isText(decoded)
        else { return nil }
        return decoded
    }

    /// Whether `data` is text: well-formed UTF-8 without control characters other than
    /// tab, line breaks and form feed.
    static func isText(_ data: Data) -> Bool {
        guard let string = String(data: data, encoding: .utf8) else { return false }
        return !string.unicodeScalars.contains { scalar in
            (scalar.value < 0x20 && ![0x09, 0x0A, 0x0C, 0x0D].contains(scalar.value))
                || (scalar.value >= 0x7F && scalar.value < 0xA0)
        }
    }
}
