import Foundation
import Kordon
import KordonCore
import KordonStore

/// One message a transport hands to the ``Decider``: its bytes and what the transport knows of it.
public struct IncomingMessage: Sendable {
    /// The message's bytes (after the transport undid any content coding).
    public var data: Data
    /// Where it came from (a file name, a URL), for reports and the store.
    public var source: String
    /// Its route, when the transport knows it; otherwise read from the message.
    public var route: Report.Route?
    /// `spool`, `icap`, `http`, for metrics.
    public var transport: String
    /// The quarantine id to store it under when held or sanitized (a fresh one when `nil`):
    /// the spool passes its claim id, so a decision redone after a crash finds its original.
    public var id: String?
    /// Findings the transport made before the pipeline (a body whose Content-Encoding
    /// cannot be decoded): with any, the message is held with them whatever the stages
    /// say, and the verdict cache is not consulted.
    public var held: [Finding]

    /// A message to decide.
    public init(data: Data, source: String, route: Report.Route?, transport: String, id: String? = nil, held: [Finding] = []) {
        self.data = data
        self.source = source
        self.route = route
        self.transport = transport
        self.id = id
        self.held = held
    }
}

/// A message larger than ``Limits/maxMessageSize``: never scanned, never passed,
/// always audited. The spool streams its original into the quarantine; ICAP and
/// HTTP did not keep the bytes.
public struct OversizedMessage: Sendable {
    /// Where its bytes are.
    public enum Original: Sendable {
        /// A regular file, streamed into the quarantine store under `id` (the spool).
        case file(path: String, id: String)
        /// Not kept: `disposition` says what the transport does instead, for the audit
        /// record ("blocked", "refused; the sender keeps it").
        case notKept(disposition: String)
    }

    /// Its bytes, or what became of them.
    public var original: Original
    /// Its size, or as many bytes as arrived before the limit (a file's is measured while it is streamed).
    public var size: Int
    /// Where it came from.
    public var source: String
    /// Its route, when the transport knows it.
    public var route: Report.Route?
    /// `spool`, `icap`, `http`, for metrics.
    public var transport: String

    /// An oversized message.
    public init(original: Original, size: Int, source: String, route: Report.Route?, transport: String) {
        self.original = original
        self.size = size
        self.source = source
        self.route = route
        self.transport = transport
    }
}

/// What was decided for one message, once its decision is recorded.
public struct Decision: Sendable {
    /// The pipeline's result: the report and the bytes to pass on (none when held).
    public var result: FilterResult
    /// The quarantine id of the stored original (held and sanitized messages that were kept).
    public var quarantineID: String?

    /// The report.
    public var report: Report { result.report }
}

/// A decision whose audit record is on its way to the log (the spool's batches).
public struct PendingDecision: Sendable {
    /// What was decided (the original is already stored when held or sanitized).
    let decision: Decision
    let receipt: AuditLog.Receipt

    /// Waits until the decision's audit record has gone as far as the message's
    /// answer needs; throws the log's error, and then the message must not be passed on.
    /// Blocks: for threads of the caller's own, never the cooperative pool.
    public func recorded() throws -> Decision {
        try receipt.wait()
        return decision
    }
}

extension AuditEntry {
    /// The audit record of one decision: digests, verdict, rule ids, route — never content.
    static func decision(_ decision: Decision, detail: String? = nil) -> AuditEntry {
        let report = decision.report
        return AuditEntry(event: "decision", source: report.message.source,
                          messageSHA256: report.message.sha256.isEmpty ? nil : report.message.sha256,
                          outputSHA256: report.output?.sha256, verdict: report.verdict.rawValue,
                          rules: Array(Set(report.findings.map(\.rule))).sorted(), route: report.message.route,
                          quarantineID: decision.quarantineID, detail: detail)
    }
}
