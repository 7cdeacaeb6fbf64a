/// Context words around a candidate, and in the name of the place the text comes from.
///
/// A context word counts when it is a word of its own (a stem written `word*` may
/// run on: `налогоплательщика`), lies within the detector's window, and no digit
/// stands between it and the candidate — so in `ИНН 7707083893, код ТН ВЭД 8471300000`
/// the word ИНН vouches for the first number only.
enum ContextSearch {
    /// Whether `rule` is satisfied for the candidate at `range`.
    static func found(_ rule: ContextRule, in text: [UInt8], around range: Range<Int>, placeTokens: [[UInt32]]) -> Bool {
        for word in rule.words {
            for token in placeTokens where word.isStem ? token.starts(with: word.folded) : token == word.folded {
                return true
            }
        }
        let windowStart = UTF8Scalars.offset(text, scalars: rule.before, before: range.lowerBound)
        let before = FoldedText(text, windowStart..<range.lowerBound)
        for word in rule.words {
            for found in before.occurrences(of: word) where !before.hasDigit(found.upperBound..<before.count) {
                return true
            }
        }
        let windowEnd = UTF8Scalars.offset(text, scalars: rule.after, after: range.upperBound)
        let after = FoldedText(text, range.upperBound..<windowEnd)
        for word in rule.words {
            for found in after.occurrences(of: word) where !after.hasDigit(0..<found.lowerBound) {
                return true
            }
        }
        return false
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

/// A stretch of text folded for word comparison: ignorables dropped, every run of
/// whitespace one space, with per-scalar flags taken from the original scalars.
struct FoldedText {
    private(set) var scalars: [UInt32] = []
    private var digit: [Bool] = []
    private var wordPart: [Bool] = []

    /// Folds `text[range]`.
    init(_ text: [UInt8], _ range: Range<Int>) {
        var index = range.lowerBound
        while index < range.upperBound {
            let (scalar, length) = UTF8Scalars.decode(text, at: index)
            index += length
            if Folding.isSpace(scalar) {
                if scalars.last != 0x20 { append(0x20, digit: false, wordPart: false) }
                continue
            }
            let isDigit = Folding.isDigit(scalar)
            let isWordPart = Folding.isWordPart(scalar)
            for folded in Folding.fold(scalar) { append(folded, digit: isDigit, wordPart: isWordPart) }
        }
    }

    /// The number of folded scalars.
    var count: Int { scalars.count }

    /// Whether an original digit lies in `range`.
    func hasDigit(_ range: Range<Int>) -> Bool { digit[range].contains(true) }

    /// Where `word` occurs as a word of its own (or as the start of one, for a stem).
    func occurrences(of word: ContextWord) -> [Range<Int>] {
        let needle = word.folded
        guard !needle.isEmpty, needle.count <= scalars.count else { return [] }
        var found: [Range<Int>] = []
        for start in 0...(scalars.count - needle.count) where scalars[start] == needle[0] {
            let end = start + needle.count
            guard scalars[start..<end].elementsEqual(needle) else { continue }
            guard start == 0 || !wordPart[start - 1] else { continue }
            guard word.isStem || end == scalars.count || !wordPart[end] else { continue }
            found.append(start..<end)
        }
        return found
    }

    /// The words (runs of word scalars), folded.
    var words: [[UInt32]] {
        var words: [[UInt32]] = []
        var current: [UInt32] = []
        for (scalar, isWord) in zip(scalars, wordPart) {
            if isWord { current.append(scalar) } else if !current.isEmpty { words.append(current); current = [] }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    private mutating func append(_ scalar: UInt32, digit isDigit: Bool, wordPart isWordPart: Bool) {
        scalars.append(scalar)
        digit.append(isDigit)
        wordPart.append(isWordPart)
    }
}
