import Foundation
import KordonCore
import KordonCrypto

/// An append-only log, one JSON record per line, each carrying the HMAC-SHA256 of the previous one.
///
/// The format is described in ``AuditFormat``. Appends go to one writer thread
/// that commits in groups: every record waiting when it wakes is written with one
/// `write` (`O_APPEND`), one `fsync`, and one slot of the head file overwritten in
/// place and `fdatasync`'d (see ``AuditHead``), and only then are their callers released. A durable record costs about two fsyncs, so
/// without grouping the log would cap the service at a few hundred decisions a
/// second; with it, throughput grows with the number of callers waiting.
///
/// Between processes (the CLI appends `release` and `delete` records while
/// `kordon serve` appends decisions) each group is written under `flock`, and when
/// another process has appended since, the chain is picked up from the log's last
/// line, so the chain never forks.
///
/// Opening checks the log's tail against its head: a log whose last records were
/// removed, whose last record does not verify, or whose head is gone is refused
/// (`audit.broken`) rather than continued, since continuing would bury the damage.
/// An incomplete last line that the head never counted (a crash while writing it)
/// is cut off.
public final class AuditLog: Sendable {
    /// The log file.
    public let file: URL
    private let writer: AuditWriter

    /// Opens (creating when missing) the log; the key file is created 0600 when missing.
    public init(file: URL, keyFile: String) throws {
        self.file = file
        try DurableFile.makeDirectory(file.deletingLastPathComponent().path)
        let format = AuditFormat(hmac: try HMACSHA256(key: try KeyFile.loadOrCreate(at: keyFile)))
        writer = try AuditWriter(file: file, format: format)
        let thread = Thread { [writer] in writer.run() }
        thread.name = "kordon-audit"
        thread.start()
    }

    deinit {
        // The writer thread finishes what is queued, then exits and closes the file.
        writer.stop()
    }

    /// Appends one record (thread-safe, written and fsync'd before returning).
    ///
    /// Blocks the calling thread until the record's group is on disk; from async
    /// code prefer ``commit(_:)``, which suspends instead.
    public func append(_ entry: AuditEntry) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = AuditOutcome()
        writer.submit(entry) { error in
            outcome.error = error
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    /// Appends one record, suspending (not blocking a thread) until it is written
    /// and fsync'd. Many callers waiting at once are committed as one group.
    public func commit(_ entry: AuditEntry) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            writer.submit(entry) { error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }
    }

    /// Records in the log, as far as this process knows (its last record's number).
    public var count: Int { writer.count }
}

/// Carries an append's error from the writer thread to the waiting caller; the
/// semaphore orders the write before the read.
private final class AuditOutcome: @unchecked Sendable {
    var error: Error?
}

/// The writer thread's side: the queue of waiting records and the open log.
///
/// `@unchecked Sendable`: every mutable field is guarded by `condition`, except
/// `group`, `chain`, `head`, `buffer` and `scratch`, which only the writer thread touches after `init`.
private final class AuditWriter: @unchecked Sendable {
    private struct Pending {
        var entry: AuditEntry
        var done: @Sendable (Error?) -> Void
    }

    /// Where the chain stands: the last record's number and MAC, and the file size
    /// they were read at (`-1` when unknown, forcing a re-read).
    private struct Chain {
        var seq: Int
        var mac: String
        var size: Int
    }

    private let file: URL
    private let format: AuditFormat
    private let fd: Int32
    private let condition = NSCondition()
    private var queue: [Pending] = []
    /// The group being written; swapped with `queue` so both keep their storage.
    private var group: [Pending] = []
    private var stopped = false
    private var chain: Chain
    private var committed = 0
    private var head: AuditHeadFile
    /// A group's bytes and one record's MAC'd bytes, kept between groups to reuse their storage.
    private var buffer: [UInt8] = []
    private var scratch: [UInt8] = []

    init(file: URL, format: AuditFormat) throws {
        self.file = file
        self.format = format
        head = AuditHeadFile(url: AuditFormat.headURL(file))
        fd = open(file.path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DurableFile.failure("cannot open the audit log \(file.path)", errno) }
        do {
            chain = Chain(seq: 0, mac: AuditFormat.genesis, size: -1)
            try locked { chain = try recover() }
            committed = chain.seq
        } catch {
            head.close()
            close(fd)
            throw error
        }
    }

