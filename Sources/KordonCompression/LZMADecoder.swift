import CLZMA
import Foundation

/// Decodes .xz and .lzma ("LZMA alone") streams with liblzma, bounded in output and memory.
///
/// The only type that holds an `lzma_stream`.
enum LZMADecoder {
    /// Decodes `input` as `.xz` (concatenated streams and padding, as `xz -d`) or `.lzmaAlone`.
    /// With `trailing: .ignore`, whatever follows the stream is left alone.
    static func decode(_ input: UnsafeRawBufferPointer, as format: Compression, limit: Int,
                       trailing: TrailingBytes = .refuse) -> DecodeResult {
        var stream = kordon_lzma_stream_init()
        let memoryLimit = UInt64(Decompressor.maxWorkingMemory)
        let started = format == .xz
            ? lzma_stream_decoder(&stream, memoryLimit, kordon_lzma_concatenated)
            : lzma_alone_decoder(&stream, memoryLimit)
        guard started == LZMA_OK else { return .corrupt("liblzma could not start a decoder") }
        defer { lzma_end(&stream) }
        guard let base = input.baseAddress, input.count > 0 else { return .truncated }
        let output = BoundedOutput(limit: limit)
        stream.next_in = base.assumingMemoryBound(to: UInt8.self)
        stream.avail_in = input.count
        while true {
            stream.next_out = output.scratchStart(as: UInt8.self)
            stream.avail_out = BoundedOutput.chunkSize
            // All the input is handed over at once, so every call may finish the stream.
            let status = lzma_code(&stream, LZMA_FINISH)
            guard output.accept(BoundedOutput.chunkSize - stream.avail_out) else { return .overLimit }
            switch status {
            case LZMA_OK:
                continue
            case LZMA_STREAM_END:
                if stream.avail_in > 0 && trailing == .refuse {
                    return .corrupt("\(stream.avail_in) bytes after the end of the \(format.rawValue) stream")
                }
                return output.finished()
            case LZMA_BUF_ERROR:
                return .truncated
            case LZMA_MEMLIMIT_ERROR:
                return .overLimit
            case LZMA_FORMAT_ERROR:
                return .corrupt("\(format.rawValue): not a stream of this format")
            case LZMA_OPTIONS_ERROR:
                return .corrupt("\(format.rawValue): unsupported options")
            case LZMA_DATA_ERROR:
                return .corrupt("\(format.rawValue): corrupt data")
            case LZMA_MEM_ERROR:
                return .corrupt("liblzma ran out of memory")
            default:
                return .corrupt("\(format.rawValue): liblzma error \(status.rawValue)")
            }
        }
    }
}
