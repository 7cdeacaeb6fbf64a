import Foundation
import KordonCore
import KordonXML

/// What the XML stages made of one document.
struct XMLOutcome {
    /// The sanitized document, when the packs changed it and it still validates.
    var sanitized: Data?
    /// Content-IDs of MIME parts that `xop:Include` elements resolved to.
    var usedAttachments: Set<String> = []
}

extension Pipeline {
    /// The XML stage (safety, schema, payloads), ClamAV on the document and every
    /// decoded payload, then the rule packs; a changed document is serialized and
    /// must validate again, or the message is held.
    func filterXML(_ data: Data, at path: PartPath, attachments: [String: Data], work: inout MessageWork) -> XMLOutcome {
        let inspector = XMLInspector(schemas: engines.schemas, limits: engines.limits, formats: engines.xmlFormats)
        var inspection: XMLInspection
        let parsed: XMLEditableDocument?
        (inspection, parsed) = inspector.inspectForEditing(data, at: path, attachments: attachments)
        var outcome = XMLOutcome(usedAttachments: inspection.usedAttachments)
        work.findings += inspection.findings
        work.findings += engines.clamav.scan(inspection.scanView, part: path, filename: nil)
        for payload in inspection.payloads {
            work.add(engines.clamav.scanCollectingText(payload.data, part: payload.path, filename: payload.filename))
            scanHiddenPayloads(in: payload.data, at: payload.path, work: &work)
            work.keepIfText(payload.data, at: payload.path)
        }
        // Scanned: the decoded payloads and the scan view (as large as the document
        // together) are let go before the restricted-data stage walks and copies its text.
        inspection.payloads = []
        inspection.scanView = Data()
        if work.documentType == nil { work.documentType = inspection.documentType }
        // A document that did not parse is already held by the XML stage.
        guard inspection.documentType != nil else { return outcome }

        let document: XMLEditableDocument
        do {
            // One parse serves both stages, except for an MTOM root, whose inspection
            // resolved its xop:Include elements into the tree.
            document = try parsed ?? XMLEditableDocument(parsing: data, limits: engines.limits)
        } catch {
            work.findings.append(Finding(stage: .error, rule: "restricted.parse", part: path,
                                         detail: "the document could not be opened for the restricted-data stage"))
            return outcome
        }
        guard let rules = work.chooseRules(engines, document: document, documentType: inspection.documentType) else {
            return outcome
        }
        work.findings += XMLRedaction(rules: rules, mode: mode, schemas: engines.schemas,
                                     payloadElements: engines.xmlFormats.payloadElements).run(on: document, at: path)
        guard mode == .enforce, document.isModified else { return outcome }

        let output = document.serialize()
        let recheck = inspector.revalidate(output, at: path, attachments: attachments)
        if let broken = recheck.first(where: { $0.action == .quarantine }) {
            work.findings.append(Finding(stage: .restricted, rule: "restricted.revalidation", part: path,
                                         detail: "the sanitized document no longer validates (\(broken.rule) at \(broken.part): \(broken.detail)); the message is held"))
            return outcome
        }
        outcome.sanitized = output
        return outcome
    }
}
