import KordonCore

/// The short HTML page an HTTP client receives, inside a `403 Forbidden`, in place of
/// a quarantined message: the verdict, the stages and rule ids that decided it, and
/// the quarantine id an operator looks it up by. It never carries a finding's detail,
/// a masked value or any of the message's content.
enum ICAPBlockPage {
    /// The page for `report`.
    static func html(_ report: Report, quarantineID: String?) -> String {
        var seen = Set<String>()
        var rows: [String] = []
        for finding in report.findings where finding.action == .quarantine {
            let key = finding.stage.rawValue + " " + finding.rule
            guard seen.insert(key).inserted else { continue }
            if rows.count == 20 {
                rows.append("<li>…</li>")
                break
            }
            rows.append("<li><code>\(escape(finding.stage.rawValue))</code> <code>\(escape(finding.rule))</code></li>")
        }
        let reference = quarantineID.map { "<p>Quarantine id: <code>\(escape($0))</code>. Quote it to your gateway operator.</p>" }
            ?? "<p>The object was not stored: it was larger than this gateway accepts.</p>"
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Blocked by Kordon</title></head>
        <body>
        <h1>Blocked by Kordon</h1>
        <p>Verdict: <strong>\(escape(report.verdict.rawValue))</strong>. This content was not delivered.</p>
        <ul>
        \(rows.joined(separator: "\n"))
        </ul>
        \(reference)
        </body></html>

        """
    }

    /// HTML text escaping.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
