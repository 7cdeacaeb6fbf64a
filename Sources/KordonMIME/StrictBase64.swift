import Foundation

/// A strict RFC 2045 base64 check for transfer-encoded bodies.
///
/// GMime decodes leniently: it skips characters outside the alphabet and drops an
/// incomplete final quantum. Another reader may decode the same bytes differently,
/// and that disagreement is how a payload slips past a filter. So Kordon accepts
/// a base64 body only when every decoder must read it the same way: alphabet
/// characters, then at most two `=` at the very end, line breaks and blanks
/// anywhere, and a whole number of 4-character quanta.
enum StrictBase64 {
    /// Whether `encoded` is unambiguous base64.
    static func isValid(_ encoded: Data) -> Bool {
        var significant = 0
        var padding = 0
        for byte in encoded {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                if padding > 0 { return false }  // data after padding: a second, hidden stream
                significant += 1
            case UInt8(ascii: "="):
                padding += 1
                if padding > 2 { return false }
            case 0x20, 0x09, 0x0D, 0x0A:
                continue
            default:
                return false
            }
        }
        // Padding completes the last quantum exactly: xxx= or xx==, never x===.
        return (significant + padding) % 4 == 0
    }
}
