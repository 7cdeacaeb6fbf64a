import Foundation
import KordonCore

/// The human-readable forms of reports: one line per message and a total.
public enum TextReport {
    /// `quarantined  fixtures/x.xml  virus Kordon.Test.EICAR at xml:/Doc/Content`:
    /// the verdict, the source, and the first findings.
    public static func line(for report: Report) -> String {
        let verdict = report.verdict.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
        var line = "\(verdict) \(report.message.source)"
        let shown = report.findings.prefix(3).map { "\($0.stage.rawValue) \($0.rule) at \($0.part)" }
        if !shown.isEmpty { line += "  " + shown.joined(separator: "; ") }
        if report.findings.count > 3 { line += "; +\(report.findings.count - 3) more" }
        return line
    }

    /// `12 messages: 9 clean, 0 sanitized, 3 quarantined in 0.4 s (30.0 messages/s, 2.1 MB/s)`.
    public static func summary(_ totals: BatchScanner.Totals, seconds: Double) -> String {
        let rate = seconds > 0 ? Double(totals.done) / seconds : 0
        let megabytes = seconds > 0 ? Double(totals.bytes) / 1_000_000 / seconds : 0
        return "\(totals.done) messages: \(totals.clean) clean, \(totals.sanitized) sanitized, \(totals.quarantined) quarantined"
            + String(format: " in %.1f s (%.1f messages/s, %.1f MB/s)", seconds, rate, megabytes)
    }
}