    deinit {
        head.close()
        close(fd)
    }

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return committed
    }

    func submit(_ entry: AuditEntry, done: @escaping @Sendable (Error?) -> Void) {
        condition.lock()
        guard !stopped else {
            condition.unlock()
            done(KordonError(code: "audit.closed", message: "the audit log \(file.path) is closed"))
            return
        }
        queue.append(Pending(entry: entry, done: done))
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// The writer thread: takes every waiting record, commits them as one group.
    func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            swap(&group, &queue)
            condition.unlock()
            var failure: Error?
            do {
                try locked { try write(group) }
            } catch {
                failure = error
            }
            condition.lock()
            committed = chain.seq
            condition.unlock()
            for pending in group { pending.done(failure) }
            group.removeAll(keepingCapacity: true)
        }
    }

    /// Writes the group's entries as consecutive records with one write and one fsync, then the head.
    private func write(_ group: [Pending]) throws {
        if try size() != chain.size { chain = try recover() }
        if buffer.capacity > 1 << 20 { buffer = [] } // after a burst, let the memory go
        buffer.removeAll(keepingCapacity: true)
        let time = AuditFormat.timestamp(Date())
        var seq = chain.seq
        var mac = Array(chain.mac.utf8)
        for pending in group {
            seq += 1
            mac = try format.appendLine(seq: seq, time: time, entry: pending.entry, prev: mac, to: &buffer, scratch: &scratch)
        }
        let size = chain.size + buffer.count
        chain.size = -1 // unknown until the group is written and flushed
        try writeAll(buffer)
        guard fsync(fd) == 0 else { throw DurableFile.failure("cannot flush the audit log \(file.path)", errno) }
        chain = Chain(seq: seq, mac: String(decoding: mac, as: UTF8.self), size: -1)
        // Only after the log is durable: a durable head never counts records the log may lose.
        try head.update(count: seq, mac: chain.mac, format: format)
        // Known again only now: after a failed head update the next group recovers (re-reads the head).
        chain.size = size
    }

    /// Writes every byte of `bytes` to the log (`O_APPEND`), retrying short writes and interruptions.
    private func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw DurableFile.failure("cannot write the audit log \(file.path)", errno)
                }
                offset += written
            }
        }
    }

    /// Reads the tail, checks it against the head, cuts an uncounted partial line,
    /// and brings the head up to date. Runs under the file lock.
    private func recover() throws -> Chain {
        let tail = try AuditTail.read(fd)
        var seq = 0
        var mac = AuditFormat.genesis
        if let line = tail.lastLine {
            guard let record = try? format.parse(line[...]) else {
                throw broken("its last record does not verify with this key (changed, or the key file was replaced)")
            }
            seq = record.seq
            mac = record.mac
        }
        var upToDate = false
        switch try head.read(format: format) {
        case .missing:
            guard tail.size == 0 else {
                throw broken("its head file \(head.url.lastPathComponent) is missing, so removed records could go unnoticed")
            }
        case .invalid:
            throw broken("its head file \(head.url.lastPathComponent) is damaged, was changed or was written with another key")
        case .valid(let found):
            let latest = found.latest
            guard latest.count <= seq else {
                throw broken("it ends at record \(seq) but its head counts \(latest.count) records: records were removed")
            }
            guard latest.count < seq || latest.mac == mac else {
                throw broken("its last record \(seq) is not the one its head recorded")
            }
            // A head of the one-line layout is rewritten in the two-slot one.
            upToDate = latest.count == seq && found.isSlotted
        }
        if tail.size > tail.completeSize {
            // A line the head never counted: the writer crashed in the middle of it.
            guard ftruncate(fd, off_t(tail.completeSize)) == 0, fsync(fd) == 0 else {
                throw DurableFile.failure("cannot cut the incomplete last line of \(file.path)", errno)
            }
        }
        if !upToDate { try head.update(count: seq, mac: mac, format: format) }
        return Chain(seq: seq, mac: mac, size: tail.completeSize)
    }

    private func broken(_ why: String) -> KordonError {
        KordonError(code: "audit.broken",
                    message: "the audit log \(file.path) cannot be continued: \(why); run kordon audit verify, "
                        + "then move the log and its .head aside as evidence to start a new one")
    }

    private func size() throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DurableFile.failure("cannot stat the audit log \(file.path)", errno) }
        return Int(info.st_size)
    }

    /// Runs `body` holding an exclusive `flock` on the log (other processes wait).
    private func locked<T>(_ body: () throws -> T) throws -> T {
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw DurableFile.failure("cannot lock the audit log \(file.path)", errno) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

/// The end of a log file: its size, where its last complete line ends, and that line.
private struct AuditTail {
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
