import Foundation
import KordonCore
import KordonCrypto

/// An append-only log, one JSON record per line, each carrying the HMAC-SHA256 of the previous one.
///
/// The format is described in ``AuditFormat``. Appends go to a writer thread that
/// commits in groups: every record waiting when it wakes is written with one
/// `write` (`O_APPEND`). A flusher thread then makes what was written durable: one
/// `fsync` of the log, then one slot of the head file overwritten in place (see
/// ``AuditHead``), and releases the callers that asked to wait for the disk. The
/// two threads overlap, so records keep being written while earlier ones are
/// flushed, and a caller that only needs its record written (``Durability/written``)
/// never waits for a flush. Without grouping a durable record costs two flushes,
/// which would cap the service at a few hundred decisions a second; with it,
/// throughput grows with the number of callers waiting.
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
    /// How far a record must have gone before its caller goes on.
    public enum Durability: Sendable {
        /// Written to the log file: a crash of the process cannot lose it; a power
        /// cut before the next flush (milliseconds later) can.
        case written
        /// Written and flushed to disk, the head file updated.
        case flushed
    }

    /// The log file.
    public let file: URL
    private let writer: AuditWriter

    /// Opens (creating when missing) the log; the key file is created 0600 when missing.
    public init(file: URL, keyFile: String) throws {
        self.file = file
        try DurableFile.makeDirectory(file.deletingLastPathComponent().path)
        let format = AuditFormat(hmac: try HMACSHA256(key: try KeyFile.loadOrCreate(at: keyFile)))
        writer = try AuditWriter(file: file, format: format)
        let writing = Thread { [writer] in
            KernelThreadName.set("kordon-audit")
            writer.runWriter()
        }
        writing.name = "kordon-audit"
        writing.start()
        let flushing = Thread { [writer] in
            KernelThreadName.set("kordon-audit-fl")
            writer.runFlusher()
        }
        flushing.name = "kordon-audit-flush"
        flushing.start()
    }

    deinit {
        // The threads finish what is queued (written, then flushed), then exit and close the file.
        writer.stop()
    }

    /// Appends one record (thread-safe), returning once it has gone as far as
    /// `durability` says (by default, flushed to disk).
    ///
    /// Blocks the calling thread; from async code prefer ``commit(_:until:)``, which suspends instead.
    public func append(_ entry: AuditEntry, until durability: Durability = .flushed) throws {
        try submit(entry, until: durability).wait()
    }

    /// Hands one record to the writer and returns at once; the receipt's
    /// ``Receipt/wait()`` returns once the record has gone as far as `durability`
    /// says. A caller with many records submits them all, then waits on the last
    /// receipts: the writer takes them as one group, and the caller blocks once.
    public func submit(_ entry: AuditEntry, until durability: Durability = .flushed) -> Receipt {
        let receipt = Receipt()
        writer.submit(entry, until: durability) { error in receipt.settle(error) }
        return receipt
    }

    /// Appends one record, suspending (not blocking a thread) until it has gone as
    /// far as `durability` says. Many callers waiting at once are committed as one group.
    public func commit(_ entry: AuditEntry, until durability: Durability = .flushed) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            writer.submit(entry, until: durability) { error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }
    }

    /// Records in the log, as far as this process knows (its last record's number).
    public var count: Int { writer.count }
}

extension AuditLog {
    /// A record handed to the writer: ``wait()`` blocks until it has gone as far as
    /// asked, and throws the writer's error if it could not.
    public final class Receipt: @unchecked Sendable {
        // `@unchecked`: `error` is written once, before the semaphore's signal, and read after its wait.
        private let done = DispatchSemaphore(value: 0)
        private var error: Error?

        fileprivate init() {}

        fileprivate func settle(_ error: Error?) {
            self.error = error
            done.signal()
        }

        /// Blocks until the record has gone as far as asked; throws the writer's error.
        /// May be called again, from any thread.
        public func wait() throws {
            BlockingCallCheck.check("AuditLog.Receipt.wait")
            done.wait()
            done.signal()  // for the next wait
            if let error { throw error }
        }
    }
}

/// The writing and flushing threads' side: the queues of waiting records and callers, and the open log.
///
/// `@unchecked Sendable`: `queue`, `stopped` and `committed` are guarded by
/// `condition`; `unflushed`, `writerDone` and `flushFailed` by `flushCondition` (two
/// conditions, so that a submission wakes only the writer and a written group only the flusher); `chain`, `buffer` and `scratch` are the
/// writer thread's alone; `head` and every section under the log's `flock` are
/// guarded by `fileLock` (an `flock` belongs to the open file, so it cannot keep the
/// process's own two threads apart).
private final class AuditWriter: @unchecked Sendable {
    private struct Pending {
        var entry: AuditEntry
        var durability: AuditLog.Durability
        var done: @Sendable (Error?) -> Void
    }

