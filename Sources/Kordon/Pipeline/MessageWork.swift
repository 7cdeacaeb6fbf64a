import Foundation
import KordonCore
import KordonRules
import KordonScanning
import KordonXML

/// What the stages learn about one message on its way through the pipeline:
/// findings, the route, the rule set in force, and text that can only be reported.
struct MessageWork {
    /// Every finding so far, in pipeline order.
    var findings: [Finding] = []
    /// `{namespace}Local` of the (first) XML document.
    var documentType: String?
    /// The route: given by the caller, else read from the first document that names one.
    var route: Report.Route?
    /// Text found where it cannot be changed: decoded attachments, files inside archives.
    var uneditableTexts: [(path: PartPath, text: [UInt8])] = []
    /// Text files libclamav unpacked that are still to be looked into for encoded
    /// payloads (``Pipeline/scanHiddenPayloads(in:at:work:depth:)`` takes them).
    var unpackedTextsToDecode: [(path: PartPath, text: [UInt8], clamType: String?)] = []
    /// The rule set, once chosen.
    private(set) var rules: RuleSet?
    /// Whether the caller fixed the route.
    private let routeGiven: Bool

    /// Starts the work on one message; `route` is the caller's, if any.
    init(route: Report.Route?) {
        self.route = route
        self.routeGiven = route != nil
    }

    /// Chooses the rule set once: from the caller's route, else from the first
    /// document that names one (`document` may be `nil` for non-XML content), else
    /// every pack. Returns `nil`, with an `error` finding, when the set cannot be compiled.
    mutating func chooseRules(_ engines: EngineSet, document: XMLEditableDocument? = nil, documentType: String? = nil) -> RuleSet? {
        if let rules { return rules }
        if !routeGiven, let document,
           let read = RouteReader(sources: engines.routeSources).route(of: document, documentType: documentType) {
            route = read
        }
        let packs = engines.rules.packIDs(from: route?.from, to: route?.to)
        do {
            rules = try engines.rules.ruleSet(for: packs)
        } catch {
            findings.append(Finding(stage: .error, rule: "rules.compile", part: .message,
                                    detail: "the rule packs \(packs.joined(separator: ",")) could not be compiled; the message is held"))
        }
        return rules
    }

    /// Runs the rule set over the text that could only be reported.
    mutating func reportUneditableTexts(_ engines: EngineSet, mode: RedactionMode) {
        guard !uneditableTexts.isEmpty, let rules = chooseRules(engines) else { return }
        let redactor = TextRedactor(rules: rules, mode: mode)
        for text in uneditableTexts {
            findings += redactor.redact(text.text, part: text.path, context: "", place: .uneditable).findings
        }
        uneditableTexts = []
    }

    /// Keeps decoded content for the rule packs when it is text.
    mutating func keepIfText(_ data: Data, at path: PartPath) {
        if TextSniffer.isText(data) { uneditableTexts.append((path, [UInt8](data))) }
    }

    /// Adds a ClamAV scan's findings and keeps the text files it unpacked.
    mutating func add(_ scan: ClamScanResult) {
        findings += scan.findings
        uneditableTexts += scan.unpackedTexts.map { (path: $0.path, text: $0.text) }
        unpackedTextsToDecode += scan.unpackedTexts.map { (path: $0.path, text: $0.text, clamType: $0.clamType) }
    }
}
