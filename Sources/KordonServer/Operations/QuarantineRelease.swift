import Foundation
import Kordon
import KordonCore
import KordonCrypto
import KordonStore

/// Releasing a held message: rescan it with the current engines, then deliver
/// what now passes, or (forced, with a reason) the original as received.
///
/// The original is decrypted (a tampered blob is refused and put on record) and
/// filtered again. Clean: delivered byte for byte; sanitized: its sanitized copy;
/// still quarantined: nothing is delivered and the refusal is recorded
/// (`release-refused`), unless forced. Delivery (written under a temporary name,
/// flushed, renamed) and marking the record released are one ``OperatorAction``:
/// `release-intent` is on disk before the first byte is delivered, `release` or
/// `release-failed` after. A message is released once.
///
/// For the CLI (`kordon quarantine release`) and any host that releases held
/// messages. Blocking (decryption, the rescan, flushes): call it from a thread, not
/// from an event loop or the cooperative pool.
public struct QuarantineRelease: Sendable {
    /// Where a released message goes.
    public enum Destination: Sendable, Equatable {
        /// This file (created 0600; replaced if it exists). Its directory must exist.
        case file(URL)
        /// `<spoolRoot>/outbox/<id>` (created 0640; never replaced); `nil`: no spool is configured.
        case outbox(spoolRoot: String?)
    }

    /// What is asked.
    public struct Request: Sendable {
        /// The quarantine id.
        public var id: String
        /// Deliver the original even if the rescan still quarantines it.
        public var force: Bool
        /// Why (required with `force`), recorded in the index and the audit log.
        public var reason: String?
        /// Where to deliver.
        public var destination: Destination

        /// A request.
        public init(id: String, force: Bool = false, reason: String? = nil, destination: Destination) {
            self.id = id; self.force = force; self.reason = reason; self.destination = destination
        }
    }

    /// What a release ended in (errors are thrown as ``KordonError``).
    public enum Result: Sendable {
        /// Delivered and marked released.
        case released(Released)
        /// Still quarantined by the current engines: nothing delivered, refusal recorded.
        case refused(record: QuarantineRecord, report: Report)
    }

    /// A delivered release.
    public struct Released: Sendable {
        /// The record as it was before the release.
        public var record: QuarantineRecord
        /// The rescan's report.
        public var report: Report
        /// The note recorded in the index (how it passed, the reason).
        public var note: String
        /// Where it went.
        public var target: URL
        /// Bytes delivered.
        public var size: Int
        /// SHA-256 of what was delivered.
        public var sha256: String
        /// The action id its audit records share.
        public var action: String
    }

    /// The held messages.
    public let store: QuarantineStore
    /// Where the release is recorded.
    public let audit: AuditLog
    /// Who asks, as recorded.
    public let operatorName: String
    /// Called once the intent is on disk, before the first byte is delivered: a
    /// test's hook for stopping the process there. Does nothing by default.
    public var afterIntent: @Sendable () -> Void

    /// A release from `store`, recorded in `audit` on behalf of `operatorName`.
    public init(store: QuarantineStore, audit: AuditLog, operatorName: String, afterIntent: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.audit = audit
        self.operatorName = operatorName
        self.afterIntent = afterIntent
    }

