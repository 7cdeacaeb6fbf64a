import KordonCore

/// The Hyperscan side of a rule set: up to three databases, compiled once.
///
/// - **primary** holds the detectors that need no context word, the common form
///   of every marking phrase and context word, and a sentinel for the scalars only
///   the full forms accept. Every text is scanned with it once.
/// - **exotic** holds the full form of every marking phrase; a text is rescanned
///   with it only when the sentinel fired (fullwidth letters, ignorables, Greek
///   look-alikes…). Context words keep their common form only: they help find
///   identifiers, and a sender who wanted to hide one would simply leave them out,
///   so folding their exotic spellings buys nothing and costs seconds of compilation.
/// - **contextual** holds the detectors that count only next to a context word
///   (10-digit INN, passports, UNP…). It scans only the windows around context-word
///   hits — or the whole text when the place name supplies the context — so the
///   many numbers of ordinary text never reach those patterns.
///
/// Detector patterns are compiled inside one-byte boundary classes,
/// `[^0-9A-Za-z+](?:pattern)[^0-9A-Za-z]`: Hyperscan then reports a 12-digit pattern
/// once for a 12-digit number and never inside a 14-digit timestamp.
struct Matcher: Sendable {
    /// What a Hyperscan id of the primary database stands for.
    enum Role: Sendable {
        case group(Int)
        case phrase(Int)
        case sentinel
    }

    /// Detectors sharing one pattern (and whether they need context), found together.
    struct Group: Sendable {
        let pattern: String
        /// Byte width of the pattern's matches when fixed; `nil` when Hyperscan reports the start.
        let width: Int?
        /// Detector indices.
        var members: [Int]
        let contextual: Bool
    }

    let primary: HyperscanDatabase
    let primaryRoles: [Role]
    let exotic: HyperscanDatabase?
    /// Phrase index per exotic id.
    let markingPhrases: [Int]
    let contextual: HyperscanDatabase?
    /// Group index per contextual id.
    let contextualGroups: [Int]
    let groups: [Group]
    /// Marking phrases first, then context words.
    let phrases: [FoldedPhrase]
    /// The marking of each phrase; `nil` for a context word.
    let phraseMarkings: [Int?]
    /// Per detector: its context words as (phrase index, is stem).
    let detectorWords: [[(phrase: Int, isStem: Bool)]]
    /// Phrases that are context words of a contextual detector.
    let contextualWords: Set<Int>
    /// How far around a context-word hit a contextual match can lie, in bytes.
    let reachBefore: Int
    let reachAfter: Int

