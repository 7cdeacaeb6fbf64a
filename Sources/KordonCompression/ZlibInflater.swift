import CZlib
import Foundation

/// Inflates zlib, raw deflate and gzip streams with zlib, bounded in output.
///
/// The only type that holds a `z_stream`.
enum ZlibInflater {
    /// The zlib window bits that select each wrapper (see `inflateInit2`).
    private static func windowBits(_ format: Compression) -> Int32 {
        switch format {
        case .rawDeflate: return -MAX_WBITS
        case .gzip: return MAX_WBITS + 16
        default: return MAX_WBITS
        }
    }

    /// Decodes `input` as `format` (`.zlib`, `.rawDeflate` or `.gzip`) into at most `limit` bytes.
    ///
    /// gzip members follow one another as `gzip -d` reads them; zero bytes after the last
    /// member are padding. Any other byte after the end of the stream makes it corrupt:
    /// a receiver's decoder may read what Kordon would not.
    /// With `trailing: .ignore`, whatever follows the stream (the last gzip member) is left alone.
    static func decode(_ input: UnsafeRawBufferPointer, as format: Compression, limit: Int,
                       trailing: TrailingBytes = .refuse) -> DecodeResult {
        var stream = z_stream()
        guard kordon_inflate_init2(&stream, windowBits(format)) == Z_OK else {
            return .corrupt("zlib could not start an inflater")
        }
        defer { inflateEnd(&stream) }
        let output = BoundedOutput(limit: limit)
        let total = input.count
        // zlib counts input in 32-bit words: a bigger input is handed over window by window.
        let window = Int(UInt32.max / 2)
        var fed = 0
        guard let base = input.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return .truncated }
        while true {
            if stream.avail_in == 0 && fed < total {
                let size = min(window, total - fed)
                stream.next_in = UnsafeMutablePointer(mutating: base + fed)
                stream.avail_in = uInt(size)
                fed += size
            }
            stream.next_out = output.scratchStart(as: Bytef.self)
            stream.avail_out = uInt(BoundedOutput.chunkSize)
            let status = inflate(&stream, Z_NO_FLUSH)
            guard output.accept(BoundedOutput.chunkSize - Int(stream.avail_out)) else { return .overLimit }
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                let consumed = fed - Int(stream.avail_in)
                if consumed == total { return output.finished() }
                if format == .gzip {
                    if input.isZero(from: consumed) { return output.finished() }
                    if total - consumed >= 2 && input[consumed] == 0x1F && input[consumed + 1] == 0x8B {
                        guard inflateReset(&stream) == Z_OK else { return .corrupt("zlib could not reset") }
                        continue
                    }
                }
                if trailing == .ignore { return output.finished() }
                return .corrupt("\(total - consumed) bytes after the end of the \(format.rawValue) stream")
            case Z_BUF_ERROR:
                // No progress was possible: with all input handed over, the stream was cut short.
                if stream.avail_in == 0 && fed == total { return .truncated }
                continue
            case Z_NEED_DICT:
                return .corrupt("the stream needs a preset dictionary")
            case Z_MEM_ERROR:
                return .corrupt("zlib ran out of memory")
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "invalid data"
                return .corrupt("\(format.rawValue): \(reason)")
            }
        }
    }
}
