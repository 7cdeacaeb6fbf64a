import Foundation
import KordonCore
import KordonMIME

extension Pipeline {
    /// Scans a MIME message whole (ClamAV's own mail parser, a second view against
    /// parser differentials), then every part GMime decodes: XML parts through the
    /// XML stages, the rest through ClamAV; then the rule packs over headers and
    /// text bodies. Returns the rewritten message when the packs changed it.
    func filterMIME(_ data: Data, work: inout MessageWork) -> Data? {
        work.findings += engines.clamav.scan(data, part: .message, filename: nil)
        let parsed = MIMEMessageParser(limits: engines.limits).parse(data)
        work.findings += parsed.findings
        var byContentID: [String: Data] = [:]
        for leaf in parsed.leaves {
            if let id = leaf.contentID { byContentID[id] = leaf.part.data }
        }
        let editable: MIMEEditableMessage?
        do {
            editable = try MIMEEditableMessage(parsing: data, limits: engines.limits)
        } catch {
            editable = nil
            work.findings.append(Finding(stage: .error, rule: "restricted.parse", part: .message,
                                         detail: "the message could not be opened for the restricted-data stage"))
        }

        var resolvedByXOP: Set<String> = []
        for leaf in parsed.leaves where leaf.isXML {
            let outcome = filterXML(leaf.part.data, at: leaf.part.path,
                                    attachments: leaf.isXOPRoot ? byContentID : [:], work: &work)
            resolvedByXOP.formUnion(outcome.usedAttachments)
            guard let sanitized = outcome.sanitized, let editable else { continue }
            do {
                try editable.replaceBody(of: leaf.part.path, with: sanitized)
            } catch {
                work.findings.append(Finding(stage: .error, rule: "restricted.rewrite", part: leaf.part.path,
                                             detail: "the sanitized part could not be written back; the message is held"))
            }
        }
        let bodySites = Set(editable?.textSites.filter { $0.kind == .body }.map(\.part) ?? [])
        for leaf in parsed.leaves where !leaf.isXML {
            // A part an xop:Include resolved to was scanned as that element's payload.
            if let id = leaf.contentID, resolvedByXOP.contains(id) { continue }
            work.add(engines.clamav.scanCollectingText(leaf.part.data, part: leaf.part.path, filename: leaf.part.filename))
            scanHiddenPayloads(in: leaf.part.data, at: leaf.part.path, work: &work)
            if !bodySites.contains(leaf.part.path) { work.keepIfText(leaf.part.data, at: leaf.part.path) }
        }
        if let rules = work.chooseRules(engines) {
            work.findings += NameScreening(rules: rules, mode: mode).findings(inFilenamesOf: parsed.leaves.map(\.part))
        }
        guard let editable else { return nil }
        return redactText(of: editable, work: &work)
    }

    /// The rule packs over every header and text body the message holds.
    private func redactText(of message: MIMEEditableMessage, work: inout MessageWork) -> Data? {
        guard let rules = work.chooseRules(engines) else { return nil }
        let redactor = TextRedactor(rules: rules, mode: mode)
        work.findings += NameScreening(rules: rules, mode: mode).findings(inHeaderNamesOf: message.textSites)
        for site in message.textSites {
            let (part, context): (PartPath, String) = switch site.kind {
            case .header(let name): (site.part.appending("header:\(name)"), name)
            case .body: (site.part, site.contentType)
            }
            let (findings, replaced) = redactor.redact(message.text(at: site), part: part, context: context, place: .editable)
            work.findings += findings
            guard let replaced else { continue }
            do {
                try message.setText(at: site, to: replaced)
            } catch {
                work.findings.append(Finding(stage: .error, rule: "restricted.rewrite", part: part,
                                             detail: "the sanitized text could not be written back; the message is held"))
            }
        }
        guard mode == .enforce, message.isModified else { return nil }
        do {
            return try message.serialize()
        } catch {
            work.findings.append(Finding(stage: .error, rule: "restricted.rewrite", part: .message,
                                         detail: "the sanitized message could not be written; the message is held"))
            return nil
        }
    }
}
