import CZstd
import Foundation

/// Decodes Zstandard streams, every frame of them, bounded in output.
///
/// The only type that holds a `ZSTD_DStream`. The window stays at libzstd's default bound
/// (2^27 bytes, as the `zstd` tool); a frame that asks for more is over the limit.
enum ZstdDecoder {
    /// Decodes `input` into at most `limit` bytes.
    /// With `trailing: .ignore`, bytes after the last complete frame that are not a frame are left alone.
    static func decode(_ input: UnsafeRawBufferPointer, limit: Int, trailing: TrailingBytes = .refuse) -> DecodeResult {
        guard let stream = ZSTD_createDStream() else { return .corrupt("zstd could not start a decoder") }
        defer { ZSTD_freeDStream(stream) }
        guard let base = input.baseAddress, input.count > 0 else { return .truncated }
        let output = BoundedOutput(limit: limit)
        var inBuffer = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
        // What the last call said: 0 once a frame is complete and flushed, else more is expected.
        var pending = 1
        while true {
            var outBuffer = ZSTD_outBuffer(dst: output.scratch.baseAddress, size: BoundedOutput.chunkSize, pos: 0)
            let status = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
            if ZSTD_isError(status) != 0 {
                // A frame had ended and what follows is not one: the rest is trailing bytes.
                if trailing == .ignore, pending == 0, output.produced > 0 { return output.finished() }
                if ZSTD_getErrorCode(status) == ZSTD_error_frameParameter_windowTooLarge { return .overLimit }
                return .corrupt("zstd: \(String(cString: ZSTD_getErrorName(status)))")
            }
            guard output.accept(outBuffer.pos) else { return .overLimit }
            pending = status
            // All input read and room left in the chunk: the decoder has flushed all it could.
            if inBuffer.pos == inBuffer.size && outBuffer.pos < outBuffer.size {
                return pending == 0 ? output.finished() : .truncated
            }
        }
    }
}
