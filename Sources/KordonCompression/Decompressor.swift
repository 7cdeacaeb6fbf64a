import Foundation

/// Decodes compressed streams with a hard bound on what they may become.
///
/// One entry point for every format: the output never exceeds `limit` bytes (a bomb
/// stops there, having cost at most the limit and one 256 KB chunk), and the decoders'
/// working memory (dictionaries, windows) is bounded by ``maxWorkingMemory``.
/// Each format's C library is held by one type of its own (`ZlibInflater`,
/// `BrotliDecoder`, `ZstdDecoder`, `LZMADecoder`, `Bzip2Decoder`).
public enum Decompressor {
    /// The most working memory a stream may ask for (an xz or .lzma dictionary; zstd
    /// windows keep libzstd's own 128 MB bound). `xz -9` needs 65 MB; a stream that
    /// asks for more than this is ``DecodeResult/overLimit``.
    public static let maxWorkingMemory = 256 * 1024 * 1024

    /// Decodes `data` as `format` into at most `limit` bytes.
    ///
    /// The whole input must be one stream of the format (for gzip, bzip2, xz and zstd:
    /// one or more members, streams or frames in a row). Bytes after its end make it
    /// ``DecodeResult/corrupt(_:)``, except zero padding after gzip members and xz streams.
    /// With `trailing: .ignore`, bytes after the (last) stream are left alone instead.
    public static func decode(_ data: Data, as format: Compression, limit: Int,
                              trailing: TrailingBytes = .refuse) -> DecodeResult {
        data.withUnsafeBytes { decode($0, as: format, limit: limit, trailing: trailing) }
    }

    /// Decodes the bytes in `input` as `format` into at most `limit` bytes (see ``decode(_:as:limit:)``).
    public static func decode(_ input: UnsafeRawBufferPointer, as format: Compression, limit: Int,
                              trailing: TrailingBytes = .refuse) -> DecodeResult {
        switch format {
        case .zlib, .rawDeflate, .gzip: return ZlibInflater.decode(input, as: format, limit: limit, trailing: trailing)
        case .brotli: return BrotliDecoder.decode(input, limit: limit)
        case .zstd: return ZstdDecoder.decode(input, limit: limit, trailing: trailing)
        case .xz, .lzmaAlone: return LZMADecoder.decode(input, as: format, limit: limit, trailing: trailing)
        case .bzip2: return Bzip2Decoder.decode(input, limit: limit, trailing: trailing)
        }
    }

    /// Decodes an HTTP `deflate` body: a zlib stream as RFC 9110 says, or the raw deflate
    /// some servers send instead; browsers accept both, so Kordon does too.
    ///
    /// A body whose first two bytes make a valid zlib header is tried as zlib first;
    /// if that fails it is tried as raw deflate (raw data may start like a zlib header by chance).
    public static func decodeHTTPDeflate(_ data: Data, limit: Int) -> DecodeResult {
        guard CompressionSniffer.looksLike(data, .zlib) else { return decode(data, as: .rawDeflate, limit: limit) }
        let wrapped = decode(data, as: .zlib, limit: limit)
        guard case .corrupt = wrapped else { return wrapped }
        let raw = decode(data, as: .rawDeflate, limit: limit)
        if case .decoded = raw { return raw }
        if case .overLimit = raw { return raw }
        return wrapped
    }
}
