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
        var output = Data(count: text.count / 4 * 3 + 3)
        let written: Int? = output.withUnsafeMutableBytes { raw in
            table.withUnsafeBufferPointer { table in
                decode(text, into: raw.bindMemory(to: UInt8.self), table: table)
            }
        }
        guard let written else { return nil }
        output.count = written
        return output
    }

    /// Decodes into `out` (large enough for `text.count / 4 * 3` bytes); returns the
    /// number of bytes written, or `nil` on invalid input.
    private static func decode(_ text: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>,
                               table: UnsafeBufferPointer<UInt8>) -> Int? {
        var written = 0
        var quad: UInt32 = 0
        var inQuad = 0
        var padding = 0
        for byte in text {
            let value = table[Int(byte)]
            if value < 64 {
                guard padding == 0, inQuad < 4 else { return nil }
                quad = quad << 6 | UInt32(value)
                inQuad += 1
                if inQuad == 4 {
                    out[written] = UInt8(truncatingIfNeeded: quad >> 16)
                    out[written + 1] = UInt8(truncatingIfNeeded: quad >> 8)
                    out[written + 2] = UInt8(truncatingIfNeeded: quad)
                    written += 3
                    quad = 0
                    inQuad = 0
                }
                continue
            }
            switch value {
            case whitespace:
                continue
            case pad:
                // Padding fills the last quad from position 2 or 3 onwards.
                guard inQuad < 4, inQuad + padding >= 2 else { return nil }
                padding += 1
                if inQuad + padding == 4 {
                    if padding > 2 { return nil }
                    quad <<= UInt32(6 * padding)
                    out[written] = UInt8(truncatingIfNeeded: quad >> 16)
                    written += 1
                    if padding == 1 {
                        out[written] = UInt8(truncatingIfNeeded: quad >> 8)
                        written += 1
                    }
                    inQuad = 4  // nothing but whitespace may follow
                }
            default:
                return nil
            }
        }
        // A complete final quad leaves inQuad at 0 (no padding) or 4 (padded).
        guard inQuad == 0 || (inQuad == 4 && padding > 0) else { return nil }
        return written
    }

    /// `text` without XML whitespace: the form payload texts are compared in.
    static func strippingWhitespace(_ text: [UInt8]) -> [UInt8] {
        text.withUnsafeBufferPointer { strippingWhitespace($0) }
    }

    /// `text` without XML whitespace, in one pass into a preallocated buffer.
    static func strippingWhitespace(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: text.count) { out, count in
            var n = 0
            for byte in text where !(byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09) {
                out[n] = byte
                n += 1
            }
            count = n
        }
    }
}
