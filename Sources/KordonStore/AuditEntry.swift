import Foundation
import KordonCore

/// One audit record's content.
///
/// Entries carry digests, verdicts, rule ids and routes: never message content and
/// never a restricted value. `detail` is a short note written by Kordon or an
/// operator (a `--force` reason); callers must not put message content in it.
public struct AuditEntry: Sendable, Codable, Equatable {
    /// `decision`, `release`, `release-refused`, `show-raw`, `tampered`, `delete`, `purge`, `reload`, `start`, `stop`;
    /// an operator action's effect is written as `<action>-intent` before it and
    /// `<action>` or `<action>-failed` after it (see ``action``).
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
    /// The id an operator action's intent and its outcome share: an `…-intent`
    /// record with no later record of the same id is an action that may or may not
    /// have happened (the process stopped between the two). `nil` for every other
    /// record, and in logs written before intents existed (decoded as absent).
    public var action: String?

    /// Creates an entry.
    public init(event: String, source: String? = nil, messageSHA256: String? = nil, outputSHA256: String? = nil,
                verdict: String? = nil, rules: [String] = [], route: Report.Route? = nil, quarantineID: String? = nil,
                detail: String? = nil, purpose: String = "customs", action: String? = nil) {
        self.event = event; self.source = source; self.messageSHA256 = messageSHA256; self.outputSHA256 = outputSHA256
        self.verdict = verdict; self.rules = rules; self.route = route; self.quarantineID = quarantineID
        self.detail = detail; self.purpose = purpose; self.action = action
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
    /// Operator actions whose intent was recorded and whose outcome never was, in
    /// log order (listed for a chain that holds; empty otherwise).
    public var danglingIntents: [DanglingIntent]

    /// An `…-intent` record that no outcome of the same action id follows.
    public struct DanglingIntent: Sendable, Equatable {
        /// Its 1-based record number.
        public var record: Int
        /// Its event (`release-intent`, `delete-intent`, `purge-intent`).
        public var event: String
        /// Its time as written in the log (UTC, milliseconds).
        public var time: String
        /// The action id.
        public var action: String
        /// The held message it was about.
        public var quarantineID: String?

        /// Creates one.
        public init(record: Int, event: String, time: String, action: String, quarantineID: String?) {
            self.record = record; self.event = event; self.time = time; self.action = action; self.quarantineID = quarantineID
        }
    }

    /// Creates a result.
    public init(records: Int, firstBad: Int? = nil, problem: String? = nil, danglingIntents: [DanglingIntent] = []) {
        self.records = records
        self.firstBad = firstBad
        self.problem = problem
        self.danglingIntents = danglingIntents
    }

    /// Whether the chain holds. Dangling intents do not break it: each is an
    /// authentic record of an action begun, whose end the log does not know.
    public var isIntact: Bool { firstBad == nil }

    /// One line for people: `N records, chain intact` or `record K: changed (…)`.
    public var summary: String {
        guard let firstBad else { return "\(records) record\(records == 1 ? "" : "s"), chain intact" }
        return "record \(firstBad): \(problem ?? "broken")"
    }

    /// Lines for people about dangling intents (none when there are none): a
    /// `warning:` line with their count, then one line per intent.
    public var warnings: [String] {
        guard !danglingIntents.isEmpty else { return [] }
        let count = danglingIntents.count
        let head = "warning: \(count) operator action\(count == 1 ? " has its intent" : "s have their intent") recorded but no outcome "
            + "(kordon stopped between the two: the action may or may not have happened; check the quarantine store)"
        return [head] + danglingIntents.map {
            "  record \($0.record)  \($0.time)  \($0.event)  \($0.quarantineID ?? "-")  action \($0.action)"
        }
    }
}
