import Foundation
import KordonCrypto

/// A payload's base64 text without whitespace, as the scan view compares it: a guard
/// run is cut from the document ClamAV scans only when its text is exactly a payload's.
///
/// Short texts are kept whole. A text longer than ``keptLength`` is kept only as its
/// length, its first and last bytes and its SHA-256, taken a chunk at a time: holding
/// a 98 MB payload's text for the comparison cost as much memory as the document again,
/// and stripping each run into a copy once more. The set hashes only the length and the
/// ends (SipHash over whole multi-megabyte texts cost a tenth of a scan); equality still
/// compares every byte, or the SHA-256 of every byte, so no other text matches.
struct PayloadText: Hashable {
    /// The longest text kept whole.
    static let keptLength = 1 << 20
    /// Bytes of each end that take part in the hash.
    static let endLength = 32
    /// Bytes stripped at a time into the digest.
    private static let chunkLength = 1 << 16

    /// Bytes of text without whitespace.
    let count: Int
    /// The whole text, when no longer than ``keptLength``.
    private let bytes: [UInt8]?
    /// Its first and last ``endLength`` bytes and its SHA-256, when longer.
    private let head: [UInt8], tail: [UInt8], sha256: String?

    /// A text already stripped of whitespace.
    init(_ stripped: [UInt8]) {
        guard stripped.count > Self.keptLength else {
            count = stripped.count
            bytes = stripped
            (head, tail, sha256) = ([], [], nil)
            return
        }
        self = stripped.withUnsafeBufferPointer { PayloadText(stripping: $0) }
    }

    /// `text` without its XML whitespace, never copied whole when it is long.
    init(stripping text: UnsafeBufferPointer<UInt8>) {
        var count = 0
        if text.count > Self.keptLength {
            for byte in text where !Self.isSpace(byte) { count += 1 }
        }
        guard count > Self.keptLength else {
            let stripped = Base64.strippingWhitespace(text)
            self.count = stripped.count
            bytes = stripped
            (head, tail, sha256) = ([], [], nil)
            return
        }
        self.count = count
        bytes = nil
        let digest = SHA256Digest.Running()
        var chunk = [UInt8](repeating: 0, count: Self.chunkLength)
        var head: [UInt8] = []
        var filled = 0
        chunk.withUnsafeMutableBufferPointer { out in
            for byte in text where !Self.isSpace(byte) {
                out[filled] = byte
                filled += 1
                if filled == out.count {
                    if head.isEmpty { head = Array(out.prefix(Self.endLength)) }
                    digest.update(UnsafeRawBufferPointer(out))
                    filled = 0
                }
            }
            digest.update(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: out[0..<filled])))
        }
        self.head = head
        // Without a digest the text equals no other: its run stays in the scan view.
        sha256 = (try? digest.finish()) ?? "no digest \(UUID().uuidString)"
        var tail: [UInt8] = []
        for byte in text.reversed() where !Self.isSpace(byte) {
            tail.append(byte)
            if tail.count == Self.endLength { break }
        }
        self.tail = tail.reversed()
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        if let bytes {
            bytes.prefix(Self.endLength).forEach { hasher.combine($0) }
            bytes.suffix(Self.endLength).forEach { hasher.combine($0) }
        } else {
            head.forEach { hasher.combine($0) }
            tail.forEach { hasher.combine($0) }
        }
    }

    static func == (lhs: PayloadText, rhs: PayloadText) -> Bool {
        lhs.count == rhs.count && lhs.head == rhs.head && lhs.tail == rhs.tail
            && lhs.bytes == rhs.bytes && lhs.sha256 == rhs.sha256
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