    /// Written records waiting to be flushed: the last one's number and MAC, and the callers waiting for the disk.
    private struct Unflushed {
        var seq: Int
        var mac: String
        var waiting: [@Sendable (Error?) -> Void]
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
    private let flushCondition = NSCondition()
    private let fileLock = NSLock()
    private var queue: [Pending] = []
    /// The group being written; swapped with `queue` so both keep their storage.
    private var group: [Pending] = []
    private var unflushed: Unflushed?
    private var stopped = false
    private var writerDone = false
    /// Set by the flusher when a flush failed: the writer re-reads the log before its next group.
    private var flushFailed = false
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
        chain = Chain(seq: 0, mac: AuditFormat.genesis, size: -1)
        // Should recovery throw, every stored property is set, so deinit runs and closes both files.
        try locked { chain = try recover() }
        committed = chain.seq
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

    func submit(_ entry: AuditEntry, until durability: AuditLog.Durability, done: @escaping @Sendable (Error?) -> Void) {
        condition.lock()
        guard !stopped else {
            condition.unlock()
            done(KordonError(code: "audit.closed", message: "the audit log \(file.path) is closed"))
            return
        }
        queue.append(Pending(entry: entry, durability: durability, done: done))
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// The writer thread: takes every waiting record, writes them as one group,
    /// releases the callers that wait only for the write, and hands the rest to the flusher.
    func runWriter() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                flushCondition.lock()
                writerDone = true
                flushCondition.signal()
                flushCondition.unlock()
                return
            }
            swap(&group, &queue)
            condition.unlock()
            flushCondition.lock()
            if flushFailed {
                chain.size = -1
                flushFailed = false
            }
            flushCondition.unlock()
            var failure: Error?
            do {
                try locked { try write(group) }
            } catch {
                failure = error
            }
            let waiting = failure == nil ? group.filter { $0.durability == .flushed }.map(\.done) : []
            condition.lock()
            committed = chain.seq
            condition.unlock()
            if failure == nil {
                // Even a group nobody waits for is flushed: the head must catch up with the log.
                flushCondition.lock()
                unflushed = Unflushed(seq: chain.seq, mac: chain.mac, waiting: (unflushed?.waiting ?? []) + waiting)
                flushCondition.signal()
                flushCondition.unlock()
            }
            for pending in group where failure != nil || pending.durability == .written { pending.done(failure) }
            group.removeAll(keepingCapacity: true)
        }
    }

    /// The flusher thread: makes everything written so far durable (log, then head),
    /// then releases the callers waiting for the disk.
    func runFlusher() {
        while true {
            flushCondition.lock()
            while unflushed == nil && !writerDone { flushCondition.wait() }
            guard let batch = unflushed else {
                flushCondition.unlock()
                return
            }
            unflushed = nil
            flushCondition.unlock()
            var failure: Error?
            do {
                try flush(upTo: batch.seq, mac: batch.mac)
            } catch {
                failure = error
                flushCondition.lock()
                flushFailed = true
                flushCondition.unlock()
            }
            for done in batch.waiting { done(failure) }
        }
    }

    /// Writes the group's entries as consecutive records with one write; the flusher makes them durable.
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
        chain.size = -1 // unknown until the group is written whole
        try writeAll(buffer)
        chain = Chain(seq: seq, mac: String(decoding: mac, as: UTF8.self), size: size)
    }

    /// Flushes the log, then records `seq` and `mac` in the head: only after the log
    /// is durable, so a durable head never counts records the log may lose.
    private func flush(upTo seq: Int, mac: String) throws {
        guard fsync(fd) == 0 else { throw DurableFile.failure("cannot flush the audit log \(file.path)", errno) }
        // The slot is written under the locks (the writer may be re-reading the head); it is flushed after them,
        // so that the writer is never held up by the head's flush.
        let headCopy = try locked { () -> Int32 in
            try head.write(count: seq, mac: mac, format: format)
            return dup(head.descriptor)
        }
        guard headCopy >= 0 else { throw DurableFile.failure("cannot flush the audit head \(head.url.path)", errno) }
        defer { close(headCopy) }
        // The file's size never changes, so fdatasync need not flush its times.
        guard fdatasync(headCopy) == 0 else { throw DurableFile.failure("cannot flush the audit head \(head.url.path)", errno) }
    }

    /// Writes every byte of `bytes` to the log (`O_APPEND`), retrying short writes and interruptions.
    private func writeAll(_ bytes: [UInt8]) throws {
        do {
            try bytes.withUnsafeBytes { raw in try FileDescriptorIO.writeAll(fd, raw) }
        } catch let error as FileDescriptorIO.Failure {
            throw DurableFile.failure("cannot write the audit log \(file.path)", error.code)
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

    /// Runs `body` holding `fileLock` (the other thread waits) and an exclusive
    /// `flock` on the log (other processes wait).
    private func locked<T>(_ body: () throws -> T) throws -> T {
        fileLock.lock()
        defer { fileLock.unlock() }
        do {
            _ = try FileDescriptorIO.retryingInterrupts { flock(fd, LOCK_EX) }
        } catch let error as FileDescriptorIO.Failure {
            throw DurableFile.failure("cannot lock the audit log \(file.path)", error.code)
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}
