import Foundation

/// A strict base64 decoder (RFC 4648 alphabet) for `xs:base64Binary` content.
///
/// XML whitespace anywhere is skipped (base64 in XML is routinely wrapped); any other
/// character outside the alphabet, a length that is not a multiple of four, or padding
/// anywhere but at the very end is a failure. Foundation's decoder is not used because
/// it either rejects wrapped text or, with `.ignoreUnknownCharacters`, silently drops
/// bytes that would make a payload undecodable.
enum Base64 {
    private static let invalid: UInt8 = 0xFF
    private static let whitespace: UInt8 = 0xFE
    private static let pad: UInt8 = 0xFD

    private static let table: [UInt8] = {
        var t = [UInt8](repeating: invalid, count: 256)
        for (value, char) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            t[Int(char)] = UInt8(value)
        }
        for c in [UInt8(0x20), 0x09, 0x0A, 0x0D] { t[Int(c)] = whitespace }
        t[Int(UInt8(ascii: "="))] = pad
        return t
    }()

    /// The decoded bytes, or `nil` when `text` is not strictly valid base64.
    static func decode(_ text: [UInt8]) -> Data? {
        text.withUnsafeBufferPointer { decode($0) }
    }

    /// The decoded bytes, or `nil` when `text` is not strictly valid base64.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> Data? {
        var output = [UInt8]()
        output.reserveCapacity(text.count / 4 * 3)
        var quad: UInt32 = 0
        var inQuad = 0
        var padding = 0
        let table = Self.table
        for byte in text {
            let value = table[Int(byte)]
            switch value {
            case whitespace:
                continue
            case invalid:
                return nil
            case pad:
                // Padding fills the last quad from position 2 or 3 onwards.
                guard inQuad < 4, inQuad + padding >= 2 else { return nil }
                padding += 1
                if inQuad + padding == 4 {
                    if padding > 2 { return nil }
                    quad <<= UInt32(6 * padding)
                    output.append(UInt8(truncatingIfNeeded: quad >> 16))
                    if padding == 1 { output.append(UInt8(truncatingIfNeeded: quad >> 8)) }
                    inQuad = 4  // nothing but whitespace may follow
                }
            default:
                guard padding == 0, inQuad < 4 else { return nil }
                quad = quad << 6 | UInt32(value)
                inQuad += 1
                if inQuad == 4, padding == 0 {
                    output.append(UInt8(truncatingIfNeeded: quad >> 16))
                    output.append(UInt8(truncatingIfNeeded: quad >> 8))
                    output.append(UInt8(truncatingIfNeeded: quad))
                    quad = 0
                    inQuad = 0
                }
            }
        }
        // A complete final quad leaves inQuad at 0 (no padding) or 4 (padded).
        guard inQuad == 0 || (inQuad == 4 && padding > 0) else { return nil }
        return Data(output)
    }

    /// `text` without XML whitespace: the form payload texts are compared in.
    static func strippingWhitespace(_ text: [UInt8]) -> [UInt8] {
        text.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
    }
}
