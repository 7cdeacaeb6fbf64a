import Foundation
import KordonCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The spool's directories under one root, and the lock that gives one process the
/// spool:
///
/// - `inbox/`: writers drop messages here (under a temporary name, renamed when complete);
/// - `outbox/`: passed messages (clean ones byte for byte, sanitized copies);
/// - `quarantine/`: the quarantine store's default home (encrypted originals and index);
/// - `work/`: private (mode 0700), the claimed messages in flight.
///
/// Opening checks what the guarantees depend on: `inbox/` and `work/` on one file
/// system (claims are renames), hard links in `outbox/` (they prove delivery), and
/// no other process serving the same spool (recovery redoes all of `work/`).
public final class SpoolDirectories: Sendable {
    /// The root.
    public let root: URL
    /// Where messages arrive.
    public let inbox: URL
    /// Where passed messages go.
    public let outbox: URL
    /// The quarantine store's default home.
    public let quarantine: URL
    /// Claimed messages in flight.
    public let work: URL
    /// The kind of memory-backed file system `work/` is on (`tmpfs`, `ramfs`), if it is:
    /// everything there is lost at a reboot or power failure, so the service warns.
    public let volatileFileSystem: String?
    /// The open lock file; `nil` once released.
    private let lock: Mutex<Int32?>
    /// `inbox/`, `outbox/` and `work/` as path prefixes ending in `/`: a spool message's
    /// paths are built a dozen times, and `URL` building was a tenth of the spool's own CPU.
    private let inboxPrefix: String
    private let outboxPrefix: String
    private let workPrefix: String
    /// Group-committed flushes of `inbox/`, `outbox/` and `work/`.
    let inboxSync: DirectorySync
    let outboxSync: DirectorySync
    let workSync: DirectorySync

    /// Creates the directories that are missing and takes the spool's lock.
    public init(root: URL) throws {
        self.root = root
        inbox = root.appendingPathComponent("inbox")
        outbox = root.appendingPathComponent("outbox")
        quarantine = root.appendingPathComponent("quarantine")
        work = root.appendingPathComponent("work")
        inboxPrefix = inbox.path + "/"
        outboxPrefix = outbox.path + "/"
        workPrefix = work.path + "/"
        inboxSync = DirectorySync(path: inbox.path)
        outboxSync = DirectorySync(path: outbox.path)
        workSync = DirectorySync(path: work.path)
        let manager = FileManager.default
        do {
            for directory in [inbox, outbox, quarantine] {
                try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            try manager.createDirectory(at: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: work.path)
        } catch {
            throw KordonError(code: "spool.directories",
                              message: "cannot create the spool directories under \(root.path): \(error.localizedDescription)")
        }
        lock = Mutex(try Self.takeLock(work.appendingPathComponent(".lock").path, root: root.path))
        volatileFileSystem = SpoolFiles.memoryFileSystem(at: work.path)
        do {
            try checkSameFileSystem()
            try checkHardLinks()
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    /// Releases the lock (also done when the object goes away or the process dies).
    public func release() {
        lock.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    /// Path of `name` in `inbox/`.
    func inboxPath(_ name: String) -> String { inboxPrefix + name }
    /// Path of `name` in `outbox/`.
    func outboxPath(_ name: String) -> String { outboxPrefix + name }
    /// Path of the claim in `work/`.
    func workPath(_ claim: SpoolClaim) -> String { workPrefix + claim.workName }

    /// Whether `path` is on the file system `work/` is on (`false` when it cannot be told).
    public func sharesFileSystem(with path: String) -> Bool {
        guard let other = try? SpoolFiles.status(path), let own = try? SpoolFiles.status(work.path) else { return false }
        return other.device == own.device
    }

    /// The claims `work/` holds, in the order they were made, and its other entries.
    func claimsInWork() throws -> (claims: [SpoolClaim], others: [String]) {
        var claims: [SpoolClaim] = []
        var others: [String] = []
        for name in try SpoolFiles.list(work.path).names where name != ".lock" {
            if let claim = SpoolClaim(workName: name) { claims.append(claim) } else { others.append(name) }
        }
        // Ids begin with the time: the oldest claims are redone first.
        return (claims.sorted { $0.id < $1.id }, others)
    }

    /// An exclusive `flock` on `path`: the kernel drops it when the process dies, so a
    /// restart after SIGKILL takes it again at once.
    private static func takeLock(_ path: String, root: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw KordonError(code: "spool.lock", message: "cannot open \(path): \(SpoolFiles.reason(errno))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK {
                throw KordonError(code: "spool.locked",
                                  message: "another kordon process is serving the spool \(root); stop it first or use another root")
            }
            throw KordonError(code: "spool.lock", message: "cannot lock \(path): \(SpoolFiles.reason(code))")
        }
        return fd
    }

    private func checkSameFileSystem() throws {
        guard let a = try SpoolFiles.status(inbox.path), let b = try SpoolFiles.status(work.path), a.device == b.device else {
            throw KordonError(code: "spool.filesystems",
                              message: "\(inbox.path) and \(work.path) must be on one file system: messages are claimed by rename")
        }
    }

    /// Delivery is proved by the link count of the outbox temporary file: the file
    /// system must support hard links.
    private func checkHardLinks() throws {
        let probe = outbox.appendingPathComponent(".kordon-probe-\(getpid()).tmp").path
        let linked = probe + "-link"
        try? SpoolFiles.remove(probe)
        try? SpoolFiles.remove(linked)
        defer {
            try? SpoolFiles.remove(probe)
            try? SpoolFiles.remove(linked)
        }
        do {
            try SpoolFiles.writeNew(Data(), to: probe)
            _ = try SpoolFiles.link(probe, as: linked)
        } catch let error as KordonError {
            throw KordonError(code: "spool.filesystem",
                              message: "\(outbox.path) must be writable and support hard links: \(error.message)")
        }
    }
}
