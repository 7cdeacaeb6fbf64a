import Foundation

/// Says whether bytes look like the start of a compressed stream, by magic numbers only.
///
/// Cheap (a few bytes are read, nothing is decoded) and meant as a prefilter: a
/// match is a reason to try ``Decompressor/decode(_:as:limit:)-(Data,_,_)``, not proof.
/// The zlib check in particular passes about one random 2-byte prefix in 500 (text that
/// starts `x^` or `x\u{01}` included), so a caller should treat a zlib match that does not
/// decode as "not zlib" unless something else says it is. Brotli and raw deflate have no
/// magic number and are never sniffed.
public enum CompressionSniffer {
    /// The format whose magic `data` starts with, checked from the most specific magic to the least.
    public static func sniff(_ data: Data) -> Compression? {
        data.withUnsafeBytes { sniff($0) }
    }

    /// The format whose magic the bytes in `bytes` start with (see ``sniff(_:)``).
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> Compression? {
        for format in [Compression.xz, .zstd, .gzip, .bzip2, .lzmaAlone, .zlib] where looksLike(bytes, format) {
            return format
        }
        return nil
    }

    /// True when `data` starts the way a stream of `format` must.
    public static func looksLike(_ data: Data, _ format: Compression) -> Bool {
        data.withUnsafeBytes { looksLike($0, format) }
    }

    /// True when the bytes in `b` start the way a stream of `format` must.
    public static func looksLike(_ b: UnsafeRawBufferPointer, _ format: Compression) -> Bool {
        switch format {
        case .zlib:
            // RFC 1950: CM = 8 (deflate), CINFO ≤ 7 (window ≤ 32 KB), FCHECK makes CMF·256+FLG a multiple of 31.
            guard b.count >= 2 else { return false }
            return b[0] & 0x0F == 8 && b[0] >> 4 <= 7 && (Int(b[0]) * 256 + Int(b[1])) % 31 == 0
        case .gzip:
            // ID1 ID2, CM = 8 (the only method gzip defines).
            return b.count >= 3 && b[0] == 0x1F && b[1] == 0x8B && b[2] == 0x08
        case .xz:
            return b.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])
        case .zstd:
            // A frame, or a skippable frame (0x184D2A50…5F, little-endian) that one may follow.
            guard b.count >= 4 else { return false }
            return b.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) || (b[0] & 0xF0 == 0x50 && b[1] == 0x2A && b[2] == 0x4D && b[3] == 0x18)
        case .bzip2:
            // "BZh", the block size 1–9, then a block's or the end's 48-bit magic.
            guard b.count >= 10, b[0] == 0x42, b[1] == 0x5A, b[2] == 0x68, (0x31...0x39).contains(b[3]) else { return false }
            let magic = b[4..<10]
            return magic.elementsEqual([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]) || magic.elementsEqual([0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
        case .lzmaAlone:
            return looksLikeLZMAAlone(b)
        case .brotli, .rawDeflate:
            return false
        }
    }

    /// The 13-byte .lzma header, checked as strictly as xz's own format detection:
    /// properties lc/lp/pb in range (byte < 225), a dictionary of 2^n or 2^n + 2^(n-1)
    /// bytes, and an uncompressed size that is unknown (all ones) or under 256 GB.
    private static func looksLikeLZMAAlone(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count >= 13, b[0] < 225 else { return false }
        var dictionary: UInt32 = 0
        for i in 0..<4 { dictionary |= UInt32(b[1 + i]) << (8 * UInt32(i)) }
        guard dictionary >= 4096 else { return false }
        let top = UInt32(1) << (31 - UInt32(dictionary.leadingZeroBitCount))
        guard dictionary == top || dictionary == top | (top >> 1) else { return false }
        var size: UInt64 = 0
        for i in 0..<8 { size |= UInt64(b[5 + i]) << (8 * UInt64(i)) }
        return size == UInt64.max || size < (UInt64(1) << 38)
    }
}
