import Foundation
import KordonCore
import Testing
@testable import KordonScanning

/// Compressed streams libclamav 1.4 scans as plain bytes — a bare zlib stream, the legacy
/// .lzma format, Zstandard, the second stream of a bzip2 file — are decoded by Kordon and
/// what they hold is scanned, at the top of a part and inside archives alike. Every stream
/// here is written by Python's standard library or the `zstd` tool, which also read them back.
@Suite("Compressed streams libclamav does not decode are decoded and scanned", .timeLimit(.minutes(10)))
struct ClamStreamTests {
    /// Runs a Python script (``Fixtures/pythonFiles(helpers:_:)``) with this suite's helpers.
    private static func python(_ body: String) throws -> [String: Data] {
        try Fixtures.pythonFiles(helpers: helpers, body)
    }

    /// Python definitions the scripts of this suite share.
    private static let helpers = """
        def zipped(name, data):
            b = io.BytesIO()
            with zipfile.ZipFile(b, 'w', zipfile.ZIP_STORED) as z: z.writestr(name, data)
            return b.getvalue()
        def zstd(data):
            return subprocess.run(['zstd', '-q', '-c', '--no-check'], input=data, capture_output=True, check=True).stdout
        """

    /// 4 KB of text around EICAR, so that no compressor stores it verbatim.
    private static let hostile = """
        payload = b'filler line of a declaration\\n' * 70 + EICAR + b'\\n' + b'more filler\\n' * 60
        out('bare.zlib', zlib.compress(payload))
        out('bare.lzma', lzma.compress(payload, format=lzma.FORMAT_ALONE))
        out('bare.zst', zstd(payload))
        out('second-stream.bz2', bz2.compress(b'harmless first stream\\n') + bz2.compress(payload))
        out('zlib-with-trailing-junk', zlib.compress(payload) + b'junk after the stream')
        out('zlib-in-zip.zip', zipped('e.bin', zlib.compress(payload)))
        out('lzma-in-zip.zip', zipped('e.lzma', lzma.compress(payload, format=lzma.FORMAT_ALONE)))
        out('zlib-in-zlib', zlib.compress(zlib.compress(payload)))
        assert zlib.decompress(open('out/zlib-with-trailing-junk', 'rb').read()) == payload
        assert bz2.decompress(open('out/second-stream.bz2', 'rb').read()).endswith(payload)
        """

    @Test("the stream's content is scanned and the virus found, at the path of the decoded stream",
          arguments: ["bare.zlib", "bare.lzma", "bare.zst", "second-stream.bz2", "zlib-with-trailing-junk",
                      "zlib-in-zip.zip", "lzma-in-zip.zip", "zlib-in-zlib"])
    func hostileStream(_ name: String) throws {
        let data = try #require(try Self.python(Self.hostile)[name])
        // Twice: nothing cached from the first scan may skip the second's decoding.
        for _ in 0..<2 {
            let result = try Fixtures.engine().scanCollectingText(data, part: .message.mime([2]), filename: nil)
            let viruses = result.findings.stage(.virus)
            #expect(viruses.contains { $0.rule.contains("EICAR") && $0.part.hasPrefix("mime/2/decoded:") },
                    "\(name): \(result.findings)")
            #expect(!result.findings.contains { $0.rule == "clamav.unnamed" })
        }
    }

    @Test("a stream that decodes past MaxFileSize is unchecked, and stops there")
    func bomb() throws {
        let files = try Self.python("out('bomb.zlib', zlib.compress(bytes(64 * 1024 * 1024), 9))")
        var limits = Limits()
        limits.clamMaxFileSize = 1024 * 1024
        let findings = try Fixtures.engine(limits: limits).scan(try #require(files["bomb.zlib"]), part: .message)
        #expect(findings.contains { $0.stage == .unchecked && $0.rule == "Kordon.Limits.Exceeded.Decompressed" },
                "\(findings)")
    }

    @Test("a stream cut short is unchecked: a receiver's streaming decoder still reads its beginning")
    func truncated() throws {
        let files = try Self.python("""
            payload = EICAR + bytes(range(256)) * 64
            out('cut.zlib', zlib.compress(payload)[:-200])
            """)
        let findings = try Fixtures.engine().scan(try #require(files["cut.zlib"]), part: .message)
        #expect(findings.contains { $0.stage == .unchecked && $0.rule == "Kordon.Archive.Stream.Truncated" },
                "\(findings)")
    }

    @Test("clean streams and bytes that merely start like one pass")
    func cleanStreams() throws {
        let files = try Self.python("""
            text = b'Declaration of goods, nothing restricted. ' * 100
            out('clean.zlib', zlib.compress(text))
            out('clean.lzma', lzma.compress(text, format=lzma.FORMAT_ALONE))
            out('clean.zst', zstd(text))
            out('clean-two.bz2', bz2.compress(text) + bz2.compress(text))
            out('x-caret.txt', b'x^ is how some people write an exponent; this is plain text.\\n' * 10)
            out('x01-binary', b'x\\x01' + bytes(range(256)) * 4)
            """)
        #expect(files.count == 6)
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            let findings = try Fixtures.engine().scan(data, part: .message)
            #expect(findings.isEmpty, "\(name): \(findings)")
        }
    }
}
