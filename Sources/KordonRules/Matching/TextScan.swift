/// One scan of one text: Hyperscan passes, then the Swift checks of every candidate.
struct TextScan {
    let rules: RuleSet
    let text: [UInt8]
    let place: String

    private var matcher: Matcher { rules.matcher }

    /// A detector-group candidate that passed the byte boundary checks.
    private struct Candidate {
        var group: Int
        var range: Range<Int>
    }

    /// A phrase occurrence reported by Hyperscan: where it ends; its start is found on demand.
    private struct Hit {
        var phrase: Int
        var end: Int
    }

    /// The validated matches, ordered by start, overlaps resolved; `nil` when Hyperscan failed.
    func run() -> [TextMatch]? {
        var candidates: [Candidate] = []
        var hits: [Hit] = []
        var exoticSeen = false
        let roles = matcher.primaryRoles
        let groups = matcher.groups
        let text = self.text
        guard matcher.primary.scan(text, in: 0..<text.count, onMatch: { id, from, to in
            switch roles[Int(id)] {
            case .group(let group):
                if let range = Self.detectorRange(groups[group], from: from, to: to, in: text) {
                    candidates.append(Candidate(group: group, range: range))
                }
            case .phrase(let phrase):
                hits.append(Hit(phrase: phrase, end: to))
            case .sentinel:
                exoticSeen = true
            }
            return true
        }) else { return nil }

        if exoticSeen, let exotic = matcher.exotic {
            // The full forms find every marking the common ones found, and more.
            let markingPhrases = matcher.markingPhrases
            hits.removeAll { matcher.phraseMarkings[$0.phrase] != nil }
            guard exotic.scan(text, in: 0..<text.count, onMatch: { id, _, to in
                hits.append(Hit(phrase: markingPhrases[Int(id)], end: to))
                return true
            }) else { return nil }
        }
        hits.sort { $0.end < $1.end }
        var starts = [Int?](repeating: nil, count: hits.count)
        var resolved = [Bool](repeating: false, count: hits.count)
        func start(_ index: Int) -> Int? {
            if !resolved[index] {
                resolved[index] = true
                starts[index] = matcher.phrases[hits[index].phrase].start(in: text, endingAt: hits[index].end)
            }
            return starts[index]
        }

        let placeTokens = place.isEmpty ? [] : ContextSearch.tokens(of: place)
        var placeAnswers: [Int: Bool] = [:]
        func placeSatisfies(_ detector: Int) -> Bool {
            guard !placeTokens.isEmpty, let rule = rules.detectors[detector].context else { return false }
            if let known = placeAnswers[detector] { return known }
            let answer = ContextSearch.placeHas(rule, tokens: placeTokens)
            placeAnswers[detector] = answer
            return answer
        }

        if let contextual = matcher.contextual {
            let wholeText = matcher.contextualGroups.contains { groups[$0].members.contains(where: placeSatisfies) }
            var regions: [Range<Int>] = []
            if wholeText {
                regions = [0..<text.count]
            } else {
                var windows: [Range<Int>] = []
                for index in hits.indices where matcher.contextualWords.contains(hits[index].phrase) {
                    guard let hitStart = start(index) else { continue }
                    windows.append(max(0, hitStart - matcher.reachAfter)..<min(text.count, hits[index].end + matcher.reachBefore))
                }
                for window in windows.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                    if let last = regions.last, last.upperBound >= window.lowerBound {
                        regions[regions.count - 1] = last.lowerBound..<max(last.upperBound, window.upperBound)
                    } else {
                        regions.append(window)
                    }
                }
            }
            let contextualGroups = matcher.contextualGroups
            for region in regions {
                guard contextual.scan(text, in: region, onMatch: { id, from, to in
                    let group = contextualGroups[Int(id)]
                    if let range = Self.detectorRange(groups[group], from: from, to: to, in: text) {
                        candidates.append(Candidate(group: group, range: range))
                    }
                    return true
                }) else { return nil }
            }
        }

        var found: [TextMatch] = []
        for candidate in candidates {
            for member in groups[candidate.group].members {
                let detector = rules.detectors[member]
                let validity = detector.validator?(text[candidate.range]) ?? .valid
                guard validity != .invalid else { continue }
                if detector.context?.required == true || validity == .validWithContext {
                    guard let rule = detector.context else { continue }
                    guard placeSatisfies(member)
                        || contextNear(candidate.range, rule: rule, words: matcher.detectorWords[member], hits: hits, start: start)
                    else { continue }
                }
                found.append(TextMatch(ruleID: detector.id, pack: detector.pack, kind: .detector, category: detector.category,
                                       range: candidate.range, action: detector.action,
                                       masked: Masking.masked(text[candidate.range])))
            }
        }
        for index in hits.indices {
            guard let markingIndex = matcher.phraseMarkings[hits[index].phrase], let hitStart = start(index) else { continue }
            let range = hitStart..<hits[index].end
            let marking = rules.markings[markingIndex]
            guard FoldedPhrase.isWhole(text, range) else { continue }
            if marking.standalone && !Standalone.check(text, range) { continue }
            found.append(TextMatch(ruleID: marking.id, pack: marking.pack, kind: .marking, category: marking.category,
                                   range: range, action: marking.action, masked: marking.id))
        }
        return Self.withoutOverlaps(found)
    }

    /// The identifier's own range inside a wrapped match (boundary bytes stripped),
    /// if it also passes the Swift boundary checks.
    @inline(__always)
    private static func detectorRange(_ group: Matcher.Group, from: Int, to: Int, in text: [UInt8]) -> Range<Int>? {
        let end = to - 1
        let start = group.width.map { end - $0 } ?? from + 1
        guard start >= 0, start <= end, end <= text.count else { return nil }
        return Boundaries.isolated(text, start..<end) ? start..<end : nil
    }

    /// Whether one of the detector's context words stands within its window of
    /// `range`, as a word of its own, with no digit between it and the candidate.
    private func contextNear(_ range: Range<Int>, rule: ContextRule, words: [(phrase: Int, isStem: Bool)],
                             hits: [Hit], start: (Int) -> Int?) -> Bool {
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
            guard let word = words.first(where: { $0.phrase == hit.phrase }), let hitStart = start(index) else { continue }
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
