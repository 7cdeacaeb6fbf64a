import CBzip2
import Foundation

/// Decodes bzip2 streams, bounded in output.
///
/// The only type that holds a `bz_stream`.
enum Bzip2Decoder {
    /// Decodes `input` into at most `limit` bytes. Streams that follow one another
    /// (`cat a.bz2 b.bz2`, pbzip2's output) are decoded as `bzip2 -d` does; any other
    /// byte after the last stream makes it corrupt.
    /// With `trailing: .ignore`, whatever follows the last stream is left alone.
    static func decode(_ input: UnsafeRawBufferPointer, limit: Int, trailing: TrailingBytes = .refuse) -> DecodeResult {
        guard let base = input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count > 0 else {
            return .truncated
        }
        let output = BoundedOutput(limit: limit)
        let total = input.count
        // bzip2 counts input in 32-bit words: a bigger input is handed over window by window.
        let window = Int(UInt32.max / 2)
        var stream = bz_stream()
        guard BZ2_bzDecompressInit(&stream, 0, 0) == BZ_OK else { return .corrupt("bzip2 could not start a decoder") }
        defer { BZ2_bzDecompressEnd(&stream) }
        var fed = 0
        while true {
            if stream.avail_in == 0 && fed < total {
                let size = min(window, total - fed)
                stream.next_in = UnsafeMutablePointer(mutating: base + fed)
                stream.avail_in = UInt32(size)
                fed += size
            }
            stream.next_out = output.scratchStart(as: CChar.self)
            stream.avail_out = UInt32(BoundedOutput.chunkSize)
            let status = BZ2_bzDecompress(&stream)
            let produced = BoundedOutput.chunkSize - Int(stream.avail_out)
            guard output.accept(produced) else { return .overLimit }
            switch status {
            case BZ_OK:
                // bzip2 says OK even when it can go no further: no input left and nothing produced.
                if stream.avail_in == 0 && fed == total && produced == 0 { return .truncated }
                continue
            case BZ_STREAM_END:
                let consumed = fed - Int(stream.avail_in)
                if consumed == total { return output.finished() }
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                guard rest.count >= 4, rest[0] == 0x42, rest[1] == 0x5A, rest[2] == 0x68 else {
                    if trailing == .ignore { return output.finished() }
                    return .corrupt("\(total - consumed) bytes after the end of the bzip2 stream")
                }
                // The next stream: a fresh decoder, fed from where the last one stopped.
                let nextIn = stream.next_in, availIn = stream.avail_in
                BZ2_bzDecompressEnd(&stream)
                stream = bz_stream()
                guard BZ2_bzDecompressInit(&stream, 0, 0) == BZ_OK else { return .corrupt("bzip2 could not restart") }
                stream.next_in = nextIn
                stream.avail_in = availIn
            case BZ_DATA_ERROR_MAGIC:
                return .corrupt("bzip2: not a bzip2 stream")
            case BZ_DATA_ERROR:
                return .corrupt("bzip2: corrupt data")
            case BZ_MEM_ERROR:
                return .corrupt("bzip2 ran out of memory")
            default:
                return .corrupt("bzip2: error \(status)")
            }
        }
    }
}
