import Foundation
import KordonCompression

/// A compressed stream that libclamav scanned as plain bytes, to be decoded by Kordon.
///
/// libclamav 1.4 unpacks gzip, bzip2, xz and the archive formats, but not a bare zlib
/// stream, the legacy .lzma format or Zstandard: it types them as text or binary data and
/// scans the compressed bytes, in which no signature can match. It also reads only the
/// first of several bzip2 streams, where `bzip2 -d` and Python read them all. Python's
/// `zlib`, `lzma` and `bz2` recover what such a stream holds, so a receiver can too: the
/// ClamAV stage decodes each one (trailing bytes left alone, as those decoders do) and
/// scans what it holds as a part of its own.
struct UndecodedStream {
    /// Most streams copied out of one scan; more and the part is `unchecked`.
    static let maxPerScan = 32
    /// Most bytes of streams copied out of one scan.
    static let maxBytesPerScan = 256 * 1024 * 1024
    /// Most levels of streams inside decoded streams.
    static let maxDepth = 4
    /// A stream shorter than this whose decoding runs out of input is taken for bytes that
    /// happen to start like one (a 2-byte zlib header matches one random prefix in 500).
    static let minimumTruncatedSize = 32

    /// Reported when a scan met more streams (or bytes of them) than are copied out.
    static let limitRule = "Kordon.Limits.Exceeded.CompressedStreams"
    /// Reported when a decoded stream would pass libclamav's MaxFileSize.
    static let overLimitRule = "Kordon.Limits.Exceeded.Decompressed"
    /// Reported when a stream starts validly but its input ends first.
    static let truncatedRule = "Kordon.Archive.Stream.Truncated"
    /// Reported when streams nest deeper than ``maxDepth``.
    static let depthRule = "Kordon.Limits.Exceeded.StreamDepth"

    /// The stream's format.
    let format: Compression
    /// The stream's bytes, as libclamav handed them over; empty for a stream decoded on the spot.
    let bytes: Data
    /// What the stream decoded to, for a raw deflate stream (decoded while libclamav's
    /// buffer was at hand, to tell a stream from bytes that are none: see ``rawDeflate(_:clamType:limit:)``).
    var decoded: Data?
    /// The path component its content is scanned under, when not `decoded:FORMAT`.
    var label: String?
    /// A file libclamav took for this format and could not open: if Kordon cannot decode
    /// it either, it is `unchecked` (a stream merely sniffed is left alone then).
    var mustDecode = false

    /// Whether input that ends before the stream does marks a stream cut short (held), not
    /// bytes that only started like one (left alone). LZMA decodes random bytes without
    /// complaint until they run out, so a .lzma header counts only with the unknown size
    /// (eight `0xFF` bytes) that streaming writers put there, which binary formats do not.
    var cutShortMeansStream: Bool {
        if mustDecode { return true }
        guard bytes.count >= Self.minimumTruncatedSize else { return false }
        guard format == .lzmaAlone else { return true }
        return bytes[bytes.startIndex + 5 ..< bytes.startIndex + 13].allSatisfy { $0 == 0xFF }
    }

    /// Reported when a file libclamav could not open does not decode for Kordon either.
    static let corruptRule = "Kordon.Archive.Stream.Corrupt"

    /// The format of a stream libclamav does not decode itself, or `nil`.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - clamType: libclamav's type for it: a bzip2 file (`CL_TYPE_BZ`) is decoded again
    ///     for its later streams; a file libclamav recognised as anything else it unpacks
    ///     is left to libclamav.
    static func format(of bytes: UnsafeRawBufferPointer, clamType: String) -> Compression? {
        if clamType == "CL_TYPE_BZ" { return hasLaterBzip2Stream(bytes) ? .bzip2 : nil }
        guard !unpackedByClamAV.contains(clamType) else { return nil }
        for format in [Compression.zstd, .lzmaAlone, .zlib] where CompressionSniffer.looksLike(bytes, format) {
            return format
        }
        return nil
    }

