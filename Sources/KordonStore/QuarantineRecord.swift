import Foundation
import KordonCore

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

    /// Creates a record.
    public init(id: String, time: Date, source: String, route: Report.Route?, sha256: String, size: Int,
                verdict: Verdict, reasons: [String], report: Report, released: Date? = nil, releaseNote: String? = nil) {
        self.id = id; self.time = time; self.source = source; self.route = route; self.sha256 = sha256
        self.size = size; self.verdict = verdict; self.reasons = reasons; self.report = report
        self.released = released; self.releaseNote = releaseNote
    }

    /// The record for `report`: digests, route and verdict come from the report,
    /// which describes the message as received.
    public init(id: String, report: Report, time: Date) {
        self.init(id: id, time: time, source: report.message.source, route: report.message.route,
                  sha256: report.message.sha256, size: report.message.size, verdict: report.verdict,
                  reasons: Self.reasons(of: report), report: report)
    }

    /// The rule ids that decided a report, each once, in pipeline order: the
    /// quarantine-action findings of a held message, the changes of a sanitized one,
    /// every finding's rule otherwise.
    public static func reasons(of report: Report) -> [String] {
        let deciding: [Finding]
        switch report.verdict {
        case .quarantined: deciding = report.findings.filter { $0.action == .quarantine }
        case .sanitized: deciding = report.findings.filter { [.strip, .mask, .pseudonymize].contains($0.action) }
        case .clean: deciding = report.findings
        }
        var seen = Set<String>()
        return deciding.map(\.rule).filter { seen.insert($0).inserted }
    }

    /// Whether a reason equals `rule` or starts with it (`Win.Test` matches `Win.Test.EICAR_HDB-1`).
    public func hasReason(_ rule: String) -> Bool {
        reasons.contains { $0.hasPrefix(rule) }
    }
}

/// Quarantine ids: they become file names, so only `[A-Za-z0-9._-]{1,128}`, and
/// not `.` or `..`.
public enum QuarantineID {
    /// Longest id accepted.
    public static let maximumLength = 128

    /// Whether `id` may be used.
    public static func isValid(_ id: String) -> Bool {
        guard (1...maximumLength).contains(id.utf8.count), id != ".", id != ".." else { return false }
        return id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }

    /// Throws `quarantine.id` unless `id` is valid.
    public static func validate(_ id: String) throws {
        guard isValid(id) else {
            throw KordonError(code: "quarantine.id",
                              message: "a quarantine id is 1 to \(maximumLength) characters of A-Z a-z 0-9 . _ - (and not . or ..)")
        }
    }
}
