// Makes every request's body unique, so that no server can answer from a cache
// (clamd keeps an MD5 cache of clean files: a repeated corpus is mostly cache hits).
import Foundation

/// Where and how 16 bytes of a body are overwritten with a per-request stamp.
///
/// - XML with a base64 payload: 16 base64 characters inside the text of the last
///   `<Content>` element (any namespace prefix), on a 4-character quantum boundary,
///   before the last quantum and never touching `=` padding or a line break: the
///   document stays valid against its schema and the payload still decodes (to 12
///   different bytes).
/// - Anything else: bytes 8..<24.
///
/// The stamp is 4 (XML) or 8 (other) bytes of a per-process random nonce and an
/// 8-byte request id unique within the run, so no two requests of a run — nor, but
/// for a 2^-32 chance, of two runs against the same server — carry the same body.
enum UniqueBody {
    enum Kind: Sendable { case base64, binary }

    struct Location: Sendable {
        let offset: Int
        let kind: Kind
    }

    struct Unstampable: Error, CustomStringConvertible {
        let description: String
    }

    /// Where to stamp `body`, or why it cannot be stamped.
    static func locate(in body: [UInt8]) throws -> Location {
        if looksLikeXML(body) {
            guard let offset = base64Spot(in: body) else {
                throw Unstampable(description: "XML without 16 stampable base64 characters in a <Content> element")
            }
            return Location(offset: offset, kind: .base64)
        }
        guard body.count >= 24 else { throw Unstampable(description: "a body of \(body.count) bytes (fewer than 24)") }
        return Location(offset: 8, kind: .binary)
    }

    /// The 16 stamp bytes for request `id` of this process.
    static func stamp(kind: Kind, nonce: UInt64, id: UInt64, into stamp: inout [UInt8]) {
        var raw = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: nonce >> (8 * i)) }
        for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: id >> (8 * i)) }
        switch kind {
        case .binary:
            stamp = raw
        case .base64:
            // 12 bytes (4 of nonce, 8 of id) are exactly 16 base64 characters: no padding.
            let twelve = Array(raw[4..<16])
            for group in 0..<4 {
                let a = UInt32(twelve[3 * group]), b = UInt32(twelve[3 * group + 1]), c = UInt32(twelve[3 * group + 2])
                let bits = a << 16 | b << 8 | c
                for j in 0..<4 { stamp[4 * group + j] = alphabet[Int(bits >> (18 - 6 * UInt32(j)) & 63)] }
            }
        }
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func isBase64(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2F
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    /// Whether the body starts (after an optional UTF-8 byte order mark and white space) with '<'.
    static func looksLikeXML(_ body: [UInt8]) -> Bool {
        var i = body.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while i < body.count, isSpace(body[i]) { i += 1 }
        return i < body.count && body[i] == UInt8(ascii: "<")
    }

    /// The offset of 16 contiguous base64 characters starting a quantum of the last
    /// `<Content>` element's text, with at least one quantum after them.
    static func base64Spot(in body: [UInt8]) -> Int? {
        guard let textStart = lastContentText(in: body) else { return nil }
        var end = textStart
        while end < body.count, body[end] != UInt8(ascii: "<") { end += 1 }
        var position = textStart
        var seen = 0  // base64 characters before `position`
        while position + 16 <= end {
            let byte = body[position]
            if isSpace(byte) {
                position += 1
                continue
            }
            guard isBase64(byte) else { return nil }  // '=' or anything else: nothing stampable before it
            if seen % 4 == 0, body[position..<position + 16].allSatisfy(isBase64) {
                // A full quantum of base64 characters must follow: the last one may carry padding.
                let next = Array(body[(position + 16)..<end].lazy.filter { !isSpace($0) }.prefix(4))
                if next.count == 4, next.allSatisfy(isBase64) { return position }
            }
            seen += 1
            position += 1
        }
        return nil
    }

    /// Where the text of the last `<Content ...>` or `<prefix:Content ...>` start tag begins.
    static func lastContentText(in body: [UInt8]) -> Int? {
        let name = Array("Content".utf8)
        var i = body.count - name.count - 1
        while i > 0 {
            defer { i -= 1 }
            guard body[i] == name[0], body[i..<i + name.count].elementsEqual(name) else { continue }
            let after = body[i + name.count]
            guard after == UInt8(ascii: ">") || isSpace(after) else { continue }
            // Back over an optional prefix to the '<' that opens a start tag.
            var j = i - 1
            if body[j] == UInt8(ascii: ":") {
                j -= 1
                while j > 0, body[j] != UInt8(ascii: "<"), body[j] != UInt8(ascii: "/"), !isSpace(body[j]) { j -= 1 }
            }
            guard body[j] == UInt8(ascii: "<") else { continue }
            var k = i + name.count
            while k < body.count, body[k] != UInt8(ascii: ">") { k += 1 }
            guard k < body.count, body[k - 1] != UInt8(ascii: "/") else { continue }  // not <Content/>
            return k + 1
        }
        return nil
    }
}
