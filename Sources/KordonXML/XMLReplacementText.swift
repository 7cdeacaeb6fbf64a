/// Makes replacement text safe to put into a libxml2 tree that will be serialized.
///
/// libxml2 escapes `&`, `<`, `>` and carriage returns in text and attribute values when it
/// writes them, but it writes bytes that XML cannot hold (control characters, malformed
/// UTF-8) as they are, and comments and processing instructions without any escaping.
/// Replacements therefore become valid UTF-8 made of XML 1.0 characters only (anything
/// else turns into U+FFFD), and comment and processing-instruction text is kept from
/// closing its markup early.
enum XMLReplacementText {
    /// `bytes` as valid UTF-8 of XML 1.0 characters; everything else becomes U+FFFD.
    static func characters(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return bytes }
        let text = String(decoding: bytes, as: UTF8.self)  // malformed sequences → U+FFFD
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(isXMLCharacter(scalar) ? scalar : "\u{FFFD}")
        }
        return Array(String(scalars).utf8)
    }

    /// Comment text: XML characters, no `--`, and not ending in `-` (which would close the
    /// comment early or make it malformed): a space goes between such hyphens.
    static func comment(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        for byte in characters(bytes) {
            if byte == UInt8(ascii: "-"), output.last == UInt8(ascii: "-") { output.append(UInt8(ascii: " ")) }
            output.append(byte)
        }
        if output.last == UInt8(ascii: "-") { output.append(UInt8(ascii: " ")) }
        return output
    }

    /// Processing-instruction content: XML characters, and `?>` broken as `? >`.
    static func processingInstruction(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        for byte in characters(bytes) {
            if byte == UInt8(ascii: ">"), output.last == UInt8(ascii: "?") { output.append(UInt8(ascii: " ")) }
            output.append(byte)
        }
        return output
    }

    /// XML 1.0 `Char`: tab, line feed, carriage return, U+0020–U+D7FF, U+E000–U+FFFD, U+10000 and up.
    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return true
        case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }
}
