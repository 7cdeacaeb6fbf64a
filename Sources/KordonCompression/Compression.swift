import Foundation

/// A compressed-stream format Kordon can decode.
///
/// The raw values are stable, lowercase names for reports and logs.
public enum Compression: String, Sendable, CaseIterable, Hashable {
    /// RFC 1950: deflate in a zlib wrapper (2-byte header, Adler-32 trailer). HTTP's `deflate`.
    case zlib
    /// RFC 1951: bare deflate, no header (zip members, and what some servers send as HTTP `deflate`).
    case rawDeflate = "raw-deflate"
    /// RFC 1952: gzip. Several members concatenated decode to their concatenation, as `gzip -d` does.
    case gzip
    /// RFC 7932: brotli (HTTP `br`). It has no magic number.
    case brotli
    /// RFC 8878: Zstandard. Every frame is decoded (skippable frames are skipped).
    case zstd
    /// The .xz container (LZMA2), concatenated streams and stream padding included.
    case xz
    /// The legacy .lzma ("LZMA alone") format: 13-byte header, then LZMA1.
    case lzmaAlone = "lzma-alone"
    /// bzip2; several streams concatenated decode to their concatenation, as `bzip2 -d` does.
    case bzip2
}

/// What may follow the end of a stream.
public enum TrailingBytes: Sendable {
    /// Bytes after the end make the input ``DecodeResult/corrupt(_:)``: where the whole input
    /// must be the stream (an HTTP body), a receiver's decoder might read them otherwise.
    case refuse
    /// Decoding stops at the end of the stream and what follows is left alone, as Python's
    /// `zlib`, `lzma` and `bz2` modules do: for a stream found inside other content, where
    /// what a receiver recovers is the stream's content, whatever comes after it.
    case ignore
}

/// What decoding a stream gave.
public enum DecodeResult: Sendable, Equatable {
    /// The whole stream decoded to these bytes (at most the limit).
    case decoded(Data)
    /// Decoding would produce more than the limit, or need more working memory than
    /// ``Decompressor/maxWorkingMemory`` (a decompression bomb). Decoding stopped there:
    /// no more than the limit (and one chunk) was ever held.
    case overLimit
    /// The stream is not valid in this format; the reason is the library's own words
    /// (never bytes of the input).
    case corrupt(String)
    /// The input ended before the stream did (empty input included).
    case truncated

    /// The decoded bytes, when the stream decoded whole.
    public var data: Data? {
        if case .decoded(let data) = self { return data }
        return nil
    }
}
