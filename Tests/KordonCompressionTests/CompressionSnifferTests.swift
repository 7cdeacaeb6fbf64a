import Foundation
import KordonCompression
import Testing

/// The magic-number check names the format of real streams and nothing else.
@Suite(.timeLimit(.minutes(10))) struct CompressionSnifferTests {
    @Test("names the format of what each reference encoder wrote",
          arguments: [Compression.zlib, .gzip, .zstd, .xz, .lzmaAlone, .bzip2])
    func sniffsRealStreams(_ format: Compression) throws {
        let encoded = try Encoders.encode(sampleText(lines: 20), format.rawValue)
        #expect(CompressionSniffer.sniff(encoded) == format)
        #expect(CompressionSniffer.looksLike(encoded, format))
    }

    @Test("zlib at every compression level and window size has a valid header")
    func zlibHeaders() throws {
        let headers = try Encoders.python("""
            for level in range(10):
                for wbits in range(9, 16):
                    c = zlib.compressobj(level, zlib.DEFLATED, wbits)
                    out.write((c.compress(b'x') + c.flush())[:2])
            """)
        for start in stride(from: 0, to: headers.count, by: 2) {
            #expect(CompressionSniffer.looksLike(headers.subdata(in: start..<start + 2), .zlib))
        }
    }

    @Test("brotli and raw deflate have no magic and are never sniffed")
    func noMagic() throws {
        for format in ["brotli", "raw-deflate"] {
            let encoded = try Encoders.encode(sampleText(lines: 20), format)
            #expect(CompressionSniffer.sniff(encoded) != .brotli)
            #expect(CompressionSniffer.sniff(encoded) != .rawDeflate)
        }
    }

    @Test("ordinary documents are not compressed streams",
          arguments: ["<?xml version=\"1.0\"?><a/>", "From: a@example.kz\r\n\r\nbody", "%PDF-1.4\n", "PK\u{3}\u{4}",
                      "plain text of a declaration", "{\"json\": true}", "BZ", "BZh9 is not enough", ""])
    func ordinaryInput(_ text: String) {
        #expect(CompressionSniffer.sniff(Data(text.utf8)) == nil)
    }

    @Test("a zlib header needs CM 8, a window of at most 32 KB and the FCHECK")
    func zlibHeaderRules() {
        #expect(CompressionSniffer.looksLike(Data([0x78, 0x9C]), .zlib))
        #expect(!CompressionSniffer.looksLike(Data([0x78, 0x9D]), .zlib))   // FCHECK wrong
        #expect(!CompressionSniffer.looksLike(Data([0x79, 0x9C]), .zlib))   // CM 9
        #expect(!CompressionSniffer.looksLike(Data([0x88, 0x1C]), .zlib))   // CINFO 8: a 64 KB window
        #expect(!CompressionSniffer.looksLike(Data([0x78]), .zlib))
    }
}