    /// Releases `request.id`. `pipeline` gives the current engines; it is called
    /// only once the record and the destination are known good (building engines
    /// takes seconds). An original over the pipeline's size limit is not read into
    /// memory: it rescans as oversized, and only `force` delivers it (streamed).
    public func run(_ request: Request, pipeline: () throws -> Pipeline) throws -> Result {
        let id = request.id
        guard let record = try store.record(id: id) else {
            throw KordonError(code: .quarantineUnknown, message: "no quarantined message has the id \(id); see kordon quarantine list")
        }
        if let released = record.released {
            throw KordonError(code: "quarantine.released",
                              message: "\(id) was already released at \(Self.time(released)) (\(record.releaseNote ?? "no note")); nothing delivered")
        }
        let reason = request.reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        if request.force, reason?.isEmpty ?? true {
            throw KordonError(code: "release.reason", message: "a forced release needs a reason saying why the message may pass anyway")
        }
        let target = try Self.resolve(request.destination, id: id)
        let pipeline = try pipeline()
        let oversized = record.size > pipeline.engines.limits.maxMessageSize
        let original = oversized ? nil : try QuarantineOriginal.read(record, store: store, audit: audit)
        let rescan = original.map { pipeline.filter($0, source: record.source, route: record.route) }
            ?? pipeline.oversized(size: record.size, sha256: record.sha256, form: MessageForm(rawValue: record.report.message.format) ?? .opaque,
                                  source: record.source, route: record.route)
        let report = rescan.report
        let rules = QuarantineRecord.reasons(of: report)
        let engineNote = "kordon \(report.engine.kordon), \(report.engine.signatures) signatures"

        let delivered: Data?  // nil: the original, streamed
        let note: String
        if request.force {
            delivered = original
            let why = report.verdict == .quarantined ? " by \(rules.joined(separator: ", "))" : ""
            note = "forced, original delivered (rescan: \(report.verdict.rawValue)\(why); \(engineNote)): \(request.reason ?? "")"
        } else if report.verdict != .quarantined, let output = rescan.output {
            delivered = output
            note = "rescan \(report.verdict.rawValue) (\(engineNote))" + (request.reason.map { ": \($0)" } ?? "")
        } else {
            // Nothing changes, so one record says so; no intent is needed.
            try audit.append(AuditEntry(event: "release-refused", source: record.source, messageSHA256: record.sha256,
                                        verdict: report.verdict.rawValue, rules: rules, route: record.route,
                                        quarantineID: record.id, detail: "rescan still quarantines; by \(operatorName)"))
            return .refused(record: record, report: report)
        }

        let sha256 = try delivered.map { try SHA256Digest.hex($0) } ?? record.sha256
        let action = OperatorAction(event: "release", entry: AuditEntry(
            event: "", source: record.source, messageSHA256: record.sha256, outputSHA256: sha256,
            verdict: report.verdict.rawValue, rules: rules, route: record.route, quarantineID: record.id,
            detail: "\(note); to \(target.path); by \(operatorName)"))
        let replace: Bool
        if case .file = request.destination { replace = true } else { replace = false }
        try action.perform(audit: audit, afterIntent: afterIntent) {
            try deliver(delivered, of: record, to: target, mode: replace ? 0o600 : 0o640, replace: replace)
            do {
                try store.markReleased(id: id, note: note)
            } catch {
                throw KordonError(code: "release.mark",
                                  message: "\(id) was delivered to \(target.path) but could not be marked released: \(OperatorAction.reason(error))")
            }
        }
        return .released(Released(record: record, report: report, note: note, target: target,
                                  size: delivered?.count ?? record.size, sha256: sha256, action: action.id))
    }

    /// Writes `data`, or streams the original when `nil`, to `target` durably.
    private func deliver(_ data: Data?, of record: QuarantineRecord, to target: URL, mode: mode_t, replace: Bool) throws {
        if let data {
            try DurableFile.write(data, to: target, mode: mode, replace: replace)
        } else {
            try DurableFile.write(to: target, mode: mode, replace: replace) { fd in
                _ = try QuarantineOriginal.auditingTampering(of: record, audit: audit) { try store.copyOriginal(id: record.id, to: fd) }
            }
        }
    }

    /// The file a destination names; checked before anything is decrypted.
    static func resolve(_ destination: Destination, id: String) throws -> URL {
        switch destination {
        case .file(let url):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.deletingLastPathComponent().path, isDirectory: &isDirectory),
                  isDirectory.boolValue else {
                throw KordonError(code: "release.output", message: "the directory of \(url.relativePath) does not exist")
            }
            return url
        case .outbox(let root):
            guard let root else {
                throw KordonError(code: "release.outbox",
                                  message: "no spool is configured (serve.spool.root), so there is no outbox; give --output FILE")
            }
            let outbox = root + "/outbox"
            try DurableFile.makeDirectory(outbox, mode: 0o755)
            let url = URL(fileURLWithPath: outbox).appendingPathComponent(id)
            if FileManager.default.fileExists(atPath: url.path) {
                throw KordonError(code: "release.exists", message: "\(url.path) already exists; nothing delivered")
            }
            return url
        }
    }

    /// UTC, seconds: `2025-01-31T12:00:00Z`.
    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
