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
    /// Attachment elements typed as strings: their base64 is a payload, not text.
    var payloadElements: PayloadElements = .defaults

    /// Runs the stage on `document`, the XML part at `path`; returns its findings.
    func run(on document: XMLEditableDocument, at path: PartPath) -> [Finding] {
        var findings = applyElementRules(to: document, at: path)
        findings += NameScreening(rules: rules, mode: mode).findings(in: document, at: path)
        let redactor = TextRedactor(rules: rules, mode: mode)
        document.forEachText(skippingBinaryOf: schemas, payloadElements: payloadElements) { site, text in
            // An element's text must stay a value of its simple type; asked only when something
            // changes (a closure that does not escape: nothing is allocated for a text without a match).
            let (found, replaced) = redactor.redact(text, part: path.xml(site.path), context: site.path,
                                                    place: site.isProtected ? .protected : .editable) {
                switch site.kind {
                case .elementText: document.valueType(ofElementAt: site.path, schemas: schemas).flatMap(Self.constraint)
                case .attribute(let name): document.valueType(ofAttribute: name, holding: text, schemas: schemas).flatMap(Self.constraint)
                case .comment, .processingInstruction: nil
                }
            }
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
        let declared = document.declaredNamespaces
        let present = document.elementNames()
        for rule in rules.elementRules {
            // A namespace family (`urn:customs.ru:CommonAggregateTypes:*`) stands for the versions this document
            // declares; only the branches and namespaces that name elements the document has are evaluated.
            let namespaces = NamespacePattern.expand(rule.namespaces, declared: declared)
            guard let plan = rule.plan(bindings: namespaces, elements: { uri, name in
                name == "*" ? present.hasElements(in: uri) : present.contains(namespace: uri, localName: name)
            }) else { continue }
            let selector = XMLSelector(id: rule.id, xpath: plan.xpath, namespaces: plan.bindings)
            let elements: [XMLSelectedElement]
            do {
                elements = try document.select(selector)
            } catch {
                findings.append(Finding(stage: .error, rule: rule.id, part: path,
                                        detail: "element rule of pack \(rule.pack) could not be evaluated; the message is held"))
                continue
            }
            // Types are read before any change: a strip shifts the positions in later paths.
            let changes = mode == .enforce && [.mask, .pseudonymize, .strip].contains(rule.action)
            let types = elements.map { changes ? document.valueType(ofElementAt: $0.path, schemas: schemas) : nil }
            for (element, type) in zip(elements, types) where !handled.contains(element.path) {
                if let finding = apply(rule, to: element, type: type, in: document, at: path) {
                    findings.append(finding)
                }
                if rule.action != .report && rule.action != .keep { handled.insert(element.path) }
            }
        }
        return findings
    }

    /// Applies one element rule to one selected element, whose schema type is `type`.
    private func apply(_ rule: ElementRule, to element: XMLSelectedElement, type: ValueType?,
                       in document: XMLEditableDocument, at path: PartPath) -> Finding? {
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
            guard mode == .enforce else { return finding(.strip) }
            // A required element of a simple type stays, with nothing of its value left in it.
            if let type, type.isRequired, type.constrainsText {
                guard let blank = rules.replacement(for: value, ruleID: nil, action: .strip, fitting: type.accepts) else {
                    return finding(.quarantine, "; the schema requires this element and " + Self.refusal(type))
                }
                document.setText(of: element, to: blank)
                return finding(.strip, blank.isEmpty ? "; required by the schema, so emptied"
                                                     : "; required by the schema, so its value was replaced by a filler of its type")
            }
            document.remove(element)
            return finding(.strip)
        case .mask, .pseudonymize:
            guard !value.allSatisfy(Self.isWhitespace) else { return nil }
            // Already masked (by Kordon upstream, say): masking it again would hide more for nothing.
            if rule.action == .mask, RuleSet.isMasked(value) { return nil }
            let action = FindingAction(rule.action)
            guard mode == .enforce else { return finding(action) }
            let fitting = type.flatMap(Self.constraint)
            let replacement: [UInt8]?
            if let fitting {
                replacement = rules.replacement(for: value, ruleID: nil, action: rule.action, fitting: fitting.accepts)
            } else {
                replacement = rules.replacement(for: value, ruleID: nil, action: rule.action)
            }
            guard let replacement else {
                return finding(.quarantine, "; \(fitting?.refusal ?? "no replacement could be made"), so the message is held")
            }
            document.setText(of: element, to: replacement)
            if let fitting, replacement != rules.replacement(for: value, ruleID: nil, action: rule.action) {
                return finding(action, "; " + fitting.fittedNote)
            }
            return finding(action)
        }
    }

    /// What a replacement of an element's text must satisfy; `nil` when its schema says nothing of it.
    private static func constraint(_ type: ValueType) -> ReplacementConstraint? {
        guard type.constrainsText else { return nil }
        return ReplacementConstraint(accepts: type.accepts, refusal: refusal(type), fittedNote: fittedNote(type))
    }

    /// Says that a replacement was written to fit `type` rather than in its usual form.
    private static func fittedNote(_ type: ValueType) -> String {
        "written in the characters its schema type \(type.name) allows (\(type.summary))"
    }

    /// Why no replacement fits `type`, in words that carry no value.
    private static func refusal(_ type: ValueType) -> String {
        "no replacement that hides the value fits its schema type \(type.name) (\(type.summary))"
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
