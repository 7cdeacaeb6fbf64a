import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Files that are either wholly there or not at all, and stay there after a crash:
/// write under a temporary name, fsync, rename over the final name, fsync the
/// directory. A reader never sees a partial file; after a power cut the file is
/// either the old one or the complete new one.
///
/// Every step is taken relative to one open descriptor of the directory (`openat`,
/// `renameat`, `linkat`), so the file is renamed into, and flushed with, the very
/// directory that was opened, even if its path is re-pointed meanwhile. This is the
/// one place Kordon writes such files: the quarantine, the audit head, released
/// messages and the rule-database cache all come here. (The spool's outbox, which
/// flushes a batch of files with one directory fsync, has its own steps.)
public enum DurableFile {
    /// Writes `data` to `url` atomically and durably. With `replace: false` an
    /// existing file is left alone and `durable.exists` is thrown (a second
    /// delivery of the same message must not silently overwrite the first).
    /// `mode` is applied as given (not filtered by the umask). `syncDirectory: false`
    /// skips the final fsync of the directory, for files whose previous version is
    /// still acceptable after a crash (the audit log's head).
    public static func write(_ data: Data, to url: URL, mode: mode_t = 0o600, replace: Bool = true,
                             syncDirectory sync: Bool = true) throws {
        try write(to: url, mode: mode, replace: replace, syncDirectory: sync) { fd in try writeAll(fd, data, what: url.path) }
    }

    /// ``write(_:to:mode:replace:syncDirectory:)`` for contents that `contents` writes to
    /// the open file itself (a stream too large to hold in memory); what it throws
    /// leaves nothing behind. Returns what `contents` returned.
    @discardableResult
    public static func write<T>(to url: URL, mode: mode_t = 0o600, replace: Bool = true, syncDirectory sync: Bool = true,
                                contents: (Int32) throws -> T) throws -> T {
        let directory = url.deletingLastPathComponent().path
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open directory \(directory)", errno) }
        defer { close(descriptor) }
        return try write(named: url.lastPathComponent, in: descriptor, directoryPath: directory, mode: mode,
                         replace: replace, syncDirectory: sync, contents: contents)
    }

    /// ``write(to:mode:replace:syncDirectory:contents:)`` for the file `name` in the
    /// directory open as `directory` (a descriptor the caller has checked, as the rule
    /// cache does, so that no path can be swapped between its check and the write);
    /// `directoryPath` names it in errors only.
    @discardableResult
    public static func write<T>(named name: String, in directory: Int32, directoryPath: String, mode: mode_t = 0o600,
                                replace: Bool = true, syncDirectory sync: Bool = true,
                                contents: (Int32) throws -> T) throws -> T {
        let path = directoryPath + "/" + name
        // A random name no other writer picks; O_EXCL (which also refuses a symbolic link) makes sure.
        let temporary = ".kordon-\(UUID().uuidString.lowercased()).tmp"
        let fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot create a file in \(directoryPath)", errno) }
        var ok = false
        defer { if !ok { unlinkat(directory, temporary, 0) } }
        let result: T
        do {
            defer { close(fd) }
            fchmod(fd, mode)
            result = try contents(fd)
            guard fsync(fd) == 0 else { throw failure("cannot flush \(path) to disk", errno) }
        }
        if replace {
            guard renameat(directory, temporary, directory, name) == 0 else { throw failure("cannot rename into \(path)", errno) }
        } else {
            // link() fails with EEXIST instead of replacing: the no-overwrite rename.
            guard linkat(directory, temporary, directory, name, 0) == 0 else {
                if errno == EEXIST {
                    throw KordonError(code: "durable.exists", message: "\(path) already exists; it was not overwritten")
                }
                throw failure("cannot link into \(path)", errno)
            }
            unlinkat(directory, temporary, 0)
        }
        ok = true
        // The rename itself reaches the disk with the directory's entries.
        if sync, fsync(directory) != 0 { throw failure("cannot flush directory \(directoryPath) to disk", errno) }
        return result
    }

    /// Writes every byte of `data` to `fd`, retrying short writes and interruptions.
    public static func writeAll(_ fd: Int32, _ data: Data, what: String) throws {
        do {
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in try FileDescriptorIO.writeAll(fd, raw) }
        } catch let error as FileDescriptorIO.Failure {
            throw failure("cannot write \(what)", error.code)
        }
    }

    /// Flushes a directory's entries (a rename or unlink in it) to disk.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open directory \(path)", errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot flush directory \(path) to disk", errno) }
    }

    /// Creates `path` (and its parents) when missing; a directory Kordon creates
    /// gets `mode` (0700 for state that holds secrets or held messages).
    public static func makeDirectory(_ path: String, mode: Int = 0o700) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw KordonError(code: "durable.directory", message: "\(path) exists but is not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: mode])
        } catch {
            throw KordonError(code: "durable.directory", message: "cannot create directory \(path): check its parent's permissions")
        }
    }

    /// The `durable.io` error for a system call about `what` that failed with `errno`
    /// `code`: the message says what and the system's reason.
    public static func failure(_ what: String, _ code: Int32) -> KordonError {
        KordonError(code: "durable.io", message: "\(what): \(String(cString: strerror(code)))", cause: .errno(code))
    }
}