    /// What a file decodes to as raw deflate (RFC 1951, no header: what some servers send
    /// as HTTP `deflate`, and what `zlib.decompress(data, -15)` reads), when it does.
    ///
    /// Raw deflate has no magic number, so it is tried on the files libclamav could give no
    /// type but binary data (or text in UTF-16, which compressed bytes are often taken for),
    /// and only an output of ``minimumRawDeflateOutput`` bytes or more counts: random bytes
    /// fail within a few symbols (a back-reference before the start, a bad block type), and
    /// reaching the end of a final block with that many literals first is vanishingly rare.
    static func rawDeflate(_ bytes: UnsafeRawBufferPointer, clamType: String, limit: Int) -> UndecodedStream? {
        guard rawDeflateCandidates.contains(clamType), bytes.count >= 16 else { return nil }
        switch Decompressor.decode(bytes, as: .rawDeflate, limit: limit, trailing: .ignore) {
        case .decoded(let data) where data.count >= minimumRawDeflateOutput:
            return UndecodedStream(format: .rawDeflate, bytes: Data(), decoded: data)
        case .overLimit:
            return UndecodedStream(format: .rawDeflate, bytes: Data(bytes))
        default:
            return nil
        }
    }

    /// Whether a second bzip2 stream starts after the first: streams are byte-aligned, and
    /// each starts with `BZh`, its block size and a block's (or the end's) 48-bit magic,
    /// ten bytes that do not turn up inside compressed data by chance.
    private static func hasLaterBzip2Stream(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 20 else { return false }
        var offset = 1
        while offset <= bytes.count - 10 {
            guard let hit = memchr(base + offset, 0x42, bytes.count - 9 - offset) else { return false }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if CompressionSniffer.looksLike(UnsafeRawBufferPointer(rebasing: bytes[position...]), .bzip2) { return true }
            offset = position + 1
        }
        return false
    }

    /// The shortest raw deflate output taken for a stream.
    static let minimumRawDeflateOutput = 64
    /// The types raw deflate is tried on.
    private static let rawDeflateCandidates: Set<String> = [
        "CL_TYPE_BINARY_DATA", "CL_TYPE_TEXT_UTF16LE", "CL_TYPE_TEXT_UTF16BE",
    ]

    /// libclamav 1.4's types for the containers and compressed files it opens itself.
    private static let unpackedByClamAV: Set<String> = [
        "CL_TYPE_GZ", "CL_TYPE_XZ", "CL_TYPE_ZIP", "CL_TYPE_ZIPSFX", "CL_TYPE_7Z", "CL_TYPE_7ZSFX", "CL_TYPE_RAR",
        "CL_TYPE_RARSFX", "CL_TYPE_ARJ", "CL_TYPE_ARJSFX", "CL_TYPE_MSCAB", "CL_TYPE_CABSFX", "CL_TYPE_POSIX_TAR",
        "CL_TYPE_OLD_TAR", "CL_TYPE_CPIO_OLD", "CL_TYPE_CPIO_ODC", "CL_TYPE_CPIO_NEWC", "CL_TYPE_CPIO_CRC",
        "CL_TYPE_OOXML_WORD", "CL_TYPE_OOXML_PPT", "CL_TYPE_OOXML_XL", "CL_TYPE_OOXML_HWP", "CL_TYPE_MSOLE2",
        "CL_TYPE_PDF", "CL_TYPE_MSEXE", "CL_TYPE_ELF", "CL_TYPE_MACHO", "CL_TYPE_MACHO_UNIBIN", "CL_TYPE_ISO9660",
        "CL_TYPE_DMG", "CL_TYPE_UDF", "CL_TYPE_EGG", "CL_TYPE_SWF", "CL_TYPE_PNG", "CL_TYPE_GIF", "CL_TYPE_JPEG",
        "CL_TYPE_TIFF", "CL_TYPE_GPT", "CL_TYPE_MBR", "CL_TYPE_HFS_PLUS", "CL_TYPE_APM", "CL_TYPE_XAR",
    ]
}
