import Foundation
import Testing
@testable import KordonXML

/// The scan view cuts a run only when its text is exactly a decoded payload's; a long
/// text is compared by its SHA-256 instead of being held whole (a second copy of a
/// 98 MB payload's text cost as much memory as the document).
@Suite("Payload texts: cutting the scan view without holding long texts", .timeLimit(.minutes(10)))
struct PayloadTextTests {
    /// `count` bytes of base64 text, wrapped at 76 characters with line feeds.
    static func text(_ count: Int, seed: UInt64) -> [UInt8] {
        Array(TestSchemas.wrapped(TestSchemas.bytes(count, seed: seed)).utf8)
    }

    @Test("a text is the same whether stripped before or while it is read, short or long", arguments: [3_000, 2_000_000])
    func sameText(bytes: Int) {
        let text = Self.text(bytes, seed: 11)
        let stripped = text.filter { $0 != 0x0A }
        let read = text.withUnsafeBufferPointer { PayloadText(stripping: $0) }
        #expect(read == PayloadText(stripped))
        #expect(read.hashValue == PayloadText(stripped).hashValue)
        #expect(read.count == stripped.count)
    }

    @Test("a long text that differs in one byte in the middle, same length and ends, is another text")
    func oneByteDiffers() {
        var stripped = Self.text(2_000_000, seed: 12).filter { $0 != 0x0A }
        let original = PayloadText(stripped)
        let middle = stripped.count / 2
        stripped[middle] = stripped[middle] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(PayloadText(stripped) != original)
        #expect(PayloadText(stripped).count == original.count)
    }

    @Test("the scan view cuts the long run that is a payload's text and keeps a near copy of it")
    func scanViewCutsOnlyTheSame() throws {
        let payload = Self.text(2_000_000, seed: 13)
        var nearCopy = payload
        nearCopy[nearCopy.count / 2] = nearCopy[nearCopy.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let open = Array("<a>".utf8), middle = Array("</a><b>".utf8), close = Array("</b>".utf8)
        let document = Data(open + payload + middle + nearCopy + close)
        let first = open.count..<(open.count + payload.count)
        let second = (first.upperBound + middle.count)..<(first.upperBound + middle.count + nearCopy.count)
        let cut = payload.withUnsafeBufferPointer { PayloadText(stripping: $0) }
        let view = try #require(PayloadExtractor.scanView(of: document, runs: [first, second], cutting: [cut]))
        #expect(view == Data(open + middle + nearCopy + close))
    }
}
