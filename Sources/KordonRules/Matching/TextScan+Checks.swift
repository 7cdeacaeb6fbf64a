/// The Swift half of a scan: validators, context words, marking boundaries, overlaps.
extension TextScan {
    /// Every candidate whose validator passes and whose context (when needed) is there.
    mutating func detectorMatches() -> [TextMatch] {
        var found: [TextMatch] = []
        for candidate in candidates {
            for member in matcher.groups[candidate.group].members {
                let detector = rules.detectors[member]
                guard rules.counts(detector.pack) else { continue }
                let validity = detector.validator?(text[candidate.range]) ?? .valid
                guard validity != .invalid else { continue }
                if detector.context?.required == true || validity == .validWithContext {
                    guard let rule = detector.context,
                          placeSupplies(member) || contextNear(candidate.range, rule: rule, words: matcher.detectorWords[member])
                    else { continue }
                }
                found.append(TextMatch(ruleID: detector.id, pack: detector.pack, kind: .detector, category: detector.category,
                                       range: candidate.range, action: detector.action,
                                       masked: Masking.masked(text[candidate.range])))
            }
        }
        return found
    }

    /// Every marking hit that is a word of its own (and, for abbreviations, stands alone).
    mutating func markingMatches() -> [TextMatch] {
        var found: [TextMatch] = []
        for index in hits.indices {
            guard let markingIndex = matcher.phraseMarkings[hits[index].phrase], let hitStart = start(of: index) else { continue }
            let range = hitStart..<hits[index].end
            let marking = rules.markings[markingIndex]
            guard rules.counts(marking.pack) else { continue }
            guard FoldedPhrase.isWhole(text, range) else { continue }
            if marking.standalone && !Standalone.check(text, range) { continue }
            found.append(TextMatch(ruleID: marking.id, pack: marking.pack, kind: .marking, category: marking.category,
                                   range: range, action: marking.action, masked: marking.id))
        }
        return found
    }

    /// Whether one of the detector's context words stands within its window of
    /// `range` (before or after), as a word of its own, with no digit between it and
    /// the candidate — so in `ИНН 7707083893, код ТН ВЭД 8471300000` the word ИНН
    /// vouches for the first number only.
    mutating func contextNear(_ range: Range<Int>, rule: ContextRule, words: [(phrase: Int, isStem: Bool)]) -> Bool {
        guard !words.isEmpty, !hits.isEmpty else { return false }
        let windowStart = UTF8Scalars.offset(text, scalars: rule.before, before: range.lowerBound)
        let windowEnd = UTF8Scalars.offset(text, scalars: rule.after, after: range.upperBound)
        var low = 0
        var high = hits.count
        while low < high {
            let middle = (low + high) / 2
            if hits[middle].end < windowStart { low = middle + 1 } else { high = middle }
        }
        var index = low
        while index < hits.count, hits[index].end <= windowEnd {
            defer { index += 1 }
            let hit = hits[index]
            guard let word = words.first(where: { $0.phrase == hit.phrase }), let hitStart = start(of: index) else { continue }
            guard FoldedPhrase.startsWord(text, at: hitStart), word.isStem || FoldedPhrase.endsWord(text, at: hit.end) else { continue }
            if hit.end <= range.lowerBound, hitStart >= windowStart, !hasDigit(hit.end..<range.lowerBound) { return true }
            if hitStart >= range.upperBound, !hasDigit(range.upperBound..<hitStart) { return true }
        }
        return false
    }

    private func hasDigit(_ range: Range<Int>) -> Bool {
        text[range].contains { Boundaries.isDigit($0) }
    }

    /// Sorted by start; of two overlapping matches the stronger stays: a marking
    /// over an identifier, then the stronger action, then the longer match, then
    /// (two packs claiming the same number) the first rule id, so results never
    /// depend on the order Hyperscan reported them in.
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
            let (mine, theirs) = (strength(match), strength(last))
            if mine > theirs || (mine == theirs && match.ruleID < last.ruleID) { kept[kept.count - 1] = match }
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