    /// Compiles the detectors and markings of a rule set.
    init(detectors: [Detector], markings: [Marking]) throws {
        var groups: [Group] = []
        var groupIndex: [String: Int] = [:]
        for (index, detector) in detectors.enumerated() {
            let contextual = detector.context?.required == true
            let key = "\(contextual)\u{0}\(detector.pattern)"
            if let existing = groupIndex[key] {
                groups[existing].members.append(index)
            } else {
                groupIndex[key] = groups.count
                groups.append(Group(pattern: detector.pattern, width: detector.fixedWidth, members: [index], contextual: contextual))
            }
        }
        var phrases: [FoldedPhrase] = []
        var phraseMarkings: [Int?] = []
        var sources: [(file: String, line: Int, rule: String)] = []
        for (index, marking) in markings.enumerated() {
            for phrase in marking.phrases {
                guard let compiled = FoldedPhrase(phrase) else { continue }
                phrases.append(compiled)
                phraseMarkings.append(index)
                sources.append((marking.file, marking.line, marking.id))
            }
        }
        var wordIndex: [[UInt32]: Int] = [:]
        var detectorWords: [[(phrase: Int, isStem: Bool)]] = []
        var contextualWords: Set<Int> = []
        var reachBefore = 0
        var reachAfter = 0
        for detector in detectors {
            var words: [(phrase: Int, isStem: Bool)] = []
            for word in detector.context?.words ?? [] {
                let key = word.folded
                let phrase: Int
                if let known = wordIndex[key] {
                    phrase = known
                } else if let compiled = FoldedPhrase(word.text, plain: true) {
                    phrase = phrases.count
                    wordIndex[key] = phrase
                    phrases.append(compiled)
                    phraseMarkings.append(nil)
                    sources.append((detector.file, detector.line, detector.id))
                } else {
                    continue
                }
                words.append((phrase, word.isStem))
                if detector.context?.required == true { contextualWords.insert(phrase) }
            }
            detectorWords.append(words)
            if let context = detector.context, context.required {
                reachBefore = max(reachBefore, context.before * 4 + 66)
                reachAfter = max(reachAfter, context.after * 4 + 66)
            }
        }

        func wrapped(_ group: Group) -> HyperscanPattern {
            HyperscanPattern(expression: "[^0-9A-Za-z+](?:\(group.pattern))[^0-9A-Za-z]", id: 0, reportsStart: group.width == nil)
        }
        func failure(_ error: HyperscanError, _ place: (Int) -> (file: String, line: Int, rule: String)?) -> KordonError {
            guard let index = error.patternIndex, let source = place(index) else {
                return KordonError(code: "rules.compile", message: "Hyperscan cannot compile the rule packs: \(error.message)")
            }
            return KordonError(code: "rules.pack.invalid",
                               message: "\(source.file):\(source.line): \(source.rule) is rejected by Hyperscan: \(error.message)")
        }
        func groupSource(_ group: Group) -> (file: String, line: Int, rule: String) {
            let detector = detectors[group.members[0]]
            return (detector.file, detector.line, detector.id)
        }

        // Primary: free detectors, common phrases, sentinel.
        var patterns: [HyperscanPattern] = []
        var roles: [Role] = []
        var primarySources: [(file: String, line: Int, rule: String)?] = []
        for (index, group) in groups.enumerated() where !group.contextual {
            patterns.append(wrapped(group))
            roles.append(.group(index))
            primarySources.append(groupSource(group))
        }
        for (index, phrase) in phrases.enumerated() {
            patterns.append(HyperscanPattern(expression: phrase.commonExpression, id: 0))
            roles.append(.phrase(index))
            primarySources.append(sources[index])
        }
        let markingPhrases = phrases.indices.filter { phraseMarkings[$0] != nil }
        let exoticScalars = markingPhrases.reduce(into: Set<UInt32>()) { $0.formUnion(phrases[$1].exotic) }
        if !exoticScalars.isEmpty {
            patterns.append(HyperscanPattern(expression: ByteAlternatives.expression(for: Array(exoticScalars)), id: 0, singleMatch: true))
            roles.append(.sentinel)
            primarySources.append(nil)
        }
        guard !patterns.isEmpty else {
            throw KordonError(code: "rules.pack.invalid", message: "the packs hold no detector and no marking: nothing to match")
        }
        do {
            primary = try HyperscanDatabase(patterns: Self.numbered(patterns))
            exotic = markingPhrases.isEmpty ? nil
                : try HyperscanDatabase(patterns: Self.numbered(markingPhrases.map { HyperscanPattern(expression: phrases[$0].fullExpression, id: 0) }))
        } catch {
            throw failure(error) { index in
                index < primarySources.count ? primarySources[index] : nil
            }
        }
        let contextualGroups = groups.indices.filter { groups[$0].contextual }
        do {
            contextual = contextualGroups.isEmpty ? nil
                : try HyperscanDatabase(patterns: Self.numbered(contextualGroups.map { wrapped(groups[$0]) }))
        } catch {
            throw failure(error) { index in index < contextualGroups.count ? groupSource(groups[contextualGroups[index]]) : nil }
        }
        self.markingPhrases = markingPhrases
        self.primaryRoles = roles
        self.contextualGroups = contextualGroups
        self.groups = groups
        self.phrases = phrases
        self.phraseMarkings = phraseMarkings
        self.detectorWords = detectorWords
        self.contextualWords = contextualWords
        self.reachBefore = reachBefore
        self.reachAfter = reachAfter
    }

    /// Gives each pattern its index as Hyperscan id.
    private static func numbered(_ patterns: [HyperscanPattern]) -> [HyperscanPattern] {
        patterns.enumerated().map { index, pattern in
            var pattern = pattern
            pattern.id = UInt32(index)
            return pattern
        }
    }
}
