import Foundation

/// Collects a decoder's output chunk by chunk and refuses to hold more than a limit.
///
/// Each decoder writes into ``scratch`` (one chunk) and hands over what it produced;
/// the collected bytes never exceed the limit, so a bomb costs at most limit + one chunk.
final class BoundedOutput {
    /// Bytes per decoder call: big enough that the C call overhead does not matter.
    static let chunkSize = 256 * 1024

    /// The most bytes ``data`` may hold.
    let limit: Int
    /// What was decoded so far.
    private(set) var data = Data()
    /// Where the decoder writes the next chunk.
    let scratch: UnsafeMutableRawBufferPointer

    init(limit: Int) {
        self.limit = max(0, limit)
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
    }

    deinit { scratch.deallocate() }

    /// The first byte of the scratch chunk, typed for the C library at hand.
    func scratchStart<T>(as type: T.Type) -> UnsafeMutablePointer<T> {
        scratch.baseAddress!.assumingMemoryBound(to: T.self)
    }

    /// Keeps the first `count` bytes of the scratch chunk; false when that passes the limit
    /// (they are not kept: the caller stops with ``DecodeResult/overLimit``).
    func accept(_ count: Int) -> Bool {
        guard count > 0 else { return true }
        guard count <= limit - data.count else { return false }
        data.append(scratch.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count)
        return true
    }

    /// How many bytes were kept so far.
    var produced: Int { data.count }

    /// The result once the decoder reached the end of its stream.
    func finished() -> DecodeResult { .decoded(data) }
}

extension UnsafeRawBufferPointer {
    /// True when every byte from `offset` on is zero (the padding gzip and xz tolerate).
    func isZero(from offset: Int) -> Bool {
        guard offset < count else { return true }
        return UnsafeRawBufferPointer(rebasing: self[offset...]).allSatisfy { $0 == 0 }
    }
}
