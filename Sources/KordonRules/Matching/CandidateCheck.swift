/// Turns the raw candidates of one scan into validated, non-overlapping matches.
struct CandidateCheck {
    let rules: RuleSet
    let text: [UInt8]
    let context: String

    /// The validated matches, ordered by start, overlaps resolved.
    func matches(_ candidates: [Candidate]) -> [TextMatch] {
        var placeTokens: [[UInt32]]?
        var found: [TextMatch] = []
        for candidate in candidates {
            if rules.widths[candidate.id] == -2 {
                if let match = marking(candidate) { found.append(match) }
                continue
            }
            let detector = rules.detectors[candidate.id]
            let range = candidate.start..<candidate.end
            let validity = detector.validator?(text[range]) ?? .valid
            guard validity != .invalid else { continue }
            if detector.context?.required == true || validity == .validWithContext {
                guard let rule = detector.context else { continue }
                if placeTokens == nil { placeTokens = ContextSearch.tokens(of: context) }
                guard ContextSearch.found(rule, in: text, around: range, placeTokens: placeTokens ?? []) else { continue }
            }
            found.append(TextMatch(ruleID: detector.id, pack: detector.pack, kind: .detector, category: detector.category,
                                   range: range, action: detector.action, masked: Masking.masked(text[range])))
        }
        return Self.withoutOverlaps(found)
    }

    private func marking(_ candidate: Candidate) -> TextMatch? {
        let phrase = rules.phrases[candidate.id - rules.detectors.count]
        guard let start = phrase.start(in: text, endingAt: candidate.end) else { return nil }
        let range = start..<candidate.end
        let marking = rules.markings[phrase.marking]
        guard MarkingPhrase.isWhole(text, range) else { return nil }
        if marking.standalone && !Standalone.check(text, range) { return nil }
        return TextMatch(ruleID: marking.id, pack: marking.pack, kind: .marking, category: marking.category,
                         range: range, action: marking.action, masked: marking.id)
    }

    /// Sorted by start; of two overlapping matches the stronger stays: a marking
    /// over an identifier, then the stronger action, then the longer match.
    static func withoutOverlaps(_ matches: [TextMatch]) -> [TextMatch] {
        let sorted = matches.sorted {
            ($0.range.lowerBound, $1.range.count) < ($1.range.lowerBound, $0.range.count)
        }
        var kept: [TextMatch] = []
        kept.reserveCapacity(sorted.count)
        for match in sorted {
            guard let last = kept.last, last.range.overlaps(match.range) else {
                kept.append(match)
                continue
            }
            if strength(match) > strength(last) { kept[kept.count - 1] = match }
        }
        return kept
    }

    private static func strength(_ match: TextMatch) -> (Int, Int, Int) {
        let action: Int = switch match.action {
        case .quarantine: 4
        case .strip: 3
        case .mask, .pseudonymize: 2
        case .report: 1
        case .keep: 0
        }
        return (match.kind == .marking ? 1 : 0, action, match.range.count)
    }
}
