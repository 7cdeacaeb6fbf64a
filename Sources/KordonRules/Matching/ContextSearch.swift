import Synchronization

/// Context words in the name of the place a text comes from (an element path, an
/// attribute or header name). Context words in the text itself are found by
/// Hyperscan in the same pass as everything else (see ``TextScan``).
enum ContextSearch {
    /// Whether a word of `rule` is among the words of the place name, and none of its
    /// `unless` phrases is.
    static func placeHas(_ rule: ContextRule, tokens: [[UInt32]]) -> Bool {
        func has(_ words: [ContextWord]) -> Bool {
            words.contains { word in
                tokens.contains { word.isStem ? $0.starts(with: word.folded) : $0 == word.folded }
            }
        }
        return has(rule.words) && !has(rule.unlessInPlace)
    }

    /// The words of a place name, folded, and each pair of neighbouring words joined
    /// by a space: `/GoodsDeclaration/DeclarantDetails/TaxpayerId` gives goods,
    /// declaration, declarant, details, taxpayer, id (and `taxpayer id`, …);
    /// `RKOrganizationFeatures` gives rk, organization, features; `@inn` gives inn.
    static func tokens(of place: String) -> [[UInt32]] {
        var words: [String] = []
        var current: [Character] = []
        let characters = Array(place)
        func flush() {
            if !current.isEmpty { words.append(String(current)) }
            current = []
        }
        for (index, character) in characters.enumerated() {
            guard character.isLetter || character.isNumber else { flush(); continue }
            if let previous = current.last, character.isUppercase {
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) { flush() }
            }
            current.append(character)
        }
        flush()
        let folded = words.map { Folding.fold($0) }
        return folded + zip(folded, folded.dropFirst()).map { $0 + [0x20] + $1 }
    }
}

/// Which detectors' context words each place name holds. Element paths repeat from
/// one message to the next (one schema, a few hundred paths), and splitting one into
/// words costs Unicode property lookups for every character, so each place is split
/// and checked against every detector once.
final class PlaceContextCache: Sendable {
    /// Beyond this many names (a flood of distinct paths), new ones are answered but not kept.
    static let capacity = 8192
    private let entries = Mutex<[String: [Bool]]>([:])

    /// For each detector (by index), whether `place` holds one of its context words.
    func supplied(by place: String, detectors: [Detector]) -> [Bool] {
        if let known = entries.withLock({ $0[place] }) { return known }
        let tokens = ContextSearch.tokens(of: place)
        let answers = detectors.map { detector in
            detector.context.map { ContextSearch.placeHas($0, tokens: tokens) } ?? false
        }
        entries.withLock { entries in
            if entries.count < Self.capacity { entries[place] = answers }
        }
        return answers
    }
}
