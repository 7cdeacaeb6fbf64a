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
    func redact(_ text: [UInt8], part: PartPath, context: String, place: Place) -> (findings: [Finding], replaced: [UInt8]?) {
        let matches = rules.scan(text, context: context)
        guard !matches.isEmpty else { return ([], nil) }
        var findings: [Finding] = []
        var edits: [(range: Range<Int>, bytes: [UInt8])] = []
        for match in matches {
            let (action, note) = decide(match, place: place)
            var finding = Self.finding(for: match, part: part, action: action, note: note)
            if mode == .enforce, action.changesText {
                let value = Array(text[match.range])
                if let bytes = rules.replacement(for: value, ruleID: match.ruleID, action: RuleAction(action)) {
                    if !edits.contains(where: { $0.range.overlaps(match.range) }) {
                        edits.append((match.range, bytes))
                    }
                } else {
                    finding.action = .quarantine
                    finding.detail += "; no replacement could be made, so the message is held"
                }
            }
            findings.append(finding)
        }
        guard !edits.isEmpty else { return (findings, nil) }
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var position = 0
        for edit in edits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            result += text[position..<edit.range.lowerBound]
            result += edit.bytes
            position = edit.range.upperBound
        }
        result += text[position...]
        return (findings, result)
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
