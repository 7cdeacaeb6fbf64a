import Foundation
import KordonCore

/// One audit record's content.
///
/// Entries carry digests, verdicts, rule ids and routes: never message content and
/// never a restricted value. `detail` is a short note written by Kordon or an
/// operator (a `--force` reason); callers must not put message content in it.
public struct AuditEntry: Sendable, Codable, Equatable {
    /// `decision`, `release`, `release-refused`, `show-raw`, `tampered`, `delete`, `purge`, `reload`, `start`, `stop`.
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

    /// Creates a result.
    public init(records: Int, firstBad: Int? = nil, problem: String? = nil) {
        self.records = records
        self.firstBad = firstBad
        self.problem = problem
    }

    /// Whether the chain holds.
    public var isIntact: Bool { firstBad == nil }

    /// One line for people: `N records, chain intact` or `record K: changed (…)`.
    public var summary: String {
        guard let firstBad else { return "\(records) record\(records == 1 ? "" : "s"), chain intact" }
        return "record \(firstBad): \(problem ?? "broken")"
    }
}
