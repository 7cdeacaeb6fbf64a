import Foundation
import KordonCore
import KordonCrypto

/// What a message reader learns of every byte it reads, whether it keeps them or not:
/// the size so far, the running SHA-256 and the first ``MessageReader/headSize`` bytes
/// (from which an oversized message's form is told).
struct MessageTally {
    let digest = SHA256Digest.Running()
    private(set) var head = Data()
    private(set) var size = 0

    /// Counts, digests and keeps the head of `bytes`, the next bytes of the message.
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        digest.update(bytes)
        let headSize = MessageReader.headSize
        if head.count < headSize { head.append(contentsOf: bytes.prefix(headSize - head.count)) }
        size += bytes.count
    }

    /// Reads `fd` to its end a chunk at a time, adding each chunk to the tally and then
    /// handing it to `each` with the size the message had before it.
    mutating func readToEnd(_ fd: Int32, chunkSize: Int,
                            _ each: (UnsafeRawBufferPointer, _ sizeBefore: Int) throws(FileDescriptorIO.Failure) -> Void)
        throws(FileDescriptorIO.Failure) {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = try FileDescriptorIO.read(fd, into: chunk.baseAddress!, count: chunk.count)
            if count == 0 { return }
            let bytes = UnsafeRawBufferPointer(rebasing: chunk[0..<count])
            let before = size
            add(bytes)
            try each(bytes, before)
        }
    }
}
