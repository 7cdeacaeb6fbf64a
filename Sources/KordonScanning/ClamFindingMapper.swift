import KordonCore

/// Turns what libclamav reported for one part into findings.
///
/// Pure Swift, no libclamav calls, so that the fail-closed rules can be read
/// and tested on their own.
enum ClamFindingMapper {
    /// The alert-name prefixes with which libclamav says it could not look
    /// inside something (libclamav 1.4): a scan limit was reached, content
    /// is encrypted, or a compressed stream needs more memory than allowed.
    /// Such a part is `unchecked`, not infected, and still quarantined.
    static let uncheckedPrefixes: [(prefix: String, reason: String)] = [
        ("Heuristics.Limits.Exceeded.", "scan limit reached"),
        ("Heuristics.Encrypted.", "encrypted content"),
        ("Heuristics.XZ.DicSizeLimit", "XZ dictionary larger than ClamAV will decompress"),
        // Raised by Kordon itself (see ClamMatchCollector): an unpacked file that
        // libclamav may have cut at MaxFileSize without saying so.
        (ClamMatchCollector.truncatedRule, "an unpacked file reached MaxFileSize and may have been cut short"),
        // Raised by Kordon when collecting unpacked text (see UnpackedTextCollector):
        // text the restricted-data stage did not get to read.
        (UnpackedTextCollector.limitRule, "more unpacked text than Kordon reads from one part"),
        (UnpackedTextCollector.unreadableRule, "libclamav gave an unpacked text file without its content"),
        // Raised by Kordon's own look at a container libclamav may not have fully opened
        // (see ZipAudit): a method it skips, headers that disagree, concatenated archives.
        ("Kordon.Archive.", "an archive ClamAV cannot fully open"),
        (UndecodedStream.limitRule, "more compressed streams than Kordon decodes from one part"),
    ]

    /// The findings for one scan: one per reported name, in libclamav's
    /// order, plus one for a return code that is neither clean nor virus.
    ///
    /// - Parameters:
    ///   - names: the names the virus-found callback reported, deduplicated.
    ///   - status: what the scan call returned.
    ///   - part: where the scanned bytes sit in the message.
    static func findings(names: [String], status: ClamStatus, part: PartPath) -> [Finding] {
        var findings = names.map { finding(forName: $0, part: part) }
        switch status.shortName {
        case "clean", "virus":
            break
        default:
            findings.append(Finding(
                stage: .unchecked, rule: "clamav.\(status.shortName)", part: part, action: .quarantine,
                detail: "ClamAV could not finish scanning this part: \(status.message)"))
        }
        return findings
    }

    /// One alert name as a finding: `unchecked` for "could not look inside"
    /// heuristics, `virus` for everything else (the name kept exactly as
    /// libclamav gives it, `.UNOFFICIAL` suffix included).
    static func finding(forName name: String, part: PartPath) -> Finding {
        if name == UnpackedTextCollector.limitRule || name == UnpackedTextCollector.unreadableRule {
            // libclamav scanned the part; it is the restricted-data stage that could not read it all.
            let reason = uncheckedPrefixes.first { $0.prefix == name }?.reason ?? "unpacked text not read"
            return Finding(stage: .unchecked, rule: name, part: part, action: .quarantine,
                           detail: "Kordon could not look at all the text unpacked from this part (\(reason))")
        }
        if let match = uncheckedPrefixes.first(where: { name.hasPrefix($0.prefix) }) {
            let what = String(name.dropFirst(match.prefix.count))
            let reason = what.isEmpty || what.hasPrefix(".") ? match.reason : "\(match.reason): \(what)"
            return Finding(
                stage: .unchecked, rule: name, part: part, action: .quarantine,
                detail: "ClamAV could not fully scan this part (\(reason))")
        }
        return Finding(
            stage: .virus, rule: name, part: part, action: .quarantine,
            detail: "ClamAV signature matched")
    }
}
