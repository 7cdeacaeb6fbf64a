// TEMP: minimal store for spool tests — drop on merge.
// A plain-file stand-in for the real KordonStore (no encryption, no HMAC chain), so the
// spool's tests can run before the store lands. Records are written temp+fsync+rename,
// so `put` stays idempotent across SIGKILL like the real store must.
import Foundation
import KordonCore
import KordonCrypto
import Synchronization

private func tempWriteAtomically(_ data: Data, to url: URL) throws {
    let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw KordonError(code: "quarantine.write", message: "cannot write \(temp.path)") }
    let ok = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == data.count && fsync(fd) == 0
    close(fd)
    guard ok, rename(temp.path, url.path) == 0 else {
        unlink(temp.path)
        throw KordonError(code: "quarantine.write", message: "cannot write \(url.path)")
    }
    let dir = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dir >= 0 { fsync(dir); close(dir) }
}

/// One held message in the quarantine index. The original itself is encrypted on
/// disk and never part of a record.
public struct QuarantineRecord: Sendable, Codable {
    // TEMP: a memberwise init the stand-in store needs.
    init(id: String, time: Date, source: String, route: Report.Route?, sha256: String, size: Int, verdict: Verdict,
         reasons: [String], report: Report) {
        self.id = id; self.time = time; self.source = source; self.route = route; self.sha256 = sha256
        self.size = size; self.verdict = verdict; self.reasons = reasons; self.report = report
    }

    /// The id (also the blob's name).
    public var id: String
    /// When it was stored.
    public var time: Date
    /// Where it came from (spool file name, `icap`, `http`, a path).
    public var source: String
    /// Its route, when known.
    public var route: Report.Route?
    /// SHA-256 of the original.
    public var sha256: String
    /// Size of the original.
    public var size: Int
    /// `quarantined` or `sanitized` (a sanitized message's original is kept too).
    public var verdict: Verdict
    /// The rule ids that decided it (quarantine-action findings, or the changes for a sanitized one).
    public var reasons: [String]
    /// The full report (masked values only).
    public var report: Report
    /// When it was released, if it was.
    public var released: Date?
    /// Why it was released (`--force` reason, or the rescan's verdict).
    public var releaseNote: String?
}

/// Originals encrypted at rest (AES-256-GCM, one key file) with an SQLite index.
public final class QuarantineStore: Sendable {
    private let directory: URL
    private let lock = Mutex(())
    /// Opens (creating when missing) the store in `directory`; the key file is created 0600 when missing.
    public init(directory: URL, keyFile: String) throws {
        self.directory = directory
        _ = try KeyFile.loadOrCreate(at: keyFile)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("records"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("blobs"), withIntermediateDirectories: true)
    }
    private func recordURL(_ id: String) -> URL { directory.appendingPathComponent("records/\(id).json") }
    private func blobURL(_ id: String) -> URL { directory.appendingPathComponent("blobs/\(id)") }
    /// Stores `original` under `id`. Idempotent: an id already stored is left as it is and its record returned.
    @discardableResult
    public func put(id: String, original: Data, report: Report, time: Date = Date()) throws -> QuarantineRecord {
        try lock.withLock { _ in
            if let existing = try record(id: id) { return existing }
            let record = QuarantineRecord(id: id, time: time, source: report.message.source, route: report.message.route,
                                          sha256: SHA256Digest.hex(original), size: original.count, verdict: report.verdict,
                                          reasons: report.findings.map(\.rule), report: report)
            try tempWriteAtomically(original, to: blobURL(id))
            try tempWriteAtomically(try JSONEncoder().encode(record), to: recordURL(id))
            return record
        }
    }
    /// Records, newest first, optionally since a time and with a reason (rule id or its prefix).
    public func list(since: Date? = nil, reason: String? = nil) throws -> [QuarantineRecord] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("records").path)
        return try names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .map { try JSONDecoder().decode(QuarantineRecord.self, from: Data(contentsOf: directory.appendingPathComponent("records/\($0)"))) }
            .filter { since == nil || $0.time >= since! }
            .filter { reason == nil || $0.reasons.contains { $0.hasPrefix(reason!) } }
            .sorted { $0.time > $1.time }
    }
    /// One record.
    public func record(id: String) throws -> QuarantineRecord? {
        guard let data = FileManager.default.contents(atPath: recordURL(id).path) else { return nil }
        return try JSONDecoder().decode(QuarantineRecord.self, from: data)
    }
    /// The decrypted original; throws `quarantine.tampered` when GCM rejects the blob.
    public func original(id: String) throws -> Data { try Data(contentsOf: blobURL(id)) }
    /// Marks a record released.
    public func markReleased(id: String, note: String?) throws {
        guard var r = try record(id: id) else { return }
        r.released = Date(); r.releaseNote = note
        try tempWriteAtomically(try JSONEncoder().encode(r), to: recordURL(id))
    }
    /// Deletes a record and its blob.
    public func delete(id: String) throws {
        try? FileManager.default.removeItem(at: recordURL(id)); try? FileManager.default.removeItem(at: blobURL(id))
    }
    /// Deletes everything stored before `date`; returns the ids deleted.
    public func purge(olderThan date: Date) throws -> [String] {
        let old = try list().filter { $0.time < date }
        for r in old { try delete(id: r.id) }
        return old.map(\.id)
    }
}

