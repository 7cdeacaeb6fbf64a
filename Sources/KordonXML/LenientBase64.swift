import Foundation

/// Base64 decoded the way forgiving decoders do it, for text the strict ``Base64``
/// decoder refuses but a receiver's tools would still turn into a file.
///
/// It recovers what Python's `base64.b64decode(s)` (non-validating: characters outside
/// the alphabet are dropped), browsers' `atob` (missing padding) and `base64 -di`
/// (padded blocks one after another) recover, all at once: bytes outside the alphabet
/// are skipped, `=` completing a quad ends that block and decoding goes on with the
/// next, a last incomplete quad is decoded as if padded, and in URL-safe mode `-` and
/// `_` stand for `+` and `/`. It never fails: whatever the text, some bytes come out.
enum LenientBase64 {
    private static let skip: UInt8 = 0xFF
    private static let pad: UInt8 = 0xFD

    private static func table(urlSafe: Bool) -> [UInt8] {
        var t = [UInt8](repeating: skip, count: 256)
        for (value, char) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8.enumerated() {
            t[Int(char)] = UInt8(value)
        }
        // URL-safe text keeps `+` and `/` too: `urlsafe_b64decode` maps `-_` and leaves them.
        t[Int(UInt8(ascii: "+"))] = 62
        t[Int(UInt8(ascii: "/"))] = 63
        if urlSafe {
            t[Int(UInt8(ascii: "-"))] = 62
            t[Int(UInt8(ascii: "_"))] = 63
        }
        t[Int(UInt8(ascii: "="))] = pad
        return t
    }

    private static let standardTable = table(urlSafe: false)
    private static let urlSafeTable = table(urlSafe: true)

    /// The bytes a forgiving decoder recovers from `text`.
    static func decode(_ text: UnsafeBufferPointer<UInt8>, urlSafe: Bool) -> Data {
        var output = Data(count: text.count / 4 * 3 + 3)
        let written = output.withUnsafeMutableBytes { raw in
            (urlSafe ? urlSafeTable : standardTable).withUnsafeBufferPointer { table in
                decode(text, into: raw.bindMemory(to: UInt8.self), table: table)
            }
        }
        output.count = written
        return output
    }

    private static func decode(_ text: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>,
                               table: UnsafeBufferPointer<UInt8>) -> Int {
        var written = 0
        var quad: UInt32 = 0
        var inQuad = 0
        // Writes the 1 or 2 bytes of a quad of 2 or 3 characters; a lone character is no byte.
        func flushPartial() {
            if inQuad == 2 {
                out[written] = UInt8(truncatingIfNeeded: quad >> 4)
                written += 1
            } else if inQuad == 3 {
                out[written] = UInt8(truncatingIfNeeded: quad >> 10)
                out[written + 1] = UInt8(truncatingIfNeeded: quad >> 2)
                written += 2
            }
            quad = 0
            inQuad = 0
        }
        for byte in text {
            let value = table[Int(byte)]
            if value < 64 {
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
            } else if value == pad, inQuad >= 2 {
                // Padding ends a block; `base64 -d` goes on with the next one.
                flushPartial()
            }
        }
        flushPartial()
        return written
    }
}

/// Hexadecimal text (`bytes.fromhex`, `xxd -r -p`): pairs of hex digits, whitespace between pairs allowed.
enum HexText {
    /// The bytes, or `nil` when a non-hex, non-whitespace byte occurs or the digit count is odd.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> Data? {
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: text.count / 2 + 1) { out, count in
            var n = 0
            var high: UInt8?
            for byte in text where !isXMLSpace(byte) {
                guard let nibble = value(of: byte) else { failed = true; break }
                if let h = high {
                    out[n] = h << 4 | nibble
                    n += 1
                    high = nil
                } else {
                    high = nibble
                }
            }
            if high != nil { failed = true }
            count = n
        }
        return failed ? nil : Data(bytes)
    }

    @inline(__always) static func value(of c: UInt8) -> UInt8? {
        if (c &- 48) < 10 { return c &- 48 }
        if (c &- 97) < 6 { return c &- 87 }
        if (c &- 65) < 6 { return c &- 55 }
        return nil
    }
}
