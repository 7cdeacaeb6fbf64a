import Foundation
import KordonCore
import KordonCrypto
import Synchronization

/// An append-only log, one JSON record per line, each carrying the HMAC-SHA256 of the previous one.
///
/// The format is described in ``AuditFormat``. Appends are serialized by a lock
/// within the process and by `flock` between processes (the CLI appends `release`
/// and `delete` records while `kordon serve` appends decisions), written with
/// `O_APPEND` and fsync'd before ``append(_:)`` returns; then the head file is
/// replaced. When another process has appended since, the chain is picked up from
/// the log's last line, so the chain never forks.
///
/// Opening checks the log's tail against its head: a log whose last records were
/// removed, whose last record does not verify, or whose head is gone is refused
/// (`audit.broken`) rather than continued, since continuing would bury the damage.
/// An incomplete last line that the head never counted (a crash while writing it)
/// is cut off.
public final class AuditLog: Sendable {
    /// The log file.
    public let file: URL
    private let headURL: URL
    private let format: AuditFormat
    private let fd: Int32
    private let state: Mutex<State>

    /// Where the chain stands: the last record's number and MAC, and the file size
    /// they were read at (`-1` when unknown, forcing a re-read).
    private struct State {
        var seq: Int
        var mac: String
        var size: Int
    }

    /// Opens (creating when missing) the log; the key file is created 0600 when missing.
    public init(file: URL, keyFile: String) throws {
        self.file = file
        headURL = AuditFormat.headURL(file)
        try DurableFile.makeDirectory(file.deletingLastPathComponent().path)
        let format = AuditFormat(hmac: try HMACSHA256(key: try KeyFile.loadOrCreate(at: keyFile)))
        self.format = format
        let fd = open(file.path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DurableFile.failure("cannot open the audit log \(file.path)", errno) }
        self.fd = fd
        let headURL = self.headURL
        do {
            let recovered = try Self.locked(fd) { try Self.recover(fd: fd, format: format, file: file, headURL: headURL) }
            state = Mutex(recovered)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit {
        close(fd)
    }

    /// Appends one record (thread-safe, written and fsync'd before returning).
    public func append(_ entry: AuditEntry) throws {
        try state.withLock { (state: inout State) throws -> Void in
            try Self.locked(fd) {
                if try Self.size(fd) != state.size {
                    state = try Self.recover(fd: fd, format: format, file: file, headURL: headURL)
                }
                let seq = state.seq + 1
                let (bytes, mac) = try format.line(seq: seq, time: Date(), entry: entry, prev: state.mac)
                let base = state.size
                state.size = -1 // unknown until the line is written and flushed
                try DurableFile.writeAll(fd, bytes, what: file.path)
                guard fsync(fd) == 0 else { throw DurableFile.failure("cannot flush the audit log \(file.path)", errno) }
                state = State(seq: seq, mac: mac, size: base + bytes.count)
                // The previous head stays valid for the longer log, so the directory need not be synced.
                try DurableFile.write(try format.head(count: seq, mac: mac), to: headURL, mode: 0o600, syncDirectory: false)
            }
        }
    }

    /// Records in the log (its last record's number).
    public var count: Int {
        state.withLock { $0.seq }
    }

    /// Reads the tail, checks it against the head, cuts an uncounted partial line,
    /// and brings the head up to date. Runs under the file lock.
    private static func recover(fd: Int32, format: AuditFormat, file: URL, headURL: URL) throws -> State {
        let tail = try AuditTail.read(fd)
        var seq = 0
        var mac = AuditFormat.genesis
        if let line = tail.lastLine {
            guard let record = try? format.parse(line[...]) else {
                throw broken(file, "its last record does not verify with this key (changed, or the key file was replaced)")
            }
            seq = record.seq
            mac = record.mac
        }
        var headCount: Int?
        if let data = FileManager.default.contents(atPath: headURL.path) {
            guard let head = try? format.parseHead(data) else {
                throw broken(file, "its head file \(headURL.lastPathComponent) was changed or written with another key")
            }
            guard head.count <= seq else {
                throw broken(file, "it ends at record \(seq) but its head counts \(head.count) records: records were removed")
            }
            guard head.count < seq || head.mac == mac else {
                throw broken(file, "its last record \(seq) is not the one its head recorded")
            }
            headCount = head.count
        } else if tail.size > 0 {
            throw broken(file, "its head file \(headURL.lastPathComponent) is missing, so removed records could go unnoticed")
        }
        if tail.size > tail.completeSize {
            // A line the head never counted: the writer crashed in the middle of it.
            guard ftruncate(fd, off_t(tail.completeSize)) == 0, fsync(fd) == 0 else {
                throw DurableFile.failure("cannot cut the incomplete last line of \(file.path)", errno)
            }
        }
        if headCount != seq {
            try DurableFile.write(try format.head(count: seq, mac: mac), to: headURL, mode: 0o600)
        }
        return State(seq: seq, mac: mac, size: tail.completeSize)
    }

    private static func broken(_ file: URL, _ why: String) -> KordonError {
        KordonError(code: "audit.broken",
                    message: "the audit log \(file.path) cannot be continued: \(why); run kordon audit verify, "
                        + "then move the log and its .head aside as evidence to start a new one")
    }

    private static func size(_ fd: Int32) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DurableFile.failure("cannot stat the audit log", errno) }
        return Int(info.st_size)
    }

    /// Runs `body` holding an exclusive `flock` on the log (other processes wait).
    private static func locked<T>(_ fd: Int32, _ body: () throws -> T) throws -> T {
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw DurableFile.failure("cannot lock the audit log", errno) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

/// The end of a log file: its size, where its last complete line ends, and that line.
struct AuditTail {
    var size: Int
    var completeSize: Int
    var lastLine: [UInt8]?

    /// Reads backwards from the end, doubling the window until the last complete
    /// line is found (lines are short, so usually one read).
    static func read(_ fd: Int32) throws -> AuditTail {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DurableFile.failure("cannot stat the audit log", errno) }
        let size = Int(info.st_size)
        var window = min(size, 8192)
        while window > 0 {
            let start = size - window
            let bytes = try readAt(fd, offset: start, count: window)
            if let last = bytes.lastIndex(of: 0x0A) {
                if let previous = bytes[..<last].lastIndex(of: 0x0A) {
                    return AuditTail(size: size, completeSize: start + last + 1, lastLine: Array(bytes[(previous + 1)..<last]))
                }
                if start == 0 {
                    return AuditTail(size: size, completeSize: last + 1, lastLine: Array(bytes[..<last]))
                }
            } else if start == 0 {
                return AuditTail(size: size, completeSize: 0, lastLine: nil)
            }
            window = min(size, window * 2)
        }
        return AuditTail(size: 0, completeSize: 0, lastLine: nil)
    }

    private static func readAt(_ fd: Int32, offset: Int, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if got < 0 {
                if errno == EINTR { continue }
                throw DurableFile.failure("cannot read the audit log", errno)
            }
            if got == 0 { break }
            done += got
        }
        return Array(buffer.prefix(done))
    }
}
