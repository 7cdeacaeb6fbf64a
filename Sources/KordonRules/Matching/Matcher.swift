import Foundation
import KordonCore

/// The Hyperscan side of a rule set: up to four databases, compiled once.
///
/// - **primary** holds the detectors that need no context word, the common form of
///   every marking phrase, the plain form of every context word and two sentinels.
///   Every text is scanned with it once.
/// - **exotic** holds the full form of every marking phrase; a text is rescanned
///   with it only when the exotic sentinel fired (fullwidth or mathematical letters,
///   ignorables, Greek look-alikes…).
/// - **lookalike** holds the look-alike (common) form of every context word; a text
///   is rescanned with it only when a mixed-script sentinel fired — two neighbouring
///   letters of a context word, one written with its Latin or Cyrillic twin (`ИH` in
///   `ИHH` with Latin H). A word with every letter swapped (`KAPTA`) and exotic
///   spellings of context words are not found: a context word only helps find an
///   identifier, a sender who wanted to hide one would leave the word out, and the
///   full forms of dozens of words cost seconds of compilation.
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
        case exoticSentinel
        case mixedScriptSentinel
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

    /// Where a rule came from, for compile errors.
    private typealias Source = (file: String, line: Int, rule: String)

    let primary: HyperscanDatabase
    let primaryRoles: [Role]
    let exotic: HyperscanDatabase?
    /// Phrase index per exotic id (the marking phrases).
    let markingPhrases: [Int]
    let lookalike: HyperscanDatabase?
    /// Phrase index per lookalike id (the context words).
    let wordPhrases: [Int]
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

    /// Compiles the detectors and markings of a rule set, through `cache` when given
    /// (the same databases, read from disk when a trusted copy is there).
    init(detectors: [Detector], markings: [Marking], cache: DatabaseCache? = nil) throws {
        let groups = Self.groups(of: detectors)
        self.groups = groups
        var phrases: [FoldedPhrase] = []
        var phraseMarkings: [Int?] = []
        var sources: [Source] = []
        for (index, marking) in markings.enumerated() {
            for phrase in marking.phrases {
                guard let compiled = FoldedPhrase(phrase) else { continue }
                phrases.append(compiled)
                phraseMarkings.append(index)
                sources.append((marking.file, marking.line, marking.id))
            }
        }
        markingPhrases = Array(phrases.indices)
        var wordIndex: [[UInt32]: Int] = [:]
        var detectorWords: [[(phrase: Int, isStem: Bool)]] = []
        var contextualWords: Set<Int> = []
        var reachBefore = 0
        var reachAfter = 0
        for detector in detectors {
            var words: [(phrase: Int, isStem: Bool)] = []
            for word in detector.context?.words ?? [] {
                if wordIndex[word.folded] == nil, let compiled = FoldedPhrase(word.text) {
                    wordIndex[word.folded] = phrases.count
                    phrases.append(compiled)
                    phraseMarkings.append(nil)
                    sources.append((detector.file, detector.line, detector.id))
                }
                guard let phrase = wordIndex[word.folded] else { continue }
                words.append((phrase, word.isStem))
                if detector.context?.required == true { contextualWords.insert(phrase) }
            }
            detectorWords.append(words)
            if let context = detector.context, context.required {
                // Characters are at most 4 bytes; a candidate at most 64, plus its two boundary bytes.
                reachBefore = max(reachBefore, context.before * 4 + 66)
                reachAfter = max(reachAfter, context.after * 4 + 66)
            }
        }
        wordPhrases = phrases.indices.filter { phraseMarkings[$0] == nil }
        self.phrases = phrases
        self.phraseMarkings = phraseMarkings
        self.detectorWords = detectorWords
        self.contextualWords = contextualWords
        self.reachBefore = reachBefore
        self.reachAfter = reachAfter

        // Primary: free detectors, common marking forms, plain context words, sentinels.
        var patterns: [HyperscanPattern] = []
        var roles: [Role] = []
        var primarySources: [Source?] = []
        for (index, group) in groups.enumerated() where !group.contextual {
            patterns.append(Self.wrapped(group))
            roles.append(.group(index))
            primarySources.append(Self.source(of: group, in: detectors))
        }
        for (index, phrase) in phrases.enumerated() {
            let isMarking = phraseMarkings[index] != nil
            patterns.append(HyperscanPattern(expression: isMarking ? phrase.commonExpression : phrase.plainExpression, id: 0))
            roles.append(.phrase(index))
            primarySources.append(sources[index])
        }
        let exoticScalars = markingPhrases.reduce(into: Set<UInt32>()) { $0.formUnion(phrases[$1].exotic) }
        if !exoticScalars.isEmpty {
            patterns.append(HyperscanPattern(expression: ByteAlternatives.expression(for: Array(exoticScalars)), id: 0, singleMatch: true))
            roles.append(.exoticSentinel)
            primarySources.append(nil)
        }
        // Mixed-script letter pairs of the context words, as literal alternations
        // (cheap for Hyperscan, unlike a class of every Latin-Cyrillic neighbourhood).
        let pairs = wordPhrases.reduce(into: Set<[UInt8]>()) { $0.formUnion(phrases[$1].mixedPairs) }.sorted { $0.lexicographicallyPrecedes($1) }
        for start in stride(from: 0, to: pairs.count, by: 400) {
            let literals = pairs[start..<min(start + 400, pairs.count)].map { $0.map { String(format: "\\x%02X", $0) }.joined() }
            patterns.append(HyperscanPattern(expression: "(?:" + literals.joined(separator: "|") + ")", id: 0, singleMatch: true))
            roles.append(.mixedScriptSentinel)
            primarySources.append(nil)
        }
        primaryRoles = roles
        let contextualGroups = groups.indices.filter { groups[$0].contextual }
        self.contextualGroups = contextualGroups
        primary = try Self.compile(patterns, cache: cache) { primarySources[$0] }
        let markingPhrases = self.markingPhrases
        exotic = markingPhrases.isEmpty ? nil : try Self.compile(
            markingPhrases.map { HyperscanPattern(expression: phrases[$0].fullExpression, id: 0) }, cache: cache) { sources[markingPhrases[$0]] }
        let wordPhrases = self.wordPhrases
        lookalike = wordPhrases.isEmpty ? nil : try Self.compile(
            wordPhrases.map { HyperscanPattern(expression: phrases[$0].commonExpression, id: 0) }, cache: cache) { sources[wordPhrases[$0]] }
        contextual = contextualGroups.isEmpty ? nil : try Self.compile(contextualGroups.map { Self.wrapped(groups[$0]) }, cache: cache) {
            Self.source(of: groups[contextualGroups[$0]], in: detectors)
        }
    }

    /// How many Hyperscan databases the matcher holds (one to four).
    var databaseCount: Int {
        1 + [exotic, lookalike, contextual].filter { $0 != nil }.count
    }

    /// Detectors grouped by pattern and by whether they need context.
    private static func groups(of detectors: [Detector]) -> [Group] {
        var groups: [Group] = []
        var index: [String: Int] = [:]
        for (member, detector) in detectors.enumerated() {
            let contextual = detector.context?.required == true
            let key = "\(contextual)\u{0}\(detector.pattern)"
            if let existing = index[key] {
                groups[existing].members.append(member)
            } else {
                index[key] = groups.count
                groups.append(Group(pattern: detector.pattern, width: detector.fixedWidth, members: [member], contextual: contextual))
            }
        }
        return groups
    }

    private static func wrapped(_ group: Group) -> HyperscanPattern {
        HyperscanPattern(expression: "[^0-9A-Za-z+](?:\(group.pattern))[^0-9A-Za-z]", id: 0, reportsStart: group.width == nil)
    }

    private static func source(of group: Group, in detectors: [Detector]) -> Source {
        let detector = detectors[group.members[0]]
        return (detector.file, detector.line, detector.id)
    }

    /// Numbers `patterns` by position and compiles them (or reads them from `cache`);
    /// a refused pattern is an error naming the rule's file and line.
    private static func compile(_ patterns: [HyperscanPattern], cache: DatabaseCache?,
                                source: (Int) -> Source?) throws -> HyperscanDatabase {
        guard !patterns.isEmpty else {
            throw KordonError(code: "rules.pack.invalid", message: "the packs hold no detector and no marking: nothing to match")
        }
        let numbered = patterns.enumerated().map { index, pattern in
            var pattern = pattern
            pattern.id = UInt32(index)
            return pattern
        }
        do {
            if let cache { return try cache.database(for: numbered) }
            return try HyperscanDatabase(patterns: numbered)
        } catch {
            guard let index = error.patternIndex, let place = source(index) else {
                throw KordonError(code: "rules.compile", message: "Hyperscan cannot compile the rule packs: \(error.message)")
            }
            throw KordonError(code: "rules.pack.invalid",
                              message: "\(place.file):\(place.line): \(place.rule) is rejected by Hyperscan: \(error.message)")
        }
    }
}
