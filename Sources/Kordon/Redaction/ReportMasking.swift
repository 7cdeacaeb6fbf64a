import KordonCore
import KordonRules

/// The last step of every report: each string in it that can hold message content —
/// a finding's `part` and `detail`, the document type — with every personal
/// identifier replaced by its masked form (`8706••••0012`).
///
/// Findings never carry a matched value, but they name where it was and quote what
/// libxml2 said: element names in part paths (`xml:/Root/IIN_870612300012`) and schema
/// messages, namespace URIs in the document type, header names in `header:Name`.
/// The rule set of every pack is used whatever the route: a report goes to logs, the
/// quarantine index and HTTP clients of every route. The same value is masked the same
/// way everywhere in a report, so a masked part path still tells parts apart.
struct ReportMasking {
    /// Every pack's detectors (``RuleLibrary/everyPack``).
    let rules: RuleSet

    /// `report` with its message-derived strings masked.
    func masked(_ report: Report) -> Report {
        var report = report
        var cache: [String: String] = [:]
        func mask(_ string: String) -> String {
            guard Self.mayHoldIdentifier(string) else { return string }
            if let known = cache[string] { return known }
            let result = rules.maskedName(string) ?? string
            cache[string] = result
            return result
        }
        report.message.documentType = report.message.documentType.map(mask)
        for index in report.findings.indices {
            report.findings[index].part = mask(report.findings[index].part)
            report.findings[index].detail = mask(report.findings[index].detail)
        }
        return report
    }

    /// Whether a string holds a digit or a non-ASCII byte. Every detector of the packs
    /// Kordon ships needs a digit; non-ASCII strings are scanned too (letters of other
    /// scripts). Plain ASCII words without a digit — most part paths and details —
    /// then cost a byte loop, not a scan.
    static func mayHoldIdentifier(_ string: String) -> Bool {
        string.utf8.contains { $0 >= 0x80 || ($0 &- 0x30) < 10 }
    }
}

extension Pipeline {
    /// `text` with every personal identifier masked as in reports, for a name a transport
    /// gives a message that came with it: an ICAP request's URL, a spool file's name, an
    /// HTTP client's label. (A CLI user's own file path is left as typed.)
    public func maskingIdentifiers(in text: String) -> String {
        guard ReportMasking.mayHoldIdentifier(text) else { return text }
        return engines.rules.everyPack.maskedName(text) ?? text
    }
}