/// One audit record's content.
public struct AuditEntry: Sendable, Codable, Equatable {
    /// `decision`, `release`, `delete`, `purge`, `reload`, `start`, `stop`.
    public var event: String
    /// Where the message came from.
    public var source: String?
    /// SHA-256 of the message as received.
    public var messageSHA256: String?
    /// SHA-256 of what was passed on.
    public var outputSHA256: String?
    /// The verdict.
    public var verdict: String?
    /// Rule ids of the findings.
    public var rules: [String]
    /// The route.
    public var route: Report.Route?
    /// The quarantine id, when stored.
    public var quarantineID: String?
    /// A short note (never a restricted value).
    public var detail: String?
    /// The purpose tag of the agreement's article 2: always `customs`.
    public var purpose: String
    /// Creates an entry.
    public init(event: String, source: String? = nil, messageSHA256: String? = nil, outputSHA256: String? = nil,
                verdict: String? = nil, rules: [String] = [], route: Report.Route? = nil, quarantineID: String? = nil,
                detail: String? = nil, purpose: String = "customs") {
        self.event = event; self.source = source; self.messageSHA256 = messageSHA256; self.outputSHA256 = outputSHA256
        self.verdict = verdict; self.rules = rules; self.route = route; self.quarantineID = quarantineID
        self.detail = detail; self.purpose = purpose
    }
}

/// What `AuditLog.verify` found.
public struct AuditVerification: Sendable, Equatable {
    /// Records checked.
    public var records: Int
    /// The 1-based number of the first record that was changed, removed or reordered; `nil` when the chain holds.
    public var firstBad: Int?
    /// What is wrong with it.
    public var problem: String?
}

/// An append-only log, one JSON record per line, each carrying the HMAC-SHA256 of the previous one.
public final class AuditLog: Sendable {
    private let fd: Mutex<Int32>
    /// Opens (creating when missing) the log; the key file is created 0600 when missing.
    public init(file: URL, keyFile: String) throws {
        _ = try KeyFile.loadOrCreate(at: keyFile)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw KordonError(code: "audit.open", message: "cannot open \(file.path)") }
        self.fd = Mutex(fd)
    }
    /// Appends one record (thread-safe, written and fsync'd before returning).
    public func append(_ entry: AuditEntry) throws {
        var line = try JSONEncoder().encode(entry)
        line.append(0x0A)
        try fd.withLock { fd in
            let ok = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == line.count && fsync(fd) == 0
            if !ok { throw KordonError(code: "audit.write", message: "cannot append to the audit log") }
        }
    }
    /// Checks the whole chain.
    public static func verify(file: URL, keyFile: String) throws -> AuditVerification {
        throw KordonError(code: "audit.verify", message: "the TEMP stand-in store cannot verify")
    }
}
