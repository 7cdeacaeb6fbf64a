import Foundation
import KordonCore

#if canImport(Glibc)
import Glibc
#endif

/// The POSIX file operations the spool is built from. Each one either completes or
/// throws a ``KordonError`` naming the path and the system's reason: the spool's
/// guarantees rest on knowing exactly which step happened.
enum SpoolFiles {
    /// What `lstat` says about one entry.
    struct Status {
        /// A regular file (not a symlink, directory, FIFO, …).
        var isRegular: Bool
        /// Bytes.
        var size: Int
        /// Last modification.
        var modified: Date
        /// Hard links to the inode.
        var links: Int
        /// The file system it lives on.
        var device: UInt64
        /// The inode.
        var inode: UInt64
    }

    /// The system's text for `code`.
    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// `lstat(path)`, or `nil` when nothing is there.
    static func status(_ path: String) throws -> Status? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw KordonError(code: "spool.stat", message: "cannot examine \(path): \(reason(errno))")
        }
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        return Status(isRegular: info.st_mode & S_IFMT == S_IFREG, size: Int(info.st_size),
                      modified: Date(timeIntervalSince1970: modified), links: Int(info.st_nlink),
                      device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The names in `directory` (not `.` and `..`). Names that are not UTF-8 cannot be
    /// handed back to the file system through `String` and are counted instead.
    static func list(_ directory: String) throws -> (names: [String], undecodable: Int) {
        guard let handle = opendir(directory) else {
            throw KordonError(code: "spool.list", message: "cannot list \(directory): \(reason(errno))")
        }
        defer { closedir(handle) }
        var names: [String] = []
        var undecodable = 0
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(validatingCString: $0) }
            }
            guard let name else {
                undecodable += 1
                continue
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return (names, undecodable)
    }

    /// `rename(from, to)`; `false` when `from` is gone (someone else took it).
    static func move(_ from: String, to: String) throws -> Bool {
        if rename(from, to) == 0 { return true }
        if errno == ENOENT { return false }
        throw KordonError(code: "spool.rename", message: "cannot move \(from) to \(to): \(reason(errno))")
    }

    /// What ``readRegular(_:limit:)`` found.
    enum Contents {
        /// The file's bytes.
        case bytes(Data)
        /// More than the limit: nothing was kept in memory.
        case tooLarge
        /// Not a regular file (a symlink is never followed).
        case notRegular
    }

    /// The contents of the regular file at `path`, unless it holds more than `limit` bytes.
    static func readRegular(_ path: String, limit: Int) throws -> Contents {
        // O_NONBLOCK: a FIFO swapped in after the caller's lstat must not block the open (no effect on files).
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ELOOP { return .notRegular }
            throw KordonError(code: "spool.read", message: "cannot open \(path): \(reason(errno))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw KordonError(code: "spool.read", message: "cannot examine \(path): \(reason(errno))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return .notRegular }
        guard Int(info.st_size) <= limit else { return .tooLarge }
        // Read into memory of our own rather than a zero-filled `Data`: the bytes are written once.
        var capacity = max(Int(info.st_size), 4096)
        guard var buffer = malloc(capacity) else {
            throw KordonError(code: "spool.read", message: "cannot read \(path): out of memory")
        }
        var filled = 0
        // Read until end of file, whatever fstat said: the size is only a first guess.
        while true {
            if filled == capacity {
                capacity += max(65536, capacity / 2)
                guard let grown = realloc(buffer, capacity) else {
                    free(buffer)
                    throw KordonError(code: "spool.read", message: "cannot read \(path): out of memory")
                }
                buffer = grown
            }
            let wanted = capacity - filled
            do {
                filled += try FileDescriptorIO.read(fd, into: buffer + filled, count: wanted)
            } catch {
                free(buffer)
                throw KordonError(code: "spool.read", message: "cannot read \(path): \(reason(error.code))")
            }
            if filled > limit {
                free(buffer)
                return .tooLarge  // it grew while being read
            }
            if filled < capacity { break }  // the end came before the buffer was full
        }
        return .bytes(Data(bytesNoCopy: buffer, count: filled, deallocator: .free))
    }

    /// Creates `path` (which must not exist), writes `data` and fsyncs it.
    static func writeNew(_ data: Data, to path: String) throws {
        try UnsyncedFile(creating: path, with: data).flush()
    }

    /// `link(existing, new)`; `false` when `new` already exists.
    static func link(_ existing: String, as new: String) throws -> Bool {
        if Glibc.link(existing, new) == 0 { return true }
        if errno == EEXIST { return false }
        throw KordonError(code: "spool.link", message: "cannot link \(existing) as \(new): \(reason(errno))")
    }

    /// Removes `path`; nothing there is fine.
    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw KordonError(code: "spool.remove", message: "cannot remove \(path): \(reason(errno))")
        }
    }

    /// Opens a directory for fsync.
    static func openDirectory(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw KordonError(code: "spool.sync", message: "cannot open \(path): \(reason(errno))")
        }
        return fd
    }

    /// `tmpfs` or `ramfs` when `path` is on one of those memory-backed file systems (by
    /// `statfs`'s magic numbers); `nil` on any other, or when it cannot be told.
    static func memoryFileSystem(at path: String) -> String? {
        guard let statfs = statfsFunction else { return nil }
        // `struct statfs` begins with the word-sized `f_type` on every Linux ABI
        // (statfs(2)); the buffer is larger than the whole struct on any of them.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
        defer { buffer.deallocate() }
        guard statfs(path, buffer) == 0 else { return nil }
        switch UInt32(truncatingIfNeeded: buffer.load(as: Int.self)) {
        case 0x0102_1994: return "tmpfs"
        case 0x8584_58F6: return "ramfs"
        default: return nil
        }
    }

    /// `statfs`, which Glibc's module does not import: looked up once.
    private static let statfsFunction = CFunction.named("statfs",
                                                       as: (@convention(c) (UnsafePointer<CChar>, UnsafeMutableRawPointer) -> Int32).self)
}
