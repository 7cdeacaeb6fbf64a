import Foundation
import KordonCore

#if canImport(Glibc)
import Glibc
#endif

/// A new file whose bytes are written but not yet known to be on disk; it stays
/// open until ``flush()`` (fsync, close) or ``discard()`` (close, remove).
///
/// Files written together are flushed together: ``startWriteback()`` on each first
/// submits all their writes at once, so the first fsync's journal commit carries
/// every file's blocks and the fsyncs after it find nothing left to wait for. Eight
/// outbox copies then cost about one commit instead of eight.
struct UnsyncedFile {
    /// Where it is.
    let path: String
    private let fd: Int32

    /// Creates `path` (which must not exist) and writes `data` into it; throws
    /// `spool.write` (nothing left behind) when it cannot.
    init(creating path: String, with data: Data) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            throw KordonError(code: "spool.write", message: "cannot create \(path): \(SpoolFiles.reason(errno))")
        }
        self.path = path
        self.fd = fd
        do {
            try data.withUnsafeBytes { try FileDescriptorIO.writeAll(fd, $0) }
        } catch let failure as FileDescriptorIO.Failure {
            discard()
            throw KordonError(code: "spool.write", message: "cannot write \(path): \(SpoolFiles.reason(failure.code))")
        }
    }

    /// Asks the kernel to start writing the file out, without waiting; best effort.
    func startWriteback() {
        _ = Self.syncFileRange?(fd, 0, 0, Self.syncFileRangeWrite)
    }

    /// fsyncs and closes the file; on failure removes it and throws `spool.write`.
    func flush() throws {
        let failure = fsync(fd) == 0 ? 0 : errno
        close(fd)
        if failure != 0 {
            unlink(path)
            throw KordonError(code: "spool.write", message: "cannot write \(path): \(SpoolFiles.reason(failure))")
        }
    }

    /// Closes and removes the file.
    func discard() {
        close(fd)
        unlink(path)
    }

    /// `SYNC_FILE_RANGE_WRITE` from `<fcntl.h>`.
    private static let syncFileRangeWrite: UInt32 = 2

    /// Linux's `sync_file_range`, which Glibc's module does not import: looked up once;
    /// without it, every fsync waits for its own file as before.
    private static let syncFileRange = CFunction.named("sync_file_range",
                                                      as: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
}
