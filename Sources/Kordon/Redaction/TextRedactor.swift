import KordonCore
import KordonRules

/// Turns one rule set's matches in one text into findings and, where the packs
/// say so, a changed text.
///
/// The value a rule matched never leaves this type except as its masked form:
/// findings carry the rule, the category, the place and `masked`.
struct TextRedactor {
    /// Where a text sits, which decides what may be done to it.
    enum Place {
        /// Free text Kordon can change.
        case editable
        /// Inside an element a `keep` rule protects: the agreed format needs it for customs purposes.
        case protected
        /// Text Kordon cannot change in place (a file inside an archive, a base64 attachment).
        case uneditable
    }

    /// The rule set in force for this message.
    let rules: RuleSet
    /// Enforce or audit.
    let mode: RedactionMode

    /// The findings for `text` at `part`, and the changed text when anything changed.
    /// `context` names the place (element path, header name) for context words.
    ///
    /// `constraint`, asked for only when something is to be changed, is what the whole
    /// changed text must still satisfy (the simple type of the element it is the text of):
    /// each replacement is chosen to fit it, and a match no replacement fits holds the message.
    func redact(_ text: [UInt8], part: PartPath, context: String, place: Place,
                constraint: () -> ReplacementConstraint? = { nil }) -> (findings: [Finding], replaced: [UInt8]?) {
        let matches = rules.scan(text, context: context)
        guard !matches.isEmpty else { return ([], nil) }
        var findings: [Finding] = []
        var edits: [Edit] = []
        var resolved: ReplacementConstraint??
        for match in matches {
            let (action, note) = decide(match, place: place)
            var finding = Self.finding(for: match, part: part, action: action, note: note)
            if mode == .enforce, action.changesText, !edits.contains(where: { $0.range.overlaps(match.range) }) {
                if resolved == nil { resolved = .some(constraint()) }
                let value = Array(text[match.range])
                let bytes: [UInt8]?
                if let fitting = resolved ?? nil {
                    bytes = rules.replacement(for: value, ruleID: match.ruleID, action: RuleAction(action)) { candidate in
                        fitting.accepts(Self.applying(edits + [Edit(range: match.range, bytes: candidate)], to: text))
                    }
                } else {
                    bytes = rules.replacement(for: value, ruleID: match.ruleID, action: RuleAction(action))
                }
                if let bytes {
                    if let fitting = resolved ?? nil, bytes != rules.replacement(for: value, ruleID: match.ruleID, action: RuleAction(action)) {
                        finding.detail += "; " + fitting.fittedNote
                    }
                    edits.append(Edit(range: match.range, bytes: bytes))
                } else {
                    finding.action = .quarantine
                    finding.detail += "; " + ((resolved ?? nil)?.refusal ?? "no replacement could be made") + ", so the message is held"
                }
            }
            findings.append(finding)
        }
        guard !edits.isEmpty else { return (findings, nil) }
        return (findings, Self.applying(edits, to: text))
    }

    /// One replacement of a range of the text.
    private struct Edit {
        let range: Range<Int>
        let bytes: [UInt8]
    }

    /// `text` with non-overlapping `edits` made.
    private static func applying(_ edits: [Edit], to text: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var position = 0
        for edit in edits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            result += text[position..<edit.range.lowerBound]
            result += edit.bytes
            position = edit.range.upperBound
        }
        result += text[position...]
        return result
    }

    /// The findings for `matches` in a name (`what`: "an element name", …), which no
    /// edit can change: each takes the action of an uneditable place, so a personal
    /// identifier holds the message as it would in a base64 attachment.
    func findings(inName matches: [TextMatch], part: PartPath, what: String) -> [Finding] {
        matches.map { match in
            let (action, _) = decide(match, place: .uneditable)
            return Self.finding(for: match, part: part, action: action, note: "in \(what), which cannot be changed")
        }
    }

    /// The action for one match in one place, and a note for the finding's detail.
    private func decide(_ match: TextMatch, place: Place) -> (FindingAction, String?) {
        if match.kind == .marking { return (.quarantine, nil) }
        let wanted = FindingAction(match.action)
        guard wanted.changesText else { return (wanted, nil) }
        switch place {
        case .editable:
            return (wanted, nil)
        case .protected:
            return (.report, "kept: an element rule keeps this field for customs purposes")
        case .uneditable:
            let action = FindingAction(rules.actionWhereUneditable(match))
            return (action, "cannot be changed in place")
        }
    }

    /// The finding for one match.
    static func finding(for match: TextMatch, part: PartPath, action: FindingAction, note: String?) -> Finding {
        let what = match.kind == .marking ? "classification marking" : "\(match.category.rawValue) identifier"
        var detail = "\(what) (pack \(match.pack))"
        if let note { detail += "; \(note)" }
        return Finding(stage: match.kind == .marking ? .marking : .restricted, rule: match.ruleID, part: part,
                       action: action, detail: detail, category: match.category.rawValue, masked: match.masked)
    }
}

/// What a changed text must still satisfy, and what to say when nothing does.
struct ReplacementConstraint {
    /// Whether the whole changed text is acceptable.
    let accepts: ([UInt8]) -> Bool
    /// Why no replacement could be written, without any value: "no replacement fits the
    /// schema type … of this element".
    let refusal: String
    /// Said of a replacement written to fit rather than in its usual form.
    let fittedNote: String
}

extension FindingAction {
    /// The report's action for a pack's action (`keep` is reported).
    init(_ action: RuleAction) {
        switch action {
        case .strip: self = .strip
        case .mask: self = .mask
        case .pseudonymize: self = .pseudonymize
        case .quarantine: self = .quarantine
        case .report, .keep: self = .report
        }
    }

    /// Whether the action changes the message.
    var changesText: Bool { self == .strip || self == .mask || self == .pseudonymize }
}

extension RuleAction {
    /// The pack action that produces a report's action.
    init(_ action: FindingAction) {
        switch action {
        case .strip: self = .strip
        case .mask: self = .mask
        case .pseudonymize: self = .pseudonymize
        case .quarantine: self = .quarantine
        case .report: self = .report
        }
    }
}
