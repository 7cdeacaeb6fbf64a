import KordonCore
import KordonRules
import KordonXML

/// The restricted-data stage over one parsed XML document: element rules first,
/// then every name (see ``NameScreening``), then every text, attribute value and
/// comment through the detectors and markings.
///
/// Edits are made in the document; the caller serializes and validates it again.
struct XMLRedaction {
    /// The rule set in force.
    let rules: RuleSet
    /// Enforce or audit.
    let mode: RedactionMode
    /// The agreed schemas: the text of `xs:base64Binary` elements is a payload, not text.
    let schemas: SchemaRegistry

    /// Runs the stage on `document`, the XML part at `path`; returns its findings.
    func run(on document: XMLEditableDocument, at path: PartPath) -> [Finding] {
        var findings = applyElementRules(to: document, at: path)
        findings += NameScreening(rules: rules, mode: mode).findings(in: document, at: path)
        let redactor = TextRedactor(rules: rules, mode: mode)
        document.forEachText(skippingBinaryOf: schemas) { site, text in
            let (found, replaced) = redactor.redact(text, part: path.xml(site.path), context: site.path,
                                                    place: site.isProtected ? .protected : .editable)
            findings += found
            return replaced
        }
        return findings
    }

    /// Applies every element rule of the set, in pack order. An element a rule has
    /// already changed or removed is not touched again by a later rule.
    private func applyElementRules(to document: XMLEditableDocument, at path: PartPath) -> [Finding] {
        var findings: [Finding] = []
        var handled: Set<String> = []
        for rule in rules.elementRules {
            let selector = XMLSelector(id: rule.id, xpath: rule.xpath, namespaces: rule.namespaces)
            let elements: [XMLSelectedElement]
            do {
                elements = try document.select(selector)
            } catch {
                findings.append(Finding(stage: .error, rule: rule.id, part: path,
                                        detail: "element rule of pack \(rule.pack) could not be evaluated; the message is held"))
                continue
            }
            for element in elements where !handled.contains(element.path) {
                if let finding = apply(rule, to: element, in: document, at: path) {
                    findings.append(finding)
                }
                if rule.action != .report && rule.action != .keep { handled.insert(element.path) }
            }
        }
        return findings
    }

    /// Applies one element rule to one selected element.
    private func apply(_ rule: ElementRule, to element: XMLSelectedElement, in document: XMLEditableDocument,
                       at path: PartPath) -> Finding? {
        let value = document.text(of: element)
        let part = path.xml(element.path)
        let detail = "element rule (pack \(rule.pack))"
        func finding(_ action: FindingAction, _ note: String = "") -> Finding {
            Finding(stage: .restricted, rule: rule.id, part: part, action: action, detail: detail + note,
                    category: rule.category.rawValue, masked: RuleSet.masked(value))
        }
        switch rule.action {
        case .keep:
            document.protect(element)
            return nil
        case .report:
            return finding(.report)
        case .quarantine:
            return finding(.quarantine)
        case .strip:
            if mode == .enforce { document.remove(element) }
            return finding(.strip)
        case .mask, .pseudonymize:
            guard !value.allSatisfy(Self.isWhitespace) else { return nil }
            // Already masked (by Kordon upstream, say): masking it again would hide more for nothing.
            if rule.action == .mask, RuleSet.isMasked(value) { return nil }
            let action = FindingAction(rule.action)
            guard mode == .enforce else { return finding(action) }
            guard let replacement = rules.replacement(for: value, ruleID: nil, action: rule.action) else {
                return finding(.quarantine, "; no replacement could be made, so the message is held")
            }
            document.setText(of: element, to: replacement)
            return finding(action)
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
