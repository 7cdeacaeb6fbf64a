import Foundation
import KordonCore
import KordonStore

/// One operator action on a held message (a release, a deletion, one message of a
/// purge), audited before its effect and after it.
///
/// The intent (`<event>-intent`) is flushed to disk before anything changes; then
/// the effect runs; then its outcome is recorded: `<event>` when it succeeded,
/// `<event>-failed` with the reason when it did not. Both records carry the same
/// ``id`` (``AuditEntry/action``), so a process that dies between the two leaves
/// an intent that `kordon audit verify` lists as having no outcome, instead of an
/// effect with no record at all.
///
/// Blocking: every record waits for the disk (``AuditLog/append(_:until:)``). The
/// operations run on the thread of a command or of a thread pool, never on an
/// event loop or the cooperative pool.
public struct OperatorAction: Sendable {
    /// What is done: `release`, `delete` or `purge`.
    public let event: String
    /// The id shared by the intent and its outcome.
    public let id: String
    /// The fields the intent and the outcome share (digest, route, quarantine id, who).
    public let entry: AuditEntry

    /// An action about `entry`'s message, with a fresh id.
    public init(event: String, entry: AuditEntry) {
        self.event = event
        self.id = UUID().uuidString.lowercased()
        var entry = entry
        entry.action = id
        self.entry = entry
    }

    /// The intent record.
    public var intent: AuditEntry {
        var intent = entry
        intent.event = event + "-intent"
        return intent
    }

    /// The record of success.
    public var succeeded: AuditEntry {
        var outcome = entry
        outcome.event = event
        return outcome
    }

    /// The record of failure, saying why (a Kordon error's message and code, never message content).
    public func failed(_ error: any Error) -> AuditEntry {
        var outcome = entry
        outcome.event = event + "-failed"
        outcome.detail = "\(Self.reason(error)); \(entry.detail ?? "")"
        return outcome
    }

    /// Records the intent, calls `afterIntent` (a test's hook for dying at this point),
    /// runs `effect`, and records its outcome (``succeeded`` as `outcome` amends it
    /// with what the effect returned); an effect that throws is recorded as failed
    /// and its error goes on. An outcome that cannot be recorded throws, and
    /// leaves the intent without an outcome, which is what it then is.
    public func perform<T>(audit: AuditLog, afterIntent: () -> Void = {}, _ effect: () throws -> T,
                           outcome: (T, inout AuditEntry) throws -> Void = { _, _ in }) throws -> T {
        try audit.append(intent)
        afterIntent()
        let value: T
        do {
            value = try effect()
        } catch {
            try? audit.append(failed(error))
            throw error
        }
        var record = succeeded
        try outcome(value, &record)
        try audit.append(record)
        return value
    }

    /// `message (code)` for a Kordon error, the error itself otherwise.
    static func reason(_ error: any Error) -> String {
        (error as? KordonError)?.description ?? String(describing: error)
    }

    /// The entry every record about `record` starts from.
    public static func entry(about record: QuarantineRecord, detail: String?) -> AuditEntry {
        AuditEntry(event: "", source: record.source, messageSHA256: record.sha256, verdict: record.verdict.rawValue,
                   rules: record.reasons, route: record.route, quarantineID: record.id, detail: detail)
    }
}

/// Reading a held message's original, with tampering put on record.
public enum QuarantineOriginal {
    /// Runs `body`, which reads `record`'s original; a tampered or missing blob is
    /// recorded in the audit log (`tampered`) before its error goes on.
    @discardableResult
    public static func auditingTampering<T>(of record: QuarantineRecord, audit: AuditLog, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as KordonError where error.code == .quarantineTampered || error.code == .quarantineMissing {
            var entry = OperatorAction.entry(about: record, detail: error.code.rawValue)
            entry.event = "tampered"
            try? audit.append(entry)
            throw error
        }
    }

    /// The decrypted original, tampering recorded.
    public static func read(_ record: QuarantineRecord, store: QuarantineStore, audit: AuditLog) throws -> Data {
        try auditingTampering(of: record, audit: audit) { try store.original(id: record.id) }
    }
}
