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
    /// The stream's bytes, as libclamav handed them over.
    let bytes: Data

    /// The format of a stream libclamav does not decode itself, or `nil`.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - clamType: libclamav's type for it: a bzip2 file (`CL_TYPE_BZ`) is decoded again
    ///     for its later streams; a file libclamav recognised as anything else it unpacks
    ///     is left to libclamav.
    static func format(of bytes: UnsafeRawBufferPointer, clamType: String) -> Compression? {
        if clamType == "CL_TYPE_BZ" { return .bzip2 }
        guard !unpackedByClamAV.contains(clamType) else { return nil }
        for format in [Compression.zstd, .lzmaAlone, .zlib] where CompressionSniffer.looksLike(bytes, format) {
            return format
        }
        return nil
    }

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
