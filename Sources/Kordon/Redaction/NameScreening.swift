import KordonCore
import KordonMIME
import KordonRules
import KordonXML

/// The restricted-data stage over names: element and attribute names, namespace
/// prefixes and URIs, processing-instruction targets, MIME header names and the file
/// names of MIME parts.
///
/// The stage edits text; a name is markup, and renaming an element or a namespace
/// would change what the document means (and break its schema), so a personal
/// identifier in a name (`<IIN_870612300012>`, `xmlns:p="urn:person:870612300012"`)
/// gets the pack's policy for uneditable places — for personal data, quarantine —
/// and a marking in a name holds the message as it does anywhere.
struct NameScreening {
    /// The rule set in force for the message.
    let rules: RuleSet
    /// Enforce or audit.
    let mode: RedactionMode

    /// The findings for the names of `document`, the XML part at `path`, each
    /// distinct name scanned once (see ``RuleSet/scanName(_:)``).
    func findings(in document: XMLEditableDocument, at path: PartPath) -> [Finding] {
        let redactor = TextRedactor(rules: rules, mode: mode)
        var findings: [Finding] = []
        document.forEachName { site in
            let matches = rules.scanName(site.name)
            guard !matches.isEmpty else { return }
            let part = site.path.isEmpty ? path : path.xml(site.path)
            findings += redactor.findings(inName: matches, part: part, what: Self.describe(site.kind))
        }
        return findings
    }

    /// The findings for the names of the header fields at `sites` (each distinct name
    /// at each part once); bodies have no name.
    func findings(inHeaderNamesOf sites: [MIMETextSite]) -> [Finding] {
        let redactor = TextRedactor(rules: rules, mode: mode)
        var seen: Set<String> = []
        var findings: [Finding] = []
        for site in sites {
            guard case .header(let name) = site.kind, seen.insert("\(site.part)\u{0}\(name)").inserted else { continue }
            let matches = rules.scanName(Array(name.utf8))
            guard !matches.isEmpty else { continue }
            findings += redactor.findings(inName: matches, part: site.part.appending("header:\(name)"), what: "a header name")
        }
        return findings
    }

    /// The findings for the file names MIME parts carry (`filename=`, `name=`): parameters
    /// of structured fields, which the stage does not rewrite, so an identifier in one is
    /// treated as in any other place that cannot be edited.
    func findings(inFilenamesOf parts: [ExtractedPart]) -> [Finding] {
        let redactor = TextRedactor(rules: rules, mode: mode)
        return parts.flatMap { part -> [Finding] in
            guard let filename = part.filename, !filename.isEmpty else { return [] }
            let matches = rules.scanName(Array(filename.utf8))
            return matches.isEmpty ? [] : redactor.findings(inName: matches, part: part.path, what: "a file name")
        }
    }

    private static func describe(_ kind: XMLNameSite.Kind) -> String {
        switch kind {
        case .element: "an element name"
        case .attribute: "an attribute name"
        case .namespacePrefix: "a namespace prefix"
        case .namespaceURI: "a namespace URI"
        case .processingInstruction: "a processing-instruction target"
        }
    }
}
