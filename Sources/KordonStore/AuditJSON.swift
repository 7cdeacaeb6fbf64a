import KordonCore

/// The bytes of an audit record, appended by hand to one growing buffer.
///
/// The writer thread formats every record of every group, so this avoids what
/// `JSONEncoder` and `String(format:)` cost per record (an encoder, its
/// containers and a `Data` per entry; a formatted `String` per byte of a MAC).
/// The output is byte for byte what `JSONEncoder` with `[.sortedKeys,
/// .withoutEscapingSlashes]` writes for an ``AuditEntry`` (a test holds the two
/// side by side), so the records stay plain JSON that any reader decodes.
enum AuditJSON {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `entry` as a JSON object, keys sorted, absent optionals left out.
    static func append(_ entry: AuditEntry, to out: inout [UInt8]) {
        // Keys in the order sortedKeys gives; a field added to AuditEntry must be added here
        // (the test "the hand encoder writes what JSONEncoder writes" counts the fields).
        var first = true
        func key(_ name: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func field(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            string(value, to: &out)
        }
        field("action", entry.action)
        field("detail", entry.detail)
        field("event", entry.event)
        field("messageSHA256", entry.messageSHA256)
        field("outputSHA256", entry.outputSHA256)
        field("purpose", entry.purpose)
        field("quarantineID", entry.quarantineID)
        if let route = entry.route {
            key("route")
            out.append(UInt8(ascii: "{"))
            if let from = route.from {
                append(#""from":"#, to: &out)
                string(from, to: &out)
            }
            if let to = route.to {
                if route.from != nil { out.append(UInt8(ascii: ",")) }
                append(#""to":"#, to: &out)
                string(to, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        key("rules")
        out.append(UInt8(ascii: "["))
        for (index, rule) in entry.rules.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            string(rule, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        field("source", entry.source)
        field("verdict", entry.verdict)
        out.append(UInt8(ascii: "}"))
    }

    /// A JSON string as `JSONEncoder` escapes it: quote, backslash and control
    /// characters escaped (`\n`-style where JSON has one, else `\u00xx`), everything
    /// else (slashes, DEL, non-ASCII) as its UTF-8 bytes.
    static func string(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let utf8 = value.utf8
        // Digests, ids, rule names and routes never need escaping: copy them whole.
        if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0x20...:
                out.append(byte)
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            default:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Lowercase hex of `bytes`.
    static func hex(_ bytes: [UInt8], to out: inout [UInt8]) {
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
    }

    /// A non-negative decimal number (a negative one gets its sign).
    static func decimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var rest = value.magnitude
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// `value` with exactly `width` digits (zero-padded; for the timestamp's fields).
    static func padded(_ value: Int, width: Int, to out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The UTF-8 bytes of a literal.
    static func append(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }
}
