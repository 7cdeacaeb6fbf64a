/// One scan of one text: the Hyperscan passes that collect candidates and phrase
/// hits (see ``Matcher``), then the Swift checks that turn them into matches
/// (see `TextScan+Checks.swift`).
struct TextScan {
    let rules: RuleSet
    let text: [UInt8]
    let place: String

    /// A detector-group candidate that passed the byte boundary checks.
    struct Candidate {
        var group: Int
        var range: Range<Int>
    }

    /// A phrase occurrence reported by Hyperscan: where it ends; its start is found on demand.
    struct Hit {
        var phrase: Int
        var end: Int
    }

    var candidates: [Candidate] = []
    /// Sorted by end once the passes are done.
    var hits: [Hit] = []
    /// Phrase starts, resolved on demand (`nil` inside: the phrase does not end there).
    var starts: [Int?] = []
    var resolved: [Bool] = []
    /// Whether `place` supplies each detector's context, by detector index; looked up on
    /// first use: most texts hold no candidate that needs its place's context.
    private var placeSupplied: [Bool]?

    var matcher: Matcher { rules.matcher }

    init(rules: RuleSet, text: [UInt8], place: String) {
        self.rules = rules
        self.text = text
        self.place = place
    }

    /// The validated matches, ordered by start, overlaps resolved; `nil` when Hyperscan failed.
    mutating func run() -> [TextMatch]? {
        guard primaryPass() else { return nil }
        hits.sort { $0.end < $1.end }
        starts = Array(repeating: nil, count: hits.count)
        resolved = Array(repeating: false, count: hits.count)
        guard contextualPass() else { return nil }
        return Self.withoutOverlaps(detectorMatches() + markingMatches())
    }

    /// Free detectors, marking and context-word forms and the sentinels; then the
    /// full marking forms if the exotic sentinel fired, and the look-alike context-word
    /// forms if the mixed-script one did (each finds everything its plainer form found).
    private mutating func primaryPass() -> Bool {
        var exoticSeen = false
        var mixedScriptSeen = false
        let roles = matcher.primaryRoles
        let groups = matcher.groups
        let text = self.text
        var candidates: [Candidate] = []
        var hits: [Hit] = []
        defer {
            self.candidates = candidates
            self.hits = hits
        }
        guard matcher.primary.scan(text, in: 0..<text.count, onMatch: { id, from, to in
            switch roles[Int(id)] {
            case .group(let group):
                if let range = Self.detectorRange(groups[group], from: from, to: to, in: text) {
                    candidates.append(Candidate(group: group, range: range))
                }
            case .phrase(let phrase):
                hits.append(Hit(phrase: phrase, end: to))
            case .exoticSentinel:
                exoticSeen = true
            case .mixedScriptSentinel:
                mixedScriptSeen = true
            }
            return true
        }) else { return false }
        let phraseMarkings = matcher.phraseMarkings
        if exoticSeen, let exotic = matcher.exotic {
            hits.removeAll { phraseMarkings[$0.phrase] != nil }
            guard Self.rescan(exotic, text, phrases: matcher.markingPhrases, into: &hits) else { return false }
        }
        if mixedScriptSeen, let lookalike = matcher.lookalike {
            hits.removeAll { phraseMarkings[$0.phrase] == nil }
            guard Self.rescan(lookalike, text, phrases: matcher.wordPhrases, into: &hits) else { return false }
        }
        return true
    }

    /// Adds the hits of a phrase-only database (id `i` is phrase `phrases[i]`).
    private static func rescan(_ database: HyperscanDatabase, _ text: [UInt8], phrases: [Int], into hits: inout [Hit]) -> Bool {
        var found: [Hit] = []
        defer { hits += found }
        return database.scan(text, in: 0..<text.count, onMatch: { id, _, to in
            found.append(Hit(phrase: phrases[Int(id)], end: to))
            return true
        })
    }

    /// Contextual detectors, over the windows around their context words — or the
    /// whole text when the place name already supplies the context.
    private mutating func contextualPass() -> Bool {
        guard let contextual = matcher.contextual else { return true }
        let groups = matcher.groups
        let contextualGroups = matcher.contextualGroups
        var regions: [Range<Int>] = []
        if contextualGroups.contains(where: { groups[$0].members.contains { placeSupplies($0) } }) {
            regions = [0..<text.count]
        } else {
            var windows: [Range<Int>] = []
            for index in hits.indices where matcher.contextualWords.contains(hits[index].phrase) {
                guard let hitStart = start(of: index) else { continue }
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
        let text = self.text
        var found: [Candidate] = []
        defer { candidates += found }
        for region in regions {
            guard contextual.scan(text, in: region, onMatch: { id, from, to in
                let group = contextualGroups[Int(id)]
                if let range = Self.detectorRange(groups[group], from: from, to: to, in: text) {
                    found.append(Candidate(group: group, range: range))
                }
                return true
            }) else { return false }
        }
        return true
    }

    /// The identifier's own range inside a wrapped match (boundary bytes stripped),
    /// if it also passes the Swift boundary checks.
    @inline(__always)
    static func detectorRange(_ group: Matcher.Group, from: Int, to: Int, in text: [UInt8]) -> Range<Int>? {
        let end = to - 1
        let start = group.width.map { end - $0 } ?? from + 1
        guard start >= 0, start <= end, end <= text.count else { return nil }
        return Boundaries.isolated(text, start..<end) ? start..<end : nil
    }

    /// Where hit `index` starts (walking back from its end), cached.
    mutating func start(of index: Int) -> Int? {
        if !resolved[index] {
            resolved[index] = true
            starts[index] = matcher.phrases[hits[index].phrase].start(in: text, endingAt: hits[index].end)
        }
        return starts[index]
    }

    /// Whether the place name holds one of the detector's context words, cached.
    mutating func placeSupplies(_ detector: Int) -> Bool {
        guard !place.isEmpty else { return false }
        let supplied = placeSupplied ?? rules.placeContext.supplied(by: place, detectors: rules.detectors)
        placeSupplied = supplied
        return supplied[detector]
    }
}
