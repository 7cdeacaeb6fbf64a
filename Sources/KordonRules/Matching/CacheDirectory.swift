import Foundation
import KordonCore

/// The directory of the Hyperscan database cache, opened once and checked, so that
/// every file is then read and written relative to the checked directory itself
/// (`openat`/`renameat` on its descriptor) and never through a path an attacker
/// could re-point between the check and the use.
///
/// The directory is created with mode 0700. It is used only when it is a real
/// directory (not a symbolic link) owned by the effective user and not writable by
/// group or others: whoever else can write into it could plant or swap files.
final class CacheDirectory: Sendable {
    /// What reading a file found.
    enum Contents {
        /// No such file: an ordinary cache miss.
        case missing
        /// A file that must not be trusted (why, without its contents).
        case refused(String)
        case bytes([UInt8])
    }

    /// The directory's path, for messages.
    let path: String
    private let descriptor: Int32

    /// Opens (creating it if needed, mode 0700) and checks the directory at `url`.
    /// Throws a `rules.cache.directory` error saying why it cannot be used.
    init(_ url: URL) throws {
        path = url.path
        if mkdir(path, 0o700) != 0, errno == ENOENT {
            // The parent is missing: create it (with the caller's umask), then the cache itself 0700.
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = mkdir(path, 0o700)
        }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw KordonError(code: "rules.cache.directory",
                              message: "cannot open the rule cache directory \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        let problem = fstat(descriptor, &info) == 0
            ? Self.problem(with: info, kind: S_IFDIR, mask: 0o022) : "cannot be examined"
        if let problem {
            close(descriptor)
            throw KordonError(code: "rules.cache.directory", message: "the rule cache directory \(path) \(problem); it is not used")
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Why a file described by `info` must not be trusted; `nil` when it is of `kind`,
    /// owned by the effective user and has none of the permission bits in `mask`.
    static func problem(with info: stat, kind: mode_t, mask: mode_t) -> String? {
        if info.st_mode & S_IFMT != kind { return kind == S_IFDIR ? "is not a directory" : "is not a regular file" }
        if info.st_uid != geteuid() { return "is owned by another user" }
        if info.st_mode & mask != 0 {
            return mask == 0o022 ? "is writable by group or others" : "is accessible by group or others"
        }
        return nil
    }

    /// The contents of `name`, when it is a regular file owned by the effective user,
    /// not writable by group or others (none of `mask`'s bits set), at most `limit` bytes.
    func contents(of name: String, limit: Int, mask: mode_t = 0o022) -> Contents {
        // O_NOFOLLOW: a symbolic link is refused; O_NONBLOCK: a FIFO cannot block the open.
        let file = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else {
            if errno == ENOENT { return .missing }
            return .refused(errno == ELOOP ? "is a symbolic link" : "cannot be opened: \(String(cString: strerror(errno)))")
        }
        defer { close(file) }
        var info = stat()
        guard fstat(file, &info) == 0 else { return .refused("cannot be examined") }
        if let problem = Self.problem(with: info, kind: S_IFREG, mask: mask) { return .refused(problem) }
        guard info.st_size >= 0, Int(info.st_size) <= limit else { return .refused("is larger than \(limit) bytes") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        let count: Int
        do {
            count = try bytes.withUnsafeMutableBytes { raw in
                try FileDescriptorIO.read(file, into: raw.baseAddress!, count: raw.count)
            }
        } catch let error as FileDescriptorIO.Failure {
            return .refused("cannot be read: \(error.reason)")
        } catch {
            return .refused("cannot be read")
        }
        // One byte more than the size asked for: a file that grew while read is not what was checked.
        guard count == Int(info.st_size) else { return .refused("changed while it was read") }
        bytes.removeLast()
        return .bytes(bytes)
    }

    /// Replaces `name` with `bytes` atomically and durably (``DurableFile``, relative
    /// to this checked directory): a temporary file (mode 0600) written and flushed to
    /// disk, renamed over `name`, then the directory flushed, so a reader sees the old
    /// file or the whole new one, never a part. Returns whether it worked (a cache
    /// that cannot be written is only slower); a failure leaves no temporary file behind.
    func replace(_ name: String, with bytes: [UInt8]) -> Bool {
        do {
            try DurableFile.write(named: name, in: descriptor, directoryPath: path, mode: 0o600) { file in
                try bytes.withUnsafeBytes { raw in try FileDescriptorIO.writeAll(file, raw) }
            }
            return true
        } catch {
            return false
        }
    }
}
