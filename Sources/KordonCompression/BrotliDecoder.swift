import CBrotli
import Foundation

/// Decodes brotli streams, bounded in output.
///
/// The only type that holds a `BrotliDecoderState`. Large windows (the non-standard
/// extension) stay off: HTTP's `br` never uses them.
enum BrotliDecoder {
    /// Decodes `input` into at most `limit` bytes; bytes after the end of the stream make it corrupt.
    static func decode(_ input: UnsafeRawBufferPointer, limit: Int) -> DecodeResult {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else {
            return .corrupt("brotli could not start a decoder")
        }
        defer { BrotliDecoderDestroyInstance(state) }
        let output = BoundedOutput(limit: limit)
        var availableIn = input.count
        var nextIn: UnsafePointer<UInt8>? = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        if nextIn == nil { return .truncated }
        while true {
            var availableOut = BoundedOutput.chunkSize
            var nextOut: UnsafeMutablePointer<UInt8>? = output.scratchStart(as: UInt8.self)
            let result = BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
            guard output.accept(BoundedOutput.chunkSize - availableOut) else { return .overLimit }
            switch result {
            case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
                continue
            case BROTLI_DECODER_RESULT_SUCCESS:
                if availableIn > 0 { return .corrupt("\(availableIn) bytes after the end of the brotli stream") }
                return output.finished()
            case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
                return .truncated
            default:
                let code = BrotliDecoderGetErrorCode(state)
                let reason = BrotliDecoderErrorString(code).map { String(cString: $0) } ?? "invalid data"
                return .corrupt("brotli: \(reason)")
            }
        }
    }
}
