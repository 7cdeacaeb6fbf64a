import Foundation
import KordonCore
import KordonCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Reads a stream (a pipe: `kordon filter` on standard input) through an unlinked
/// temporary file instead of a growing buffer.
///
/// A stream's size is not known before its end, so a reader that keeps it in memory holds
/// up to the whole limit (and a buffer's growth above it) before it can tell that the
/// message is over the limit: 134 MB of resident memory for a 2 GB pipe at the default
/// 100 MiB limit. Kept in a file, the bytes cost no memory while they arrive; a message
/// within the limit is then mapped (private, copy-on-write: the file is never written
/// through the mapping), and one over it is truncated away as soon as it passes the limit
/// and only counted and digested to its end.
enum SpooledStream {
    /// Reads `fd` to its end; `nil` when no temporary file can be made (the caller then
    /// reads into memory). A failed write to the file (a full disk) is thrown: the bytes
    /// already read cannot be read again.
    static func read(_ fd: Int32, limit: Int, chunkSize: Int) throws(FileDescriptorIO.Failure) -> MessageInput? {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("kordon-stream-XXXXXX").utf8CString)
        let file = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard file >= 0 else { return nil }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        defer { close(file) }

        var tally = MessageTally()
        try tally.readToEnd(fd, chunkSize: chunkSize) { (bytes, before) throws(FileDescriptorIO.Failure) in
            if before + bytes.count <= limit {
                try FileDescriptorIO.writeAll(file, bytes)
            } else if before <= limit {
                _ = ftruncate(file, 0)  // over the limit: what was kept is let go at once
            }
        }
        let size = tally.size
        let sha256 = try? tally.digest.finish()  // nil: the pipeline tries again and holds the message
        guard size <= limit else { return .oversized(size: size, sha256: sha256, head: tally.head) }
        guard size > 0 else { return .whole(Data(), sha256: sha256) }
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, file, 0), mapped != MAP_FAILED else {
            throw FileDescriptorIO.Failure(code: errno)
        }
        let data = Data(bytesNoCopy: mapped, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
        return .whole(data, sha256: sha256)
    }
}
