import Foundation
import KordonCompression
import Testing

/// A gigabyte of zeros, compressed: decoding stops at the limit, quickly, without
/// holding more than the limit. The streams are written by the reference encoders;
/// where a format allows several members (gzip, zstd, xz, bzip2) the gigabyte is
/// sixty-four 16 MB members in a row, which also proves every member is decoded.
@Suite(.timeLimit(.minutes(10))) struct BombTests {
    static let limit = 8 * 1024 * 1024

    static let bombs: [(Compression, String)] = [
        (.zlib, "c = zlib.compressobj(1); out.write(b''.join(c.compress(ZEROS) for _ in range(64)) + c.flush())"),
        (.rawDeflate, "c = zlib.compressobj(1, zlib.DEFLATED, -15); out.write(b''.join(c.compress(ZEROS) for _ in range(64)) + c.flush())"),
        (.gzip, "out.write(gzip.compress(ZEROS) * 64)"),
        (.brotli, "out.write(tool('sh', '-c', 'head -c 1073741824 /dev/zero | brotli -q 1 -c'))"),
        (.zstd, "out.write(tool('zstd', '-q', '-c', stdin=ZEROS) * 64)"),
        (.xz, "out.write(lzma.compress(ZEROS, format=lzma.FORMAT_XZ, preset=0) * 64)"),
        // One stream: .lzma has no members. 256 MB, since liblzma's encoder is slow even on zeros.
        (.lzmaAlone, "c = lzma.LZMACompressor(format=lzma.FORMAT_ALONE, preset=0); out.write(b''.join(c.compress(ZEROS) for _ in range(16)) + c.flush())"),
        (.bzip2, "out.write(bz2.compress(ZEROS) * 64)"),
    ]

    @Test("a compressed gigabyte of zeros stops at the limit", arguments: bombs)
    func bomb(_ format: Compression, _ script: String) throws {
        let bomb = try Encoders.python(script)
        #expect(bomb.count < 8 * 1024 * 1024)
        let before = peakResidentBytes()
        let started = ContinuousClock.now
        let result = Decompressor.decode(bomb, as: format, limit: Self.limit)
        let elapsed = ContinuousClock.now - started
        #expect(result == .overLimit)
        #expect(elapsed < .seconds(2), "\(format): \(elapsed) to stop at the limit")
        // The process's peak may have grown for other reasons, but never by the gigabyte.
        #expect(peakResidentBytes() - before < 256 * 1024 * 1024)
    }

    @Test("the same bomb under a limit it fits decodes whole", arguments: [Compression.gzip, .zstd, .xz, .bzip2])
    func membersAllDecode(_ format: Compression) throws {
        let members = [
            Compression.gzip: "out.write(gzip.compress(b'A' * 1000) + gzip.compress(b'B' * 1000))",
            .zstd: "out.write(tool('zstd', '-q', '-c', stdin=b'A' * 1000) + tool('zstd', '-q', '-c', stdin=b'B' * 1000))",
            .xz: "out.write(lzma.compress(b'A' * 1000) + lzma.compress(b'B' * 1000))",
            .bzip2: "out.write(bz2.compress(b'A' * 1000) + bz2.compress(b'B' * 1000))",
        ]
        let stream = try Encoders.python(members[format]!)
        let expected = Data(repeating: 0x41, count: 1000) + Data(repeating: 0x42, count: 1000)
        #expect(Decompressor.decode(stream, as: format, limit: 2000) == .decoded(expected))
        #expect(Decompressor.decode(stream, as: format, limit: 1999) == .overLimit)
    }

    @Test("zero padding after gzip members is accepted, as gzip -d does")
    func gzipPadding() throws {
        let stream = try Encoders.python("out.write(gzip.compress(b'payload') + bytes(512))")
        #expect(Decompressor.decode(stream, as: .gzip, limit: 100) == .decoded(Data("payload".utf8)))
    }

    @Test("an xz dictionary larger than the working-memory bound is refused before decoding")
    func hugeDictionary() throws {
        let stream = try Encoders.python("""
            out.write(lzma.compress(b'small', format=lzma.FORMAT_XZ, filters=[{'id': lzma.FILTER_LZMA2, 'dict_size': 1536 << 20}]))
            """)
        #expect(Decompressor.decode(stream, as: .xz, limit: 1 << 20) == .overLimit)
    }
}
