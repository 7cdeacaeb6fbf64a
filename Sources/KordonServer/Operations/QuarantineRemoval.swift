import Foundation
import KordonCore
import KordonStore

/// Deleting held messages (one by id, or every one stored before a time), each
/// deletion audited before and after it (see ``OperatorAction``).
///
/// For the CLI (`kordon quarantine delete|purge`), and for any host (an HTTP admin
/// endpoint, a second node) that removes held messages. Blocking: call it from a
/// thread, not from an event loop or the cooperative pool.
public struct QuarantineRemoval: Sendable {
    /// The held messages.
    public let store: QuarantineStore
    /// Where each deletion is recorded.
    public let audit: AuditLog
    /// Who asks, as recorded (`uid 1000 (name)`, a token's name).
    public let operatorName: String
    /// Called once each intent is on disk, before its effect: a test's hook for
    /// stopping the process there. Does nothing by default.
    public var afterIntent: @Sendable () -> Void

    /// A removal over `store` recorded in `audit` on behalf of `operatorName`.
    public init(store: QuarantineStore, audit: AuditLog, operatorName: String, afterIntent: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.audit = audit
        self.operatorName = operatorName
        self.afterIntent = afterIntent
    }

    /// Deletes the held message `id` (its record and its encrypted original) and
    /// returns its record. Throws `quarantine.unknown`, before any record is
    /// written, when no message has that id.
    @discardableResult
    public func delete(id: String) throws -> QuarantineRecord {
        guard let record = try store.record(id: id) else {
            throw KordonError(code: .quarantineUnknown, message: "no quarantined message has the id \(id); see kordon quarantine list")
        }
        let action = OperatorAction(event: "delete", entry: OperatorAction.entry(about: record, detail: "by \(operatorName)"))
        try action.perform(audit: audit, afterIntent: afterIntent) { try store.delete(id: id) }
        return record
    }

    /// What a purge did.
    public struct Purge: Sendable {
        /// The ids deleted, oldest first.
        public var purged: [String]
        /// The messages that were to be deleted and were not, with why (one deleted
        /// meanwhile by someone else is not listed: it is gone, as asked).
        public var failures: [Failure]

        /// A message a purge could not delete.
        public struct Failure: Sendable {
            /// Its quarantine id.
            public var id: String
            /// Why.
            public var error: KordonError
        }
    }

    /// Deletes every held message stored before `date`.
    ///
    /// Every intent is recorded first (one flush for all), then the messages are
    /// deleted one by one, each outcome recorded: a message that cannot be deleted
    /// is recorded as `purge-failed` and the purge goes on with the next.
    public func purge(olderThan date: Date) throws -> Purge {
        let actions = try store.list(before: date).sorted { $0.time < $1.time }.map { record in
            (record, OperatorAction(event: "purge", entry: OperatorAction.entry(about: record, detail: "by \(operatorName)")))
        }
        guard !actions.isEmpty else { return Purge(purged: [], failures: []) }
        // One group: the writer takes every waiting record with one write and one flush.
        let receipts = actions.map { audit.submit($0.1.intent) }
        for receipt in receipts { try receipt.wait() }
        afterIntent()
        var result = Purge(purged: [], failures: [])
        var outcomes: [AuditLog.Receipt] = []
        for (record, action) in actions {
            do {
                try store.delete(id: record.id)
                result.purged.append(record.id)
                outcomes.append(audit.submit(action.succeeded))
            } catch {
                let error = error as? KordonError
                    ?? KordonError(code: "quarantine.delete", message: "cannot delete \(record.id): \(error)")
                // Deleted meanwhile by someone else (who recorded it): this purge did not delete it.
                let gone = error.code == .quarantineUnknown
                outcomes.append(audit.submit(action.failed(gone ? KordonError(code: error.code, message: "already deleted") : error)))
                if !gone { result.failures.append(Purge.Failure(id: record.id, error: error)) }
            }
        }
        for receipt in outcomes { try receipt.wait() }
        return result
    }
}
