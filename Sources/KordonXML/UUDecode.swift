import Foundation

/// uuencoded files inside a text (`begin 644 name` … `` ` `` … `end`, and the
/// `begin-base64 644 name` … `====` form `uuencode -m` writes), decoded as `uudecode`
/// and Python's `binascii.a2b_uu` would.
///
/// Mail readers and `uudecode` take such blocks out of any text body, so Kordon does
/// too. Decoding is forgiving like theirs: a line's missing characters count as zero
/// (trailing spaces get stripped in transit), and a block that breaks off keeps what
/// was decoded before the break.
enum UUDecode {
    /// Most blocks decoded from one text; more is unusual enough to stop looking.
    static let maxBlocks = 64

    /// A file taken out of a text.
    struct Block {
        /// The name on the `begin` line.
        let name: String
        /// The decoded bytes.
        let data: Data
        /// `begin-base64`: the body was base64, not uuencode.
        let base64: Bool
    }

    /// Whether `begin` occurs in `text` at all (`memchr` for its `b`s), before any line is read.
    static func mayHoldBlocks(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress, text.count >= 6 else { return false }
        var k = 0
        while k + 5 <= text.count, let hit = memchr(base + k, Int32(UInt8(ascii: "b")), text.count - k) {
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if at + 5 <= text.count, memcmp(base + at, "begin", 5) == 0 { return true }
            k = at + 1
        }
        return false
    }

    /// Every uuencoded block in `text`, in order.
    static func blocks(in text: UnsafeBufferPointer<UInt8>) -> [Block] {
        var lines = LineReader(text)
        var blocks: [Block] = []
        while blocks.count < maxBlocks, let line = lines.next() {
            guard let (name, base64) = beginLine(line) else { continue }
            var body: [UInt8] = []
            if base64 {
                while let line = lines.next(), !line.elementsEqual("====".utf8) { body += line }
                let data = body.withUnsafeBufferPointer { LenientBase64.decode($0, urlSafe: false) }
                blocks.append(Block(name: name, data: data, base64: true))
            } else {
                while let line = lines.next(), !line.elementsEqual("end".utf8) {
                    guard appendUULine(line, to: &body) else { break }
                }
                blocks.append(Block(name: name, data: Data(body), base64: false))
            }
        }
        return blocks
    }

    /// `begin <octal mode> <name>` or `begin-base64 <octal mode> <name>`.
    private static func beginLine(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> (name: String, base64: Bool)? {
        var rest = line.drop { $0 == 0x20 || $0 == 0x09 }
        guard rest.starts(with: "begin".utf8) else { return nil }
        rest = rest.dropFirst(5)
        let base64 = rest.starts(with: "-base64".utf8)
        if base64 { rest = rest.dropFirst(7) }
        guard rest.first == 0x20 else { return nil }
        rest = rest.drop { $0 == 0x20 }
        let mode = rest.prefix { (0x30...0x37).contains($0) }
        guard (3...4).contains(mode.count) else { return nil }
        rest = rest.dropFirst(mode.count)
        guard rest.first == 0x20 else { return nil }
        let name = String(decoding: rest.dropFirst(), as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return (name.isEmpty ? "uuencoded" : name, base64)
    }

    /// Decodes one uuencoded line; `false` at the end of the data (a zero-length line)
    /// or at a line that is not uuencode.
    private static func appendUULine(_ line: Slice<UnsafeBufferPointer<UInt8>>, to body: inout [UInt8]) -> Bool {
        guard let first = line.first, (0x20...0x60).contains(first) else { return false }
        let length = Int((first &- 0x20) & 0x3F)
        guard length > 0 else { return false }
        var chars = line.dropFirst().makeIterator()
        var produced = 0
        while produced < length {
            var group: UInt32 = 0
            for _ in 0..<4 {
                let c = chars.next() ?? 0x20
                guard (0x20...0x60).contains(c) else { return false }
                group = group << 6 | UInt32((c &- 0x20) & 0x3F)
            }
            for shift in [16, 8, 0] where produced < length {
                body.append(UInt8(truncatingIfNeeded: group >> UInt32(shift)))
                produced += 1
            }
        }
        return true
    }
}

/// The lines of a text, without their `\n` or `\r\n`, found with `memchr`.
struct LineReader {
    private let text: UnsafeBufferPointer<UInt8>
    private var position = 0

    init(_ text: UnsafeBufferPointer<UInt8>) { self.text = text }

    /// The next line, or `nil` after the last.
    mutating func next() -> Slice<UnsafeBufferPointer<UInt8>>? {
        guard position < text.count, let base = text.baseAddress else { return nil }
        let start = position
        var end = text.count
        if let hit = memchr(base + start, 0x0A, text.count - start) {
            end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            position = end + 1
        } else {
            position = text.count
        }
        if end > start, text[end - 1] == 0x0D { end -= 1 }
        return text[start..<end]
    }

    /// Where the next line starts.
    var offset: Int { position }
}
