// CONTRACT STUB — the public API the service and the CLI are written against.
// The store helper replaces this file with the real implementation, keeping these signatures.
// TEMP (icap branch): minimal working bodies (plain files, no encryption, no HMAC chain) so that
// the ICAP tests can run a FilterService; dropped on merge in favour of the real store.
import Foundation
import KordonCore
import Synchronization

/// One held message in the quarantine index. The original itself is encrypted on
/// disk and never part of a record.
public struct QuarantineRecord: Sendable, Codable {
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
    private let records = Mutex<[String: QuarantineRecord]>([:])
    /// Opens (creating when missing) the store in `directory`; the key file is created 0600 when missing.
    public init(directory: URL, keyFile: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    /// Stores `original` under `id`. Idempotent: an id already stored is left as it is and its record returned.
    @discardableResult
    public func put(id: String, original: Data, report: Report, time: Date = Date()) throws -> QuarantineRecord {
        if let existing = records.withLock({ $0[id] }) { return existing }
        try original.write(to: directory.appendingPathComponent(id), options: .atomic)
        let record = QuarantineRecord(id: id, time: time, source: report.message.source, route: report.message.route,
                                      sha256: report.message.sha256, size: original.count, verdict: report.verdict,
                                      reasons: report.findings.map(\.rule), report: report, released: nil, releaseNote: nil)
        records.withLock { $0[id] = record }
        return record
    }
    /// Records, newest first, optionally since a time and with a reason (rule id or its prefix).
    public func list(since: Date? = nil, reason: String? = nil) throws -> [QuarantineRecord] {
        records.withLock { Array($0.values) }
            .filter { since == nil || $0.time >= since! }
            .filter { reason == nil || $0.reasons.contains(where: { $0.hasPrefix(reason!) }) }
            .sorted { $0.time > $1.time }
    }
    /// One record.
    public func record(id: String) throws -> QuarantineRecord? { records.withLock { $0[id] } }
    /// The decrypted original; throws `quarantine.tampered` when GCM rejects the blob.
    public func original(id: String) throws -> Data { try Data(contentsOf: directory.appendingPathComponent(id)) }
    /// Marks a record released.
    public func markReleased(id: String, note: String?) throws {
        records.withLock { $0[id]?.released = Date(); $0[id]?.releaseNote = note }
    }
    /// Deletes a record and its blob.
    public func delete(id: String) throws {
        _ = records.withLock { $0.removeValue(forKey: id) }
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(id))
    }
    /// Deletes everything stored before `date`; returns the ids deleted.
    public func purge(olderThan date: Date) throws -> [String] {
        let old = try list().filter { $0.time < date }.map(\.id)
        for id in old { try delete(id: id) }
        return old
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
    private let handle: Mutex<FileHandle>
    /// Opens (creating when missing) the log; the key file is created 0600 when missing.
    public init(file: URL, keyFile: String) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: file.path) { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        self.handle = Mutex(handle)
    }
    /// Appends one record (thread-safe, written and fsync'd before returning).
    public func append(_ entry: AuditEntry) throws {
        var line = try JSONEncoder().encode(entry)
        line.append(0x0A)
        try handle.withLock { handle in
            try handle.write(contentsOf: line)
            try handle.synchronize()
        }
    }
    /// Checks the whole chain.
    public static func verify(file: URL, keyFile: String) throws -> AuditVerification {
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        return AuditVerification(records: lines.count, firstBad: nil, problem: nil)
    }
}
