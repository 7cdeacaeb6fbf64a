import Foundation
import KordonCompression
import Testing

/// Every format decodes what its reference encoder wrote, whole and byte for byte,
/// and says truncated or corrupt when the stream is cut or damaged.
@Suite(.timeLimit(.minutes(10))) struct DecompressorTests {
    static let formats: [Compression] = Compression.allCases

    @Test("decodes what the reference encoder wrote", arguments: formats)
    func roundTrip(_ format: Compression) throws {
        let text = sampleText()
        let encoded = try Encoders.encode(text, format.rawValue)
        #expect(encoded.count < text.count / 4)
        #expect(Decompressor.decode(encoded, as: format, limit: text.count) == .decoded(text))
    }

    @Test("a limit below the decoded size is a bomb, one byte more is not", arguments: formats)
    func limitIsExact(_ format: Compression) throws {
        let text = sampleText(lines: 300)
        let encoded = try Encoders.encode(text, format.rawValue)
        #expect(Decompressor.decode(encoded, as: format, limit: text.count - 1) == .overLimit)
        #expect(Decompressor.decode(encoded, as: format, limit: text.count) == .decoded(text))
    }

    @Test("binary input (every byte value) round-trips", arguments: formats)
    func binaryPayload(_ format: Compression) throws {
        let binary = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) })
        let encoded = try Encoders.encode(binary, format.rawValue)
        #expect(Decompressor.decode(encoded, as: format, limit: 1 << 20).data == binary)
    }

    @Test("a stream cut short is truncated", arguments: formats)
    func truncated(_ format: Compression) throws {
        let text = sampleText()
        let encoded = try Encoders.encode(text, format.rawValue)
        for keep in [encoded.count / 2, encoded.count - 1] {
            let result = Decompressor.decode(encoded.prefix(keep), as: format, limit: text.count)
            // A cut inside the last block's checksum may also be reported as corrupt by some
            // libraries; what matters is that it never decodes.
            #expect(result.data == nil, "\(format) cut at \(keep) of \(encoded.count) decoded")
        }
        #expect(Decompressor.decode(encoded.prefix(encoded.count / 2), as: format, limit: text.count) == .truncated)
    }

    @Test("empty input is truncated", arguments: formats)
    func empty(_ format: Compression) {
        #expect(Decompressor.decode(Data(), as: format, limit: 100) == .truncated)
    }

    /// The formats that carry a checksum of their content, so damage cannot go unnoticed.
    static let checksummed: Set<Compression> = [.zlib, .gzip, .zstd, .xz, .bzip2]

    @Test("a damaged stream never decodes to the original; with a checksum it never decodes", arguments: formats)
    func damaged(_ format: Compression) throws {
        let text = sampleText()
        var encoded = try Encoders.encode(text, format.rawValue)
        let middle = encoded.startIndex + encoded.count / 2
        for offset in 0..<16 { encoded[middle + offset] ^= 0xA5 }
        let result = Decompressor.decode(encoded, as: format, limit: text.count * 2)
        #expect(result.data != text)
        if Self.checksummed.contains(format) {
            #expect(result.data == nil, "\(format) decoded a damaged stream")
        }
    }

    @Test("plain text is not a stream of any format", arguments: formats)
    func plainText(_ format: Compression) {
        let result = Decompressor.decode(Data("just some plain text, not compressed at all".utf8), as: format, limit: 1 << 20)
        #expect(result.data == nil)
    }

    @Test("bytes after the end of the stream make it corrupt", arguments: formats)
    func trailingBytes(_ format: Compression) throws {
        let text = sampleText(lines: 50)
        let encoded = try Encoders.encode(text, format.rawValue) + Data("TRAILING JUNK".utf8)
        let result = Decompressor.decode(encoded, as: format, limit: 1 << 20)
        guard case .corrupt = result else {
            Issue.record("\(format) with trailing junk gave \(result)")
            return
        }
    }

    @Test("corrupt reasons are the library's words, never the input's bytes")
    func reasonsCarryNoInput() {
        let secret = Data("x\u{9c}SECRET-VALUE-1234567890".utf8)
        for format in Compression.allCases {
            if case .corrupt(let reason) = Decompressor.decode(secret, as: format, limit: 1 << 20) {
                #expect(!reason.contains("SECRET"))
            }
        }
    }
}
